"""Admin forms: each turns what an operator typed into the arguments of one action.

`DeclareForm` is the declare page, `IncidentDetailsForm` the editable part of the incident
page, and every `OperationForm` is one small form on that page (acknowledge, post an
update, resolve…) whose `perform` calls exactly one function of `incidents.actions`.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.admin import widgets
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import format_html

from oncall.formatting import typed_duration
from oncall.forms import DelayField
from oncall.models import EscalationPolicy

from . import actions, formatting, lifecycle, permissions
from .models import (
    OPEN_STATUSES,
    EvidenceLink,
    Incident,
    IncidentTask,
    IncidentType,
    Participant,
    Service,
    SeverityLevel,
    Status,
    TimelineEvent,
)


class ListField(forms.CharField):
    """A JSON list of strings edited as text: split on `separator`, blanks dropped."""

    def __init__(self, *, separator: str = ",", **kwargs):
        self.separator = separator
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ("\n" if self.separator == "\n" else ", ").join(str(v) for v in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        return [item.strip() for item in text.split(self.separator) if item.strip()]


class UserChoiceField(forms.ModelChoiceField):
    """Active staff users: the people who can hold a role on an incident."""

    def __init__(self, **kwargs):
        queryset = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("first_name", "last_name", "username")
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, user):
        name = str(user)
        return name if name == user.get_username() else f"{name} ({user.get_username()})"


class ServicesWidget(widgets.FilteredSelectMultiple):
    """The admin's two-box picker, wrapped as the admin wraps it so its script keeps the label on the left."""

    def render(self, *args, **kwargs):
        return format_html('<div class="related-widget-wrapper">{}</div>', super().render(*args, **kwargs))


class SeverityChoiceField(forms.ModelChoiceField):
    def __init__(self, *, with_description: bool = False, **kwargs):
        self.with_description = with_description
        super().__init__(**kwargs)

    def label_from_instance(self, severity):
        text = f"{severity.name} · {severity.label}"
        return f"{text} — {severity.description}" if self.with_description and severity.description else text


# --- Declaring and editing ------------------------------------------------------------------


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


class IncidentDetailsForm(forms.ModelForm):
    """The descriptive fields of the incident page; the admin saves them through `actions.update_details`."""

    regions = ListField(required=False, widget=widgets.AdminTextInputWidget, help_text="Comma-separated, e.g. eu-west-1, us-east-1.")

    class Meta:
        model = Incident
        fields = [*actions.EDITABLE_DETAILS, "services"]

    def clean_detected_at(self):
        # Checked here too, so a typo keeps the rest of the edit instead of being refused whole.
        detected_at = self.cleaned_data["detected_at"]
        if detected_at and detected_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("The detection time is in the future.")
        return detected_at


class MatrixDurationField(DelayField):
    """A duration of the response matrix typed as the matrix says it: "5 min", "4 h", "14 d"
    (Django's "00:05:00" works too). Shown exactly, so saving the page never rounds a target."""

    widget = forms.TextInput(attrs={"size": 14, "placeholder": "e.g. 15 min"})
    default_error_messages = {
        "invalid": "Type a duration such as “5 min”, “4 h”, “1 h 30 min” or “14 d”.",
        "overflow": "Far longer than any target of the matrix may be: see the bound below.",
    }

    def prepare_value(self, value):
        return typed_duration(value) if isinstance(value, timedelta) else value


class SeverityLevelForm(forms.ModelForm):
    class Meta:
        model = SeverityLevel
        fields = "__all__"
        field_classes = dict.fromkeys(
            ["ack_sla", "first_update_interval", "update_interval", "resolve_target", "observation_period"],
            MatrixDurationField,
        )


class IncidentTypeForm(forms.ModelForm):
    checklist = ListField(
        separator="\n",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        help_text="One item per line; they become the task list of each new incident of this type.",
    )

    class Meta:
        model = IncidentType
        fields = ["name", "slug", "description", "symptoms", "checklist", "restricted_by_default"]


# --- Operations on the incident page -----------------------------------------------------------


def _working_targets(incident: Incident) -> list[tuple[str, str]]:
    """The statuses the incident may move to with responder rights (not resolving, reopening or closing it)."""
    current = Status(incident.status)
    return [
        (target.value, target.label)
        for target in lifecycle.allowed_targets(current)
        if permissions.required_for(lifecycle.TRANSITIONS[(current, target)]) == permissions.RESPOND
    ]


