"""SQL pieces the figures share: seconds since the epoch of an instant, the percentile aggregate
(PostgreSQL's `percentile_cont`, with the same interpolation in Python where the database has
none), and a period with an optional team."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

from django.db import connection
from django.db.models import Aggregate, FloatField, Func, QuerySet

from incidents.models import Incident
from oncall.models import Team


@dataclasses.dataclass(frozen=True)
class Period:
    """The instants from `start` (included) to `end` (excluded), both aware; optionally one team."""

    start: dt.datetime
    end: dt.datetime
    team: Team | None = None

    def __post_init__(self):
        for moment in (self.start, self.end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"{moment!r} is naive: a period needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("A period must end after it starts.")

    def team_incidents(self) -> QuerySet | None:
        """Ids of the team's incidents (an affected service owned by the team), as a subquery;
        None without a team."""
        if self.team is None:
            return None
        return Incident.services.through.objects.filter(service__owning_team=self.team).values("incident_id")


class EpochSeconds(Func):
    """An instant as seconds since 1970-01-01 UTC (a float), on PostgreSQL and SQLite."""

    output_field = FloatField()

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="EXTRACT(EPOCH FROM %(expressions)s)::float", **extra)

    def as_sqlite(self, compiler, conn, **extra):
        # Django keeps UTC instants as text there; julianday() reads it (to ~50 µs).
        return self.as_sql(compiler, conn, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra)


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: the value at `fraction` of the ordered values,
    interpolated linearly between the two nearest (`percentile_cont(0.95) WITHIN GROUP …`)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction is between 0 and 1.")
        super().__init__(expression, fraction=repr(fraction), **extra)


def native_percentiles() -> bool:
    """Whether the database computes percentiles itself (PostgreSQL); else `percentile_cont`."""
    return connection.vendor == "postgresql"


def percentile_cont(ordered: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's `percentile_cont` over values already in ascending order (None for none)."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
