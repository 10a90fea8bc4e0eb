"""The incident's details and what gathers around it: the editable details of the incident page,
and its forms for notes, roles, tasks and evidence."""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets

from .. import actions, bounds, clock
from ..errors import InvalidField
from ..models import EvidenceLink, Incident, IncidentTask, Participant
from .base import ListField, OperationForm, UserChoiceField, count_field


class IncidentDetailsForm(forms.ModelForm):
    """The descriptive fields of the incident page; the admin saves them through `actions.update_details`."""

    regions = ListField(required=False, widget=widgets.AdminTextInputWidget, help_text="Comma-separated, e.g. eu-west-1, us-east-1.")

    class Meta:
        model = Incident
        fields = [*actions.EDITABLE_DETAILS, "services"]
        field_classes = dict.fromkeys(
            ["users_affected_estimated", "users_affected_confirmed"], count_field(bounds.USERS_MOST, "users")
        )

    # Checked here with the action's own bounds too, so a typo keeps the rest of the edit instead of
    # being refused whole, and the error sits on its field.
    def clean_detected_at(self):
        try:
            return bounds.detection_time(self.cleaned_data["detected_at"], self.instance.declared_at, now=clock.now())
        except InvalidField as error:
            raise forms.ValidationError(str(error)) from None


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
