"""The calendar feed URL: no login, the secret token is the credential."""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import feeds


@require_safe
def calendar_feed(request, token: str) -> HttpResponse:
    feed = feeds.active_feed(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    now = timezone.now()
    response = HttpResponse(feeds.render(feed, now=now), content_type="text/calendar; charset=utf-8")
    feeds.mark_used(feed, at=now)
    response["Content-Disposition"] = 'inline; filename="vigil-on-call.ics"'
    # The URL is a secret: shared caches must not keep the answer.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
