"""The JSON shapes of the post-mortems API (`postmortems/api.py`). Dates are ISO 8601 days, times
ISO 8601 in UTC; names are prefixed so no other router's schema can take their place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from incidents.api_schemas import UserRefOut, Username

from .models import ActionItem, PostMortem

PostMortemStatusName = Literal[tuple(PostMortem.Status.values)]  # type: ignore[valid-type]
ActionItemStatusName = Literal[tuple(ActionItem.Status.values)]  # type: ignore[valid-type]
PriorityName = Literal[tuple(ActionItem.Priority.values)]  # type: ignore[valid-type]


class PostMortemOut(Schema):
    reference: str = Field(description="The incident's reference, which also names its post-mortem.", examples=["INC-42"])
    title: str
    severity: str
    status: PostMortemStatusName
    owner: UserRefOut | None
    draft_due: date
    review_due: date
    publish_due: date
    current_due: date | None = Field(description="The due date of the step it waits for: the draft, then publication.")
    overdue: bool
    published_at: datetime | None
    published_by: UserRefOut | None = Field(description="Who published it (null until published).")
    review_meeting_at: datetime | None
    review_meeting_minutes: int
    open_action_items: int
    overdue_action_items: int
    url: str


class PostMortemStatusIn(Schema):
    status: PostMortemStatusName = Field(
        description="The next step: in_review (from draft), draft (back from review) or published (from review).",
        examples=["published"],
    )


class PostMortemPageOut(Schema):
    items: list[PostMortemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class PostMortemWhyOut(Schema):
    position: int
    question: str
    answer: str


class ActionItemOut(Schema):
    id: int
    reference: str = Field(description="The incident whose post-mortem the item belongs to.", examples=["INC-42"])
    description: str
    owner: UserRefOut | None
    due_date: date | None
    days_until_due: int | None = Field(description="Negative when late (UTC days); null without a due date.")
    overdue: bool
    priority: PriorityName
    status: ActionItemStatusName
    horizon: str
    completion_criteria: str
    ticket_url: str
    completed_at: datetime | None


class ActionItemPageOut(Schema):
    items: list[ActionItemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class PostMortemDetailOut(PostMortemOut):
    sections: dict[str, str]
    whys: list[PostMortemWhyOut]
    action_items: list[ActionItemOut]


class ActionItemPatchIn(Schema):
    """Only the fields sent change; `owner` and `due_date` may be null to clear them."""

    status: ActionItemStatusName | None = None
    owner: Username | None = Field(None, description="A username, or null for nobody.")
    due_date: date | None = None


class ReviewIn(Schema):
    starts_at: datetime = Field(description="ISO 8601; no zone = UTC.")
    minutes: int = Field(60, ge=15, le=480)


class ReviewOut(Schema):
    reference: str
    starts_at: datetime
    ends_at: datetime
    minutes: int
    invited: list[str] = Field(description="Email addresses the invitation (with its .ics) was sent to.")
    without_email: list[str] = Field(description="Invitees with no email address: tell them yourself.")


__all__ = [
    "ActionItemOut", "ActionItemPageOut", "ActionItemPatchIn", "PostMortemDetailOut", "PostMortemOut",
    "PostMortemPageOut", "PostMortemWhyOut", "ReviewIn", "ReviewOut",
]
