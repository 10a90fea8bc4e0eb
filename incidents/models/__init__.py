"""Vigil's incident tables, one module per concern, all importable from `incidents.models`.

`core` holds the incident itself (severities, types, services, roles, tasks, evidence, the
timeline); `engine` the deadlines the engine fires; `ingest` the tables of alert ingestion.
"""

from .core import (
    ACK_SLA_MOST,
    HEX_COLOR,
    OBSERVATION_PERIOD_MOST,
    OPEN_STATUSES,
    RESOLVE_TARGET_MOST,
    UPDATE_INTERVAL_MOST,
    EvidenceLink,
    Incident,
    IncidentTask,
    IncidentType,
    Participant,
    Service,
    SeverityLevel,
    Source,
    Status,
    TimelineEvent,
)
from .engine import Deadline, EngineHeartbeat
from .ingest import AlertEvent, AlertGroup, Heartbeat, Integration, MaintenanceWindow

__all__ = [
    "ACK_SLA_MOST", "HEX_COLOR", "OBSERVATION_PERIOD_MOST", "OPEN_STATUSES", "RESOLVE_TARGET_MOST", "UPDATE_INTERVAL_MOST",
    "AlertEvent", "AlertGroup", "Deadline", "EngineHeartbeat", "EvidenceLink", "Heartbeat", "Incident", "IncidentTask",
    "IncidentType", "Integration", "MaintenanceWindow", "Participant", "Service", "SeverityLevel", "Source", "Status",
    "TimelineEvent",
]
