"""Who is on call: a schedule's layers and overrides resolved into one timeline, in the schedule's zone.

- `on_call_at(schedule, at)`: who is on call at one instant (what the engine asks when it pages).
- `shifts(schedule, start, end)` / `gaps(...)`: the resolved timeline over a window, and its holes.
- `shifts_for_user(user, start, end)`: one person's shifts across every schedule.
- `prefetch_rotations(schedules, start, end)`: load layers, members and the window's overrides of
  many schedules in three queries, after which the functions above ask the database nothing for
  instants inside that window.

Rules (docs/architecture.md, "On-call schedules"):

- Daily and weekly rotations hand off at the layer's local hand-off time, so a shift across a
  DST change lasts 23 or 25 hours; weekly ones hand off on the weekday of `start_date`. "Every N
  hours" rotations are fixed elapsed hours from the first hand-off. Before the first hand-off a
  layer has nobody.
- A local time that does not exist (the spring-forward hour) is read with the offset before the
  change (01:30 on a London spring-forward day is 02:30 BST); an ambiguous one (the autumn hour)
  is its first occurrence.
- A restricted layer covers only its window: `restriction_days` (ISO weekdays; empty = every
  day) from `restriction_start` to `restriction_end` local time. An end at or before the start
  crosses midnight (equal = 24 hours), and the window belongs to the day it starts on. Days
  without times mean whole local days.
- An override covering the instant wins (the latest created if several do); else the layer with
  the highest priority that has someone there; else nobody.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from django.db.models import Prefetch, Q, prefetch_related_objects

from .models import Layer, LayerMember, Override, Schedule, User

UTC = dt.timezone.utc
MIDNIGHT = dt.time(0, 0)
# Attribute names set by `prefetch_rotations` on each schedule.
_OVERRIDES = "_rotation_overrides"
_WINDOW = "_rotation_window"


@dataclass(frozen=True)
class Shift:
    """A stretch of time one person is on call for a schedule, and why: a layer's rotation or an override."""

    start: dt.datetime
    end: dt.datetime
    user: User
    layer: Layer | None = None
    override: Override | None = None
    schedule: Schedule | None = field(default=None, compare=False)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    @property
    def source(self) -> str:
        """What put this person on call, as an operator reads it."""
        if self.override is not None:
            return f"Override: {self.override.reason}" if self.override.reason else "Override"
        return self.layer.name if self.layer is not None else ""

    def _same_source(self, other: Shift) -> bool:
        return (
            self.user.pk == other.user.pk
            and _pk(self.layer) == _pk(other.layer)
            and _pk(self.override) == _pk(other.override)
        )


@dataclass
class Outlook:
    """A schedule over a window as the admin shows it: the shifts, the gaps, and who is on call now."""

    schedule: Schedule
    start: dt.datetime
    end: dt.datetime
    shifts: list[Shift]
    gaps: list[tuple[dt.datetime, dt.datetime]]
    now: list[Shift]

    @property
    def on_call_now(self) -> list[User]:
        return [shift.user for shift in self.now]


# --- The public questions -----------------------------------------------------------------------


def on_call_at(schedule: Schedule, at: dt.datetime) -> list[User]:
    """Who is on call for `schedule` at instant `at`: normally one person, empty for a gap.

    At most three queries (an override, the layers, their members); none when `schedule` came
    through `prefetch_rotations` for a window containing `at`, or has its layers prefetched and
    no override at `at`.
    """
    at = _utc(at)
    override = _override_at(_overrides(schedule, at, at + dt.timedelta(microseconds=1)), at)
    if override is not None:
        return [override.user]
    tz = _tz(schedule)
    for layer, members in _layers(schedule):
        user = _layer_user_at(layer, members, tz, at)
        if user is not None:
            return [user]
    return []


