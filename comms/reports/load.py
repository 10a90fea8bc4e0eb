"""On-call load for a period, per person and per team: pages received, pages outside working
hours, sleep-hour pages (22:00–07:00 in the person's own zone), hours on call and incidents
commanded."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections import defaultdict

from django.db.models import Count, F, Min

from incidents.models import Participant
from oncall import schedules
from oncall.models import Schedule, Team, User
from oncall.working_hours import calendars_for

from ..models import Notification
from .aggregates import Period

# Sleep hours in the person's own zone: a page at or after 22:00 or before 07:00 local time.
SLEEP_STARTS, SLEEP_ENDS = dt.time(22, 0), dt.time(7, 0)
# The messages of one page go out within its rules' delays: a page is looked for among messages
# sent from this long before the period, and counted in the period its first message was sent.
_PAGE_SPREAD = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class PersonLoad:
    user_id: int
    name: str
    teams: tuple[str, ...]
    pages: int = 0
    outside_working_hours: int = 0
    sleep_hours: int = 0
    hours_on_call: float = 0.0
    incidents_commanded: int = 0


@dataclasses.dataclass(frozen=True)
class TeamLoad:
    team_id: int | None  # None: people in no team
    name: str
    people: int
    pages: int
    outside_working_hours: int
    sleep_hours: int
    hours_on_call: float
    incidents_commanded: int  # distinct incidents commanded by any member


@dataclasses.dataclass(frozen=True)
class OnCallLoad:
    people: list[PersonLoad]
    teams: list[TeamLoad]


NO_TEAM = "No team"


def oncall_load(period: Period) -> OnCallLoad:
    """Everyone's load in the period (a team's members only, with a team): a fixed number of
    queries however many pages, people and shifts. Drills are left out; restricted incidents
    count, and no incident is named."""
    start, end = period.start, period.end
    membership = Team.members.through.objects.all()
    if period.team is not None:
        membership = membership.filter(user_id__in=period.team.members.values("pk"))
    member_rows = list(membership.values_list("team_id", "user_id"))
    teams_of: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in member_rows:
        teams_of[user_id].add(team_id)

    pages = _first_messages(period)
    commanded = dict(
        _commanding(period).values("user_id").annotate(n=Count("incident", distinct=True)).values_list("user_id", "n")
    )
    on_call = _hours_on_call(start, end)

    if period.team is None:
        wanted = set(teams_of) | {user_id for user_id, _ in pages} | set(commanded) | set(on_call)
    else:
        wanted = set(teams_of)
    users = {user.pk: user for user in User.objects.filter(pk__in=wanted).only("pk", "username", "first_name", "last_name", "time_zone")}
    teams = {team.pk: team for team in Team.objects.filter(pk__in={t for ids in teams_of.values() for t in ids})}
    calendars = calendars_for(list(teams.values()))

    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for user_id, sent_at in pages:
        user = users.get(user_id)
        if user is None:
            continue  # not one of the team's members
        person_calendars = [calendars[team_id] for team_id in teams_of.get(user_id, ())] or [calendars[None]]
        tally = counts[user_id]
        tally[0] += 1
        if not any(calendar.is_working(sent_at) for calendar in person_calendars):
            tally[1] += 1
        if _in_sleep_hours(sent_at, user.time_zone):
            tally[2] += 1

    people = {}
    for user_id, user in users.items():
        received, outside, sleep = counts.get(user_id, (0, 0, 0))
        people[user_id] = PersonLoad(
            user_id=user_id,
            name=str(user),
            teams=tuple(sorted(teams[t].name for t in teams_of.get(user_id, ()))),
            pages=received,
            outside_working_hours=outside,
            sleep_hours=sleep,
            hours_on_call=round(on_call.get(user_id, dt.timedelta(0)).total_seconds() / 3600, 2),
            incidents_commanded=commanded.get(user_id, 0),
        )
    return OnCallLoad(
        people=sorted(people.values(), key=lambda p: (-p.pages, -p.hours_on_call, p.name, p.user_id)),
        teams=_team_rows(period, people, teams, teams_of),
    )


def _first_messages(period: Period) -> list[tuple[int, dt.datetime]]:
    """(recipient, when the page first reached them) for every page of the period: one row per
    (person, timeline event), however many channels and rules carried it. These rows are read
    into Python: whether an instant is in a team's working hours depends on its public holidays
    and closed days, and the sleep hours on each person's zone, which SQL cannot say portably."""
    rows = Notification.objects.filter(
        is_page=True,
        status=Notification.Status.SENT,
        recipient__isnull=False,
        event__isnull=False,
        incident__is_drill=False,
        sent_at__gte=period.start - _PAGE_SPREAD,
        sent_at__lt=period.end,
    )
    if period.team is not None:
        rows = rows.filter(recipient__in=period.team.members.values("pk"))
    return list(
        rows.values("recipient_id", "event_id")
        .annotate(first_sent=Min("sent_at"))
        .filter(first_sent__gte=period.start)
        .order_by()
        .values_list("recipient_id", "first_sent")
    )


