"""Shows every page in the signed-in user's own time zone."""

import zoneinfo

from django.conf import settings
from django.utils import timezone


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie there is nobody signed in: leave the session unread, so
        # anonymous pages (the public status page) carry no `Vary: Cookie` and cache well.
        signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES
        tz_name = getattr(getattr(request, "user", None), "time_zone", None) if signed_in else None
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
