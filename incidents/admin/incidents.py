"""The incident list, the declare page, the incident page (the commander's command centre, built
in `page.py`, with its timeline JSON), the details page, and the operations (`operations.py`) and
escalation preview (`preview.py`) they link to."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from oncall.admin.display import column
from oncall.admin.filters import ChoiceFilter
from oncall.admin.paging import EstimatedCountPaginator

from .. import actions, bounds, engine, formatting, permissions, selectors, sla
from ..errors import DomainError
from ..formatting import EMPTY, MINUTE, badge, local
from ..forms.details import IncidentDetailsForm
from ..forms.lifecycle import DeclareForm
from ..models import OPEN_STATUSES, Incident, Participant, Service, Source, Status
from ..search import search
from . import operations, page, preview
from .export import CsvExport
from .page import SLA_COLORS, STATUS_COLORS  # noqa: F401  (comms' dashboard reads them here)


def _timestamp(field: str, label: str):
    """A read-only timestamp of the incident page, in the viewer's time zone."""
    return column(field, label, lambda moment: local(moment, MINUTE))


def _where_i_hold_a_role(incidents, request):
    mine = Participant.objects.filter(incident=OuterRef("pk"), user=request.user, left_at=None)
    return incidents.filter(Exists(mine))


class OpenClosedFilter(ChoiceFilter):
    title = "open / closed"
    parameter_name = "state"
    options = {
        "open": ("Open", lambda incidents, request: incidents.filter(status__in=OPEN_STATUSES)),
        "closed": ("Resolved or closed", lambda incidents, request: incidents.exclude(status__in=OPEN_STATUSES)),
    }


class MineFilter(ChoiceFilter):
    title = "my role"
    parameter_name = "mine"
    options = {"yes": ("Where I hold a role", _where_i_hold_a_role)}


class ServiceFilter(admin.SimpleListFilter):
    """Incidents affecting one service. Django's own filter for a many-to-many field joins the
    link table and then needs SELECT DISTINCT over every column: 2 s at a million incidents.
    Asking, row by row down the list's index, whether a link exists reads ~50 of them a page."""

    title = "affected service"
    parameter_name = "services__id__exact"  # the URL Django's filter used, so saved links still work

    def lookups(self, request, model_admin):
        return list(Service.objects.order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit()):
            return queryset.none()
        links = Incident.services.through.objects.filter(incident=OuterRef("pk"), service_id=int(value))
        return queryset.filter(Exists(links))


