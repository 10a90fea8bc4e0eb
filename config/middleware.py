"""Project-wide middleware: the database being down is a 503 to retry, never a bare 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable while serving %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"detail": "The database is unavailable; retry shortly."}, status=503
            )
        else:
            response = HttpResponse(
                "Vigil cannot reach its database right now. Retry in a moment.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class ApiBodyLimitMiddleware:
    """API requests over `VIGIL_API_MAX_BODY_BYTES` (512 KB) are refused with 413 before anything
    reads them (a body without a length is cut off at the same size by `request.body`'s guard)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        if request.path.startswith("/api/"):
            limit = settings.VIGIL_API_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(
                    {"detail": f"The request body is {length:,} bytes; the API accepts at most {limit:,}."}, status=413
                )
        return self.get_response(request)
