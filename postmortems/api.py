"""The post-mortems part of the JSON API: post-mortems (by their incident's reference, INC-42),
their action items, and scheduling the review meeting.

Every operation: the key's scope → the caller's permission (`postmortems.view_…`/`change_…`) →
rows scoped through `incidents.selectors.visible_incidents` (a post-mortem of an incident the
caller may not see is a 404, exactly like a missing one) → one function → the `…Out` shape.
"Today" (overdue, days until due) is the UTC date, as for the reminders.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import zoneinfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router

from incidents.api_pages import newest_first, oldest_id_first
from incidents.api_schemas import READ_ERRORS, WRITE_ERRORS
from incidents.models import Incident, Source
from incidents.selectors import visible_incidents
from oncall.api_auth import require_perm, require_scope
from oncall.api_errors import ApiError
from oncall.api_common import invalid, person, utc

from . import actions, invites
from .api_schemas import (
    ActionItemOut,
    ActionItemPageOut,
    ActionItemPatchIn,
    ActionItemStatusName,
    PostMortemDetailOut,
    PostMortemOut,
    PostMortemPageOut,
    PostMortemStatusIn,
    PostMortemStatusName,
    PriorityName,
    ReviewIn,
    ReviewOut,
)
from .models import ActionItem, PostMortem
from .reminders import postmortem_url, utc_today

router = Router()

TAGS = ["post-mortems"]
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
UNFINISHED = (ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS)
SECTIONS = (
    "summary", "users_affected", "impact_duration", "business_impact", "immediate_cause", "root_cause",
    "contributing_technical", "contributing_process", "went_well", "could_improve", "lessons_learned",
)
# The review endpoint can also fail to reach the mail server (after saving the meeting).
REVIEW_ERRORS = {**WRITE_ERRORS}


# --- Helpers --------------------------------------------------------------------------------------


def _visible_postmortems(user) -> QuerySet[PostMortem]:
    return PostMortem.objects.filter(incident__in=visible_incidents(user)).select_related("incident__severity", "owner", "published_by")


def _visible_items(user) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(postmortem__incident__in=visible_incidents(user)).select_related(
        "owner", "postmortem__incident"
    )


def _overdue_postmortems(today: dt.date) -> Q:
    return Q(status=PostMortem.Status.DRAFT, draft_due__lt=today) | Q(status=PostMortem.Status.IN_REVIEW, publish_due__lt=today)


def _with_counts(qs: QuerySet[PostMortem], today: dt.date) -> QuerySet[PostMortem]:
    return qs.annotate(
        open_items=Count("action_items", filter=Q(action_items__status__in=UNFINISHED)),
        late_items=Count("action_items", filter=Q(action_items__status__in=UNFINISHED, action_items__due_date__lt=today)),
    )


def _postmortem(request: HttpRequest, ref: str, qs: QuerySet[PostMortem] | None = None) -> PostMortem:
    number = Incident.number_from_reference(ref)
    shown = f"INC-{number}" if number else "".join(ch for ch in ref[:40] if ch.isprintable())
    qs = qs if qs is not None else _visible_postmortems(request.user)
    postmortem = qs.filter(incident__number=number).first() if number else None
    if postmortem is None:
        raise Http404(f"No post-mortem for {shown}.")
    return postmortem


def _postmortem_out(pm: PostMortem, today: dt.date) -> dict:
    incident = pm.incident
    return {
        "reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity.name,
        "status": pm.status,
        "owner": person(pm.owner),
        "draft_due": pm.draft_due,
        "review_due": pm.review_due,
        "publish_due": pm.publish_due,
        "current_due": pm.current_due,
        "overdue": pm.is_overdue_on(today),
        "published_at": pm.published_at,
        "published_by": person(pm.published_by),
        "review_meeting_at": pm.review_meeting_at,
        "review_meeting_minutes": pm.review_meeting_minutes,
        "open_action_items": getattr(pm, "open_items", 0),
        "overdue_action_items": getattr(pm, "late_items", 0),
        "url": postmortem_url(pm),
    }


def _item_out(item: ActionItem, today: dt.date, reference: str | None = None) -> dict:
    return {
        "id": item.pk,
        "reference": reference or item.postmortem.incident.reference,
        "description": item.description,
        "owner": person(item.owner),
        "due_date": item.due_date,
        "days_until_due": item.days_until_due_on(today),
        "overdue": item.is_overdue_on(today),
        "priority": item.priority,
        "status": item.status,
        "horizon": item.horizon,
        "completion_criteria": item.completion_criteria,
        "ticket_url": item.ticket_url,
        "completed_at": item.completed_at,
    }


def _can_read(request: HttpRequest, what: str = "postmortem") -> None:
    require_scope(request, "read")
    require_perm(request, f"postmortems.view_{what}", "see post-mortems" if what == "postmortem" else "see action items")


# --- Post-mortems ---------------------------------------------------------------------------------


@router.get("/postmortems", response={200: PostMortemPageOut, **READ_ERRORS}, tags=TAGS)
def list_postmortems(
    request: HttpRequest,
    status: list[PostMortemStatusName] | None = Query(None, description="Repeatable."),
    overdue: bool | None = Query(None, description="Only those past (true) or not past (false) their current due date."),
    cursor: str | None = Query(None, max_length=200, description="`next_cursor` of the previous page."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    """Post-mortems of incidents the caller may see, newest first, a page at a time (two queries
    per page: the page with its action-item counts, and nothing per row)."""
    _can_read(request)
    today = utc_today()
    qs = _visible_postmortems(request.user)
    if status:
        qs = qs.filter(status__in=set(status))
    if overdue is not None:
        qs = qs.filter(_overdue_postmortems(today)) if overdue else qs.exclude(_overdue_postmortems(today))
    rows, next_cursor = newest_first(_with_counts(qs, today), field="created_at", cursor=cursor, limit=limit)
    return {"items": [_postmortem_out(pm, today) for pm in rows], "next_cursor": next_cursor}


@router.get("/postmortems/{ref}", response={200: PostMortemDetailOut, **READ_ERRORS}, tags=TAGS)
def get_postmortem(request: HttpRequest, ref: str):
    """One post-mortem by its incident's reference (INC-42 or 42): sections, five whys and action items."""
    _can_read(request)
    today = utc_today()
    qs = _with_counts(_visible_postmortems(request.user), today).prefetch_related(
        "whys", Prefetch("action_items", queryset=ActionItem.objects.select_related("owner").order_by("due_date", "pk"))
    )
    pm = _postmortem(request, ref, qs)
    reference = pm.incident.reference
    return {
        **_postmortem_out(pm, today),
        "sections": {name: getattr(pm, name) for name in SECTIONS},
        "whys": [{"position": w.position, "question": w.question, "answer": w.answer} for w in pm.whys.all()],
        "action_items": [_item_out(item, today, reference) for item in pm.action_items.all()],
    }


