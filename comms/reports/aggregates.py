"""SQL pieces the figures share: seconds since the epoch of an instant, and a period with an
optional team. Percentiles are `incidents.metrics.Percentile` and `percentile`, as for the
incident figures."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import FloatField, Func, QuerySet

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
