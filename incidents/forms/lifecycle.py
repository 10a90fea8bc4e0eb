"""The forms that move an incident along its lifecycle: the declare page, and the incident page's
acknowledge, change status, post an update, change severity, resolve, reopen and close."""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.contrib.admin import widgets

from .. import actions, clock, formatting, lifecycle, permissions
from ..models import OPEN_STATUSES, Incident, IncidentType, Service, SeverityLevel, Status, TimelineEvent
from .base import OperationForm, ServicesWidget, SeverityChoiceField, UserChoiceField


class DeclareForm(forms.Form):
    """What an incident commander knows in the first minute; everything else can wait."""

    title = forms.CharField(max_length=200, widget=widgets.AdminTextInputWidget, help_text="What is broken, as a customer would say it.")
    severity = SeverityChoiceField(
        queryset=SeverityLevel.objects.all(), empty_label=None,
        widget=widgets.AdminRadioSelect(attrs={"class": "radiolist"}),
        with_description=True,
    )
    incident_type = forms.ModelChoiceField(
        IncidentType.objects.all(), required=False, label="Type", help_text="Its checklist becomes the task list."
    )
    services = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        label="Affected services",
        widget=ServicesWidget("services", is_stacked=False),
        help_text="Customer-facing services make the incident customer-facing.",
    )
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}))
    commander = UserChoiceField(required=False, label="Incident commander")
    detected_at = forms.SplitDateTimeField(
        required=False, widget=widgets.AdminSplitDateTime, help_text="When the problem was first noticed, in your time zone."
    )
    is_restricted = forms.BooleanField(
        required=False,
        label="Restricted",
        help_text="Only participants and holders of the restricted permission see it. "
        "Types restricted by default (e.g. Security) start restricted anyway.",
    )
    is_drill = forms.BooleanField(required=False, label="Drill", help_text="An exercise: pages only its participants.")
    public_on_status_page = forms.ChoiceField(
        label="Public on status page",
        required=False,
        choices=[("", "As its severity says"), ("yes", "Yes, publish now"), ("no", "Not yet")],
        initial="",
        widget=widgets.AdminRadioSelect(attrs={"class": "radiolist"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].initial = user.pk
        self.fields["public_on_status_page"].help_text = status_page_help(self.fields["severity"].queryset)

    def clean(self):
        data = super().clean()
        if data.get("public_on_status_page") == "yes":
            restricted = data.get("is_restricted") or (data.get("incident_type") and data["incident_type"].restricted_by_default)
            if restricted or data.get("is_drill"):
                self.add_error(
                    "public_on_status_page",
                    f"A {'restricted incident' if restricted else 'drill'} is never shown on the status page.",
                )
        return data

    def declare(self, *, actor, source) -> Incident:
        data = self.cleaned_data
        return actions.declare(
            title=data["title"],
            severity=data["severity"],
            incident_type=data["incident_type"],
            services=data["services"],
            summary=data["summary"],
            commander=data["commander"],
            detected_at=data["detected_at"],
            # Unticked means "as the type says", so a security incident cannot start public by mistake.
            is_restricted=True if data["is_restricted"] else None,
            is_drill=data["is_drill"],
            public_on_status_page={"yes": True, "no": False}.get(data["public_on_status_page"]),
            actor=actor,
            source=source,
        )


def status_page_help(severities) -> str:
    """Each severity's status-page window, for the declare page: "SEV-1 at once; SEV-2 within 15 min…"."""
    windows = []
    for severity in severities:
        if not severity.show_on_status_page or severity.status_page_window is None:
            windows.append(f"{severity.name} optional")
        elif not severity.status_page_window:
            windows.append(f"{severity.name} at once")
        else:
            windows.append(f"{severity.name} within {formatting.duration(severity.status_page_window)}")
    return (
        "As its severity says: customer-facing incidents are public "
        + ("; ".join(windows) or "as each severity says")
        + " (the communications lead is reminded when the window passes). Restricted incidents and drills never are."
    )


# --- Operations on the incident page -----------------------------------------------------------


def _working_targets(incident: Incident) -> list[tuple[str, str]]:
    """The statuses the incident may move to with responder rights (not resolving, reopening or closing it)."""
    current = Status(incident.status)
    return [
        (target.value, target.label)
        for target in lifecycle.allowed_targets(current)
        if permissions.required_for(lifecycle.TRANSITIONS[(current, target)]) == permissions.RESPOND
    ]


class AcknowledgeForm(OperationForm):
    label = button = "Acknowledge"

    @property
    def offered(self) -> bool:
        # Triggered, or reopened and its new acknowledge round not yet taken.
        return self.incident.awaiting_acknowledgement

    def perform(self, *, actor, source) -> str:
        incident = actions.acknowledge(self.incident, actor=actor, source=source)
        return f"{incident.reference} acknowledged."


class ChangeStatusForm(OperationForm):
    label = "Change status"
    button = "Change status"
    status = forms.ChoiceField()
    message = forms.CharField(required=False, max_length=2000, label="Why (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _working_targets(self.incident)

    @property
    def offered(self) -> bool:
        return bool(self.fields["status"].choices)

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        incident = actions.change_status(self.incident, data["status"], message=data["message"], actor=actor, source=source)
        return f"{incident.reference} is now {incident.get_status_display().lower()}."


class PostUpdateForm(OperationForm):
    label = "Post a status update"
    button = "Post update"
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What is happening, what we are doing, when the next update comes"}),
        max_length=10_000,
        label="Update",
    )
    visibility = forms.ChoiceField(
        choices=TimelineEvent.Visibility.choices,
        initial=TimelineEvent.Visibility.INTERNAL,
        widget=forms.RadioSelect,
        help_text="External updates go to customers and the status page.",
    )
    status = forms.ChoiceField(required=False, label="New status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "(unchanged)"), *_working_targets(self.incident)]
        if self.incident.status == Status.TRIGGERED:
            # `post_update` acknowledges exactly when the update moves a triggered incident on.
            ref = self.incident.reference
            self.fields["status"].help_text = (
                f"{ref} is not acknowledged yet. Choosing a status also acknowledges it (you join as a responder "
                f"and the acknowledge-SLA paging stops); left unchanged, the update does not acknowledge {ref}."
            )

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        was_triggered = self.incident.status == Status.TRIGGERED
        incident = actions.post_update(
            self.incident, data["text"], visibility=data["visibility"], status=data["status"] or None, actor=actor, source=source
        )
        posted = f"{TimelineEvent.Visibility(data['visibility']).label} update posted"
        if was_triggered and incident.status != Status.TRIGGERED:
            now = "" if incident.status == Status.INVESTIGATING else f", now {incident.get_status_display().lower()}"
            return f"{posted}; {incident.reference} acknowledged{now}."
        if incident.status == Status.TRIGGERED:
            return f"{posted} on {incident.reference}; it is still not acknowledged, so paging goes on."
        return f"{posted} on {incident.reference}."


class ChangeSeverityForm(OperationForm):
    label = "Change severity"
    button = "Change severity"
    severity = SeverityChoiceField(queryset=SeverityLevel.objects.none(), empty_label=None)
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].queryset = SeverityLevel.objects.exclude(pk=self.incident.severity_id)

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        incident = actions.change_severity(self.incident, data["severity"], reason=data["reason"], actor=actor, source=source)
        return f"{incident.reference} is now {incident.severity.name}."


class ResolveForm(OperationForm):
    label = button = "Resolve"
    summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, label="Resolution summary"
    )
    mitigation = forms.ChoiceField(required=False, choices=[("", "—"), *Incident.Mitigation.choices])
    public_update = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, label="Words for customers",
        help_text="Shown on the status page and in the customer email of a public incident; the summary stays internal.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mitigation"].initial = self.incident.mitigation

    @property
    def offered(self) -> bool:
        return self.incident.status in OPEN_STATUSES

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        incident = actions.resolve(
            self.incident, summary=data["summary"], mitigation=data["mitigation"] or None, actor=actor, source=source,
            public_update=data["public_update"],
        )
        return f"{incident.reference} resolved."