_MARKDOWN = {
    "responses": {
        "200": {
            "description": "The post-mortem as a Markdown document (what the admin's export downloads).",
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        }
    }
}


@router.get("/postmortems/{ref}/markdown", response=READ_ERRORS, openapi_extra=_MARKDOWN, tags=TAGS)
def postmortem_markdown(request: HttpRequest, ref: str):
    """The post-mortem as Markdown (`postmortems.export`), times in the caller's time zone."""
    from .export import filename, to_markdown

    _can_read(request)
    qs = _visible_postmortems(request.user).prefetch_related("whys", "action_items__owner", "timeline_entries")
    pm = _postmortem(request, ref, qs)
    response = HttpResponse(to_markdown(pm, time_zone=_zone_of(request.user)), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename(pm)}"'
    return response


def _zone_of(user) -> str:
    name = getattr(user, "time_zone", "") or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return "UTC"
    return name


@router.post("/postmortems/{ref}/review", response={200: ReviewOut, **REVIEW_ERRORS}, tags=TAGS)
def schedule_review(request: HttpRequest, ref: str, payload: ReviewIn):
    """Set the review meeting and email every current participant of the incident and the owner
    an invitation with an iCalendar (.ics) attachment; scheduling again moves the same meeting.
    A mail server that cannot be reached is a 503: the meeting is saved, schedule again to resend."""
    require_scope(request, "write")
    require_perm(request, "postmortems.view_postmortem", "see post-mortems")
    pm = _postmortem(request, ref)
    require_perm(request, "postmortems.change_postmortem", f"schedule the review of {pm.incident.reference}")
    starts_at = utc(payload.starts_at, "starts_at")
    try:
        invitation = invites.schedule_review(pm, starts_at, payload.minutes, request.user)
    except (smtplib.SMTPException, OSError) as exc:
        raise ApiError(
            f"The review meeting is saved, but the invitations could not be sent ({exc.__class__.__name__}); schedule it again to resend.",
            status=503, headers={"Retry-After": "60"},
        ) from None
    return {
        "reference": pm.incident.reference,
        "starts_at": invitation.starts_at,
        "ends_at": invitation.ends_at,
        "minutes": payload.minutes,
        "invited": invitation.sent_to,
        "without_email": invitation.without_email,
    }


