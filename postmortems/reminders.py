"""The daily post-mortem reminders: drafts and action items due soon or overdue, told to their
owners (and, once long overdue, to their managers) through the incident's timeline.

`postmortems` cannot import `comms`, so a reminder is a `postmortem_reminder` timeline event on
the incident (`incidents.actions.record_postmortem_reminder`) naming whom to remind; comms
routes it like any other event (email and chat, at once) with the due date, the item and the
post-mortem's link as the message's extra words.

- Due soon: due today or by the next business day on the calendar of the incident's team (its
  working days less its public holidays and closed days, as its due dates count; Monday–Friday
  without a team), so the last working day before a long weekend reminds of what falls due
  during it. Overdue: due before today. Both read the due dates stored on the post-mortem and
  the action item, which the severity's policy set (`due_dates`).
- A post-mortem is reminded of the step it waits for (`PostMortem.current_due`: the draft,
  then publication); an action item while it is open or in progress.
- To whom: the owner (an action item without one: its post-mortem's owner; no owner at all:
  the managers below). Overdue by more than `VIGIL_REMINDER_MANAGER_AFTER_DAYS` days (default
  2), also the owner's managers: the managers of the owner's teams, else of the teams owning
  the incident's services. Nobody is reminded through themselves.
- Once per item, kind, recipient and day: each recipient's `ReminderSent` row is inserted
  first (a unique constraint; `IntegrityError` = already reminded today) and the event is
  recorded in the same transaction, so running twice — beat started twice, a retried task —
  reminds nobody twice, and a failure leaves nothing half-sent.
- "Today" is the UTC date (not each recipient's own calendar day): the run is daily at a
  fixed UTC hour, and one day boundary for everyone keeps "once a day" simple to check.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from incidents import actions
from incidents.models import Incident
from oncall.clocks import WALL_CALENDAR, Calendar
from oncall.models import Team
from oncall.working_hours import calendars_for

from .due_dates import add_business_days
from .models import ActionItem, PostMortem
from .models_reminders import ReminderSent

log = logging.getLogger(__name__)
Kind = ReminderSent.Kind

UNFINISHED = (ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS)
WAITING = (PostMortem.Status.DRAFT, PostMortem.Status.IN_REVIEW)


@dataclass
class Outcome:
    """What one run did: events recorded and people reminded, per reminder kind."""

    events: int = 0
    reminded: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.timezone.utc).date()


def next_business_day(day: dt.date, calendar: Calendar = WALL_CALENDAR) -> dt.date:
    return add_business_days(day, 1, calendar)


class _Horizons:
    """How far "due soon" reaches today on each team's calendar (the next business day), by team
    id (None: the default working week); read for a whole run in two queries."""

    def __init__(self, today: dt.date):
        calendars = calendars_for(list(Team.objects.filter(escalation_policies__isnull=False).distinct()))
        self.by_team = {team_id: next_business_day(today, calendar) for team_id, calendar in calendars.items()}
        self.furthest = max(self.by_team.values())

    def reach(self, due: dt.date, team_id: int | None) -> bool:
        return due <= self.by_team.get(team_id, self.by_team[None])


def manager_after_days() -> int:
    return int(getattr(settings, "VIGIL_REMINDER_MANAGER_AFTER_DAYS", 2))


def format_day(day: dt.date) -> str:
    """'25 Nov 2026', as the templates' sample due date reads."""
    return f"{day.day} {day:%b %Y}"


def postmortem_url(postmortem: PostMortem) -> str:
    base = settings.VIGIL_BASE_URL.rstrip("/")
    try:
        return base + reverse("admin:postmortems_postmortem_change", args=[postmortem.pk])
    except NoReverseMatch:  # the post-mortem admin is not registered (yet): the incident's page
        return base + reverse("admin:incidents_incident_change", args=[postmortem.incident_id])


class _Managers:
    """Managers of people (through their teams) and of incidents (through their services'
    owning teams), read for a whole run in two queries."""

    def __init__(self, owner_ids: set[int], incident_ids: set[int]):
        self.of_owner: dict[int, list] = defaultdict(list)
        memberships = Team.members.through.objects.filter(user_id__in=owner_ids, team__manager__isnull=False).select_related("team__manager")
        for row in memberships:
            manager = row.team.manager
            if manager.is_active and manager not in self.of_owner[row.user_id]:
                self.of_owner[row.user_id].append(manager)
        self.of_incident: dict[int, list] = defaultdict(list)
        links = Incident.services.through.objects.filter(
            incident_id__in=incident_ids, service__owning_team__manager__isnull=False
        ).select_related("service__owning_team__manager")
        for row in links:
            manager = row.service.owning_team.manager
            if manager.is_active and manager not in self.of_incident[row.incident_id]:
                self.of_incident[row.incident_id].append(manager)

    def for_owner(self, owner, incident_id: int) -> list:
        found = self.of_owner.get(owner.pk, []) if owner is not None else []
        found = [m for m in found if owner is None or m.pk != owner.pk]
        if not found:
            found = [m for m in self.of_incident.get(incident_id, []) if owner is None or m.pk != owner.pk]
        return sorted(found, key=lambda m: m.pk)


@dataclass(frozen=True)
class _Due:
    """One reminder to send: what, about which post-mortem (and item), due when, to whom."""

    kind: str
    postmortem: PostMortem
    action_item: ActionItem | None
    due: dt.date
    owners: list
    managers: list