@admin.register(Incident)
class IncidentAdmin(CsvExport, admin.ModelAdmin):
    form = IncidentDetailsForm
    add_form_template = "admin/incidents/incident/declare.html"
    change_form_template = "admin/incidents/incident/details.html"  # the details page; the incident page is page.py's

    list_display = (
        "reference", "title", "severity_and_status", "age", "commander", "sla_badge", "affected_services",
    )
    list_display_links = ("reference", "title")
    list_filter = (OpenClosedFilter, "status", "severity", ServiceFilter, "incident_type", MineFilter, "is_drill")
    search_fields = ("title",)
    search_help_text = "Title words, a reference such as INC-42, or a severity's name or label."
    ordering = ("-declared_at",)
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # "about 1,000,000" past VIGIL_ADMIN_EXACT_COUNT_LIMIT
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

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        sla.attach_calendars(changelist.result_list)  # the SLA column's clocks: two queries a page at most
        return changelist

    def get_search_results(self, request, queryset, search_term):
        """A reference ("INC-42" or "42") finds that incident only; title words, and a severity's
        name or label ("P0", "critical"), as `incidents.search.search` says (shared with the API)."""
        return search(queryset, search_term), False

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

    @admin.display(description="Severity", ordering="severity__rank")
    def severity_and_status(self, incident):
        """One column for both badges, so the list fits a laptop beside its filters."""
        return format_html("{} {}", self.severity_badge(incident), self.status_badge(incident))

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

    time_to_acknowledge = column("time_to_acknowledge", "Time to acknowledge", formatting.duration)
    time_to_mitigate = column("time_to_mitigate", "Time to mitigate", formatting.duration)
    time_to_resolve = column("time_to_resolve", "Time to resolve", formatting.duration)

    # --- Declaring ---

    def add_view(self, request, form_url="", extra_context=None):
        """The declare page stands in for the model's add form: only what is known in the first minute."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DeclareForm(request.POST if request.method == "POST" else None, user=request.user)
        if form.is_bound and form.is_valid():
            try:
                incident = form.declare(actor=request.user, source=Source.ADMIN)
            except DomainError as error:
                field = getattr(error, "field", None)  # an InvalidField is said on its field
                form.add_error(field if field in form.fields else None, str(error))
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

    # --- The incident page (the command centre) and its details page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The incident page: the command centre (`page.py`). Its details are edited on their own
        page (`details_view`); every change made here is one of the operations' small forms."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        incident = self._visible(request, object_id)
        return TemplateResponse(request, "admin/incidents/incident/incident.html", page.context(request, self, incident))

    def timeline_view(self, request, object_id):
        """The page's poll: events since `?after=`, and the header's state (checked as the page is)."""
        return page.timeline_json(request, self._visible(request, object_id))

    def details_view(self, request, object_id):
        """The incident's details, editable with `change_incident` or command rights (Django's change
        form, saved through `update_details`), read-only otherwise."""
        incident = self._visible(request, object_id)
        return self.changeform_view(
            request, object_id, extra_context={"title": f"{incident.reference} · details", "subtitle": incident.title}
        )

    def _visible(self, request, object_id) -> Incident:
        """The incident if the user may see it: a 404 when it is restricted from them or unknown, a
        403 without the view permission."""
        incident = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, incident):
            raise PermissionDenied
        return incident

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(incident=obj, show_save_and_add_another=False, show_save_as_new=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

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
            obj = actions.update_details(obj, actor=request.user, source=Source.ADMIN, services=services, **changes)
        if changes.keys() & {"users_affected_estimated", "users_affected_confirmed"}:
            warning = bounds.users_out_of_proportion(obj.users_affected_estimated, obj.users_affected_confirmed)
            if warning:
                messages.warning(request, warning)  # saved all the same: numbers can be surprising and true

    def save_related(self, request, form, formsets, change):
        pass  # the services were saved by update_details

    def response_change(self, request, obj):
        """Saving the details goes back to the incident page, where the response is run ("Save and
        continue editing" stays on the details)."""
        if "_save" in request.POST:
            messages.success(request, f"{obj.reference}'s details were saved.")
            return HttpResponseRedirect(self._change_url(obj))
        return super().response_change(request, obj)

    def get_urls(self):
        operate = path(
            "<path:object_id>/do/<slug:operation>/",
            self.admin_site.admin_view(self.operate_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_operate",
        )
        incident_preview = path(
            "<path:object_id>/escalation/",
            self.admin_site.admin_view(self.incident_preview_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_escalation_preview",
        )
        policy_preview = path(
            "escalation-preview/",
            self.admin_site.admin_view(self.policy_preview_view),
            name="incidents_policy_escalation_preview",
        )
        timeline = path(
            "<path:object_id>/timeline.json",
            self.admin_site.admin_view(self.timeline_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_timeline",
        )
        details = path(
            "<path:object_id>/details/",
            self.admin_site.admin_view(self.details_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_details",
        )
        download = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_export",
        )
        return [download, operate, timeline, details, incident_preview, policy_preview, *super().get_urls()]

    # --- The escalation preview and the operations ---

    def incident_preview_view(self, request, object_id):
        incident = self.get_object(request, unquote(object_id))
        if incident is None or not permissions.can_view(request.user, incident):
            raise Http404
        return preview.incident_preview(self, request, incident)

    def policy_preview_view(self, request):
        if not request.user.has_perm("oncall.view_escalationpolicy") and not request.user.is_superuser:
            raise PermissionDenied("oncall.view_escalationpolicy")
        return preview.policy_preview(self, request)

    def operate_view(self, request, object_id, operation):
        """One operation of the incident page: validate the form, call its action, go back to the page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if operation not in operations.OPERATIONS:
            raise Http404("No such operation.")
        incident = self.get_object(request, unquote(object_id))
        if not permissions.may(request.user, incident, operation):
            raise PermissionDenied(permissions.required_for(operation))  # the 403 page names it
        operations.perform(request, incident, operation)
        return HttpResponseRedirect(self._change_url(incident))

    def _change_url(self, incident) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(incident.pk)], current_app=self.admin_site.name
        )
