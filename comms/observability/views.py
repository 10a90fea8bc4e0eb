"""`/metrics` (Prometheus, behind a bearer token and/or allowed networks), `/health` and
`/health/live` (no authentication: load balancers and uptime checks)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from . import health as checks
from . import prometheus

NOT_ENABLED = (
    "/metrics is off. Set VIGIL_METRICS_TOKEN (Prometheus then sends `Authorization: Bearer <token>`) "
    "and/or VIGIL_METRICS_ALLOWED_NETWORKS (comma-separated CIDRs, e.g. 10.0.0.0/8) to enable it.\n"
)


def _text(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def _from_allowed_network(request: HttpRequest) -> bool:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote, and Vigil has no trusted-proxy setting.
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network) for network in settings.VIGIL_METRICS_ALLOWED_NETWORKS)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """With both settings, a scrape must come from an allowed network and carry the token."""
    token, networks = settings.VIGIL_METRICS_TOKEN, settings.VIGIL_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return _text(NOT_ENABLED, 403)
    if networks and not _from_allowed_network(request):
        return _text("/metrics is not open to this address (VIGIL_METRICS_ALLOWED_NETWORKS).\n", 403)
    if token and not hmac.compare_digest(_bearer_token(request).encode(), token.encode()):
        response = _text("/metrics needs `Authorization: Bearer <VIGIL_METRICS_TOKEN>`.\n", 401)
        response["WWW-Authenticate"] = 'Bearer realm="Vigil metrics"'
        return response
    return HttpResponse(generate_latest(prometheus.registry()), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 naming the failed ones, each with its reason."""
    results = checks.run_checks()
    failed = [name for name, result in results.items() if result["status"] != "ok"]
    return JsonResponse({"status": "fail" if failed else "ok", "failed": failed, "checks": results}, status=503 if failed else 200)


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """The process answers HTTP: nothing else is touched (no database, no cache)."""
    return JsonResponse({"status": "ok"})
