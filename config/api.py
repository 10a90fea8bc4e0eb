"""The one JSON API (django-ninja). Each app contributes a router; errors share one shape here."""

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja import NinjaAPI

from config.middleware import RETRY_AFTER_SECONDS

from incidents.errors import IllegalTransition, InvalidInput

api = NinjaAPI(title="Vigil API", version="1", urls_namespace="api")


@api.exception_handler(IllegalTransition)
def illegal_transition(request: HttpRequest, exc: IllegalTransition):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, exc: InvalidInput):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request: HttpRequest, exc: Exception):
    # Ninja catches its routes' errors before Django's middleware sees them (with DEBUG on),
    # so the API maps a lost database to 503 itself; clients retry after Retry-After.
    response = api.create_response(request, {"detail": "The database is unavailable; retry shortly."}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.get("/health", auth=None, tags=["meta"])
def health(request: HttpRequest) -> dict:
    """Liveness, database reachability, whether the SLA engine is ticking (its last tick and
    lag: "stale" means beat or the workers have stopped), and the notification outbox's
    backlog ("backlog" means messages are waiting longer than they should)."""
    from django.db import connection

    from comms.outbox import health as outbox_health
    from incidents.engine import health as engine_health

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "engine": engine_health(), "outbox": outbox_health()}
