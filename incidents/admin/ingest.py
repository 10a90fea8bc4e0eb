"""The admin of alert ingestion: integrations and heartbeats (their keys shown once, at
creation), the read-only alert log, and maintenance windows."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from oncall.admin.paging import EstimatedCountPaginator
from oncall.admin.secrets import shown_once

from .. import bounds, ingest
from ..forms.base import count_field
from ..formatting import EMPTY, SECOND, badge, local
from ..models import AlertEvent, Heartbeat, Integration, MaintenanceWindow

EVENT_COLORS = {
    AlertEvent.Status.RECEIVED: "#ffb300",
    AlertEvent.Status.PROCESSED: "#2e7d32",
    AlertEvent.Status.FAILED: "#c62828",
    AlertEvent.Status.SUPPRESSED: "#757575",
}
HEARTBEAT_COLORS = {Heartbeat.State.NEW: "#757575", Heartbeat.State.UP: "#2e7d32", Heartbeat.State.DOWN: "#c62828"}


def _incident_link(incident):
    if incident is None:
        return EMPTY
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:incidents_incident_change", args=[incident.pk]), incident.reference
    )


class _DefaultSeverityHelp:
    """A severity left empty means a level by rank: its help text names the organisation's level
    ("Empty: P0 (Critical)."), where the model's can only name the seeded SEV-1…SEV-4."""

    default_ranks: dict[str, int] = {}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        rank = self.default_ranks.get(db_field.name)
        level = ingest.default_severity(rank) if rank is not None else None
        if level is not None:
            lead = str(field.help_text).split("Empty:")[0]
            field.help_text = f"{lead}Empty: {level.name} ({level.label})."
        return field


class _ShownOnceAdmin(admin.ModelAdmin):
    """Makes the secret key on save and shows it on the page that follows, never again."""

    what = "key"

    def save_model(self, request, obj, form, change):
        if not change:
            key = ingest.new_key()
            obj.key_hash, obj.key_prefix = ingest.hash_key(key), key[:6]
            obj.created_by = request.user
            request._vigil_new_key = key
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_vigil_new_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return shown_once(
            self, request, "admin/incidents/key_created.html", title=f"{self.opts.verbose_name.capitalize()} created",
            object=obj, key=key, what=self.what, **self.shown_once_context(request, obj, key),
        )

    def shown_once_context(self, request, obj, key) -> dict:
        return {}

    @admin.display(description="Key")
    def key(self, obj) -> str:
        return f"{obj.key_prefix}…"


@admin.register(Integration)
class IntegrationAdmin(_DefaultSeverityHelp, _ShownOnceAdmin):
    what = "routing key"
    default_ranks = {f"{level}_severity": rank for level, rank in ingest.DEFAULT_SEVERITY_RANK.items()}
    list_display = ("name", "service", "key", "is_active", "created_at")
    list_filter = ("is_active", "service")
    list_select_related = ("service",)
    search_fields = ("name", "key_prefix", "service__name")
    autocomplete_fields = ("service",)
    fieldsets = (
        (None, {"fields": ("name", "service", "is_active", "key", "created_at", "created_by")}),
        ("Severity mapping: the sender's critical, error, warning and info", {
            "fields": ("critical_severity", "error_severity", "warning_severity", "info_severity"),
        }),
    )
    readonly_fields = ("key", "created_at", "created_by")

    def shown_once_context(self, request, obj, key) -> dict:
        return {
            "urls": [
                ("PagerDuty Events API v2 URL (send the routing key in the body)", request.build_absolute_uri(reverse("api:send_event"))),
                ("Alertmanager webhook URL", request.build_absolute_uri(reverse("api:alertmanager_webhook", args=[key]))),
            ],
        }


class HeartbeatForm(forms.ModelForm):
    class Meta:
        model = Heartbeat
        fields = "__all__"
        field_classes = {
            "interval_minutes": count_field(bounds.HEARTBEAT_INTERVAL_MOST, "minutes (31 days)", least=1),
            "grace_minutes": count_field(bounds.HEARTBEAT_GRACE_MOST, "minutes (7 days)"),
        }


