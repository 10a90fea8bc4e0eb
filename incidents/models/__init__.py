"""Vigil's incident tables, one module per concern, all importable from `incidents.models`.

`catalog` holds what incidents are declared against (severities, types, services); `core` the
incident itself (roles, tasks, evidence, the timeline); `engine` the deadlines the engine fires; `ingest` the tables of alert ingestion.
"""

from .catalog import (
    ACK_SLA_MOST,
    HEX_COLOR,
    OBSERVATION_PERIOD_MOST,
    POSTMORTEM_DUE_BOUNDS,
    POSTMORTEM_STEPS,
    RESOLVE_TARGET_MOST,
    UPDATE_INTERVAL_MOST,
    DueUnit,
    IncidentType,
    MetricTargets,
    Service,
    SeverityLevel,
)
from .core import (
    OPEN_STATUSES, EvidenceLink, Incident, IncidentTask, Participant, Source, Status, TimelineEvent, ended_or_open,
)
from .engine import Deadline, EngineHeartbeat
from .ingest import AlertEvent, AlertGroup, Heartbeat, Integration, MaintenanceWindow

__all__ = [
    "ACK_SLA_MOST", "HEX_COLOR", "OBSERVATION_PERIOD_MOST", "OPEN_STATUSES", "POSTMORTEM_DUE_BOUNDS", "POSTMORTEM_STEPS",
    "RESOLVE_TARGET_MOST", "UPDATE_INTERVAL_MOST", "AlertEvent", "AlertGroup", "Deadline", "DueUnit", "EngineHeartbeat",
    "EvidenceLink", "Heartbeat", "Incident", "IncidentTask", "IncidentType", "Integration", "MaintenanceWindow", "MetricTargets",
    "Participant", "Service", "SeverityLevel", "Source", "Status", "TimelineEvent", "ended_or_open",
]