# The step that leads to each status (`postmortems.actions.TRANSITIONS`).
STEP_TO = {
    PostMortem.Status.IN_REVIEW: "submit_for_review",
    PostMortem.Status.DRAFT: "return_to_draft",
    PostMortem.Status.PUBLISHED: "publish",
}


@router.post("/postmortems/{ref}/status", response={200: PostMortemOut, **WRITE_ERRORS}, tags=TAGS)
def change_postmortem_status(request: HttpRequest, ref: str, payload: PostMortemStatusIn):
    """Move the post-mortem on: submit the draft for review, send it back to draft, or publish it.
    The caller is recorded as who did it, on the post-mortem and on the incident's timeline; a
    step that does not follow from the current status is a 409."""
    require_scope(request, "write")
    require_perm(request, "postmortems.view_postmortem", "see post-mortems")
    pm = _postmortem(request, ref)
    require_perm(request, "postmortems.change_postmortem", f"change the post-mortem of {pm.incident.reference}")
    actions.TRANSITIONS[STEP_TO[payload.status]](pm, actor=request.user, source=Source.API)
    today = utc_today()
    return _postmortem_out(_postmortem(request, ref, _with_counts(_visible_postmortems(request.user), today)), today)


# --- Action items ---------------------------------------------------------------------------------


@router.get("/action-items", response={200: ActionItemPageOut, **READ_ERRORS}, tags=TAGS)
def list_action_items(
    request: HttpRequest,
    status: list[ActionItemStatusName] | None = Query(None, description="Repeatable."),
    owner: str | None = Query(None, max_length=150, description='A username, or "me".'),
    overdue: bool | None = Query(None, description="Only unfinished items past (true) or not past (false) their due date."),
    priority: list[PriorityName] | None = Query(None, description="Repeatable."),
    cursor: str | None = Query(None, max_length=200, description="`next_cursor` of the previous page."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    """Action items of post-mortems the caller may see, oldest first, a page at a time (one query per page)."""
    _can_read(request, "actionitem")
    today = utc_today()
    qs = _visible_items(request.user)
    if status:
        qs = qs.filter(status__in=set(status))
    if priority:
        qs = qs.filter(priority__in=set(priority))
    if owner:
        qs = qs.filter(owner=request.user) if owner == "me" else qs.filter(owner__username=owner)
    if overdue is not None:
        late = Q(status__in=UNFINISHED, due_date__lt=today)
        qs = qs.filter(late) if overdue else qs.exclude(late)
    rows, next_cursor = oldest_id_first(qs, cursor=cursor, limit=limit)
    return {"items": [_item_out(item, today) for item in rows], "next_cursor": next_cursor}


@router.patch("/action-items/{item_id}", response={200: ActionItemOut, **WRITE_ERRORS}, tags=TAGS)
def patch_action_item(request: HttpRequest, item_id: int, payload: ActionItemPatchIn):
    """Change an action item's status, owner or due date (only the fields sent; `owner` and
    `due_date` may be null). Marking it done stamps `completed_at`; any other status clears it
    ("won't do" is finished but not completed)."""
    require_scope(request, "write")
    require_perm(request, "postmortems.view_actionitem", "see action items")
    item = _visible_items(request.user).filter(pk=item_id).first() if 0 < item_id < 2**63 else None
    if item is None:
        raise Http404(f"No action item {item_id}.")
    require_perm(request, "postmortems.change_actionitem", "change action items")
    sent = payload.model_fields_set
    changes = {}
    if "status" in sent:
        if payload.status is None:
            raise invalid("status", "An action item always has a status.")
        changes["status"] = payload.status
    if "owner" in sent:
        if payload.owner is None:
            changes["owner"] = None
        else:
            person = get_user_model().objects.filter(username=payload.owner, is_active=True).first()
            if person is None:
                raise invalid("owner", f"No active user {payload.owner!r}.")
            changes["owner"] = person
    if "due_date" in sent:
        changes["due_date"] = payload.due_date
    item = actions.update_action_item(item, **changes)
    item = _visible_items(request.user).get(pk=item.pk)
    return _item_out(item, utc_today())
