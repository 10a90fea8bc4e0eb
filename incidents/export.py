"""Incidents as CSV for a manager's spreadsheet, streamed: the admin's download link and action and
`GET /api/v1/incidents.csv` all answer with `response(user, incidents)`.

The rows come from the database as tuples in chunks (`iterator(chunk_size=CHUNK)`: a server-side
cursor on PostgreSQL), each chunk's service names and current commanders in two more queries, and
leave as text blocks of about `BLOCK` characters: memory stays flat however many incidents are
exported, and the queries grow with the chunks, never with the rows. No model instance is built
for a row: model instances with prefetches per chunk made a large export 1.7 times as slow on
PostgreSQL, 4 times on SQLite (docs/architecture.md, "CSV export")."""

from __future__ import annotations

import csv
import json
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone as dt_timezone

from django.db import connections
from django.db.models import FloatField, QuerySet
from django.db.models.functions import Cast, Extract
from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Incident, Participant, Status

CHUNK = 2000  # rows per database round trip (and per lookup of their services and commanders)
BLOCK = 64 * 1024  # characters per piece of the response

HEADER = (
    "reference", "title", "severity", "status", "type", "services", "commander",
    "declared", "acknowledged", "mitigated", "resolved", "closed",
    "minutes to acknowledge", "minutes to resolve", "customer facing", "drill", "restricted",
)
# A row's values, read as tuples: no model instance is built for an exported row.
FIELDS = (
    "pk", "number", "title", "severity__name", "status", "incident_type__name",
    "customer_facing", "is_drill", "is_restricted",
    "detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STATUS_LABELS = dict(Status.choices)
TIMES = ("detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at")


def user_zone(user) -> zoneinfo.ZoneInfo:
    """The zone `user` reads times in (their profile's), UTC when unset or unknown. Taken from the
    user, not the active zone: a streamed body is written after the request's middleware is done."""
    try:
        return zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def text(value: str) -> str:
    """A cell of text a person typed, which a spreadsheet must show and never evaluate."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def moment(value: datetime | float | None, zone) -> str:
    """ISO 8601 in `zone`, with its offset (2026-03-08T01:30:00-05:00); empty when it never happened.
    `value` is a datetime, or seconds since the epoch as PostgreSQL sends them here (`_rows`)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return datetime.fromtimestamp(value, zone).isoformat(timespec="seconds")
    return value.astimezone(zone).isoformat(timespec="seconds")


def minutes(start: datetime | float | None, end: datetime | float | None) -> str:
    """From `start` to `end` in minutes, one decimal (45.0); empty until `end` has happened."""
    if start is None or end is None:
        return ""
    seconds = end - start if isinstance(end, float) else (end - start).total_seconds()
    return f"{seconds / 60:.1f}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username  # as `User.__str__` names them


def _among(ids: list[int], vendor: str) -> RawSQL:
    """A chunk's incident ids as ONE query parameter: an `IN` list of 2,000 placeholders costs more
    to compile and send (ORM and driver, per placeholder) than the rest of the chunk's work."""
    if vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(ids),))


def _names_by_incident(ids: list[int], vendor: str) -> tuple[dict[int, str], dict[int, str]]:
    """Two queries for a chunk of incidents: their services' names, and who commands each now."""
    among = _among(ids, vendor)
    services: dict[int, list[str]] = {}
    through = Incident.services.through.objects.filter(incident_id__in=among)
    for incident_id, name in through.order_by("service__name").values_list("incident_id", "service__name"):
        services.setdefault(incident_id, []).append(name)
    commanders: dict[int, list[str]] = {}
    commanding = Participant.objects.filter(incident_id__in=among, role=Participant.Role.COMMANDER, left_at=None)
    for incident_id, *person in commanding.order_by("joined_at", "pk").values_list(
        "incident_id", "user__first_name", "user__last_name", "user__username"
    ):
        commanders.setdefault(incident_id, []).append(_person(*person))
    return (
        {key: ", ".join(names) for key, names in services.items()},
        {key: ", ".join(names) for key, names in commanders.items()},
    )


def _rows(incidents: QuerySet[Incident]) -> Iterator[list[tuple]]:
    """The incidents' values in chunks of CHUNK: one server-side cursor on PostgreSQL."""
    incidents = incidents.prefetch_related(None)
    fields = FIELDS
    if connections[incidents.db].vendor == "postgresql":
        # Django's timestamptz loader parses each time in Python, a third of the export's time;
        # seconds since the epoch arrive as floats parsed in C.
        incidents = incidents.annotate(**{
            f"{name}_epoch": Cast(Extract(name, "epoch", tzinfo=dt_timezone.utc), FloatField()) for name in TIMES
        })
        fields = tuple(f"{name}_epoch" if name in TIMES else name for name in FIELDS)
    values = incidents.values_list(*fields)
    chunk = []
    for values_row in values.iterator(chunk_size=CHUNK):
        chunk.append(values_row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def lines(incidents: QuerySet[Incident], zone) -> Iterator[str]:
    """The CSV text of `incidents` (scoped, filtered and ordered by the caller), header first, in
    blocks of about BLOCK characters."""
    writer = csv.writer(_Lines())
    block = [writer.writerow(HEADER)]
    size = len(block[0])
    vendor = connections[incidents.db].vendor
    for chunk in _rows(incidents):
        services, commanders = _names_by_incident([values[0] for values in chunk], vendor)
        for (
            pk, number, title, severity, status, incident_type, customer_facing, drill, restricted,
            detected, declared, acknowledged, mitigated, resolved, closed,
        ) in chunk:
            line = writer.writerow((
                f"INC-{number}",
                text(title),
                text(severity),
                STATUS_LABELS.get(status, status),
                text(incident_type or ""),
                text(services.get(pk, "")),
                text(commanders.get(pk, "")),
                moment(declared, zone),
                moment(acknowledged, zone),
                moment(mitigated, zone),
                moment(resolved, zone),
                moment(closed, zone),
                minutes(declared, acknowledged),  # as Incident.time_to_acknowledge
                minutes(detected or declared, resolved),  # as Incident.time_to_resolve
                _yes(customer_facing),
                _yes(drill),
                _yes(restricted),
            ))
            block.append(line)
            size += len(line)
            if size >= BLOCK:
                yield "".join(block)
                block, size = [], 0
    if block:
        yield "".join(block)


class _Lines:
    """A file-like object that hands back what the csv writer writes, instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def filename(user, now: datetime | None = None) -> str:
    return f"incidents-{timezone.localtime(now or timezone.now(), user_zone(user)).date().isoformat()}.csv"


def response(user, incidents: QuerySet[Incident]) -> StreamingHttpResponse:
    """A streamed CSV download of `incidents`, which the caller has scoped to what `user` may see
    (`selectors.visible_incidents`, or the admin's queryset built on it)."""
    answer = StreamingHttpResponse(_encoded(lines(incidents, user_zone(user))), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{filename(user)}"'
    answer["Cache-Control"] = "private, no-store"  # may hold restricted incidents
    return answer


def _encoded(blocks: Iterable[str]) -> Iterator[bytes]:
    for block in blocks:
        yield block.encode()
