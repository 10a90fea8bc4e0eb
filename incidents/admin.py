"""The operator's UI: the incident list, the declare page, the incident page and the catalog.

The admin never writes incident state itself. Every change is one call to `incidents.actions`
with the signed-in user as actor and `Source.ADMIN`; permissions come from `permissions.py`;
a refused step (`DomainError`) becomes an error message and changes nothing.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from oncall import clocks

from . import actions, deadlines, engine, escalation, firing, forms, formatting, permissions, selectors, sla
from .errors import DomainError
from .formatting import EMPTY, MINUTE, badge, local
from .models import OPEN_STATUSES, Incident, IncidentType, Participant, Service, SeverityLevel, Source, Status

STATUS_COLORS = {
    Status.TRIGGERED: "#c62828",
    Status.INVESTIGATING: "#ef6c00",
    Status.IDENTIFIED: "#ffb300",
    Status.MONITORING: "#1565c0",
    Status.RESOLVED: "#2e7d32",
    Status.CLOSED: "#757575",
}
SLA_COLORS = {sla.SlaState.ON_TIME: "#2e7d32", sla.SlaState.DUE_SOON: "#ffb300", sla.SlaState.BREACHED: "#c62828"}
def _timestamp(field: str, label: str):
    """A read-only timestamp of the incident page, in the viewer's time zone."""

    @admin.display(description=label)
    def show(model_admin, incident):
        return local(getattr(incident, field), MINUTE)

    return show


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(errors)
        parts.append(text if name == "__all__" or name not in form.fields else f"{form[name].label}: {text}")
    return " ".join(parts)


# --- The incident list -------------------------------------------------------------------------


class OpenClosedFilter(admin.SimpleListFilter):
    title = "open / closed"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("closed", "Resolved or closed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "closed":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = "my role"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", "Where I hold a role")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            mine = Participant.objects.filter(incident=OuterRef("pk"), user=request.user, left_at=None)
            return queryset.filter(Exists(mine))
        return queryset


# Operation name (in the URL) → its form; who may perform it is `permissions.may` for that name.
OPERATIONS = {
    "acknowledge": forms.AcknowledgeForm,
    "change_status": forms.ChangeStatusForm,
    "post_update": forms.PostUpdateForm,
    "add_note": forms.NoteForm,
    "add_task": forms.AddTaskForm,
    "task_done": forms.TaskDoneForm,
    "add_evidence": forms.AddEvidenceForm,
    "change_severity": forms.ChangeSeverityForm,
    "assign_role": forms.AssignRoleForm,
    "release_role": forms.ReleaseRoleForm,
    "resolve": forms.ResolveForm,
    "reopen": forms.ReopenForm,
    "close": forms.CloseForm,
}
# The ones shown as cards at the top of the incident page; the rest sit beside their lists.
MAIN_OPERATIONS = (
    "acknowledge", "post_update", "change_status", "add_note", "change_severity", "assign_role", "resolve", "reopen", "close",
)


PREVIEW_HORIZON = timezone.timedelta(days=8)


