"""Durations, ages, moments and colour badges as an operator reads them (the texts are defined in
`oncall`, the lowest layer; the badge here, since only incidents and the apps above show one)."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.html import format_html

from oncall.formatting import EMPTY, MINUTE, SECOND, age, duration, local

__all__ = ["EMPTY", "MINUTE", "SECOND", "age", "badge", "countdown", "duration", "local"]

_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def badge_colors(color: str) -> tuple[str, str]:
    """(background, text) for a coloured label. `color` is data an operator can edit, so only
    #rrggbb is let into a style; the text is black or white, whichever reads on that colour."""
    if not _HEX_COLOR.fullmatch(color or ""):
        color = "#666666"
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return color, "#000" if 0.299 * red + 0.587 * green + 0.114 * blue > 160 else "#fff"


def badge(label: str, color: str, title: str = ""):
    """A coloured label (`badge_colors`)."""
    color, text = badge_colors(color)
    return format_html(
        '<span class="vigil-badge" style="background-color:{};color:{}" title="{}">{}</span>', color, text, title, label
    )


def countdown(due_at: dt.datetime, now: dt.datetime) -> str:
    """ "in 4 min 05 s" or "1 h 10 min overdue": to the second within the hour, else two units.
    The dashboard and the incident page show it; their scripts (comms/static/comms/dashboard.js,
    incidents/static/incidents/incident.js) tick the same words."""
    remaining = due_at - now
    length = abs(remaining)
    seconds = int(length.total_seconds())
    if seconds >= 3600:
        text = duration(length)
    else:
        minutes, seconds = divmod(seconds, 60)
        text = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
    return f"in {text}" if remaining >= dt.timedelta(0) else f"{text} overdue"