def shifts(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The resolved timeline from `start` to `end`: consecutive, non-overlapping shifts clipped to
    the window, merged where the same person continues from the same layer or override; gaps are
    simply absent."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    tz = _tz(schedule)
    candidates = [
        _Coverage(list(_layer_segments(layer, members, tz, start, end)), layer)
        for layer, members in _layers(schedule)
    ]
    overrides = sorted(_overrides(schedule, start, end), key=_override_rank, reverse=True)

    points = {start, end}
    for coverage in candidates:
        for segment_start, segment_end, _ in coverage.segments:
            points.update((segment_start, segment_end))
    for override in overrides:
        points.update((max(_utc(override.start), start), min(_utc(override.end), end)))

    timeline: list[Shift] = []
    for piece_start, piece_end in pairwise(sorted(points)):
        # No boundary falls strictly inside the piece, so whoever covers its start covers all of it.
        shift = _winner(piece_start, piece_end, overrides, candidates, schedule)
        if shift is None:
            continue
        last = timeline[-1] if timeline else None
        if last is not None and last.end == shift.start and last._same_source(shift):
            timeline[-1] = Shift(last.start, shift.end, last.user, last.layer, last.override, schedule)
        else:
            timeline.append(shift)
    return timeline


def gaps(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The windows between `start` and `end` where nobody is on call for `schedule`."""
    return _holes(shifts(schedule, start, end), _utc(start), _utc(end))


def shifts_for_user(user: User, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """Every shift `user` holds from `start` to `end`, across all schedules, in time order
    (each knows its `schedule`). Four queries however many schedules."""
    start, end = _utc(start), _utc(end)
    involved = Schedule.objects.filter(
        Q(layers__members__user=user) | Q(overrides__user=user, overrides__start__lt=end, overrides__end__gt=start)
    ).distinct()
    found = []
    for schedule in prefetch_rotations(list(involved), start, end):
        found.extend(shift for shift in shifts(schedule, start, end) if shift.user.pk == user.pk)
    return sorted(found, key=lambda shift: (shift.start, shift.schedule.name))


def outlooks(schedules: Iterable[Schedule], *, now: dt.datetime, days: int = 14) -> list[Outlook]:
    """Each schedule from `now` for `days` days: shifts, gaps and who is on call now (three queries)."""
    now = _utc(now)
    end = now + dt.timedelta(days=days)
    result = []
    for schedule in prefetch_rotations(list(schedules), now, end):
        timeline = shifts(schedule, now, end)
        result.append(
            Outlook(
                schedule=schedule,
                start=now,
                end=end,
                shifts=timeline,
                gaps=_holes(timeline, now, end),
                now=[shift for shift in timeline if shift.start <= now < shift.end],
            )
        )
    return result


def prefetch_rotations(schedules: list[Schedule], start: dt.datetime, end: dt.datetime) -> list[Schedule]:
    """Load the layers (with members and users) of `schedules` and their overrides overlapping
    `start`–`end`, in three queries. `on_call_at`, `shifts` and `gaps` then read these for any
    instant inside the window. Returns `schedules`."""
    start, end = _utc(start), _utc(end)
    prefetch_related_objects(
        schedules,
        Prefetch(
            "layers",
            queryset=Layer.objects.order_by("-priority", "pk").prefetch_related(
                Prefetch("members", queryset=LayerMember.objects.select_related("user").order_by("position"))
            ),
        ),
        Prefetch(
            "overrides",
            queryset=Override.objects.filter(start__lt=end, end__gt=start).select_related("user", "created_by"),
            to_attr=_OVERRIDES,
        ),
    )
    for schedule in schedules:
        setattr(schedule, _WINDOW, (start, end))
    return schedules


# --- Reading a schedule's parts (from the prefetch when there is one) ---------------------------


def _layers(schedule: Schedule) -> list[tuple[Layer, list[LayerMember]]]:
    """The layers, highest priority first, each with its members in rotation order."""
    if "layers" in getattr(schedule, "_prefetched_objects_cache", {}):
        layers = list(schedule.layers.all())
    else:
        layers = list(
            Layer.objects.filter(schedule=schedule).prefetch_related(
                Prefetch("members", queryset=LayerMember.objects.select_related("user").order_by("position"))
            )
        )
    layers.sort(key=lambda layer: (-layer.priority, layer.pk))
    return [(layer, sorted(layer.members.all(), key=lambda member: member.position)) for layer in layers]


def _overrides(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Override]:
    """Overrides overlapping `start`–`end`."""
    window = getattr(schedule, _WINDOW, None)
    if window is not None and window[0] <= start and end <= window[1]:
        candidates = getattr(schedule, _OVERRIDES)
    else:
        candidates = Override.objects.filter(schedule=schedule, start__lt=end, end__gt=start).select_related(
            "user", "created_by"
        )
    return [o for o in candidates if _utc(o.start) < end and _utc(o.end) > start]


def _override_rank(override: Override) -> tuple:
    # "The latest created wins"; the id breaks a tie within one clock tick.
    return (override.created_at or dt.datetime.min.replace(tzinfo=UTC), override.pk or 0)


def _override_at(overrides: list[Override], at: dt.datetime) -> Override | None:
    covering = [o for o in overrides if _utc(o.start) <= at < _utc(o.end)]
    return max(covering, key=_override_rank) if covering else None


# --- One layer ----------------------------------------------------------------------------------


@dataclass
class _Coverage:
    """One layer's segments over a window: (start, end, user), sorted and non-overlapping."""

    segments: list[tuple[dt.datetime, dt.datetime, User]]
    layer: Layer
    starts: list[dt.datetime] = field(init=False)

    def __post_init__(self):
        self.starts = [segment[0] for segment in self.segments]

    def user_at(self, at: dt.datetime) -> User | None:
        i = bisect.bisect_right(self.starts, at) - 1
        if i >= 0 and at < self.segments[i][1]:
            return self.segments[i][2]
        return None


def _winner(start, end, overrides, candidates, schedule) -> Shift | None:
    for override in overrides:  # latest created first
        if _utc(override.start) <= start < _utc(override.end):
            return Shift(start, end, override.user, None, override, schedule)
    for coverage in candidates:  # highest priority first
        user = coverage.user_at(start)
        if user is not None:
            return Shift(start, end, user, coverage.layer, None, schedule)
    return None


def _layer_user_at(layer: Layer, members: list[LayerMember], tz, at: dt.datetime) -> User | None:
    if not members or not _restriction_covers(layer, tz, at):
        return None
    index = _rotation_index(layer, tz, at)
    return members[index % len(members)].user if index >= 0 else None


def _layer_segments(layer: Layer, members: list[LayerMember], tz, start, end) -> Iterator[tuple]:
    """The layer's (start, end, user) pieces inside the window: rotation periods cut to its restriction."""
    if not members:
        return
    periods = ((s, e, members[k % len(members)].user) for s, e, k in _periods(layer, tz, start, end))
    if not _is_restricted(layer):
        yield from ((max(s, start), min(e, end), user) for s, e, user in periods)
        return
    windows = list(_restriction_windows(layer, tz, start, end))
    i = 0
    for period_start, period_end, user in periods:
        while i < len(windows) and windows[i][1] <= period_start:
            i += 1
        j = i
        while j < len(windows) and windows[j][0] < period_end:
            piece_start = max(period_start, windows[j][0], start)
            piece_end = min(period_end, windows[j][1], end)
            if piece_start < piece_end:
                yield piece_start, piece_end, user
            j += 1


# Rotation periods. Period k runs from hand-off k to hand-off k+1; member k mod n holds it.


def _handoff(layer: Layer, tz, k: int) -> dt.datetime:
    """The instant of hand-off number k (0 = the first, on `start_date`)."""
    if layer.rotation == Layer.Rotation.HOURS:
        return _local(layer.start_date, layer.handoff_time, tz) + k * _rotation_length(layer)
    days = 7 * k if layer.rotation == Layer.Rotation.WEEKLY else k
    return _local(layer.start_date + dt.timedelta(days=days), layer.handoff_time, tz)


def _rotation_length(layer: Layer) -> dt.timedelta:
    return dt.timedelta(hours=max(layer.rotation_hours or 0, 1))


def _rotation_index(layer: Layer, tz, at: dt.datetime) -> int:
    """The number of the period containing `at` (negative before the first hand-off)."""
    if layer.rotation == Layer.Rotation.HOURS:
        return (at - _handoff(layer, tz, 0)) // _rotation_length(layer)
    days = (at.astimezone(tz).date() - layer.start_date).days
    k = days // 7 if layer.rotation == Layer.Rotation.WEEKLY else days
    # The local date is a first guess; the hand-off instants decide.
    while _handoff(layer, tz, k) > at:
        k -= 1
    while _handoff(layer, tz, k + 1) <= at:
        k += 1
    return k


def _periods(layer: Layer, tz, start, end) -> Iterator[tuple[dt.datetime, dt.datetime, int]]:
    k = max(_rotation_index(layer, tz, start), 0)
    period_start = _handoff(layer, tz, k)
    while period_start < end:
        period_end = _handoff(layer, tz, k + 1)
        if period_end > start:
            yield period_start, period_end, k
        k, period_start = k + 1, period_end


# Restriction windows.


def _is_restricted(layer: Layer) -> bool:
    return bool(layer.restriction_days) or layer.restriction_start is not None


def _window_on(layer: Layer, tz, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The restriction window that starts on local `day`, if that day has one."""
    if layer.restriction_days and day.isoweekday() not in layer.restriction_days:
        return None
    return day_window(day, layer.restriction_start or MIDNIGHT, layer.restriction_end or MIDNIGHT, tz)


def _restriction_windows(layer: Layer, tz, start, end) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    day = start.astimezone(tz).date() - dt.timedelta(days=1)  # yesterday's window may cross into today
    last = end.astimezone(tz).date()
    while day <= last:
        window = _window_on(layer, tz, day)
        if window is not None and window[0] < end and window[1] > start:
            yield window
        day += dt.timedelta(days=1)


def _restriction_covers(layer: Layer, tz, at: dt.datetime) -> bool:
    if not _is_restricted(layer):
        return True
    today = at.astimezone(tz).date()
    for day in (today - dt.timedelta(days=1), today):
        window = _window_on(layer, tz, day)
        if window is not None and window[0] <= at < window[1]:
            return True
    return False


# --- Time helpers (shared with working_hours) ---------------------------------------------------


def day_window(day: dt.date, start: dt.time, end: dt.time, tz) -> tuple[dt.datetime, dt.datetime]:
    """The instants of a daily local window that starts on `day`: `end` at or before `start`
    means it ends the next day (equal: 24 hours later in local time)."""
    end_day = day + dt.timedelta(days=1) if end <= start else day
    return _local(day, start, tz), _local(end_day, end, tz)


def _local(day: dt.date, time: dt.time, tz) -> dt.datetime:
    """A local wall-clock moment as a UTC instant (fold=0: see the module docstring)."""
    return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive: on-call questions need an aware datetime")
    return moment.astimezone(UTC)


def _tz(schedule: Schedule) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(schedule.time_zone)


def _holes(timeline: list[Shift], start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    holes, cursor = [], start
    for shift in timeline:
        if shift.start > cursor:
            holes.append((cursor, shift.start))
        cursor = max(cursor, shift.end)
    if cursor < end:
        holes.append((cursor, end))
    return holes


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None
