"""One layer of a schedule in time: its rotation's hand-offs and periods, and its restriction's
windows, read in the schedule's zone. `oncall.schedules` resolves the layers and overrides into
who is on call. Local wall-clock times become instants through `oncall.clocks` (`day_window`,
`wall_instant`), as a team's working week does.

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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from .clocks import day_window, wall_instant
from .models import Layer, LayerMember, User

UTC = dt.timezone.utc
MIDNIGHT = dt.time(0, 0)


def user_at(layer: Layer, members: list[LayerMember], tz, at: dt.datetime) -> User | None:
    """Who the layer has on call at `at`: nobody outside its restriction or before its first hand-off."""
    if not members or not _restriction_covers(layer, tz, at):
        return None
    index = _rotation_index(layer, tz, at)
    return members[index % len(members)].user if index >= 0 else None


def segments(layer: Layer, members: list[LayerMember], tz, start, end) -> Iterator[tuple]:
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
        return wall_instant(layer.start_date, layer.handoff_time, tz) + k * _rotation_length(layer)
    days = 7 * k if layer.rotation == Layer.Rotation.WEEKLY else k
    return wall_instant(layer.start_date + dt.timedelta(days=days), layer.handoff_time, tz)


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
