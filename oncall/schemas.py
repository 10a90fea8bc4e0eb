"""The on-call API's schemas: what `oncall/api.py` answers and accepts, field by field."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from .models import User

OUTLOOK_DAYS = 14
# Hand-offs and restrictions are wall-clock times without an offset, which JSON Schema's "time"
# format (RFC 3339, offset required) does not describe: they go out as "HH:MM".
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PersonOut(Schema):
    username: str
    name: str = Field(description="Full name, or the username if none is set.")

    @staticmethod
    def of(user: User) -> dict:
        return {"username": user.username, "name": str(user)}


class TeamRefOut(Schema):
    id: int
    name: str
    slug: str


class ScheduleRefOut(Schema):
    id: int
    name: str
    slug: str


class WindowOut(Schema):
    start: dt.datetime
    end: dt.datetime


class OnCallNowOut(Schema):
    user: PersonOut
    until: dt.datetime = Field(description=f"End of the current shift, or {OUTLOOK_DAYS} days from now if it lasts longer.")
    source: str = Field(description="What put them on call: a layer's name or “Override: <reason>”.")


class ScheduleSummaryOut(Schema):
    id: int
    name: str
    slug: str
    team: TeamRefOut | None
    time_zone: str
    on_call_now: list[OnCallNowOut] = Field(description="Empty when nobody is on call now (a gap).")
    next_gap: WindowOut | None = Field(description=f"The first stretch without anyone on call in the next {OUTLOOK_DAYS} days.")


class LayerMemberOut(Schema):
    position: int
    user: PersonOut


class LayerOut(Schema):
    id: int
    name: str
    priority: int = Field(description="Higher layers cover lower ones.")
    rotation: str = Field(description="daily, weekly or hours (every `rotation_hours` hours).")
    rotation_hours: int | None
    start_date: dt.date
    handoff_time: str = Field(pattern=LOCAL_TIME, description="HH:MM, wall-clock time in the schedule's zone.")
    restriction_days: list[int] = Field(description="ISO weekdays covered (1 = Monday); empty = every day.")
    restriction_start: str | None = Field(pattern=LOCAL_TIME, description="HH:MM local; none = whole days.")
    restriction_end: str | None = Field(
        pattern=LOCAL_TIME, description="HH:MM local; at or before the start, the window crosses midnight."
    )
    members: list[LayerMemberOut]


class ShiftOut(Schema):
    start: dt.datetime
    end: dt.datetime
    user: PersonOut
    source: str
    layer_id: int | None
    override_id: int | None


class ScheduleOut(Schema):
    id: int
    name: str
    slug: str
    team: TeamRefOut | None
    time_zone: str
    description: str
    layers: list[LayerOut]
    on_call_now: list[OnCallNowOut]
    window: WindowOut = Field(description="The stretch `shifts` and `gaps` cover.")
    shifts: list[ShiftOut]
    gaps: list[WindowOut]


class OnCallAtOut(Schema):
    schedule: ScheduleRefOut
    at: dt.datetime
    on_call: list[PersonOut] = Field(description="Normally one person; empty for a gap.")


class OverrideOut(Schema):
    id: int
    schedule_id: int
    user: PersonOut
    start: dt.datetime
    end: dt.datetime
    reason: str
    created_by: PersonOut | None
    created_at: dt.datetime


class OverrideIn(Schema):
    username: str = Field(min_length=1, max_length=150, description="Who is on call instead.")
    start: dt.datetime
    end: dt.datetime
    reason: str = Field("", max_length=200, description="e.g. holiday cover, shift swap with Bob.")


class EscalationDelayOut(Schema):
    severity_rank: int = Field(description="A severity's rank: 1 is the most severe.")
    delay_seconds: int = Field(description="From declaration.")
    business_hours: bool


class EscalationLevelOut(Schema):
    position: int
    name: str
    users: list[PersonOut]
    schedules: list[ScheduleRefOut]
    delays: list[EscalationDelayOut]


class EscalationPolicyOut(Schema):
    id: int
    name: str
    team: TeamRefOut | None
    description: str
    loop_count: int
    is_default: bool
    levels: list[EscalationLevelOut]


class EscalationPolicyRefOut(Schema):
    id: int
    name: str


class ScheduleOnCallOut(Schema):
    schedule: ScheduleRefOut
    on_call: list[PersonOut]


class EscalationLevelOnCallOut(Schema):
    position: int
    name: str
    users: list[PersonOut] = Field(description="People the level names directly.")
    schedules: list[ScheduleOnCallOut] = Field(description="Whoever is on call on each of the level's schedules.")
    pages: list[PersonOut] = Field(description="Everyone the level would page now, each once.")


class EscalationPolicyOnCallOut(Schema):
    policy: EscalationPolicyRefOut
    at: dt.datetime
    levels: list[EscalationLevelOnCallOut]
