"""Alert ingestion: monitoring events kept in the alert log and turned into incident actions.

Every accepted event gets its `AlertEvent` row in the transaction that applies its effect
(declare, join, acknowledge, resolve), so the row and the effect commit together with one WAL
flush; if applying fails, that transaction is rolled back and the event is stored alone as
`failed` with its error — an event answered 202 is never lost, and one is never applied twice.
Rows stored `received` (`receive()`, a failed event sent back by the admin) are processed by
`process()`, whose mark only succeeds on a row still `received`; `sweep_unprocessed` picks up
any left behind. Repeated triggers for one (integration, dedup key) join the
open `AlertGroup`; a partial unique constraint makes concurrent first triggers open one incident.
See docs/architecture.md, "Alert ingestion".

`keys` makes routing keys and finds the integration behind one; `parsing` reads PagerDuty
Events v2 and Alertmanager bodies; `apply` stores and applies events; `maintenance` and
`heartbeats` hold planned quiet periods and jobs that must ping. Callers use the names below.
"""

from .apply import EventStatus, ingest, process, receive, reprocess, sweep_unprocessed
from .heartbeats import MISSED_SEVERITY_RANK, check_heartbeats, create_heartbeat, mark_missed, overdue_heartbeats, ping
from .keys import (
    DEFAULT_SEVERITY_RANK, KEY_LENGTH, LOOKUP_TTL, SEVERITIES, create_integration, default_severity, find_integration,
    forget_lookups, hash_key, new_key, severity_for,
)
from .maintenance import schedule_maintenance
from .parsing import (
    ACTIONS, SUMMARY_LIMIT, TITLE_LIMIT, Action, Event, InvalidEvent, alertmanager_dedup_key, parse_alertmanager,
    parse_events_v2,
)

__all__ = [
    "Event", "InvalidEvent", "KEY_LENGTH", "create_integration", "create_heartbeat", "find_integration", "severity_for",
    "parse_events_v2", "parse_alertmanager", "receive", "ingest", "process", "sweep_unprocessed", "reprocess",
    "ping", "check_heartbeats", "mark_missed", "schedule_maintenance",
    "new_key", "hash_key", "LOOKUP_TTL", "forget_lookups",
]
