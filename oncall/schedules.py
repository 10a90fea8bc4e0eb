"""Who is on call: a schedule's layers and overrides resolved into one timeline, in the schedule's zone.

- `on_call_at(schedule, at)`: who is on call at one instant (what the engine asks when it pages).
- `shifts(schedule, start, end)` / `gaps(...)`: the resolved timeline over a window, and its holes.
- `shifts_for_user(user, start, end)`: one person's shifts across every schedule.
- `prefetch_rotations(schedules, start, end)`: load layers, members and the window's overrides of
  many schedules in three queries, after which the functions above ask the database nothing for
  instants inside that window.

Rules (docs/architecture.md, "On-call schedules"): each layer's rotation and restriction are read
by `oncall.rotations`. An override covering the instant wins (the latest created if several do);
else the layer with the highest priority that has someone there; else nobody.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from django.db.models import Prefetch, Q, prefetch_related_objects

from . import rotations
from .models import Layer, LayerMember, Override, Schedule, User
from .rotations import UTC

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
        user = rotations.user_at(layer, members, tz, at)
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
        _Coverage(list(rotations.segments(layer, members, tz, start, end)), layer)
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


# --- Resolving the layers -----------------------------------------------------------------------


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


# --- Time helpers -------------------------------------------------------------------------------


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
