"""Shift cover: anyone on a schedule asks for one of their shifts (or part of one) to be covered —
by a named colleague or by anyone on the schedule — and the one who accepts is put on call by an
override made by `actions.add_override`, the manager's own path, with its checks.

The rules, decided here and tested in tests/oncall/test_cover.py:
- Who asks: the person whose shift it is, or a holder of `oncall.add_override` (a manager) on
  their behalf. The window must be theirs on the schedule as it resolves now, and at most
  `VIGIL_MAX_OVERRIDE_DAYS` long.
- A shift already under way is offered for its remaining part: the window starts now, and the
  request can be accepted until its end (or an earlier expiry); whoever accepts covers from the
  moment they accept. A shift not yet started can be accepted until it starts (or an earlier
  explicit expiry), never after: "This shift started at …".
- Who answers: the named colleague only; an open request, anyone on the schedule's rotations
  except the requester. Only the named colleague declines; the requester (or a manager) cancels.
- Accepting re-checks that the window is still the requester's (no override took it meanwhile).
- Messages go through `oncall.notices` (comms' outbox): the request to whoever may take it with a
  signed link (`link_for`), each answer to the requester, and an acceptance also to the one who
  accepted and the schedule's team manager.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import actions, notices, schedules
from .cover_models import CoverRequest
from .errors import CoverRefused, InvalidOverride
from .formatting import WITH_YEAR, local, span
from .models import Override, Schedule, User

Status = CoverRequest.Status
_SALT = "vigil.oncall.cover.link"  # its own salt: no other signed value passes for a cover link


# --- Who ------------------------------------------------------------------------------------------


def members(schedule: Schedule) -> list[User]:
    """Everyone on the schedule's rotations, active, by name."""
    return list(
        User.objects.filter(layer_memberships__layer__schedule=schedule, is_active=True).distinct().order_by("first_name", "username")
    )


def may_answer(cover: CoverRequest, user: User) -> bool:
    if cover.asked_id is not None:
        return user.pk == cover.asked_id
    return user.pk != cover.user_id and any(member.pk == user.pk for member in members(cover.schedule))


def _answer_refusal(cover: CoverRequest, user: User) -> str:
    if cover.asked_id is not None:
        return f"Only {cover.asked} was asked to cover this shift."
    if user.pk == cover.user_id:
        return "This is your own shift: cancel the request instead."
    return f"Only people on {cover.schedule}'s rotations can cover this shift."


def check_answerable(cover: CoverRequest, user: User, now: dt.datetime) -> None:
    """Raises CoverRefused saying why `user` cannot take `cover` now (what the link's page shows)."""
    if not may_answer(cover, user):
        raise CoverRefused(_answer_refusal(cover, user), reason="forbidden")
    check_open(cover, now)


# --- Asking ---------------------------------------------------------------------------------------


def _not_theirs(schedule: Schedule, user: User, start: dt.datetime, end: dt.datetime) -> str:
    """Why `user` is not the one on call for all of the window ("" when they are)."""
    pieces = schedules.shifts(schedule, start, end)
    others = sorted({str(piece.user) for piece in pieces if piece.user.pk != user.pk})
    covered = sum(((piece.end - piece.start) for piece in pieces if piece.user.pk == user.pk), dt.timedelta())
    if not others and covered == end - start:
        return ""
    window = span(start, end)
    if others:
        return f"{user} is not on call for all of {window} on {schedule}: {', '.join(others)} is for part of it."
    return f"{user} is not on call for all of {window} on {schedule}: part of it has nobody on call."


def request_errors(
    schedule: Schedule, *, user: User, start: dt.datetime, end: dt.datetime, asked: User | None,
    expires_at: dt.datetime | None, by: User, now: dt.datetime,
) -> dict[str, str]:
    """What is wrong with asking for cover of `user`'s window, per field."""
    if by.pk != user.pk and not by.has_perm("oncall.add_override"):
        return {"user": "You can ask for cover of your own shifts only (a manager can ask on someone's behalf)."}
    if end <= now:
        return {"end": "That window is already over."}
    begins = max(start, now)  # a shift under way is offered for what is left of it
    errors = actions.override_errors(start=begins, end=end, user=user)
    if not errors and (why := _not_theirs(schedule, user, begins, end)):
        errors["start"] = why
    if asked is not None:
        if asked.pk == user.pk:
            errors["asked"] = "Ask a colleague, not the person whose shift it is."
        elif not asked.is_active or all(m.pk != asked.pk for m in members(schedule)):
            errors["asked"] = f"{asked} is not on {schedule}'s rotations; ask someone who is, or leave it open to all."
    if expires_at is not None and "start" not in errors and "end" not in errors:
        latest = start if start > now else end
        if expires_at <= now:
            errors["expires_at"] = "The expiry must be in the future."
        elif expires_at > latest:
            errors["expires_at"] = f"A request expires at the latest when {'the shift starts' if start > now else 'the window ends'}."
    return errors


