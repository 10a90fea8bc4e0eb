"""Opening, filling and archiving war rooms. The tasks in comms/tasks.py call these with incident
ids; each re-reads the database, claims its room under a row lock, talks to the provider outside
any transaction, and records the result in a short transaction of its own — so a task that runs
twice, or a provider that times out after doing the work, leaves one channel, never two.

- `want_room` (in the declaring or severity-changing transaction): the `WarRoom` row, state
  OPENING, for severities that open war rooms, when a workspace is connected. Drills get none.
- `open_room`: claim, make the channel (its name saved before asking; a name the provider says is
  taken after Vigil asked for it is Vigil's own, adopted; a name taken by another channel gets
  `-2`, `-3`…), set the topic, `actions.record_war_room_opened`, then invite. A failure keeps the
  room OPENING with its attempts, last error and next attempt (exponential backoff); the timeline
  says "could not open the war room: …" on the first failure and when Vigil gives up.
- `invite`: current participants not yet members, matched to chat accounts (a chat contact the
  provider recognises, else a look-up by email), invited in one call; someone with no chat account
  is named on the timeline once.
- `archive_room`: after the incident is closed (when the workspace archives on close).
- `due`: what the sweeper queues.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from incidents import actions, selectors
from incidents.models import Incident, Participant, TimelineEvent
from incidents.models.core import OPEN_STATUSES, Status

from ..models import Channel as ContactChannel
from ..models import ContactMethod, WarRoom, WarRoomMember
from . import messages, naming
from .providers import ChatProvider, ChatProviderError, NameTaken, provider_for
from .workspace import Workspace, current

log = logging.getLogger(__name__)

Kind = TimelineEvent.Kind
State = WarRoom.State

# Events that may call for a war room, and events that bring people onto an incident.
OPENING_KINDS = frozenset({Kind.DECLARED, Kind.SEVERITY_CHANGED})
JOINING_KINDS = frozenset({Kind.ROLE_ASSIGNED, Kind.ESCALATED, Kind.ACKNOWLEDGED})

PROVIDER_NAMES = {"slack": "Slack", "mattermost": "Mattermost"}

# How many `-2`, `-3`… names to try before calling the name a failure.
MAX_SUFFIX = 20


def _lease() -> timedelta:
    """How long a task holds a room it is working on: past it, the sweeper may try again (a worker
    killed mid-call). Several provider calls fit in it."""
    return timedelta(seconds=max(60.0, 8 * settings.VIGIL_WAR_ROOM_TIMEOUT_SECONDS))


def _backoff(attempts: int) -> timedelta:
    seconds = settings.VIGIL_WAR_ROOM_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.VIGIL_WAR_ROOM_BACKOFF_MAX_SECONDS))


# --- Wanting a room (in the action's transaction) -------------------------------------------------


def want_room(events) -> list[int]:
    """The `WarRoom` rows the declarations and severity changes in `events` call for; the ids of
    the incidents that got one now. The row's `next_attempt_at` is the sweeper's safety net should
    the after-commit task be lost."""
    candidates = {}
    for event in events:
        if event.kind in OPENING_KINDS:
            incident = event.incident
            if incident.severity.opens_war_room and not incident.is_drill and incident.is_open:
                candidates[incident.pk] = incident
    if not candidates:
        return []
    workspace = current()
    if provider_for(workspace) is None:
        return []
    have = set(WarRoom.objects.filter(incident_id__in=candidates).values_list("incident_id", flat=True))
    now = timezone.now()
    new = [
        WarRoom(
            incident=incident,
            provider=workspace.provider,
            is_private=incident.is_restricted,
            created_at=now,
            next_attempt_at=now + timedelta(seconds=settings.VIGIL_OUTBOX_GRACE_SECONDS),
        )
        for pk, incident in candidates.items()
        if pk not in have
    ]
    WarRoom.objects.bulk_create(new, ignore_conflicts=True)
    return [room.incident_id for room in new]


# --- Opening ---------------------------------------------------------------------------------


def _claim(incident_id: int, state: str) -> WarRoom | None:
    """Take the room for one attempt: it is in `state`, and either never tried or due. Bumps its
    attempts and holds it for the lease."""
    with transaction.atomic():
        room = (
            WarRoom.objects.select_for_update(of=("self",))
            .select_related("incident__severity")
            .filter(incident_id=incident_id, state=state)
            .first()
        )
        now = timezone.now()
        if room is None or (room.attempts and room.next_attempt_at and room.next_attempt_at > now):
            return None
        room.attempts += 1
        room.next_attempt_at = now + _lease()
        room.save(update_fields=["attempts", "next_attempt_at"])
        return room


def open_room(incident_id: int) -> str:
    """Open the incident's war room if it is still to open and due: "opened", "retry", "gave up",
    or "nothing to do"."""
    workspace = current()
    provider = provider_for(workspace)
    if provider is None:
        return "nothing to do"
    room = _claim(incident_id, State.OPENING)
    if room is None:
        return "nothing to do"
    incident = room.incident
    if not incident.is_open:
        WarRoom.objects.filter(pk=room.pk).update(
            state=State.GAVE_UP, next_attempt_at=None, last_error=f"{incident.reference} was {incident.status} before its war room opened"
        )
        return "nothing to do"
    try:
        if not room.channel_id:
            channel = _make_channel(provider, room, workspace)
            room.channel_id, room.url, room.name = channel.id, channel.url, channel.name or room.name
            room.save(update_fields=["channel_id", "url", "name"])
        provider.set_topic(room.channel_id, topic(incident))
    except ChatProviderError as exc:
        return _failed(room, exc, doing="open")
    with transaction.atomic():
        WarRoom.objects.filter(pk=room.pk).update(
            state=State.OPEN, opened_at=timezone.now(), attempts=0, next_attempt_at=None, last_error=""
        )
        actions.record_war_room_opened(incident, name=room.name, url=room.url)
    invite(incident_id)
    messages.release(incident_id)  # what the room missed while it opened (the declaration first)
    return "opened"


def _make_channel(provider: ChatProvider, room: WarRoom, workspace: Workspace):
    """The channel for `room`: made, or adopted when an earlier try of ours made it and its answer
    was lost. The name is on the row before the provider is asked."""
    base = naming.channel_name(
        workspace.name_template,
        number=room.incident.number,
        # A restricted incident's name says nothing of it: its title is not everyone's to read.
        title="" if room.incident.is_restricted else room.incident.title,
        declared_at=room.incident.declared_at,
        limit=provider.name_limit,
    )
    suffix = 1
    if room.name:
        tried = [n for n in range(1, MAX_SUFFIX + 1) if naming.with_suffix(base, n, provider.name_limit) == room.name]
        if tried:
            suffix = tried[0]
        else:  # the template or title changed since: go on from the name already asked for
            base = room.name
    else:
        room.name = base
        room.save(update_fields=["name"])
    while True:
        asked_before = room.name_asked
        if not asked_before:
            room.name_asked = True
            room.save(update_fields=["name_asked"])
        try:
            return provider.create_channel(room.name, private=room.is_private)
        except NameTaken:
            if asked_before:
                found = provider.find_channel(room.name)
                if found is not None:
                    log.info("Adopting war room #%s for incident %s (an earlier try made it)", room.name, room.incident_id)
                    return found
        suffix += 1
        if suffix > MAX_SUFFIX:
            raise ChatProviderError(f"every channel name from #{base} to #{naming.with_suffix(base, MAX_SUFFIX, provider.name_limit)} is taken")
        room.name, room.name_asked = naming.with_suffix(base, suffix, provider.name_limit), False
        room.save(update_fields=["name", "name_asked"])


def topic(incident: Incident) -> str:
    """The channel topic: the headline (reference, severity, title — not the title of a restricted
    incident), the incident's admin link and the call bridge, within Slack's 250 characters."""
    link = settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[incident.pk])
    tail = f" | {link}" + (f" | Call: {incident.call_bridge_url}" if incident.call_bridge_url else "")
    head = f"{incident.reference} {incident.severity.name}"
    if incident.is_restricted:
        head += " (restricted)"
    else:
        room_for_title = 250 - len(head) - len(tail) - 3
        if room_for_title > 10:
            title = incident.title if len(incident.title) <= room_for_title else incident.title[: room_for_title - 1] + "…"
            head += f": {title}"
    return (head + tail)[:250]


def _failed(room: WarRoom, exc: ChatProviderError, *, doing: str) -> str:
    """Record a failed attempt: retry after a backoff, or give up after the last attempt. The
    timeline hears of the first failure and of giving up, not of every retry."""
    attempts, limit = room.attempts, settings.VIGIL_WAR_ROOM_MAX_ATTEMPTS
    giving_up = attempts >= limit
    with transaction.atomic():
        fields = {"last_error": exc.message[:2000]}
        if giving_up:
            fields.update(next_attempt_at=None)
            if doing == "open":
                fields["state"] = State.GAVE_UP
        else:
            fields["next_attempt_at"] = timezone.now() + _backoff(attempts)
        WarRoom.objects.filter(pk=room.pk).update(**fields)
        what = "open the war room" if doing == "open" else f"archive the war room #{room.name}"
        if giving_up:
            actions.record_war_room_failure(
                room.incident,
                f"Could not {what}: {exc.message}. Gave up after {attempts} attempts.",
                data={"attempts": attempts, "gave_up": True},
            )
        elif attempts == 1:
            wait = _backoff(attempts)
            actions.record_war_room_failure(
                room.incident,
                f"Could not {what}: {exc.message}. Vigil tries again in {int(wait.total_seconds())} s.",
                data={"attempts": attempts},
            )
    return "gave up" if giving_up else "retry"


# --- Inviting --------------------------------------------------------------------------------


def _chat_account(provider: ChatProvider, user, contacts: list[ContactMethod]) -> str | None:
    """The member id of `user` in the chat workspace: an active chat contact the provider
    recognises, else a look-up by their email contacts and their account's email."""
    for contact in contacts:
        if contact.channel == ContactChannel.CHAT and contact.address:
            member = provider.find_member(handle=contact.address)
            if member:
                return member
    emails = [c.address for c in contacts if c.channel == ContactChannel.EMAIL]
    if user.email and user.email not in emails:
        emails.append(user.email)
    for email in emails:
        member = provider.find_member(email=email)
        if member:
            return member
    return None