def _active(user) -> bool:
    return user is not None and user.is_active


def _plan(today: dt.date) -> list[_Due]:
    horizons = _Horizons(today)
    late_after = manager_after_days()
    waiting = (
        PostMortem.objects.filter(status__in=WAITING)
        .filter(
            Q(status=PostMortem.Status.DRAFT, draft_due__lte=horizons.furthest)
            | Q(status=PostMortem.Status.IN_REVIEW, publish_due__lte=horizons.furthest)
        )
        .annotate(calendar_team=F("incident__escalation_policy__team"))
        .select_related("incident", "owner")
        .order_by("pk")
    )
    postmortems = [pm for pm in waiting if horizons.reach(pm.current_due, pm.calendar_team)]
    unfinished = (
        ActionItem.objects.filter(status__in=UNFINISHED, due_date__lte=horizons.furthest)
        .annotate(calendar_team=F("postmortem__incident__escalation_policy__team"))
        .select_related("owner", "postmortem__incident", "postmortem__owner")
        .order_by("due_date", "pk")
    )
    items = [item for item in unfinished if horizons.reach(item.due_date, item.calendar_team)]
    owners = {pm.owner for pm in postmortems if pm.owner_id} | {i.owner or i.postmortem.owner for i in items}
    managers = _Managers(
        {u.pk for u in owners if u is not None},
        {pm.incident_id for pm in postmortems} | {i.postmortem.incident_id for i in items},
    )

    planned: list[_Due] = []

    def add(kind_soon, kind_late, postmortem, item, due, owner):
        overdue_days = (today - due).days
        owners = [owner] if _active(owner) else []
        if not owners:  # nobody owns it: the incident's managers hear from the start
            bosses = managers.for_owner(None, postmortem.incident_id)
        elif overdue_days > late_after:
            bosses = managers.for_owner(owner, postmortem.incident_id)
        else:
            bosses = []
        planned.append(_Due(kind_late if overdue_days > 0 else kind_soon, postmortem, item, due, owners, bosses))

    for pm in postmortems:
        add(Kind.POSTMORTEM_DUE_SOON, Kind.POSTMORTEM_OVERDUE, pm, None, pm.current_due, pm.owner)
    for item in items:
        add(Kind.ACTION_ITEM_DUE_SOON, Kind.ACTION_ITEM_OVERDUE, item.postmortem, item, item.due_date, item.owner or item.postmortem.owner)
    return planned


def _when(due: dt.date, today: dt.date) -> str:
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    return "yesterday" if days == -1 else f"{-days} days ago"


def _message(reminder: _Due, today: dt.date, reminded_managers: list) -> str:
    ref = reminder.postmortem.incident.reference
    when = f"{format_day(reminder.due)} ({_when(reminder.due, today)})"
    late = reminder.due < today
    if reminder.action_item is None:
        step = "draft" if reminder.postmortem.status == PostMortem.Status.DRAFT else "publication"
        text = f"Post-mortem of {ref}: the {step} {'was due' if late else 'is due'} {when}."
    else:
        text = (
            f"Post-mortem action item of {ref} {'overdue: was due' if late else 'due'} {when}: "
            f"{reminder.action_item.description[:200]}"
        )
    if reminded_managers:
        text += f" Also reminding {', '.join(str(m) for m in reminded_managers)} (overdue by more than {manager_after_days()} days)."
    return text


def _claim(reminder: _Due, recipient, today: dt.date) -> bool:
    """Insert the day's row for this recipient; False if they were reminded of it today already."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                kind=reminder.kind, postmortem=reminder.postmortem, action_item=reminder.action_item,
                recipient=recipient, sent_on=today,
            )
    except IntegrityError:
        return False
    return True


def _send(reminder: _Due, today: dt.date) -> list:
    """Claim each recipient's row, then record the event for those claimed — one transaction."""
    with transaction.atomic():
        recipients = []
        for person in [*reminder.owners, *reminder.managers]:
            if person not in recipients:
                recipients.append(person)
        claimed = [person for person in recipients if _claim(reminder, person, today)]
        if not claimed:
            return []
        managers = [m for m in reminder.managers if m in claimed and m not in reminder.owners]
        item = reminder.action_item
        actions.record_postmortem_reminder(
            reminder.postmortem.incident,
            _message(reminder, today, managers),
            targets=claimed,
            data={
                "reminder": str(reminder.kind),
                "postmortem": reminder.postmortem.pk,
                "action_item": item.pk if item else None,
                "due_date": reminder.due.isoformat(),
                "days_overdue": max((today - reminder.due).days, 0),
                "context": {
                    "due_date": format_day(reminder.due),
                    "item": item.description if item else "",
                    "postmortem_url": postmortem_url(reminder.postmortem),
                },
            },
        )
    return claimed


def send_due_reminders(today: dt.date | None = None) -> Outcome:
    """Remind owners (and, long overdue, managers) of post-mortems and action items due by the
    next business day of their incident's team or overdue; at most once per item, kind, person
    and (UTC) day."""
    today = today or utc_today()
    outcome = Outcome()
    for reminder in _plan(today):
        try:
            claimed = _send(reminder, today)
        except Exception:  # one bad row must not hold up everyone else's reminders
            log.exception("Post-mortem reminder %s for post-mortem %s failed", reminder.kind, reminder.postmortem.pk)
            continue
        if claimed:
            outcome.events += 1
            outcome.reminded[str(reminder.kind)] += len(claimed)
    return outcome
