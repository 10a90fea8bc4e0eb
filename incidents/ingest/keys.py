"""Routing keys: making integrations and their keys, and finding the integration behind a key
(kept per process for a few seconds), with the severity its events map to."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from .. import clock
from ..models import Integration, Service, SeverityLevel
from .maintenance import windows_at

KEY_LENGTH = 32  # PagerDuty's routing keys are 32 characters; senders may check.
SEVERITIES = Integration.SEVERITIES
DEFAULT_SEVERITY_RANK = {"critical": 1, "error": 2, "warning": 3, "info": 4}


def new_key() -> str:
    """32 lowercase hex characters (128 random bits), the shape of a PagerDuty routing key."""
    return secrets.token_hex(KEY_LENGTH // 2)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_plausible_key(key) -> bool:
    """Worth hashing and looking up: a non-empty string of sensible length."""
    return isinstance(key, str) and bool(key) and len(key) <= 200


def create_with_key(model: type[models.Model], **fields) -> tuple[models.Model, str]:
    """A new row of a keyed model (integration, heartbeat) and its key — the only time the key
    is known: show it once. Only the key's hash and first characters are stored."""
    key = new_key()
    row = model(key_hash=hash_key(key), key_prefix=key[:6], **fields)
    row.full_clean(exclude=["key_hash", "key_prefix"])
    row.save()
    return row, key


@transaction.atomic
def create_integration(*, name: str, service: Service, created_by=None, **severities: SeverityLevel | None) -> tuple[Integration, str]:
    """A new integration and its routing key — the only time the key is known: show it once."""
    return create_with_key(
        Integration, name=name, service=service, created_by=created_by,
        **{f"{level}_severity": severities.get(level) for level in SEVERITIES},
    )


def with_maintenance_until(now: datetime) -> QuerySet[Integration]:
    """Integrations with their service and `maintenance_until`: the end of a maintenance window
    covering `now` on their service, or None."""
    windows = windows_at(now, service=OuterRef("service_id"))
    return Integration.objects.select_related("service").annotate(
        maintenance_until=Subquery(windows.order_by("-ends_at").values("ends_at")[:1])
    )


# A sender's integration and "in maintenance now" are kept per process for a few seconds: at
# hundreds of events/s from a few senders the lookup is otherwise a query per event. So an
# integration made inactive, a severity mapping changed or a maintenance window scheduled may
# take up to LOOKUP_TTL to apply (a window that ends is honoured at its end: the entry expires
# then). Only active integrations are kept, so there is one entry per integration at most.
LOOKUP_TTL = timedelta(seconds=5)
_recent_lookups: dict[str, tuple[datetime, datetime, Integration]] = {}


def find_integration(key: str) -> Integration | None:
    """The active integration behind a routing key (looked up by hash), with its service and
    `maintenance_until` (the end of a maintenance window covering now, or None): one query, or
    none when the key was looked up less than LOOKUP_TTL ago in this process."""
    if not is_plausible_key(key):
        return None
    key_hash = hash_key(key)
    now = clock.now()
    recent = _recent_lookups.get(key_hash)
    if recent is not None and recent[0] <= now < recent[1]:  # also expires when the clock goes back
        return recent[2]
    integration = with_maintenance_until(now).filter(key_hash=key_hash, is_active=True).first()
    if integration is None:
        _recent_lookups.pop(key_hash, None)
        return None
    fresh_until = now + LOOKUP_TTL
    if integration.maintenance_until is not None:
        fresh_until = min(fresh_until, integration.maintenance_until)
    _recent_lookups[key_hash] = (now, fresh_until, integration)
    return integration


def forget_lookups() -> None:
    """Drop this process's recent integration lookups (tests; a change that must apply at once)."""
    _recent_lookups.clear()


def severity_for(integration: Integration, level: str) -> SeverityLevel:
    """The integration's mapping of critical / error / warning / info, else SEV-1…SEV-4 by rank
    (else the least severe level there is)."""
    level = level if level in SEVERITIES else "error"
    chosen = getattr(integration, f"{level}_severity_id", None)
    if chosen:
        return SeverityLevel.objects.get(pk=chosen)
    return default_severity(DEFAULT_SEVERITY_RANK[level])


def default_severity(rank: int) -> SeverityLevel:
    return (
        SeverityLevel.objects.filter(rank=rank).first()
        or SeverityLevel.objects.filter(rank__gt=rank).order_by("rank").first()
        or SeverityLevel.objects.order_by("-rank").first()
    )