def invite(incident_id: int) -> int:
    """Invite everyone on the incident now who is not yet a member of its open war room; returns
    how many were invited."""
    provider = provider_for(current())
    room = WarRoom.objects.select_related("incident").filter(incident_id=incident_id, state=State.OPEN).first()
    if provider is None or room is None:
        return 0
    members = set(room.members.values_list("user_id", flat=True))
    people = {p.user_id: p.user for p in selectors.current_participants(room.incident) if p.user.is_active}
    new = [user for pk, user in people.items() if pk not in members]
    contacts: dict[int, list[ContactMethod]] = {}
    for contact in ContactMethod.objects.filter(user__in=new, is_active=True).order_by("pk"):
        contacts.setdefault(contact.user_id, []).append(contact)
    matched: dict[int, str] = {}
    try:
        for user in new:
            matched[user.pk] = _chat_account(provider, user, contacts.get(user.pk, [])) or ""
    except ChatProviderError as exc:
        log.warning("Matching people to chat accounts for war room %s: %s (the sweeper tries again)", room.pk, exc.message)
    unmatched = []
    with transaction.atomic():
        for user in new:
            if user.pk not in matched:
                continue  # the look-up failed: the sweeper asks again
            member, created = WarRoomMember.objects.get_or_create(
                war_room=room,
                user=user,
                defaults={
                    "chat_user_id": matched[user.pk],
                    "last_error": "" if matched[user.pk] else "no chat account matches their chat contact or email",
                },
            )
            if created and not matched[user.pk]:
                unmatched.append(user)
        if unmatched:
            names = ", ".join(str(u) for u in unmatched)
            actions.record_war_room_failure(
                room.incident,
                f"Could not invite {names} to the war room #{room.name}: no {PROVIDER_NAMES.get(room.provider, room.provider)} "
                "account matches their chat contact or email. Add their chat member id as a chat contact method.",
                data={"users": [u.get_username() for u in unmatched], "reason": "no_chat_account"},
            )
    due = list(room.members.filter(invited_at=None).exclude(chat_user_id="").select_related("user"))
    if not due:
        return 0
    try:
        provider.invite(room.channel_id, [m.chat_user_id for m in due])
    except ChatProviderError as exc:
        with transaction.atomic():
            if exc.transient:  # the sweeper invites them again
                WarRoomMember.objects.filter(pk__in=[m.pk for m in due]).update(last_error=exc.message[:2000])
            else:  # asking again will not help: said once, not retried
                WarRoomMember.objects.filter(pk__in=[m.pk for m in due]).update(last_error=exc.message[:2000], chat_user_id="")
                actions.record_war_room_failure(
                    room.incident,
                    f"Could not invite {', '.join(str(m.user) for m in due)} to the war room #{room.name}: {exc.message}",
                    data={"users": [m.user.get_username() for m in due], "reason": "invite_refused"},
                )
        return 0
    WarRoomMember.objects.filter(pk__in=[m.pk for m in due]).update(invited_at=timezone.now(), last_error="")
    return len(due)


