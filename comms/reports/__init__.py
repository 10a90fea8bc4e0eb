"""Figures that need several apps, for a period and optionally a team (the operator dashboard,
`dashboard`, and the charts, `charts`, read them): escalations and the
pager's latency (`pager`), on-call load (`load`) and alert noise (`noise`), each a read-only
selector of SQL aggregates; `DEFINITIONS` says what each figure means. Drills are left out and
restricted incidents are counted, never named."""

from .aggregates import Period
from .definitions import DEFINITIONS
from .load import OnCallLoad, PersonLoad, TeamLoad, oncall_load
from .noise import AlertNoise, IntegrationNoise, KeyNoise, ServiceNoise, alert_noise
from .pager import ChannelLatency, Escalations, LevelEscalations, escalations, pager_latency

__all__ = [
    "DEFINITIONS",
    "AlertNoise",
    "ChannelLatency",
    "Escalations",
    "IntegrationNoise",
    "KeyNoise",
    "LevelEscalations",
    "OnCallLoad",
    "Period",
    "PersonLoad",
    "ServiceNoise",
    "TeamLoad",
    "alert_noise",
    "escalations",
    "oncall_load",
    "pager_latency",
]
