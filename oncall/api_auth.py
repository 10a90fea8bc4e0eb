"""Who is calling the JSON API: API keys (hashed, scoped, rate-limited, revocable) or a signed-in
admin session. Every app's router uses `AUTH` and `require_scope`; the errors they raise and the
bodies they answer with are `oncall.api_errors`.

A key is sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`; it acts as its owner
(their permissions, their view of restricted incidents) within its scopes. A session user
has every scope and is checked by their permissions alone (with Django's CSRF check on
unsafe methods)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from .api_errors import Forbidden, RateLimited
from .models import ApiKey, User

log = logging.getLogger(__name__)
Scope = ApiKey.Scope
KEY_PREFIX = "vigil_"


# --- Keys ---------------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, name: str, owner: User, scopes: list[str], created_by: User | None = None, rate_limit_per_minute: int | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret — the only time the secret is known: show it, never store it."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name, owner=owner, scopes=sorted(set(scopes)), key_hash=hash_key(secret), prefix=secret[:12],
        created_by=created_by,
    )
    if rate_limit_per_minute:
        key.rate_limit_per_minute = rate_limit_per_minute
    key.full_clean(exclude=["key_hash", "prefix"])
    key.save()
    return key, secret


# What each scope lets a key do, and what its owner must be allowed to do for the key to have it.
# A key acts as its owner, so a scope beyond the owner's permissions would only ever be refused:
# the admin does not offer it.
SCOPE_WORDS = {
    Scope.READ: "read incidents, on-call, services",
    Scope.WRITE: "declare, acknowledge, update, resolve, cover shifts",
    Scope.INGEST: "send monitoring alerts",
    Scope.CHAT: "chat commands",
}


def _may_change_something(user: User) -> bool:
    return any(not perm.split(".", 1)[1].startswith("view_") for perm in user.get_all_permissions())


def allowed_scopes(user: User) -> list[str]:
    """The scopes `user`'s permissions let a key of theirs use: read and chat for every active user
    (chat commands check each command's permission); write for people who may change something
    (declare, respond, cover…), not for Viewers; ingest for people who may declare incidents."""
    if not user.is_active:
        return []
    allowed = [Scope.READ, Scope.CHAT]
    if _may_change_something(user):
        allowed.append(Scope.WRITE)
    if user.has_perm("incidents.add_incident"):
        allowed.append(Scope.INGEST)
    return [scope.value for scope in Scope if scope in allowed]


def revoke(keys) -> int:
    return keys.filter(revoked_at=None).update(revoked_at=timezone.now())


def lookup(secret: str) -> ApiKey | None:
    """The live key behind a secret (by hash: nothing leaks through timing), with its owner."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    key = ApiKey.objects.select_related("owner").filter(key_hash=hash_key(secret), revoked_at=None).first()
    if key is None or not key.owner.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        # At most one write a minute per key, not one per request.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- Rate limits --------------------------------------------------------------------------------


def check_rate(key: ApiKey) -> None:
    """Fixed one-minute windows per key in the cache (Redis in production). A cache that is down
    lets requests through: ingestion must not depend on Redis."""
    window = int(timezone.now().timestamp() // 60)
    name = f"vigil:api-rate:{key.pk}:{window}"
    try:
        if cache.add(name, 1, timeout=120):
            count = 1
        else:
            count = cache.incr(name)
    except Exception as exc:  # Redis down: fail open, and say so in the log
        log.warning("API rate limit not checked (cache unavailable: %s)", exc)
        return
    if count > key.rate_limit_per_minute:
        retry = 60 - int(timezone.now().timestamp()) % 60
        raise RateLimited(
            f"Rate limit of {key.rate_limit_per_minute} requests per minute for this API key exceeded; retry in {retry} s.",
            headers={"Retry-After": str(max(retry, 1))},
        )


# --- Ninja authentication -----------------------------------------------------------------------


def _authenticate_key(request: HttpRequest, secret: str | None):
    key = lookup(secret or "")
    if key is None:
        return None
    request.api_key = key
    request.user = key.owner
    check_rate(key)
    return key


class BearerKey(HttpBearer):
    """`Authorization: Bearer <key>`."""

    def authenticate(self, request: HttpRequest, token: str):
        return _authenticate_key(request, token)


class HeaderKey(APIKeyHeader):
    """`X-API-Key: <key>`."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        return _authenticate_key(request, key)


class StaffSession(SessionAuth):
    """A signed-in admin session (staff only), with Django's CSRF check on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is not None and user.is_staff and user.is_active:
            request.api_key = None
            return user
        return None


AUTH = [BearerKey(), HeaderKey(), StaffSession()]


def require_scope(request: HttpRequest, scope: str) -> None:
    """403 unless the caller's key has `scope` (sessions have every scope)."""
    key = getattr(request, "api_key", None)
    if key is not None and not key.has_scope(scope):
        raise Forbidden(f"This API key lacks the {scope!r} scope (it has: {', '.join(key.scopes) or 'none'}).")


def require_perm(request: HttpRequest, perm: str, what: str) -> None:
    """403 unless the caller (the key's owner) holds a Django permission."""
    if not request.user.has_perm(perm):
        raise Forbidden(f"{request.user} may not {what} (needs the {perm} permission).")


__all__ = [
    "AUTH", "SCOPE_WORDS", "Scope", "allowed_scopes", "create_key", "revoke", "lookup", "hash_key",
    "require_scope", "require_perm", "check_rate",
]