def _describe_step(step, by_position, situation) -> list[tuple[str, list]]:
    """Lines of one preview step: (what happens, people). Engagements say whether the level is
    paged or informed; pages an acknowledge breach puts off until working hours say until when."""
    key, firing = step.key, step.firing
    lines = []
    repages = len(firing.repage_levels)
    if key.kind == escalation.ACK_TIMEOUT:
        rounds = key.round - situation.earlier_ack_rounds  # counted within the current round (after a reopen)
        head = (
            f"Acknowledge SLA breach (round {rounds}) waited for working hours"
            if key.level
            else f"Acknowledge SLA breached (round {rounds})"
        )
        for position, people in step.pages[:repages]:
            lines.append((f"{head}: level {position} paged again", people))
        for position, when in firing.waiting:
            at = date_format(timezone.localtime(when), "D Y-m-d H:i")
            lines.append((f"{head}: level {position} · {by_position[position].name} is business-hours only, paged at {at}", []))
        if not lines and not key.level:
            lines.append((head, []))
    for position in step.nobody:
        lines.append((f"Level {position} · {by_position[position].name}: nobody to page, hands over at once", []))
    for position, people in step.pages[repages:]:
        how = "inform" if position in step.informed else "page"
        lines.append((f"Level {position} · {by_position[position].name} engaged: {how}", people))
    if step.skipped:
        lines.append(("Not paged again: paged less than a minute before", step.skipped))
    if key.kind == escalation.UPDATE_OVERDUE:
        miss = key.round - situation.earlier_update_misses
        whom = "commander and communications lead" if miss == 1 else "the manager"
        lines.append((f"Status update overdue (miss {miss}): {whom} told", []))
    if key.kind == escalation.RESOLVE_BREACHED:
        lines.append(("Resolve target breached: commander and manager told", []))
    if key.kind == escalation.STATUS_PAGE:
        lines.append(("Not on the status page within its window: communications lead (else commander) told", []))
    return lines


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = forms.IncidentDetailsForm
    add_form_template = "admin/incidents/incident/declare.html"

    list_display = (
        "reference", "title", "severity_badge", "status_badge", "age", "commander", "sla_badge", "affected_services",
    )
    list_display_links = ("reference", "title")
    list_filter = (OpenClosedFilter, "status", "severity", "services", "incident_type", MineFilter, "is_drill")
    search_fields = ("title",)
    search_help_text = "Title words, or a reference such as INC-42."
    ordering = ("-declared_at",)
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice cost a query each on a large table

    readonly_fields = (
        "reference", "status_badge", "severity_badge", "sla_badge", "commander",
        "declared", "acknowledged", "mitigated", "resolved", "closed", "reopened", "reopen_acknowledged",
        "time_to_acknowledge", "time_to_mitigate", "time_to_resolve", "created_by",
    )
    fieldsets = (
        ("State", {"fields": (
            ("reference", "status_badge", "severity_badge"),
            ("sla_badge", "commander"),
            ("declared", "acknowledged", "mitigated"),
            ("resolved", "closed"),
            ("reopened", "reopen_acknowledged"),
            ("time_to_acknowledge", "time_to_mitigate", "time_to_resolve"),
            "created_by",
        )}),
        ("What is happening", {"fields": ("title", "summary", "incident_type", "origin", "services", "detected_at")}),
        ("Impact", {"fields": (
            ("users_affected_estimated", "users_affected_confirmed"),
            "regions",
            ("revenue_impact", "reputation_impact", "compliance_impact"),
            "impact_description",
        )}),
        ("Audience", {"fields": ("customer_facing", "public_on_status_page", "is_restricted", "is_drill")}),
        ("Mitigation and resolution", {"fields": ("mitigation", "mitigation_notes", "resolution_summary")}),
    )
    formfield_overrides = {models.TextField: {"widget": widgets.AdminTextareaWidget(attrs={"rows": 3})}}
    empty_value_display = EMPTY
    filter_horizontal = ("services",)

    # --- Who may do what ---

    def get_queryset(self, request):
        return selectors.incident_list(request.user)

    def get_object(self, request, object_id, from_field=None):
        """The incident if the user may see it, with everyone who holds or held a role.

        Anything else is a 404, so a restricted incident's existence is not given away."""
        queryset = (
            self.get_queryset(request)
            .select_related("created_by")
            .prefetch_related(Prefetch("participants", queryset=Participant.objects.select_related("user")))
        )
        try:
            return queryset.get(pk=object_id)
        except (Incident.DoesNotExist, ValueError, ValidationError):
            raise Http404("No such incident.") from None

    def get_fieldsets(self, request, obj=None):
        if obj is None or self.has_change_permission(request, obj):
            return self.fieldsets
        # Read-only: the regions as the list they are, not as JSON.
        return [
            (name, {**options, "fields": ["regions_list" if f == "regions" else f for f in options["fields"]]})
            for name, options in self.fieldsets
        ]

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request)
        return permissions.can_view(request.user, obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return obj.status != Status.CLOSED and permissions.can_edit_details(request.user, obj)

    def has_add_permission(self, request):
        return permissions.can_declare(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # the record is the history

    # --- The list ---

    def changelist_view(self, request, extra_context=None):
        # The engine watches itself: say so on the list when beat or the workers have stopped.
        return super().changelist_view(request, {"title": "Incidents", "engine": engine.health(), **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        """A reference ("INC-42" or "42") finds that incident as well as titles containing the words."""
        number = Incident.number_from_reference(search_term)
        if number:
            return queryset.filter(Q(number=number) | Q(title__icontains=search_term.strip())), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Ref", ordering="number")
    def reference(self, incident):
        return incident.reference

    @admin.display(description="Severity", ordering="severity__rank")
    def severity_badge(self, incident):
        severity = incident.severity
        return badge(severity.name, severity.color, title=severity.label)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, incident):
        return badge(incident.get_status_display(), STATUS_COLORS[incident.status])

    @admin.display(description="Age", ordering="-declared_at")
    def age(self, incident):
        if incident.is_open:
            return formatting.age(incident.declared_at, timezone.now())
        return f"lasted {formatting.duration(incident.time_to_resolve)}"

    @admin.display(description="Commander")
    def commander(self, incident):
        return ", ".join(str(p.user) for p in incident.commanders) or EMPTY

    @admin.display(description="SLA")
    def sla_badge(self, incident):
        summary = sla.summary(incident, now=timezone.now(), last_update_at=incident.last_update_at)
        return badge(summary.label, SLA_COLORS[summary.state], title=f"due {local(summary.target.due_at, MINUTE)}")

    @admin.display(description="Affected services")
    def affected_services(self, incident):
        return ", ".join(service.name for service in incident.services.all()) or EMPTY

    @admin.display(description="Regions")
    def regions_list(self, incident):
        return ", ".join(incident.regions) or EMPTY

    declared = _timestamp("declared_at", "Declared")
    acknowledged = _timestamp("acknowledged_at", "Acknowledged")
    mitigated = _timestamp("mitigated_at", "Mitigated")
    resolved = _timestamp("resolved_at", "Resolved")
    closed = _timestamp("closed_at", "Closed")
    reopened = _timestamp("reopened_at", "Last reopened")
    reopen_acknowledged = _timestamp("reopen_acknowledged_at", "Acknowledged after the reopen")

    @admin.display(description="Time to acknowledge")
    def time_to_acknowledge(self, incident):
        return formatting.duration(incident.time_to_acknowledge)

    @admin.display(description="Time to mitigate")
    def time_to_mitigate(self, incident):
        return formatting.duration(incident.time_to_mitigate)

    @admin.display(description="Time to resolve")
    def time_to_resolve(self, incident):
        return formatting.duration(incident.time_to_resolve)

    # --- Declaring ---

    def add_view(self, request, form_url="", extra_context=None):
        """The declare page stands in for the model's add form: only what is known in the first minute."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = forms.DeclareForm(request.POST if request.method == "POST" else None, user=request.user)
        if form.is_bound and form.is_valid():
            try:
                incident = form.declare(actor=request.user, source=Source.ADMIN)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{incident.reference} declared.")
                return HttpResponseRedirect(self._change_url(incident))
        adminform = helpers.AdminForm(
            form,
            [
                (None, {"fields": ["title", "severity", "incident_type", "services", "summary"]}),
                ("Who and when", {"fields": ["commander", "detected_at"]}),
                ("Audience", {"fields": ["is_restricted", "is_drill", "public_on_status_page"]}),
            ],
            prepopulated_fields={},
            model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Declare incident",
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    # --- The incident page ---

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._incident_page(request, obj), show_save_and_add_another=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _incident_page(self, request, incident) -> dict:
        """Context for the parts of the page that are not the details form: what is offered, and the record."""
        operations = {}
        for name, form_class in OPERATIONS.items():
            if permissions.may(request.user, incident, name):
                form = form_class(incident=incident, prefix=name)
                if form.offered:
                    operations[name] = form
        return {
            "title": incident.reference,
            "subtitle": incident.title,
            "incident": incident,
            "glance_badges": format_html(
                "{} {} {}", self.severity_badge(incident), self.status_badge(incident), self.sla_badge(incident)
            ),
            "commander": self.commander(incident),
            "operations": operations,
            "main_operations": [operations[name] for name in MAIN_OPERATIONS if name in operations],
            "participants": incident.participants.all(),
            "tasks": incident.tasks.select_related("done_by"),
            "evidence": incident.evidence.select_related("added_by"),
            "timeline": incident.timeline.select_related("actor"),
            "deadlines": incident.deadlines.order_by("due_at", "pk"),
            "now": timezone.now(),
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            # Raised by update_details inside the admin's transaction, which rolled it all back.
            messages.error(request, str(error))
            return HttpResponseRedirect(request.path)

    def save_model(self, request, obj, form, change):
        """Edits go through `update_details`, with only the fields the operator changed."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "services"}
        services = form.cleaned_data["services"] if "services" in form.changed_data else None
        if changes or services is not None:
            actions.update_details(obj, actor=request.user, source=Source.ADMIN, services=services, **changes)

    def save_related(self, request, form, formsets, change):
        pass  # the services were saved by update_details

    def get_urls(self):
        operate = path(
            "<path:object_id>/do/<slug:operation>/",
            self.admin_site.admin_view(self.operate_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_operate",
        )
        preview = path(
            "<path:object_id>/escalation/",
            self.admin_site.admin_view(self.incident_preview_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_escalation_preview",
        )
        policy_preview = path(
            "escalation-preview/",
            self.admin_site.admin_view(self.policy_preview_view),
            name="incidents_policy_escalation_preview",
        )
        return [operate, preview, policy_preview, *super().get_urls()]

    # --- Escalation preview: the engine's own plan, played forward -----------------------------

    def _preview_context(self, request, *, policy, situation, levels, incident=None) -> dict:
        by_position = {level.position: level for level in levels}
        now = timezone.now()

        def people_at(position, at):
            return firing.level_targets(by_position[position], at)

        steps = escalation.play_forward(situation, until=now + PREVIEW_HORIZON, people_at=people_at)
        rows = []
        for step in steps:
            rows.append({"at": step.at, "what": _describe_step(step, by_position, situation), "step": step, "by_position": by_position})
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "policy": policy,
            "incident": incident,
            "rows": rows,
            "horizon": PREVIEW_HORIZON,
            "levels": levels,
        }

    def incident_preview_view(self, request, object_id):
        incident = self.get_object(request, unquote(object_id))
        if incident is None or not permissions.can_view(request.user, incident):
            raise Http404
        levels = deadlines.policy_levels(incident.escalation_policy)
        situation = deadlines.situation(incident, levels)
        context = self._preview_context(
            request, policy=incident.escalation_policy, situation=situation, levels=levels, incident=incident
        )
        context["title"] = f"Escalation preview · {incident.reference}"
        context["subtitle"] = (
            "Who is paged and told next, if nobody updates or resolves"
            if incident.acknowledged_at
            else "Who is paged and told next, if nobody acknowledges, updates or resolves"
        )
        return TemplateResponse(request, "admin/incidents/incident/escalation_preview.html", context)

    def policy_preview_view(self, request):
        if not request.user.has_perm("oncall.view_escalationpolicy") and not request.user.is_superuser:
            raise PermissionDenied
        data = request.GET.copy() if request.GET else None
        if data is not None and not data.get("severity"):
            most_severe = SeverityLevel.objects.order_by("rank").first()
            data["severity"] = str(most_severe.pk) if most_severe else ""
        form = forms.EscalationPreviewForm(data)
        context = {}
        if form.is_valid():
            policy, severity = form.cleaned_data["policy"], form.cleaned_data["severity"]
            levels = deadlines.policy_levels(policy)
            situation = deadlines.situation_for(policy=policy, levels=levels, severity=severity, declared_at=timezone.now())
            context = self._preview_context(request, policy=policy, situation=situation, levels=levels)
        else:
            context = {**self.admin_site.each_context(request), "opts": self.opts}
        context.update(form=form, title="Escalation preview", subtitle="If an incident were declared now and nobody acknowledged it")
        return TemplateResponse(request, "admin/incidents/incident/escalation_preview.html", context)

    def operate_view(self, request, object_id, operation):
        """One operation of the incident page: validate the form, call its action, go back to the page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if operation not in OPERATIONS:
            raise Http404("No such operation.")
        incident = self.get_object(request, unquote(object_id))
        form_class = OPERATIONS[operation]
        if not permissions.may(request.user, incident, operation):
            raise PermissionDenied
        form = form_class(request.POST, incident=incident, prefix=operation)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
        else:
            try:
                messages.success(request, form.perform(actor=request.user, source=Source.ADMIN))
            except DomainError as error:
                messages.error(request, str(error))
        return HttpResponseRedirect(self._change_url(incident))

    def _change_url(self, incident) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(incident.pk)], current_app=self.admin_site.name
        )


# --- The catalog -------------------------------------------------------------------------------


@admin.register(SeverityLevel)
class SeverityLevelAdmin(admin.ModelAdmin):
    form = forms.SeverityLevelForm
    list_display = (
        "name_badge", "label", "rank", "ack", "first_update", "updates", "resolve", "observation",
        "postmortem_policy", "show_on_status_page", "status_page", "notify_customers",
    )
    list_display_links = ("name_badge", "label")

    @admin.display(description="Name", ordering="rank")
    def name_badge(self, severity):
        return badge(severity.name, severity.color)

    @admin.display(description="Acknowledge", ordering="ack_sla")
    def ack(self, severity):
        return clocks.describe(severity.ack_sla_clock, severity.ack_sla, formatting.duration)

    @admin.display(description="First update", ordering="first_update_interval")
    def first_update(self, severity):
        return clocks.describe(severity.update_clock, severity.first_update_interval, formatting.duration)

    @admin.display(description="Then every", ordering="update_interval")
    def updates(self, severity):
        return clocks.describe(severity.update_clock, severity.update_interval, formatting.duration)

    @admin.display(description="Resolve within", ordering="resolve_target")
    def resolve(self, severity):
        return clocks.describe(severity.resolve_clock, severity.resolve_target, formatting.duration)

    @admin.display(description="Observed for", ordering="observation_period")
    def observation(self, severity):
        return formatting.duration(severity.observation_period)

    @admin.display(description="Public within", ordering="status_page_window")
    def status_page(self, severity):
        if severity.status_page_window is None:
            return "optional"
        return formatting.duration(severity.status_page_window) if severity.status_page_window else "at once"


@admin.register(IncidentType)
class IncidentTypeAdmin(admin.ModelAdmin):
    form = forms.IncidentTypeForm
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


from . import admin_ingest  # noqa: E402,F401  (integrations, alert log, maintenance, heartbeats)