class OperationForm(forms.Form):
    """One small form of the incident page. `perform` calls one action and returns the success message."""

    label = ""
    button = ""

    def __init__(self, *args, incident: Incident, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)

    @property
    def offered(self) -> bool:
        """Whether the form makes sense for the incident as it stands (the action still decides)."""
        return self.incident.status != Status.CLOSED

    def perform(self, *, actor, source) -> str:
        raise NotImplementedError


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
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Update")
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


class NoteForm(OperationForm):
    label = "Add a note"
    button = "Add note"
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, label="Note")

    @property
    def offered(self) -> bool:
        return True

    def perform(self, *, actor, source) -> str:
        actions.add_note(self.incident, self.cleaned_data["text"], actor=actor, source=source)
        return "Note added."


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


class AssignRoleForm(OperationForm):
    label = button = "Assign a role"
    user = UserChoiceField(label="Person")
    role = forms.ChoiceField(choices=Participant.Role.choices, help_text="Commander, leads and scribe are handed over.")

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        participant = actions.assign_role(self.incident, data["user"], data["role"], actor=actor, source=source)
        return f"{participant.user} is now {participant.get_role_display().lower()}."


class ReleaseRoleForm(OperationForm):
    button = "Release"
    participant = forms.ModelChoiceField(queryset=Participant.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = self.incident.participants.filter(left_at=None).select_related("user")

    def perform(self, *, actor, source) -> str:
        participant = actions.release_role(self.cleaned_data["participant"], actor=actor, source=source)
        return f"{participant.user} is no longer {participant.get_role_display().lower()}."


class ResolveForm(OperationForm):
    label = button = "Resolve"
    summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000, label="Resolution summary"
    )
    mitigation = forms.ChoiceField(required=False, choices=[("", "—"), *Incident.Mitigation.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mitigation"].initial = self.incident.mitigation

    @property
    def offered(self) -> bool:
        return self.incident.status in OPEN_STATUSES

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        incident = actions.resolve(
            self.incident, summary=data["summary"], mitigation=data["mitigation"] or None, actor=actor, source=source
        )
        return f"{incident.reference} resolved."


class ReopenForm(OperationForm):
    label = button = "Reopen"
    reason = forms.CharField(max_length=2000, help_text="What came back.")

    @property
    def offered(self) -> bool:
        return self.incident.status == Status.RESOLVED

    def perform(self, *, actor, source) -> str:
        incident = actions.reopen(self.incident, reason=self.cleaned_data["reason"], actor=actor, source=source)
        return f"{incident.reference} reopened."


class CloseForm(OperationForm):
    label = button = "Close"

    @property
    def offered(self) -> bool:
        return self.incident.status == Status.RESOLVED

    @property
    def observed_until(self):
        return self.incident.resolved_at + self.incident.severity.observation_period

    def perform(self, *, actor, source) -> str:
        incident = actions.close(self.incident, actor=actor, source=source)
        return f"{incident.reference} closed."


class AddTaskForm(OperationForm):
    button = "Add task"
    title = forms.CharField(max_length=300, label="New task")

    def perform(self, *, actor, source) -> str:
        task = actions.add_task(self.incident, self.cleaned_data["title"], actor=actor, source=source)
        return f"Task added: {task.title}"


class TaskDoneForm(OperationForm):
    task = forms.ModelChoiceField(queryset=IncidentTask.objects.none(), widget=forms.HiddenInput)
    done = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].queryset = self.incident.tasks.all()

    @property
    def offered(self) -> bool:
        return True

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        task = actions.set_task_done(data["task"], data["done"], actor=actor, source=source)
        return f"Task {'done' if task.is_done else 'reopened'}: {task.title}"


class AddEvidenceForm(OperationForm):
    button = "Add link"
    url = forms.URLField(
        max_length=1000, assume_scheme="https", label="Link", widget=forms.URLInput(attrs={"placeholder": "https://…"})
    )
    kind = forms.ChoiceField(choices=EvidenceLink.Kind.choices)
    title = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={"placeholder": "Title (optional)"}))

    @property
    def offered(self) -> bool:
        return True

    def perform(self, *, actor, source) -> str:
        data = self.cleaned_data
        link = actions.add_evidence(self.incident, data["url"], kind=data["kind"], title=data["title"], actor=actor, source=source)
        return f"{link.get_kind_display()} added: {link}"


class EscalationPreviewForm(forms.Form):
    """Pick a policy and a severity to see the escalation an incident declared now would get."""

    policy = forms.ModelChoiceField(EscalationPolicy.objects.all(), empty_label=None)
    severity = SeverityChoiceField(queryset=SeverityLevel.objects.all(), empty_label=None)
