"""The public status page: no login, no JavaScript, the same read model as HTML and as JSON."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from . import status

# Long enough that a rush of visitors during an outage is served from caches, short enough
# that a new update shows within half a minute.
MAX_AGE = 30


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


@require_safe
def status_page(request: HttpRequest) -> HttpResponse:
    page = status.status_page()
    return _cacheable(render(request, "comms/status.html", {"page": page}))


@require_safe
def status_json(request: HttpRequest) -> JsonResponse:
    return _cacheable(JsonResponse(status.as_json(status.status_page())))
