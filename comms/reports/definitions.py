"""What each cross-app figure means, one sentence each: the dashboard shows these as help text,
and docs/architecture.md ("Metrics: on-call load, pager latency, alert noise") says the same."""

DEFINITIONS: dict[str, str] = {
    "escalations_by_level": (
        "Escalations fired by level: how many times the engine engaged each escalation level in the period "
        "(fired escalation deadlines, including levels engaged early by an acknowledge-SLA breach or because "
        "the level before had nobody to page), with the number of incidents involved."
    ),
    "ack_sla_breaches": (
        "Acknowledge-SLA breaches: acknowledge rounds nobody acknowledged within the severity's acknowledge SLA "
        "in the period (fired acknowledge deadlines; the re-page that waited for working hours is the same breach)."
    ),
    "pager_latency": (
        "Pager latency: for each page message sent in the period, its sent_at minus the instant it was due — "
        "the due_at of the earliest escalation or acknowledge deadline fired in the firing that wrote the page's "
        "timeline event (the event's occurred_at when no deadline fired it, as for a reopen), plus the "
        "notification rule's delay — given as p50, p95 and maximum per channel."
    ),
    "pages_received": (
        "Pages received: pages that reached the person in the period, one per paging timeline event however "
        "many channels carried it, counted when its first message was sent."
    ),
    "pages_outside_working_hours": (
        "Pages outside working hours: pages received when none of the person's teams was in working hours "
        "(working days and hours in the team's zone, public holidays and closed days; a person in no team is "
        "held to Monday–Friday 09:00–17:00 UTC)."
    ),
    "sleep_hour_pages": (
        "Sleep-hour pages: pages received between 22:00 and 07:00 in the person's own time zone."
    ),
    "hours_on_call": (
        "Hours on call: the time in the period the person was on call on any schedule (layers and overrides "
        "resolved; on call on two schedules at once counts once)."
    ),
    "incidents_commanded": (
        "Incidents commanded: incidents the person became commander of in the period (for a team, distinct "
        "incidents commanded by any member)."
    ),
    "alerts_received": "Alerts received: trigger events monitoring sent in the period, whatever became of them.",
    "alerts_deduplicated": (
        "Alerts deduplicated: alerts received that joined an incident already open for their integration and "
        "dedup key, opening nothing and paging nobody."
    ),
    "incidents_opened_by_alerts": "Incidents opened: alerts received that declared a new incident.",
    "noisiest_dedup_keys": "Noisiest dedup keys: the integration and dedup keys that sent the most alerts in the period.",
}
