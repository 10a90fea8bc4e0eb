"""The public status page: no login, no JavaScript, the same read model as HTML and as JSON."""

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from . import status
from .status_json import as_json, day_json

# Long enough that a rush of visitors during an outage is served from caches, short enough
# that a new update shows within half a minute.
MAX_AGE = 30


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


def _date(text: str) -> dt.date:
    """A day in the past or today (UTC), else 404: there is nothing to show for other days."""
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise Http404("Not a date (YYYY-MM-DD).") from None
    if date > timezone.now().astimezone(dt.UTC).date():
        raise Http404("That day has not happened yet.")
    return date


@require_safe
def status_page(request: HttpRequest) -> HttpResponse:
    page = status.status_page()
    return _cacheable(render(request, "comms/status.html", {"page": page}))


@require_safe
def status_json(request: HttpRequest) -> JsonResponse:
    return _cacheable(JsonResponse(as_json(status.status_page())))


@require_safe
def status_day(request: HttpRequest, date: str) -> HttpResponse:
    day = status.day_page(_date(date))
    return _cacheable(render(request, "comms/status_day.html", {"day": day, "page": day}))


@require_safe
def status_day_json(request: HttpRequest, date: str) -> JsonResponse:
    return _cacheable(JsonResponse(day_json(status.day_page(_date(date)))))
