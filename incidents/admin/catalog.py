"""The catalog's admin: the severity matrix, incident types and services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from oncall.admin.display import column

from ..formatting import badge, duration
from ..forms.catalog import IncidentTypeForm, MetricTargetsForm, SeverityLevelForm
from ..models import IncidentType, MetricTargets, Service, SeverityLevel


def _sortable_duration(field: str, label: str):
    """A column of the matrix: one of the severity's durations, sorted by it."""
    return column(field, label, duration, ordering=field)


def _target(field: str, label: str, words: str):
    """A target of the matrix on its clock ("2 h of business hours"), sorted by its duration."""
    return column(words, label, str, ordering=field)


@admin.register(SeverityLevel)
class SeverityLevelAdmin(admin.ModelAdmin):
    form = SeverityLevelForm
    list_display = (
        "name_badge", "label", "rank", "ack", "first_update", "updates", "resolve", "observation",
        "postmortem_policy", "postmortem_due", "show_on_status_page", "status_page", "notify_customers",
        "resolution_requires_summary", "opens_war_room", "mtta", "mttr",
    )
    list_display_links = ("name_badge", "label")

    ack = _target("ack_sla", "Acknowledge", "ack_sla_text")
    first_update = _target("first_update_interval", "First update", "first_update_text")
    updates = _target("update_interval", "Then every", "update_interval_text")
    resolve = _target("resolve_target", "Resolve within", "resolve_target_text")
    observation = _sortable_duration("observation_period", "Observed for")
    postmortem_due = column("postmortem_due_text", "Post-mortem due", str)
    mtta = _sortable_duration("mtta_target", "MTTA target")
    mttr = _sortable_duration("mttr_target", "MTTR target")

    @admin.display(description="Name", ordering="rank")
    def name_badge(self, severity):
        return badge(severity.name, severity.color)

    @admin.display(description="Public within", ordering="status_page_window")
    def status_page(self, severity):
        if severity.status_page_window is None:
            return "optional"
        return duration(severity.status_page_window) if severity.status_page_window else "at once"


@admin.register(MetricTargets)
class MetricTargetsAdmin(admin.ModelAdmin):
    """The one row of targets no severity owns: the list leads straight to it."""

    form = MetricTargetsForm
    list_display = ("__str__", "mttd", "postmortem_completion_target")
    mttd = _sortable_duration("mttd_target", "MTTD target")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not MetricTargets.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # the one row, even if it was never seeded
        super().save_model(request, obj, form, change)


@admin.register(IncidentType)
class IncidentTypeAdmin(admin.ModelAdmin):
    form = IncidentTypeForm
    list_display = ("name", "restricted_by_default", "checklist_items")
    search_fields = ("name", "description", "symptoms")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="Checklist items")
    def checklist_items(self, incident_type):
        return len(incident_type.checklist)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owning_team", "customer_facing", "policy", "dependencies")
    list_filter = ("customer_facing", "owning_team", "escalation_policy")
    list_select_related = ("owning_team", "escalation_policy")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("depends_on",)
    autocomplete_fields = ("owning_team",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_dependencies=Count("depends_on", distinct=True))

    @admin.display(description="Depends on", ordering="_dependencies")
    def dependencies(self, service):
        return service._dependencies

    @admin.display(description="Escalation policy", ordering="escalation_policy__name")
    def policy(self, service):
        return service.escalation_policy or format_html("<span class='vigil-muted'>{}</span>", "default")