class ReopenForm(OperationForm):
    label = button = "Reopen"
    reason = forms.CharField(max_length=2000, help_text="What came back.")
    public_update = forms.CharField(
        required=False, max_length=2000, label="Words for customers",
        help_text="Blank: “The issue has recurred; we are investigating.” The reason stays internal.",
    )

    @property
    def offered(self) -> bool:
        return self.incident.status == Status.RESOLVED

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        incident = actions.reopen(
            self.incident, reason=data["reason"], public_update=data["public_update"], actor=actor, source=source
        )
        return f"{incident.reference} reopened."


class CloseForm(OperationForm):
    label = button = "Close"

    @property
    def offered(self) -> bool:
        return self.incident.status == Status.RESOLVED

    @cached_property
    def waits(self) -> str:
        """Why closing would be refused now, as the page says it instead of the button (the
        action's own guard, `lifecycle.close_refusal`); empty when closing can succeed."""
        incident, now = self.incident, clock.now()
        refusal = lifecycle.close_refusal(incident, now)
        if refusal and now < lifecycle.closable_from(incident):  # said in the viewer's zone, as a date to wait for
            return f"Can be closed from {formatting.local(lifecycle.closable_from(incident))} (observation period)."
        return refusal or ""

    def perform(self, *, actor, source) -> str:
        incident = actions.close(self.incident, actor=actor, source=source)
        return f"{incident.reference} closed."
