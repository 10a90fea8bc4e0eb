"""The default response matrix and incident types, from the procedures Vigil implements.

Used by the data migration (so a fresh database has them) and kept here as plain data so
tests and docs can refer to one source.
"""

from datetime import timedelta

MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def postmortem_due(draft_business_days: int) -> dict:
    """A severity's post-mortem due dates as the procedures set them: the draft `draft_business_days`
    business days after the resolution, the review 2 and the publication 5 business days after the draft."""
    return dict(
        postmortem_draft_due=draft_business_days, postmortem_draft_unit="business_days",
        postmortem_review_due=2, postmortem_review_unit="business_days",
        postmortem_publish_due=5, postmortem_publish_unit="business_days",
    )


SEVERITIES = [
    dict(
        name="SEV-1", label="Critical", rank=1, color="#b71c1c",
        description="Complete outage or severe degradation of a critical service, data loss or an active "
        "security breach; all or most customers are affected.",
        ack_sla=5 * MIN, first_update_interval=5 * MIN, update_interval=15 * MIN, resolve_target=1 * HOUR,
        observation_period=24 * HOUR, postmortem_policy="required", **postmortem_due(2),
        show_on_status_page=True, notify_customers=True, resolution_requires_summary=True,
    ),
    dict(
        name="SEV-2", label="High", rank=2, color="#e65100",
        description="Major functionality impaired or a significant share of customers affected, with no "
        "reasonable workaround.",
        ack_sla=15 * MIN, first_update_interval=15 * MIN, update_interval=30 * MIN, resolve_target=4 * HOUR,
        observation_period=12 * HOUR, postmortem_policy="required", **postmortem_due(5),
        show_on_status_page=True, notify_customers=True, resolution_requires_summary=True,
    ),
    dict(
        name="SEV-3", label="Medium", rank=3, color="#f9a825",
        description="Partial degradation of a non-critical feature, or a workaround exists; a limited "
        "number of customers affected.",
        ack_sla=1 * HOUR, first_update_interval=30 * MIN, update_interval=4 * HOUR, resolve_target=24 * HOUR,
        observation_period=2 * HOUR, postmortem_policy="optional", **postmortem_due(5),
        show_on_status_page=True, notify_customers=False, resolution_requires_summary=False,
    ),
    dict(
        name="SEV-4", label="Low", rank=4, color="#1565c0",
        description="Minor or cosmetic issue, internal tooling, no meaningful customer impact.",
        ack_sla=24 * HOUR, first_update_interval=1 * HOUR, update_interval=24 * HOUR, resolve_target=14 * DAY,
        observation_period=timedelta(0), postmortem_policy="optional", **postmortem_due(5),
        show_on_status_page=False, notify_customers=False, resolution_requires_summary=False,
    ),
]

# The targets of the period figures (`incidents.metrics`), from the procedures: MTTA per severity is
# its acknowledge SLA, MTTR its resolve target; detection within 5 min; every required post-mortem
# published by its due date. `SeverityLevel.mtta_target`/`mttr_target` and the one `MetricTargets` row.
MEAN_TARGETS = {
    "SEV-1": dict(mtta_target=5 * MIN, mttr_target=1 * HOUR),
    "SEV-2": dict(mtta_target=15 * MIN, mttr_target=4 * HOUR),
    "SEV-3": dict(mtta_target=1 * HOUR, mttr_target=24 * HOUR),
    "SEV-4": dict(mtta_target=24 * HOUR, mttr_target=14 * DAY),
}
METRIC_TARGETS = dict(mttd_target=5 * MIN, postmortem_completion_target=100)

# How soon a customer-facing incident of each severity should be public on the status page
# (`SeverityLevel.status_page_window`): SEV-1 at once, SEV-2 within 15 min, SEV-3 within the hour,
# SEV-4 optional (None: nobody is reminded). Kept apart from SEVERITIES: the incidents migration
# creates the rows from those dicts, then sets these windows (the field came later).
STATUS_PAGE_WINDOWS = {"SEV-1": timedelta(0), "SEV-2": 15 * MIN, "SEV-3": 1 * HOUR, "SEV-4": None}

INCIDENT_TYPES = [
    dict(
        name="Availability", slug="availability", restricted_by_default=False,
        description="A service is down or failing for its users.",
        symptoms="Service unreachable or returning errors; health checks failing; error rate above its SLO; "
        "customers cannot log in or complete key flows.",
        checklist=[
            "Confirm the outage from monitoring and a manual check",
            "Identify the affected services, regions and customers",
            "Check recent deploys, feature flags and configuration changes",
            "Check upstream dependencies and third-party status pages",
            "Decide on a mitigation: rollback, failover, or degraded mode",
            "Post the first status update",
        ],
    ),
    dict(
        name="Performance", slug="performance", restricted_by_default=False,
        description="A service works but too slowly for its users.",
        symptoms="Latency above its SLO; timeouts; slow pages; growing queue backlogs; saturated CPU, "
        "memory or connection pools.",
        checklist=[
            "Confirm latency and error rates on the dashboards",
            "Find the slowest component from traces and slow-query logs",
            "Check for traffic spikes, abusive clients or heavy batch jobs",
            "Check saturation: CPU, memory, connection pools, queues",
            "Scale out or shed load if customers are affected",
            "Post the first status update",
        ],
    ),
    dict(
        name="Security", slug="security", restricted_by_default=True,
        description="A threat to the confidentiality, integrity or availability of systems or data.",
        symptoms="Suspicious access or logins; leaked credentials; malware; a vulnerability under active "
        "exploitation; unexpected privilege changes.",
        checklist=[
            "Keep the incident restricted to the response team",
            "Preserve evidence: logs, disk snapshots, access records",
            "Contain: revoke credentials, isolate affected hosts",
            "Engage the security lead, and legal if personal data may be exposed",
            "Assess notification duties (regulators, customers) and their deadlines",
            "Keep details out of public channels",
        ],
    ),
    dict(
        name="Data", slug="data", restricted_by_default=False,
        description="Data is wrong, missing or at risk.",
        symptoms="Corrupted, lost, duplicated or inconsistent records; failed migrations; replication lag; "
        "failing backups.",
        checklist=[
            "Stop the writes that cause damage (pause jobs, flip the feature flag)",
            "Take a snapshot before any repair",
            "Establish the scope: tables, time window, customers",
            "Check backups and point-in-time recovery options",
            "Have the repair plan reviewed before running it",
            "Verify the data after the repair",
        ],
    ),
]

# Permission codenames per group (app_label.codename); each group has everything of the one before.
VIEWER_PERMS = [
    "incidents.view_incident", "incidents.view_severitylevel", "incidents.view_incidenttype",
    "incidents.view_service", "incidents.view_participant", "incidents.view_incidenttask",
    "incidents.view_evidencelink", "incidents.view_timelineevent", "oncall.view_team",
]
RESPONDER_PERMS = VIEWER_PERMS + ["incidents.add_incident", "incidents.respond_incident", "oncall.view_user"]
COMMANDER_PERMS = RESPONDER_PERMS + ["incidents.change_incident", "incidents.command_incident"]
MANAGER_PERMS = COMMANDER_PERMS + [
    "incidents.view_restricted_incident",
    "incidents.add_service", "incidents.change_service",
    "incidents.add_incidenttype", "incidents.change_incidenttype",
    "incidents.change_severitylevel",
    "oncall.add_team", "oncall.change_team",
]
GROUPS = {
    "Viewers": VIEWER_PERMS,
    "Responders": RESPONDER_PERMS,
    "Incident commanders": COMMANDER_PERMS,
    "Managers": MANAGER_PERMS,
}