# --- Archiving -------------------------------------------------------------------------------


def archive_room(incident_id: int) -> str:
    """Archive the closed incident's war room: "archived", "retry", "gave up" or "nothing to do"."""
    workspace = current()
    provider = provider_for(workspace)
    if provider is None or not workspace.archive_on_close:
        return "nothing to do"
    if not Incident.objects.filter(pk=incident_id, status=Status.CLOSED).exists():
        return "nothing to do"
    room = _claim(incident_id, State.OPEN)
    if room is None:
        return "nothing to do"
    try:
        provider.archive(room.channel_id)
    except ChatProviderError as exc:
        return _failed(room, exc, doing="archive")
    with transaction.atomic():
        WarRoom.objects.filter(pk=room.pk).update(
            state=State.ARCHIVED, archived_at=timezone.now(), next_attempt_at=None, last_error=""
        )
        actions.record_war_room_archived(room.incident)
    return "archived"


# --- What the sweeper finds ------------------------------------------------------------------


def due(limit: int = 200) -> dict[str, list[int]]:
    """Incident ids whose war room is due to open (a retry, or a task that was lost), has people to
    invite (not yet members, or an invitation that failed for a passing reason), or is due to be
    archived. Nothing without a connected workspace."""
    workspace = current()
    if provider_for(workspace) is None:
        return {"open": [], "invite": [], "archive": []}
    now = timezone.now()
    to_open = WarRoom.objects.filter(state=State.OPENING, next_attempt_at__lte=now)
    not_member = Participant.objects.filter(incident=OuterRef("incident"), left_at=None, user__is_active=True).exclude(
        user__in=WarRoomMember.objects.filter(war_room=OuterRef(OuterRef("pk"))).values("user")
    )
    pending = WarRoomMember.objects.filter(war_room=OuterRef("pk"), invited_at=None).exclude(chat_user_id="")
    to_invite = WarRoom.objects.filter(state=State.OPEN, incident__status__in=OPEN_STATUSES).filter(
        Exists(not_member) | Exists(pending)
    )
    to_archive = WarRoom.objects.none()
    if workspace.archive_on_close:
        to_archive = WarRoom.objects.filter(
            Q(next_attempt_at=None) | Q(next_attempt_at__lte=now),
            state=State.OPEN,
            incident__status=Status.CLOSED,
            attempts__lt=settings.VIGIL_WAR_ROOM_MAX_ATTEMPTS,
        )
    ids = lambda rows: list(rows.order_by("pk").values_list("incident_id", flat=True)[:limit])  # noqa: E731
    return {"open": ids(to_open), "invite": ids(to_invite), "archive": ids(to_archive)}

