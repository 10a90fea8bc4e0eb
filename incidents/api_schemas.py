"""The JSON shapes of the incidents and services API (`incidents/api.py`): `…In` is what a client
sends, `…Out` what it gets back. Fields are listed explicitly; times are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from oncall.api_errors import ErrorOut, ValidationErrorOut

from . import bounds
from .models import Incident, Participant, Status


def _plain_text(value: str) -> str:
    # PostgreSQL refuses NUL in text, and lone surrogates cannot be stored as UTF-8: say so as a
    # 422 here rather than fail with a 500 in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def Text(max_length: int, *, min_length: int = 0):  # noqa: N802 — a type factory, read like a type
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_plain_text)]


def _users(value: int) -> int:
    refusal = bounds.users_refusal(value)
    if refusal:
        raise PydanticCustomError("users_out_of_bounds", refusal)
    return value


# A number of users affected: 0 to a billion, refused in words ("Too large: at most 1,000,000,000 users.").
Users = Annotated[int, AfterValidator(_users), Field(json_schema_extra={"minimum": 0, "maximum": bounds.USERS_MOST})]
Slug = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", max_length=100)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=150), AfterValidator(_plain_text)]
# A severity as typed: its name (at most 20 characters) or its label (40), with room for spacing.
SeverityName = Annotated[str, StringConstraints(min_length=1, max_length=60), AfterValidator(_plain_text)]
SEVERITY_TYPED = "A severity's name, label or rank (1 is the most severe), in any case, as the severity levels name them."
StatusName = Literal[tuple(Status.values)]  # type: ignore[valid-type]
WorkingStatus = Literal["investigating", "identified", "monitoring"]
RoleName = Literal[tuple(Participant.Role.values)]  # type: ignore[valid-type]
MitigationName = Literal[tuple(Incident.Mitigation.values)]  # type: ignore[valid-type]


# --- Errors ---------------------------------------------------------------------------------------




# Every route may answer these (authentication, scopes and permissions, rate limits, a database
# that is down); the routes add their own where they can happen.
COMMON_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut, 503: ErrorOut}
READ_ERRORS: dict[int, Any] = {**COMMON_ERRORS, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut}


# --- People and catalog ---------------------------------------------------------------------------


class UserRefOut(Schema):
    username: str
    name: str


class SeverityOut(Schema):
    name: str = Field(examples=["SEV-1"])
    rank: int = Field(description="1 is the most severe.")
    label: str = Field(examples=["Critical"])


class SlaOut(Schema):
    state: Literal["on time", "due soon", "breached"]
    label: str = Field(description='e.g. "breached: acknowledge", "all targets met".')
    target: str = Field(description="The target that decides the state: acknowledge, status update or resolve.")
    due_at: datetime


class ParticipantOut(Schema):
    username: str
    name: str
    role: RoleName
    joined_at: datetime


# --- Incidents ------------------------------------------------------------------------------------


class IncidentOut(Schema):
    reference: str = Field(examples=["INC-42"])
    number: int
    title: str
    summary: str
    severity: SeverityOut
    status: StatusName
    type: str | None = Field(description="The incident type's slug.")
    services: list[str] = Field(description="Affected services' slugs.")
    commander: UserRefOut | None
    customer_facing: bool
    restricted: bool
    drill: bool
    detected_at: datetime | None
    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: SlaOut
    url: str = Field(description="The incident's page in the admin.")


class IncidentDetailOut(IncidentOut):
    origin: str
    public_on_status_page: bool
    users_affected_estimated: int | None
    users_affected_confirmed: int | None
    mitigation: str
    resolution_summary: str
    participants: list[ParticipantOut] = Field(description="Who holds a role now.")
    warnings: list[str] = Field(
        default=[],
        description="What this change accepted but looks wrong, e.g. far more users confirmed than estimated "
        "(more than ten times, and by more than 100). Empty when nothing does.",
    )


class IncidentPageOut(Schema):
    items: list[IncidentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class DeclareIn(Schema):
    title: Text(200, min_length=1)  # type: ignore[valid-type]
    severity: SeverityName = Field(description=SEVERITY_TYPED, examples=["SEV-2"])
    services: list[Slug] = Field(default=[], max_length=50, description="Affected services' slugs.")
    summary: Text(20_000) = ""  # type: ignore[valid-type]
    type: Slug | None = Field(default=None, description="An incident type's slug; its checklist becomes the tasks.")
    commander: Username | None = Field(default=None, description="The incident commander's username.")
    restricted: bool = Field(
        default=False,
        description="Restrict to participants. False means as the type says: a security incident starts restricted anyway.",
    )
    drill: bool = False
    public_on_status_page: bool | None = Field(
        default=None,
        description="Show it on the public status page. Unset: as its severity says (customer-facing incidents of a "
        "severity whose status-page window is zero are public at once). Restricted incidents and drills cannot be public.",
    )
    detected_at: datetime | None = Field(
        default=None,
        description="When the problem was first noticed (no time zone = UTC): not after the declaration (a few minutes "
        "ahead is read as now), and at most VIGIL_MAX_DETECTION_LEAD_DAYS (30 by default) days before it; else a 422.",
    )


class IncidentPatchIn(Schema):
    """Only the fields sent change; each goes through its own action, all in one transaction."""

    title: Text(200, min_length=1) | None = None  # type: ignore[valid-type]
    summary: Text(20_000) | None = None  # type: ignore[valid-type]
    severity: SeverityName | None = Field(default=None, description=SEVERITY_TYPED)
    status: StatusName | None = Field(
        default=None,
        description="Any lifecycle step: working statuses need responder rights; resolved, closed and "
        "a reopen (resolved → investigating) need command rights. A severity that needs a resolution summary "
        "is resolved with POST …/resolve instead.",
    )
    users_affected_estimated: Users | None = Field(default=None, description="Users affected, estimated (edit rights); null clears it.")
    users_affected_confirmed: Users | None = Field(default=None, description="Users affected, confirmed (edit rights); null clears it.")


class ResolveIn(Schema):
    summary: Text(10_000) = ""  # type: ignore[valid-type]
    mitigation: MitigationName | None = None
    public_update: Text(10_000) = ""  # type: ignore[valid-type]  # what customers are told


class ReopenIn(Schema):
    reason: Text(2000, min_length=1)  # type: ignore[valid-type]
    public_update: Text(2000) = ""  # type: ignore[valid-type]  # what customers are told; the reason is internal


class RoleIn(Schema):
    role: RoleName
    username: Username


class UpdateIn(Schema):
    text: Text(10_000, min_length=1)  # type: ignore[valid-type]
    visibility: Literal["internal", "external"] = Field(
        default="internal", description="External updates go to customers and the status page."
    )
    status: WorkingStatus | None = Field(
        default=None,
        description="Move to this working status at the same time. On a triggered incident this also acknowledges "
        "it (the caller joins as a responder; the response's `acknowledged_at` says when); without a status, an "
        "update does not acknowledge.",
    )


class TimelineEventOut(Schema):
    id: int
    kind: str
    occurred_at: datetime
    actor: UserRefOut | None
    actor_label: str = Field(description="Who or what did it: a person, or the source (SLA engine, integration…).")
    source: str
    message: str
    visibility: Literal["internal", "external"]
    data: dict[str, Any]


class TimelinePageOut(Schema):
    items: list[TimelineEventOut]
    next_cursor: str | None


class TaskOut(Schema):
    id: int
    position: int
    title: str
    done: bool
    done_at: datetime | None
    done_by: UserRefOut | None


class TaskListOut(Schema):
    items: list[TaskOut]


class TaskIn(Schema):
    title: Text(300, min_length=1)  # type: ignore[valid-type]


class TaskPatchIn(Schema):
    done: bool


# --- Services -------------------------------------------------------------------------------------


class OwningTeamOut(Schema):
    slug: str
    name: str


class ServiceOut(Schema):
    slug: str
    name: str
    description: str
    customer_facing: bool
    owning_team: OwningTeamOut | None
    escalation_policy: str | None = Field(description="The policy that pages for it (the default policy when it has none).")
    uses_default_policy: bool
    runbook_url: str
    depends_on: list[str] = Field(description="Slugs of the services it depends on.")


class ServiceDetailOut(ServiceOut):
    runbook: str = Field(description="Markdown.")


class ServiceListOut(Schema):
    items: list[ServiceOut]


class OnCallPersonOut(Schema):
    username: str
    name: str
    via: str = Field(description='"schedule <name>" or "direct" (named on the level itself).')
    until: datetime | None = Field(description="End of the current shift (null: direct, or beyond the next 14 days).")


class FirstLevelOut(Schema):
    position: int
    name: str


class OnCallOut(Schema):
    service: str
    escalation_policy: str | None
    level: FirstLevelOut | None = Field(description="The level paged first.")
    at: datetime
    on_call: list[OnCallPersonOut]
    uncovered_schedules: list[str] = Field(description="Schedules of that level with nobody on call right now.")
