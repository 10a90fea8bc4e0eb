"""Texts and links the on-call admin pages share: moments in the viewer's zone, windows, weekdays;
and `column`, the one-attribute column every app's admin uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from .. import forms
from ..formatting import local, span  # noqa: F401  (local: re-exported for the admin pages)

OUTLOOK_DAYS = 14


def column(field: str, label: str, show: Callable[[Any], Any], *, ordering: str | None = None):
    """A read-only column (or field) of a model admin that shows one attribute through `show`.

    Written once because the admins list so many durations and moments, each only a label and a
    formatter apart."""

    @admin.display(description=label, ordering=ordering)
    def shown(model_admin, obj):
        return show(getattr(obj, field))

    return shown


def window_text(start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> str:
    """"Mon 23 Nov 20:00 – Tue 24 Nov 08:00 (12 h)", with the year when it crosses one (`formatting.span`)."""
    return span(start, end, now=now)


def windows_text(windows, now: dt.datetime | None = None, most: int = 3) -> str:
    text = "; ".join(window_text(start, end, now) for start, end in windows[:most])
    return text + (f" and {len(windows) - most} more" if len(windows) > most else "")


def warning(text: str):
    return format_html('<span class="vigil-warning">⚠ {}</span>', text)


def admin_url(name: str, *args, query: dict | None = None) -> str:
    url = reverse(f"admin:{name}", args=[quote(a) for a in args])
    return f"{url}?{urlencode(query)}" if query else url


def days_text(days: list[int]) -> str:
    """ISO weekdays as an operator writes them: "Mon–Fri", "Sat, Sun", "every day"."""
    names = dict(forms.WEEKDAYS)
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if not runs or len(runs[0]) == 7:
        return "every day"
    return ", ".join(
        f"{names[run[0]]}–{names[run[-1]]}" if len(run) > 2 else ", ".join(names[d] for d in run) for run in runs
    )