@transaction.atomic
def request_cover(
    schedule: Schedule, *, user: User, start: dt.datetime, end: dt.datetime, asked: User | None = None,
    reason: str = "", expires_at: dt.datetime | None = None, created_by: User,
) -> CoverRequest:
    """Ask for `user`'s shift from `start` to `end` to be covered, and tell whoever may take it.
    Raises CoverRefused naming the field to fix."""
    now = timezone.now()
    errors = request_errors(schedule, user=user, start=start, end=end, asked=asked, expires_at=expires_at, by=created_by, now=now)
    if errors:
        raise CoverRefused(errors)
    begins = max(start, now)
    cover = CoverRequest.objects.create(
        schedule=schedule, user=user, asked=asked, start=begins, end=end, reason=reason, created_by=created_by,
        expires_at=expires_at or (start if start > now else end),
    )
    takers = [asked] if asked is not None else [m for m in members(schedule) if m.pk != user.pk]
    notices.send([_asking(cover, taker) for taker in takers])
    return cover


# --- Answering ------------------------------------------------------------------------------------


def _locked(cover_id: int) -> CoverRequest:
    cover = (
        CoverRequest.objects.select_for_update(of=("self",))
        .select_related("schedule__team__manager", "user", "asked", "answered_by")
        .filter(pk=cover_id)
        .first()
    )
    if cover is None:
        raise CoverRefused("This cover request no longer exists.", reason="gone")
    return cover


def check_open(cover: CoverRequest, now: dt.datetime) -> None:
    if cover.status != Status.PENDING:
        by = f" by {cover.answered_by}" if cover.answered_by else ""
        raise CoverRefused(f"This request was already {cover.get_status_display().lower()}{by}.", reason="answered")
    if now >= cover.expires_at:
        if now >= cover.start:
            raise CoverRefused(
                f"This shift started at {local(cover.start, WITH_YEAR)}: it can no longer be covered "
                f"through this request. {cover.user} can offer what is left of it.",
                reason="expired",
            )
        raise CoverRefused(f"This request expired at {local(cover.expires_at, WITH_YEAR)}.", reason="expired")


@transaction.atomic
def accept(cover_id: int, *, by: User) -> Override:
    """`by` takes the shift: an override puts them on call (from now, if it is under way), and the
    requester, `by` and the team's manager are told."""
    cover, now = _locked(cover_id), timezone.now()
    if not may_answer(cover, by):
        raise CoverRefused(_answer_refusal(cover, by), reason="forbidden")
    check_open(cover, now)
    begins = max(cover.start, now)
    if why := _not_theirs(cover.schedule, cover.user, begins, cover.end):
        raise CoverRefused(f"The schedule changed since the request: {why}")
    reason = f"Covering {cover.user}" + (f": {cover.reason}" if cover.reason else "")
    try:
        override = actions.add_override(cover.schedule, user=by, start=begins, end=cover.end, reason=reason[:200], created_by=by)
    except InvalidOverride as refused:
        raise CoverRefused(str(refused)) from None
    cover.status, cover.answered_by, cover.answered_at, cover.override = Status.ACCEPTED, by, now, override
    cover.save(update_fields=["status", "answered_by", "answered_at", "override"])
    told = [cover.user, by]
    manager = cover.schedule.team.manager if cover.schedule.team_id else None
    if manager is not None and manager.pk not in {u.pk for u in told}:
        told.append(manager)
    notices.send([_answered(cover, person) for person in told])
    return override


@transaction.atomic
def decline(cover_id: int, *, by: User) -> CoverRequest:
    """The named colleague says no; the requester is told (and may ask someone else)."""
    cover, now = _locked(cover_id), timezone.now()
    if cover.asked_id is None or by.pk != cover.asked_id:
        raise CoverRefused(
            _answer_refusal(cover, by) if cover.asked_id else "Nobody in particular was asked: there is nothing to decline.",
            reason="forbidden",
        )
    check_open(cover, now)
    cover.status, cover.answered_by, cover.answered_at = Status.DECLINED, by, now
    cover.save(update_fields=["status", "answered_by", "answered_at"])
    notices.send([_answered(cover, cover.user)])
    return cover


