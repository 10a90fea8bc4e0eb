"""Answering a cover request from the link in its email, without signing in: the signed token says
who answers. GET shows the request and never acts (mail scanners fetch links); POST answers."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import cover
from .errors import CoverRefused
from .formatting import span

_STATUS = {"invalid": 400, "forbidden": 403, "gone": 410, "expired": 410, "answered": 410, "refused": 409}


def _page(request, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, "oncall/cover_answer.html", context, status=status)
    # The URL is a credential: keep it out of search indexes and Referer headers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request, token: str) -> HttpResponse:
    try:
        cover_request, person = cover.read_link(token)
    except CoverRefused as refused:
        return _page(request, {"message": str(refused)}, status=_STATUS[refused.reason])
    with timezone.override(cover.zone_of(person)):
        context = {"cover": cover_request, "person": person, "window": span(cover_request.start, cover_request.end)}
        try:
            if request.method == "POST":
                if request.POST.get("answer") == "decline":
                    cover.decline(cover_request.pk, by=person)
                    return _page(request, {**context, "done": f"You declined. {cover_request.user} has been told."})
                override = cover.accept(cover_request.pk, by=person)
                done = f"You are on call for {cover_request.schedule}, {span(override.start, override.end)}."
                return _page(request, {**context, "done": done})
            cover.check_answerable(cover_request, person, timezone.now())
        except CoverRefused as refused:
            return _page(request, {**context, "message": str(refused)}, status=_STATUS[refused.reason])
        context.update(warning=cover.gap_warning(cover_request), may_decline=cover_request.asked_id == person.pk)
        return _page(request, context)
