"""The one JSON API (django-ninja). Each app contributes a router; errors share one shape here:
`{"detail": "<what went wrong and what to do>"}`, plus `"errors": [{"field", "message"}]` for
invalid input (422)."""

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from config.middleware import RETRY_AFTER_SECONDS

from incidents.errors import IllegalTransition, InvalidField, InvalidInput
from oncall.api_auth import AUTH
from oncall.api_errors import ApiError, ErrorOut
from oncall.api_json import BodyNotJSON, JSONParser

api = NinjaAPI(
    title="Vigil API",
    version="1",
    urls_namespace="api",
    auth=AUTH,
    # Every JSON body is read with a depth limit: a deeply nested one is a 400, not a 500.
    parser=JSONParser(),
    description=(
        "Incidents, on-call and alerts for chat bots and monitoring. Authenticate with an API key "
        "(`Authorization: Bearer vigil_…` or `X-API-Key`) made in the admin or with "
        "`manage.py apikey create`; keys have scopes (read, write, ingest, chat) and act as their owner."
    ),
)

# Each app's router (mounted here, so the apps never import config).
# ROUTERS: add_router lines below this comment.
api.add_router("/", "incidents.api_ingest.router")  # alerts in: /events, Alertmanager, heartbeats, maintenance
api.add_router("/", "incidents.api.router")
api.add_router("/", "oncall.api.router")
api.add_router("/", "postmortems.api.router")  # post-mortems, action items, review meetings
api.add_router("/chat", "comms.api.router")
api.add_router("/", "comms.api_reports.router")  # scheduled reports as JSON


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError):
    response = api.create_response(request, {"detail": exc.detail}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # Ninja wraps whatever the parser raised in "Cannot parse request body"; the parser's own
    # words say what to fix.
    detail = str(exc.__cause__) if isinstance(exc.__cause__, BodyNotJSON) else str(exc)
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request,
        {"detail": "Authentication required: send an API key (Authorization: Bearer <key> or X-API-Key) or sign in to the admin."},
        status=401,
    )


# Where ninja found the value (query, path, body…) is left out: `field` names the input itself.
_LOCATIONS = ("body", "payload", "query", "path", "form", "header", "cookie")


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, exc: ValidationError):
    errors = [
        {"field": ".".join(str(part) for part in error.get("loc", ()) if part not in _LOCATIONS), "message": error.get("msg", "")}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": "The request is not valid; see errors.", "errors": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(IllegalTransition)
def illegal_transition(request: HttpRequest, exc: IllegalTransition):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, exc: InvalidInput):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(InvalidField)
def invalid_field(request: HttpRequest, exc: InvalidField):
    # An action refused one value the request named: a 422 naming that field, in the shared shape.
    return api.create_response(request, {"detail": str(exc), "errors": [{"field": exc.field, "message": str(exc)}]}, status=422)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request: HttpRequest, exc: Exception):
    # Ninja catches its routes' errors before Django's middleware sees them (with DEBUG on),
    # so the API maps a lost database to 503 itself; clients retry after Retry-After.
    response = api.create_response(request, {"detail": "The database is unavailable; retry shortly."}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.get("/health", auth=None, tags=["meta"], response={200: dict, 503: ErrorOut})
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


@api.get("/me", tags=["meta"], response={200: dict, 401: ErrorOut, 429: ErrorOut, 503: ErrorOut})
def me(request: HttpRequest) -> dict:
    """Who the API sees: the key's owner (or the signed-in user) and the key's scopes."""
    key = getattr(request, "api_key", None)
    return {
        "username": request.user.get_username(),
        "name": str(request.user),
        "key": {"name": key.name, "prefix": key.prefix, "scopes": key.scopes} if key else None,
        "scopes": key.scopes if key else ["read", "write", "ingest", "chat"],
    }