@transaction.atomic
def cancel(cover_id: int, *, by: User) -> CoverRequest:
    cover = _locked(cover_id)
    if by.pk not in (cover.user_id, cover.created_by_id) and not by.has_perm("oncall.add_override"):
        raise CoverRefused("Only the person whose shift it is, or a manager, can cancel this request.", reason="forbidden")
    if cover.status != Status.PENDING:
        raise CoverRefused(f"This request was already {cover.get_status_display().lower()}.", reason="answered")
    cover.status, cover.answered_by, cover.answered_at = Status.CANCELLED, by, timezone.now()
    cover.save(update_fields=["status", "answered_by", "answered_at"])
    return cover


# --- What a pending request leaves open -----------------------------------------------------------


def gap_warning(cover: CoverRequest, now: dt.datetime | None = None, zone=None) -> str:
    """The window nobody would be on call for if nobody takes the request ("" once answered or over)."""
    now = now or timezone.now()
    if not cover.is_open(now) or cover.end <= now:
        return ""
    return f"If nobody takes this, {span(max(cover.start, now), cover.end, now=now, zone=zone)} has nobody on call."


def pending_for(schedule: Schedule, now: dt.datetime) -> list[CoverRequest]:
    """The schedule's requests still waiting for an answer, soonest first."""
    return list(
        CoverRequest.objects.filter(schedule=schedule, status=Status.PENDING, expires_at__gt=now)
        .select_related("user", "asked")
        .order_by("start")
    )


# --- Links and words ------------------------------------------------------------------------------


def link_for(cover: CoverRequest, recipient: User) -> str:
    """The absolute link that lets `recipient` answer `cover` without signing in: signed over both
    ids, so it acts as that person, for that request only; answering closes it for good."""
    token = signing.dumps([cover.pk, recipient.pk], salt=_SALT)
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("oncall:cover_answer", args=[token])


def read_link(token: str) -> tuple[CoverRequest, User]:
    try:
        cover_id, user_id = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise CoverRefused("This link is not valid: it may have been cut short. Open the request in Vigil instead.", reason="invalid") from None
    cover = CoverRequest.objects.select_related("schedule", "user", "asked", "answered_by").filter(pk=cover_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if cover is None or user is None:
        raise CoverRefused("This cover request no longer exists.", reason="gone")
    return cover, user


def zone_of(person: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(person.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _asking(cover: CoverRequest, taker: User) -> notices.Notice:
    zone = zone_of(taker)
    window = span(cover.start, cover.end, zone=zone)
    whom = "you" if cover.asked_id else f"anyone on {cover.schedule}"
    body = (
        f"Hello {taker.first_name or taker.username},\n\n"
        f"{cover.user} asks {whom} to cover their on-call shift on {cover.schedule}: {window} ({zone}).\n"
        + (f"Why: {cover.reason}\n" if cover.reason else "")
        + f"\nAccept or decline: {link_for(cover, taker)}\n"
        f"The request can be accepted until {local(cover.expires_at, WITH_YEAR, zone)}.\n\n"
        f"{gap_warning(cover, zone=zone)}\n"
    )
    return notices.Notice(
        key=f"cover{cover.pk}:asked:u{taker.pk}", recipient=taker,
        subject=f"Can you cover {cover.user}'s shift on {cover.schedule}, {window}?", body=body,
    )


def _answered(cover: CoverRequest, person: User) -> notices.Notice:
    zone = zone_of(person)
    window = span(cover.override.start if cover.override else cover.start, cover.end, zone=zone)
    if cover.status == Status.ACCEPTED:
        subject = f"{cover.answered_by} covers {cover.user}'s shift on {cover.schedule}, {window}"
        body = f"{cover.answered_by} accepted: they are on call for {cover.schedule} {window} ({zone}) instead of {cover.user}.\n"
    else:
        subject = f"{cover.answered_by} cannot cover your shift on {cover.schedule}, {window}"
        body = f"{cover.answered_by} declined to cover {window} ({zone}). You are still on call: ask someone else.\n"
    return notices.Notice(key=f"cover{cover.pk}:{cover.status}:u{person.pk}", recipient=person, subject=subject, body=body)
