"""The post-mortem pages: the list, the document with its timeline, five whys and action items
inline, status buttons, the Markdown download and the print page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from incidents import selectors
from incidents.errors import DomainError
from incidents.formatting import EMPTY, MINUTE, badge, local
from incidents.models import Incident, Source
from oncall.admin.filters import ChoiceFilter

from .. import actions, export, invites, metrics, services
from ..models import ActionItem, PostMortem, PostMortemTimelineEntry, Why
from .base import TEXT_BOXES, visible_postmortems

STATUS_COLORS = {
    PostMortem.Status.DRAFT: "#ef6c00",
    PostMortem.Status.IN_REVIEW: "#1565c0",
    PostMortem.Status.PUBLISHED: "#2e7d32",
}
# Transition (URL name) → its button label.
TRANSITION_LABELS = {
    "submit_for_review": "Submit for review",
    "return_to_draft": "Back to draft",
    "publish": "Publish",
}
TRANSITIONS_FROM = {
    PostMortem.Status.DRAFT: ["submit_for_review"],
    PostMortem.Status.IN_REVIEW: ["publish", "return_to_draft"],
    PostMortem.Status.PUBLISHED: [],
}


def _overdue() -> Q:
    """Past the due date of the step it is in: the draft, or the publication once in review."""
    today = timezone.localdate()
    return Q(status=PostMortem.Status.DRAFT, draft_due__lt=today) | Q(status=PostMortem.Status.IN_REVIEW, publish_due__lt=today)


class OverdueFilter(ChoiceFilter):
    title = "due"
    parameter_name = "overdue"
    options = {
        "yes": ("Overdue", lambda postmortems, request: postmortems.filter(_overdue())),
        "no": ("Not overdue", lambda postmortems, request: postmortems.exclude(_overdue())),
    }


def _transition(request, postmortems, name: str) -> None:
    """Take each post-mortem through `name`, saying what was refused and how many moved."""
    done = 0
    for postmortem in postmortems:
        try:
            actions.TRANSITIONS[name](postmortem, actor=request.user, source=Source.ADMIN)
            done += 1
        except DomainError as error:
            messages.error(request, str(error))
    if done:
        messages.success(request, f"{TRANSITION_LABELS[name]}: {done} post-mortem{'s' if done != 1 else ''}.")


def _transition_action(name: str):
    """The list action that takes the selected post-mortems through `name`, labelled as its button."""

    @admin.action(description=TRANSITION_LABELS[name], permissions=["change"])
    def transition_selected(model_admin, request, queryset):
        _transition(request, queryset, name)

    return transition_selected


# --- The post-mortem page --------------------------------------------------------------------


class TimelineEntryForm(forms.ModelForm):
    hidden = forms.BooleanField(label="hide", required=False, help_text="Left out of the published document.")
    annotation = forms.CharField(
        label="note", required=False, max_length=actions.ANNOTATION_MAX,
        widget=forms.TextInput(attrs={"class": "vigil-note", "placeholder": "Add a note"}),
    )

    class Meta:
        model = PostMortemTimelineEntry
        fields = ("hidden", "annotation")


class TimelineEntryInline(admin.TabularInline):
    """The timeline copied from the incident, as a compact table: when (in the reader's zone), what
    kind, what happened — read-only — with "hide" and a short note per row. Saved through
    `actions.edit_timeline` (`PostMortemAdmin.save_formset`)."""

    model = PostMortemTimelineEntry
    form = TimelineEntryForm
    fields = ("when", "kind", "text", "hidden", "annotation")
    readonly_fields = ("when", "kind", "text")
    extra = 0
    can_delete = False
    classes = ("vigil-timeline-entries",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")

    def has_add_permission(self, request, obj=None):
        return False  # the rows come from the incident's timeline

    @admin.display(description="when")
    def when(self, entry):
        return local(entry.occurred_at, MINUTE)

    @admin.display(description="kind")
    def kind(self, entry):
        return entry.event.get_kind_display() if entry.event else "author's note"


class WhyInline(admin.TabularInline):
    model = Why
    fields = ("position", "question", "answer")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}

    def get_extra(self, request, obj=None, **kwargs):
        # Room for five whys; more can be added.
        return max(0, 5 - (obj.whys.count() if obj else 0))


class ActionItemInline(admin.StackedInline):
    model = ActionItem
    fields = (
        "description", ("owner", "due_date"), ("priority", "status", "horizon"), "completion_criteria", "ticket_url",
        "completed_at",
    )
    readonly_fields = ("completed_at",)
    autocomplete_fields = ("owner",)
    extra = 0
    formfield_overrides = TEXT_BOXES


class CreateForm(forms.Form):
    """The on-request post-mortem: any incident the user may see that has none yet."""

    incident = forms.ModelChoiceField(queryset=Incident.objects.none())
    owner = forms.ModelChoiceField(queryset=None, required=False, help_text="Empty: the incident's current commander.")

    def __init__(self, *args, user, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = (
            selectors.visible_incidents(user).filter(postmortem__isnull=True).select_related("severity").order_by("-number")
        )
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class ReviewMeetingForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts", help_text="In your time zone.", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(min_value=15, max_value=480, initial=60, label="Minutes")


@admin.register(PostMortem)
class PostMortemAdmin(admin.ModelAdmin):
    list_display = ("reference", "incident_title", "status_badge", "owner", "due_badge")
    list_display_links = ("reference", "incident_title")
    list_filter = ("status", OverdueFilter)
    list_select_related = ("incident", "owner")
    search_fields = ("incident__title",)
    ordering = ("-created_at",)
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ("submit_for_review", "publish", "return_to_draft")
    autocomplete_fields = ("owner",)
    inlines = (TimelineEntryInline, WhyInline, ActionItemInline)
    readonly_fields = (
        "incident_link", "status_badge", "created_at", "published_at", "published_by", "impact_duration_default"
    )
    fieldsets = (
        ("State", {"fields": (("incident_link", "status_badge"), "owner", ("draft_due", "review_due", "publish_due"),
                              ("created_at", "published_at", "published_by"))}),
        ("Summary and impact", {"fields": ("summary", "users_affected", ("impact_duration", "impact_duration_default"),
                                           "business_impact")}),
        ("Root cause analysis", {"fields": ("immediate_cause", "root_cause")}),
        ("Contributing factors", {"fields": ("contributing_technical", "contributing_process")}),
        ("Review", {"fields": ("went_well", "could_improve", "lessons_learned",
                               ("review_meeting_at", "review_meeting_minutes"))}),
    )
    formfield_overrides = TEXT_BOXES
    empty_value_display = EMPTY
    change_form_template = "admin/postmortems/postmortem/change_form.html"

    def get_queryset(self, request):
        return visible_postmortems(request.user).select_related("incident__severity", "owner")

    def has_delete_permission(self, request, obj=None):
        return False  # the record is the history

    # --- Columns ---

    @admin.display(description="incident", ordering="incident__number")
    def reference(self, obj):
        return obj.incident.reference

    @admin.display(description="title")
    def incident_title(self, obj):
        return obj.incident.title

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), STATUS_COLORS[obj.status])

    @admin.display(description="due", ordering="draft_due")
    def due_badge(self, obj):
        """The one date the post-mortem waits for, once, with the step it is for."""
        if obj.current_due is None:
            return EMPTY
        step = "draft" if obj.status == PostMortem.Status.DRAFT else "publication"
        if obj.is_overdue:
            return badge(f"{step} overdue since {obj.current_due:%a %d %b %Y}", "#c62828")
        return f"{step} due {obj.current_due:%a %d %b %Y}"

    @admin.display(description="incident")
    def incident_link(self, obj):
        url = reverse("admin:incidents_incident_change", args=[quote(obj.incident_id)], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, str(obj.incident))

    @admin.display(description="duration from the incident")
    def impact_duration_default(self, obj):
        return export.impact_duration(PostMortem(incident=obj.incident)) if obj.pk else EMPTY

    # --- Saving: the timeline through actions.edit_timeline; action items keep completed_at in step ---

    def save_formset(self, request, form, formset, change):
        if formset.model is PostMortemTimelineEntry:
            return self._save_timeline(form.instance, formset)
        if formset.model is ActionItem:
            for inline_form in formset.forms:
                if inline_form.has_changed() and not formset._should_delete_form(inline_form):
                    actions.stamp_completion(inline_form.instance)
        super().save_formset(request, form, formset, change)

    def _save_timeline(self, postmortem, formset) -> None:
        """Hide/show and notes go through `actions.edit_timeline`; the rows are never saved here."""
        edited = [row for row in formset.forms if row.has_changed()]
        actions.edit_timeline(postmortem, {row.instance.pk: row.cleaned_data for row in edited})
        # What the admin's history message reads from a saved formset.
        formset.new_objects, formset.deleted_objects = [], []
        formset.changed_objects = [(row.instance, row.changed_data) for row in edited]

    # --- Status: list actions and the page's buttons ---

    submit_for_review = _transition_action("submit_for_review")
    publish = _transition_action("publish")
    return_to_draft = _transition_action("return_to_draft")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name="%s_%s_transition" % info),
            path("<path:object_id>/export.md", self.admin_site.admin_view(self.export_view), name="%s_%s_export" % info),
            path("<path:object_id>/print/", self.admin_site.admin_view(self.print_view), name="%s_%s_print" % info),
            path("<path:object_id>/review/", self.admin_site.admin_view(self.review_view), name="%s_%s_review" % info),
            *super().get_urls(),
        ]

    def _get_or_404(self, request, object_id) -> PostMortem:
        postmortem = self.get_object(request, unquote(object_id))
        if postmortem is None or not self.has_view_permission(request, postmortem):
            raise Http404("No such post-mortem.")
        return postmortem

    def transition_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in actions.TRANSITIONS:
            raise Http404("No such step.")
        postmortem = self._get_or_404(request, object_id)
        if not self.has_change_permission(request, postmortem):
            raise PermissionDenied
        _transition(request, [postmortem], name)
        return HttpResponseRedirect(
            reverse("admin:postmortems_postmortem_change", args=[quote(postmortem.pk)], current_app=self.admin_site.name)
        )

    def review_view(self, request, object_id):
        """Schedule the review meeting: the incident's participants get an email invitation (.ics)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        postmortem = self._get_or_404(request, object_id)
        if not self.has_change_permission(request, postmortem):
            raise PermissionDenied
        form = ReviewMeetingForm(request.POST)
        back = HttpResponseRedirect(
            reverse("admin:postmortems_postmortem_change", args=[quote(postmortem.pk)], current_app=self.admin_site.name)
        )
        if not form.is_valid():
            messages.error(request, "Review meeting not scheduled: " + " ".join(e for errors in form.errors.values() for e in errors))
            return back
        try:
            invitation = invites.schedule_review(
                postmortem, form.cleaned_data["starts_at"], form.cleaned_data["minutes"], request.user
            )
        except DomainError as exc:
            messages.error(request, f"Review meeting not scheduled: {exc}")
            return back
        except OSError as exc:  # the mail server: the meeting is saved, the invitations are not sent
            messages.warning(request, f"Review meeting saved, but the invitations could not be sent ({exc}); schedule it again to resend.")
            return back
        sent = ", ".join(invitation.sent_to) or "nobody"
        missing = f" No email address for {', '.join(invitation.without_email)}." if invitation.without_email else ""
        messages.success(request, f"Review meeting scheduled; invitations sent to {sent}.{missing}")
        return back

    def _document(self, request, object_id) -> PostMortem:
        postmortem = self._get_or_404(request, object_id)
        return (
            PostMortem.objects.select_related("incident__severity", "owner")
            .prefetch_related("whys", "action_items__owner", "timeline_entries")
            .get(pk=postmortem.pk)
        )

    def export_view(self, request, object_id):
        postmortem = self._document(request, object_id)
        response = HttpResponse(export.to_markdown(postmortem), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export.filename(postmortem)}"'
        return response

    def print_view(self, request, object_id):
        """The document on one plain page (no admin chrome), laid out for printing."""
        postmortem = self._document(request, object_id)
        context = {
            "postmortem": postmortem,
            "incident": postmortem.incident,
            "impact_duration": export.impact_duration(postmortem),
            "entries": [e for e in postmortem.timeline_entries.all() if not e.hidden],
            "metrics": metrics.metrics(postmortem.incident),
        }
        return TemplateResponse(request, "admin/postmortems/postmortem/print.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        postmortem = self.get_object(request, unquote(object_id))
        extra = {}
        if postmortem is not None:
            can_change = self.has_change_permission(request, postmortem)
            extra = {
                "title": f"Post-mortem {postmortem.incident.reference}",
                "subtitle": postmortem.incident.title,
                "metrics": metrics.metrics(postmortem.incident),
                "transitions": [
                    (name, TRANSITION_LABELS[name]) for name in TRANSITIONS_FROM[postmortem.status]
                ] if can_change else [],
                "review_form": ReviewMeetingForm() if can_change and postmortem.status != PostMortem.Status.PUBLISHED else None,
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # --- Creating on request ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # The incident page links here with ?incident=<id> to pre-select it.
        form = CreateForm(request.POST or None, user=request.user, initial={"incident": request.GET.get("incident")})
        if request.method == "POST" and form.is_valid():
            try:
                postmortem = services.create_for(form.cleaned_data["incident"], owner=form.cleaned_data["owner"])
            except DomainError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"Post-mortem of {postmortem.incident.reference} created.")
                return HttpResponseRedirect(
                    reverse("admin:postmortems_postmortem_change", args=[quote(postmortem.pk)], current_app=self.admin_site.name)
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Create post-mortem",
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/postmortems/postmortem/create.html", context)
