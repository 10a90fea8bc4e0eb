"""The small forms of the incident page (acknowledge, post an update, resolve…): which the user is
offered, and performing one. Each form's `perform` calls one action; a refused step (`DomainError`)
becomes an error message and changes nothing."""

from __future__ import annotations

from django.contrib import messages

from .. import permissions
from ..errors import DomainError, InvalidField
from ..forms import details, lifecycle
from ..forms.base import OperationForm
from ..models import Incident, Source

# Operation name (in the URL) → its form; who may perform it is `permissions.may` for that name.
OPERATIONS = {
    "acknowledge": lifecycle.AcknowledgeForm,
    "change_status": lifecycle.ChangeStatusForm,
    "post_update": lifecycle.PostUpdateForm,
    "add_note": details.NoteForm,
    "add_task": details.AddTaskForm,
    "task_done": details.TaskDoneForm,
    "add_evidence": details.AddEvidenceForm,
    "change_severity": lifecycle.ChangeSeverityForm,
    "assign_role": details.AssignRoleForm,
    "release_role": details.ReleaseRoleForm,
    "resolve": lifecycle.ResolveForm,
    "reopen": lifecycle.ReopenForm,
    "close": lifecycle.CloseForm,
}
# The ones in the incident page's side panel, in its order; the update box stands above the
# timeline, and tasks, evidence and releasing a role sit beside their lists.
SIDE_OPERATIONS = (
    "acknowledge", "change_status", "change_severity", "assign_role", "resolve", "reopen", "close", "add_note",
)


def offered(user, incident: Incident) -> dict[str, OperationForm]:
    """The unbound forms the user may use on the incident as it stands, by operation name."""
    found = {}
    for name, form_class in OPERATIONS.items():
        if permissions.may(user, incident, name):
            form = form_class(incident=incident, prefix=name)
            if form.offered:
                found[name] = form
    return found


def side(operations: dict[str, OperationForm]) -> list[OperationForm]:
    """The offered forms of the side panel, in its order."""
    return [operations[name] for name in SIDE_OPERATIONS if name in operations]


def perform(request, incident: Incident, operation: str) -> None:
    """Validate the posted form of `operation` and call its action; either way, say what happened."""
    form = OPERATIONS[operation](request.POST, incident=incident, prefix=operation)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return
    try:
        messages.success(request, form.perform(actor=request.user, source=Source.ADMIN))
    except InvalidField as error:
        # The action refused one of the form's values: said as that field's error.
        form.add_error(error.field if error.field in form.fields else None, str(error))
        messages.error(request, _form_errors(form))
    except DomainError as error:
        messages.error(request, str(error))


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(errors)
        parts.append(text if name == "__all__" or name not in form.fields else f"{form[name].label}: {text}")
    return " ".join(parts)
