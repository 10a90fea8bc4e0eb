"""The outbox's admin: notifications are written only by the outbox, so they are shown
read-only, as restricted as their incident; the one thing done to them here is the "Resend"
action, one call to `outbox.resend`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import PAGE_VAR
from django.db.models import Q
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html

from incidents.formatting import EMPTY, MINUTE, badge, local
from incidents.models import Incident
from incidents.permissions import VIEW_RESTRICTED
from incidents.selectors import visible_incidents
from oncall.admin.paging import EstimatedCountPaginator

from ..models import Notification

STATUS_COLORS = {
    Notification.Status.PENDING: "#1565c0",
    Notification.Status.SENT: "#2e7d32",
    Notification.Status.FAILED: "#c62828",
    Notification.Status.SUPPRESSED: "#757575",
}


class IncidentFilter(admin.SimpleListFilter):
    """Rows about one incident, typed as its reference (`?incident=INC-42`): a text box, not a
    list, since there may be a million incidents to choose from."""

    title = "incident"
    parameter_name = "incident"
    template = "admin/comms/notification/incident_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # never listed; the template draws a text box

    def choices(self, changelist):
        others = {k: v for k, v in changelist.params.items() if k not in (self.parameter_name, PAGE_VAR)}
        yield {"value": self.value() or "", "others": sorted(others.items())}

    def queryset(self, request, queryset):
        typed = (self.value() or "").strip()
        if not typed:
            return queryset
        number = Incident.number_from_reference(typed)
        if number is None:
            messages.error(request, f"“{typed}” is not an incident reference; type one such as INC-42.")
            return queryset.none()
        return queryset.filter(incident__number=number)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created", "status_badge", "message", "to", "incident_ref", "tries", "error",
    )
    list_filter = (IncidentFilter, "status", "channel", "kind", "audience")
    list_select_related = ("recipient", "incident")
    search_fields = ("address",)
    search_help_text = "An address, or an incident reference such as INC-42."
    ordering = ("-created_at", "-pk")  # newest first
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # one row per message ever sent: a large table
    show_facets = admin.ShowFacets.NEVER
    actions = ["resend"]
    # Not shown: the acknowledge code (it acknowledges by SMS reply) and the webhook URL (a secret).
    fields = (
        ("status", "kind", "audience", "channel", "is_page"),
        ("incident", "event"),
        ("recipient", "address"),
        "subject", "body",
        ("created_at", "send_after", "enqueued_at", "sent_at"),
        ("attempts", "last_error"),
        ("provider_id", "bundled_into", "ack_used_at"),
        "key",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm(VIEW_RESTRICTED):
            return queryset
        # Messages about a restricted incident are as restricted as the incident.
        return queryset.filter(Q(incident__isnull=True) | Q(incident__in=visible_incidents(request.user).values("pk")))

    def get_search_results(self, request, queryset, search_term):
        number = Incident.number_from_reference(search_term)
        if number:
            return queryset.filter(Q(incident__number=number) | Q(address__icontains=search_term.strip())), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False  # written by the outbox only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who was told what

    def has_resend_permission(self, request):
        return request.user.has_perm("comms.change_notification")

    @admin.action(description="Resend the selected notifications", permissions=["resend"])
    def resend(self, request, queryset):
        from comms import outbox  # imported when used: the admin does not load the delivery machinery

        # Without the list's joins: resend locks the rows, and PostgreSQL refuses FOR UPDATE on
        # the nullable side of an outer join.
        count = outbox.resend(queryset.select_related(None))
        if count:
            self.message_user(request, f"{count} notification{'s' if count != 1 else ''} re-queued.", messages.SUCCESS)
        else:
            self.message_user(request, "Nothing was re-queued.", messages.WARNING)

    @admin.display(description="Created · sent", ordering="created_at")
    def created(self, notification):
        """When it was written and, under it, when it went out: one column, so the list fits a laptop."""
        sent = local(notification.sent_at, MINUTE) if notification.sent_at else "not sent"
        return format_html("{}<br><span class='vigil-muted'>{}</span>", local(notification.created_at, MINUTE), sent)

    @admin.display(description="Tries", ordering="attempts")
    def tries(self, notification):
        return notification.attempts

    @admin.display(description="Status", ordering="status")
    def status_badge(self, notification):
        return badge(notification.get_status_display(), STATUS_COLORS.get(notification.status, "#666666"))

    @admin.display(description="Message", ordering="kind")
    def message(self, notification):
        """What it is about, to whom and how, in one column so the list fits a laptop."""
        return format_html(
            "{}<br><span class='vigil-muted'>{} · {}</span>", notification.get_kind_display(),
            notification.get_audience_display(), notification.get_channel_display(),
        )

    @admin.display(description="To", ordering="address")
    def to(self, notification):
        if notification.recipient_id:
            return format_html("{} <span class='vigil-muted'>{}</span>", notification.recipient, notification.address)
        return notification.address

    @admin.display(description="Incident", ordering="incident__number")
    def incident_ref(self, notification):
        return notification.incident.reference if notification.incident_id else EMPTY

    @admin.display(description="Last error")
    def error(self, notification):
        return truncatechars(notification.last_error, 80) if notification.last_error else ""