@admin.register(Heartbeat)
class HeartbeatAdmin(_DefaultSeverityHelp, _ShownOnceAdmin):
    form = HeartbeatForm
    what = "ping URL"
    default_ranks = {"severity": ingest.MISSED_SEVERITY_RANK}
    list_display = ("name", "service", "every", "state_badge", "last_ping", "outage")
    list_filter = ("state", "is_active", "service")
    list_select_related = ("service", "incident", "incident__severity")
    search_fields = ("name", "key_prefix", "service__name")
    autocomplete_fields = ("service",)
    fields = (
        "name", "service", "interval_minutes", "grace_minutes", "severity", "is_active", "key", "state", "last_ping_at",
        "down_since", "outage", "created_at", "created_by",
    )
    readonly_fields = ("key", "state", "last_ping_at", "down_since", "outage", "created_at", "created_by")

    def shown_once_context(self, request, obj, key) -> dict:
        url = request.build_absolute_uri(reverse("api:heartbeat_ping", args=[key]))
        return {"urls": [("Ping URL (POST, e.g. curl -fsS -X POST …)", url)]}

    @admin.display(description="Every", ordering="interval_minutes")
    def every(self, heartbeat) -> str:
        return f"{heartbeat.interval_minutes} min (+{heartbeat.grace_minutes} grace)"

    @admin.display(description="State", ordering="state")
    def state_badge(self, heartbeat):
        return badge(heartbeat.get_state_display(), HEARTBEAT_COLORS[heartbeat.state])

    @admin.display(description="Last ping", ordering="last_ping_at")
    def last_ping(self, heartbeat) -> str:
        return local(heartbeat.last_ping_at, SECOND)

    @admin.display(description="Outage incident")
    def outage(self, heartbeat):
        return _incident_link(heartbeat.incident)


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    """The alert log: read-only; failed events can be processed again."""

    list_display = ("received", "integration", "action", "status_badge", "dedup_key", "summary", "incident_link", "outcome")
    list_filter = ("status", "action", "format", "integration")
    list_select_related = ("integration__service", "incident")
    search_fields = ("dedup_key", "summary", "source")
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # every alert ever received: a large table
    date_hierarchy = "received_at"
    actions = ["process_again"]
    fields = (
        "integration", "received_at", "format", "action", "dedup_key", "summary", "source", "severity", "status",
        "outcome", "error", "processed_at", "incident_link", "payload_json",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log is the record of what monitoring said

    def has_reprocess_permission(self, request):
        return request.user.has_perm("incidents.change_integration")

    @admin.display(description="Received", ordering="received_at")
    def received(self, event) -> str:
        return local(event.received_at, SECOND)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, event):
        return badge(event.get_status_display(), EVENT_COLORS[event.status])

    @admin.display(description="Incident", ordering="incident__number")
    def incident_link(self, event):
        return _incident_link(event.incident)

    @admin.display(description="Payload as received")
    def payload_json(self, event):
        import json

        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, ensure_ascii=False)[:20_000])

    @admin.action(description="Process selected failed events again", permissions=["reprocess"])
    def process_again(self, request, queryset):
        done = [ingest.reprocess(event) for event in queryset.filter(status=AlertEvent.Status.FAILED)]
        ok = sum(1 for event in done if event.status != AlertEvent.Status.FAILED)
        messages.info(request, f"{ok} of {len(done)} failed event{'s' if len(done) != 1 else ''} processed.")


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("service", "starts", "ends", "reason", "created_by", "active")
    list_filter = ("service",)
    list_select_related = ("service", "created_by")
    search_fields = ("reason", "service__name")
    autocomplete_fields = ("service",)
    fields = ("service", "starts_at", "ends_at", "reason", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Starts", ordering="starts_at")
    def starts(self, window) -> str:
        return local(window.starts_at, SECOND)

    @admin.display(description="Ends", ordering="ends_at")
    def ends(self, window) -> str:
        return local(window.ends_at, SECOND)

    @admin.display(description="Now", boolean=True)
    def active(self, window) -> bool:
        return window.starts_at <= timezone.now() < window.ends_at
