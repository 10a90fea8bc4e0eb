"""The post-mortem's metrics block: how fast the incident was detected, acknowledged, mitigated
and resolved, against the severity's targets. Computed from the incident on every read.

Each duration is measured as the SLA engine measures its target: acknowledge and resolve from
declaration (`incidents.sla`), detection from the first noticed moment to declaration, and
mitigation from when impact began (`Incident.time_to_mitigate`). Severities have no detection
or mitigation target, so those rows carry none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents import formatting, sla
from incidents.models import Incident


@dataclass(frozen=True)
class Metric:
    name: str
    duration: timedelta | None  # None: the moment was never recorded
    target: timedelta | None = None  # None: the severity sets no target
    # On a business-hours or next-business-day clock the target is an instant, not a length:
    # met when the moment came by `due_at` (the engine's own computation, `incidents.sla`).
    due_at: datetime | None = None
    reached_at: datetime | None = None
    target_words: str = ""

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target or no measurement."""
        if self.target is None or self.duration is None:
            return None
        if self.due_at is not None and self.reached_at is not None:
            return self.reached_at <= self.due_at
        return self.duration <= self.target

    @property
    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "—"}[self.met]

    @property
    def duration_text(self) -> str:
        return formatting.duration(self.duration) if self.duration is not None else "—"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        return self.target_words or formatting.duration(self.target)


def _between(start, end) -> timedelta | None:
    return end - start if start and end else None


def metrics(incident: Incident) -> list[Metric]:
    sev = incident.severity
    due = {target.name: target.due_at for target in sla.targets(incident, last_update_at=None)}
    return [
        Metric("Time to detect", _between(incident.detected_at, incident.declared_at)),
        Metric(
            "Time to acknowledge", _between(incident.declared_at, incident.acknowledged_at), sev.ack_sla,
            due_at=due["acknowledge"], reached_at=incident.acknowledged_at, target_words=sev.ack_sla_text,
        ),
        Metric("Time to mitigate", _between(incident.started_at, incident.mitigated_at)),
        Metric(
            "Time to resolve", _between(incident.declared_at, incident.resolved_at), sev.resolve_target,
            due_at=due["resolve"], reached_at=incident.resolved_at, target_words=sev.resolve_target_text,
        ),
    ]
