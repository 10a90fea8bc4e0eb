"""The post-mortem's metrics block: how fast the incident was detected, acknowledged, mitigated
and resolved, against the severity's targets. Computed from the incident on every read.

Each duration is measured as the SLA engine measures its target: acknowledge and resolve from
declaration (`incidents.sla`), detection from the first noticed moment to declaration, and
mitigation from when impact began (`Incident.time_to_mitigate`). Severities have no detection
or mitigation target, so those rows carry none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from incidents import formatting
from incidents.models import Incident


@dataclass(frozen=True)
class Metric:
    name: str
    duration: timedelta | None  # None: the moment was never recorded
    target: timedelta | None = None  # None: the severity sets no target

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target or no measurement."""
        if self.target is None or self.duration is None:
            return None
        return self.duration <= self.target

    @property
    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "—"}[self.met]

    @property
    def duration_text(self) -> str:
        return formatting.duration(self.duration) if self.duration is not None else "—"

    @property
    def target_text(self) -> str:
        return formatting.duration(self.target) if self.target is not None else "—"


def _between(start, end) -> timedelta | None:
    return end - start if start and end else None


def metrics(incident: Incident) -> list[Metric]:
    sev = incident.severity
    return [
        Metric("Time to detect", _between(incident.detected_at, incident.declared_at)),
        Metric("Time to acknowledge", _between(incident.declared_at, incident.acknowledged_at), sev.ack_sla),
        Metric("Time to mitigate", _between(incident.started_at, incident.mitigated_at)),
        Metric("Time to resolve", _between(incident.declared_at, incident.resolved_at), sev.resolve_target),
    ]