def _commanding(period: Period):
    rows = Participant.objects.filter(
        role=Participant.Role.COMMANDER,
        joined_at__gte=period.start,
        joined_at__lt=period.end,
        incident__is_drill=False,
    )
    if period.team is not None:
        rows = rows.filter(user__in=period.team.members.values("pk"))
    return rows


def _in_sleep_hours(moment: dt.datetime, time_zone: str) -> bool:
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.timezone.utc
    local = moment.astimezone(zone).time()
    return local >= SLEEP_STARTS or local < SLEEP_ENDS


def _hours_on_call(start: dt.datetime, end: dt.datetime) -> dict[int, dt.timedelta]:
    """Each person's time on call in the window, from every schedule's resolved shifts (three
    queries). On call on two schedules at once counts once."""
    spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for schedule in schedules.prefetch_rotations(list(Schedule.objects.all()), start, end):
        for shift in schedules.shifts(schedule, start, end):
            spans[shift.user.pk].append((shift.start, shift.end))
    total = {}
    for user_id, pieces in spans.items():
        pieces.sort()
        covered, cursor = dt.timedelta(0), None
        for piece_start, piece_end in pieces:
            if cursor is not None and piece_start < cursor:
                piece_start = cursor
            if piece_end > piece_start:
                covered += piece_end - piece_start
                cursor = piece_end
        total[user_id] = covered
    return total


def _team_rows(period: Period, people: dict[int, PersonLoad], teams: dict[int, Team], teams_of) -> list[TeamLoad]:
    commanding = _commanding(period)
    distinct_commanded = dict(
        commanding.filter(user__teams__isnull=False)
        .values(team=F("user__teams"))
        .annotate(n=Count("incident", distinct=True))
        .values_list("team", "n")
    )
    members: dict[int | None, list[PersonLoad]] = defaultdict(list)
    for person in people.values():
        for team_id in teams_of.get(person.user_id) or ([None] if period.team is None else []):
            if period.team is None or team_id == period.team.pk:
                members[team_id].append(person)
    if period.team is not None:
        members.setdefault(period.team.pk, [])
        teams.setdefault(period.team.pk, period.team)
    if period.team is None:
        distinct_commanded[None] = commanding.filter(user__teams__isnull=True).aggregate(n=Count("incident", distinct=True))["n"]
    rows = [
        TeamLoad(
            team_id=team_id,
            name=teams[team_id].name if team_id is not None else NO_TEAM,
            people=len(group),
            pages=sum(p.pages for p in group),
            outside_working_hours=sum(p.outside_working_hours for p in group),
            sleep_hours=sum(p.sleep_hours for p in group),
            hours_on_call=round(sum(p.hours_on_call for p in group), 2),
            incidents_commanded=distinct_commanded.get(team_id, 0),
        )
        for team_id, group in members.items()
    ]
    return sorted(rows, key=lambda row: (row.team_id is None, row.name))




@dataclasses.dataclass(frozen=True)
class PagesReceived:
    user_id: int
    name: str
    pages: int
    sleep_hours: int


def pages_received(period: Period) -> list[PagesReceived]:
    """Pages per person and how many of them came in sleep hours, most paged first: the part of
    `oncall_load` the dashboard shows, in two queries."""
    pages = _first_messages(period)
    users = {u.pk: u for u in User.objects.filter(pk__in={user_id for user_id, _ in pages}).only("pk", "username", "first_name", "last_name", "time_zone")}
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for user_id, sent_at in pages:
        counts[user_id][0] += 1
        counts[user_id][1] += _in_sleep_hours(sent_at, users[user_id].time_zone)
    rows = [PagesReceived(user_id, str(users[user_id]), pages, sleep) for user_id, (pages, sleep) in counts.items()]
    return sorted(rows, key=lambda row: (-row.pages, row.name, row.user_id))
