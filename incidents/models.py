"""The incident core: severities, types, the service catalog, incidents, roles and the timeline.

Fields that describe an incident's state are written only by `incidents.actions`.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from oncall.models import EscalationPolicy, Team
from oncall.validators import DurationWithin

# Bounds of the response matrix: a severity outside them would page every tick (an SLA of 0 or
# less) or never (an SLA of years). Each is a field validator (the admin's form error) and a
# CheckConstraint (no other path writes such a row).
ACK_SLA_MOST = timedelta(days=7)
UPDATE_INTERVAL_MOST = timedelta(days=7)
RESOLVE_TARGET_MOST = timedelta(days=90)
OBSERVATION_PERIOD_MOST = timedelta(days=30)
HEX_COLOR = r"\A#[0-9a-fA-F]{6}\Z"  # \A…\Z: the same anchors on PostgreSQL and in Python (SQLite)

_ACK_SLA = DurationWithin(ACK_SLA_MOST)
_UPDATE_INTERVAL = DurationWithin(UPDATE_INTERVAL_MOST)
_RESOLVE_TARGET = DurationWithin(RESOLVE_TARGET_MOST)
_OBSERVATION_PERIOD = DurationWithin(OBSERVATION_PERIOD_MOST, zero_allowed=True)


def _within(field: str, most: timedelta, *, zero_allowed: bool = False) -> Q:
    low = Q(**{f"{field}__gte": timedelta(0)}) if zero_allowed else Q(**{f"{field}__gt": timedelta(0)})
    return low & Q(**{f"{field}__lte": most})


class SeverityLevel(models.Model):
    """A row of the response matrix (SEV-1 … SEV-4). Rank 1 is the most severe."""

    class PostmortemPolicy(models.TextChoices):
        REQUIRED = "required", "Required"
        OPTIONAL = "optional", "Optional"
        NONE = "none", "Not expected"

    name = models.CharField(max_length=20, unique=True, help_text="Short name, e.g. SEV-1.")
    label = models.CharField(max_length=40, help_text="e.g. Critical.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most severe.")
    description = models.TextField(blank=True)
    color = models.CharField(
        max_length=7,
        default="#666666",
        validators=[RegexValidator(HEX_COLOR, "Give the colour as #rrggbb, e.g. #b71c1c.")],
        help_text="Badge colour, #rrggbb (e.g. #b71c1c).",
    )
    ack_sla = models.DurationField(
        "acknowledge SLA",
        validators=[_ACK_SLA],
        help_text=f"Unacknowledged this long after declaration, level 1 is paged again and the next level engaged; "
        f"{_ACK_SLA.words}.",
    )
    first_update_interval = models.DurationField(
        validators=[_UPDATE_INTERVAL],
        help_text=f"First status update due this long after declaration; {_UPDATE_INTERVAL.words}.",
    )
    update_interval = models.DurationField(
        validators=[_UPDATE_INTERVAL],
        help_text=f"Later status updates due this long after the previous one; {_UPDATE_INTERVAL.words}.",
    )
    resolve_target = models.DurationField(
        validators=[_RESOLVE_TARGET],
        help_text=f"Resolved within this long after declaration; {_RESOLVE_TARGET.words}.",
    )
    observation_period = models.DurationField(
        default=timedelta(0),
        validators=[_OBSERVATION_PERIOD],
        help_text=f"How long a resolved incident is watched before it may be closed; {_OBSERVATION_PERIOD.words}.",
    )
    postmortem_policy = models.CharField(max_length=10, choices=PostmortemPolicy.choices)
    postmortem_draft_business_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Business days after resolution for the post-mortem draft."
    )
    show_on_status_page = models.BooleanField(default=False)
    status_page_window = models.DurationField(
        null=True,
        blank=True,
        help_text="How soon after declaration a customer-facing incident should be public on the status page: "
        "0 publishes it at declaration; a longer window reminds the communications lead when it passes "
        "unpublished. Empty: publishing is optional and nobody is reminded.",
    )
    notify_customers = models.BooleanField(default=False)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=_within("ack_sla", ACK_SLA_MOST), name="severity_ack_sla_in_bounds"),
            models.CheckConstraint(
                condition=_within("first_update_interval", UPDATE_INTERVAL_MOST), name="severity_first_update_in_bounds"
            ),
            models.CheckConstraint(
                condition=_within("update_interval", UPDATE_INTERVAL_MOST), name="severity_update_interval_in_bounds"
            ),
            models.CheckConstraint(
                condition=_within("resolve_target", RESOLVE_TARGET_MOST), name="severity_resolve_target_in_bounds"
            ),
            models.CheckConstraint(
                condition=_within("observation_period", OBSERVATION_PERIOD_MOST, zero_allowed=True),
                name="severity_observation_period_in_bounds",
            ),
            models.CheckConstraint(condition=Q(color__regex=HEX_COLOR), name="severity_color_is_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.label}"

    @property
    def requires_postmortem(self) -> bool:
        return self.postmortem_policy == self.PostmortemPolicy.REQUIRED


class IncidentType(models.Model):
    """A class of incident from the procedures, with its symptoms and first-response checklist."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    symptoms = models.TextField(blank=True, help_text="How this kind of incident shows itself.")
    checklist = models.JSONField(
        default=list,
        blank=True,
        help_text="Initial actions, one string each; they become the incident's task list.",
    )
    restricted_by_default = models.BooleanField(
        default=False, help_text="Incidents of this type start restricted to their participants."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """The service catalog: what can break, who owns it, how to fix it."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    owning_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="services")
    description = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True)
    runbook = models.TextField(blank=True, help_text="Markdown.")
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="dependents")
    customer_facing = models.BooleanField(default=False)
    escalation_policy = models.ForeignKey(
        EscalationPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        help_text="Who is paged for its incidents. Empty: the default policy.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.TRIGGERED, Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)


class Source(models.TextChoices):
    """Through what an action arrived: recorded on every timeline event."""

    ADMIN = "admin", "Admin"
    API = "api", "API"
    CHAT = "chat", "Chat"
    INTEGRATION = "integration", "Integration"
    ENGINE = "engine", "SLA engine"
    PAGE = "page", "Page (acknowledge link or SMS reply)"
    SYSTEM = "system", "System"


_REFERENCE = re.compile(r"(?:inc-?\s*|#)?(\d{1,9})", re.IGNORECASE)


class Incident(models.Model):
    Status = Status

    class Origin(models.TextChoices):
        MONITORING = "monitoring", "Monitoring alert"
        CUSTOMER_REPORT = "customer_report", "Customer report"
        INTERNAL = "internal", "Internal report"
        THIRD_PARTY = "third_party", "Third party"

    class ImpactLevel(models.TextChoices):
        NONE = "none", "None"
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Mitigation(models.TextChoices):
        ROLLBACK = "rollback", "Rollback"
        FAILOVER = "failover", "Failover"
        FIX_FORWARD = "fix_forward", "Fix forward"
        WORKAROUND = "workaround", "Workaround"
        DEGRADED_MODE = "degraded_mode", "Degraded mode"

    number = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    severity = models.ForeignKey(SeverityLevel, on_delete=models.PROTECT, related_name="incidents")
    incident_type = models.ForeignKey(
        IncidentType, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents", verbose_name="type"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TRIGGERED)
    services = models.ManyToManyField(Service, blank=True, related_name="incidents", verbose_name="affected services")
    origin = models.CharField("source", max_length=20, choices=Origin.choices, default=Origin.INTERNAL)

    # Impact
    users_affected_estimated = models.PositiveIntegerField(null=True, blank=True)
    users_affected_confirmed = models.PositiveIntegerField(null=True, blank=True)
    regions = models.JSONField(default=list, blank=True, help_text="Affected regions, e.g. eu-west-1.")
    revenue_impact = models.CharField(max_length=10, choices=ImpactLevel.choices, default=ImpactLevel.NONE)
    reputation_impact = models.CharField(max_length=10, choices=ImpactLevel.choices, default=ImpactLevel.NONE)
    compliance_impact = models.CharField(max_length=10, choices=ImpactLevel.choices, default=ImpactLevel.NONE)
    impact_description = models.TextField(blank=True)

    customer_facing = models.BooleanField(default=False)
    public_on_status_page = models.BooleanField(default=False)
    is_restricted = models.BooleanField(
        "restricted", default=False, help_text="Visible only to participants and holders of the restricted permission."
    )
    is_drill = models.BooleanField("drill", default=False, help_text="An exercise: pages only participants, left out of metrics.")

    mitigation = models.CharField(max_length=20, choices=Mitigation.choices, blank=True)
    mitigation_notes = models.TextField(blank=True)
    resolution_summary = models.TextField(blank=True)

    # Lifecycle, stamped by the actions.
    detected_at = models.DateTimeField(null=True, blank=True, help_text="When the problem was first noticed.")
    declared_at = models.DateTimeField(editable=False)
    # The first acknowledgement: time to acknowledge counts to it, whatever happens later.
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A reopen starts a new acknowledge round: level 1 is paged again and the acknowledge SLA
    # counts from the reopen until someone acknowledges the round.
    reopened_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="The latest reopen.")
    reopen_acknowledged_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the latest reopen's acknowledge round was acknowledged."
    )
    # Escalation levels are engaged by how long an incident has run unresolved: the time it
    # spent resolved before its reopens does not count towards their delays.
    time_spent_resolved = models.DurationField(
        default=timedelta(0), editable=False, help_text="Time spent resolved before being reopened (all reopens)."
    )
    mitigated_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    escalation_policy = models.ForeignKey(
        EscalationPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        editable=False,
        help_text="Chosen at declaration from the affected services (else the default policy).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-declared_at"]
        permissions = [
            ("view_restricted_incident", "Can see restricted incidents"),
            ("respond_incident", "Can acknowledge, add notes and post updates"),
            ("command_incident", "Can change severity, assign roles, resolve, reopen and close"),
        ]
        indexes = [
            models.Index(fields=["status", "-declared_at"], name="incident_status_declared"),
            models.Index(fields=["-declared_at"], name="incident_declared"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(status__in=[Status.RESOLVED, Status.CLOSED]),
                name="incident_resolved_at_only_when_resolved",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(status=Status.CLOSED),
                name="incident_closed_at_only_when_closed",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.TRIGGERED) | Q(acknowledged_at__isnull=False) | Q(resolved_at__isnull=False),
                name="incident_worked_means_acknowledged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.severity.name} · {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.number}"

    @staticmethod
    def number_from_reference(text: str) -> int | None:
        """The number a person typed: "INC-42", "inc42", "INC- 42", "#42" or "42"; else None."""
        match = _REFERENCE.fullmatch(text.strip())
        return int(match[1]) if match and int(match[1]) else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def round_acknowledged_at(self):
        """When the current acknowledge round was acknowledged: the reopen round's after a
        reopen, else the first acknowledgement (None while someone is still awaited)."""
        return self.reopen_acknowledged_at if self.reopened_at else self.acknowledged_at

    @property
    def awaiting_acknowledgement(self) -> bool:
        """Open and nobody has acknowledged the current round yet (declared or reopened)."""
        return self.is_open and self.round_acknowledged_at is None

    @property
    def started_at(self):
        """When impact began as far as we know: detection if recorded, else declaration."""
        return self.detected_at or self.declared_at

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.declared_at if self.acknowledged_at else None

    @property
    def time_to_mitigate(self) -> timedelta | None:
        return self.mitigated_at - self.started_at if self.mitigated_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.started_at if self.resolved_at else None


class Participant(models.Model):
    """Someone holding a role on an incident, from `joined_at` until `left_at`."""

    class Role(models.TextChoices):
        COMMANDER = "commander", "Incident commander"
        TECHNICAL_LEAD = "technical_lead", "Technical lead"
        COMMUNICATIONS_LEAD = "communications_lead", "Communications lead"
        SCRIBE = "scribe", "Scribe"
        SUBJECT_MATTER_EXPERT = "sme", "Subject-matter expert"
        RESPONDER = "responder", "Responder"

    # Roles one person holds at a time; assigning one hands it over.
    SINGLE_HOLDER_ROLES = (Role.COMMANDER, Role.TECHNICAL_LEAD, Role.COMMUNICATIONS_LEAD, Role.SCRIBE)

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        indexes = [
            models.Index(fields=["user", "incident"], condition=Q(left_at=None), name="participant_current_by_user"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=Q(left_at=None, role__in=["commander", "technical_lead", "communications_lead", "scribe"]),
                name="participant_one_holder_per_single_role",
            ),
            models.UniqueConstraint(
                fields=["incident", "user", "role"], condition=Q(left_at=None), name="participant_role_held_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        return self.left_at is None


class IncidentTask(models.Model):
    """An item of the incident's task list, copied from its type's checklist or added later."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class EvidenceLink(models.Model):
    """A pointer to what responders looked at: dashboards, log snapshots, traces."""

    class Kind(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard"
        LOGS = "logs", "Log snapshot"
        TRACE = "trace", "Trace"
        OTHER = "other", "Other"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DASHBOARD)
    url = models.URLField(max_length=1000)
    title = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return self.title or self.url


class TimelineEvent(models.Model):
    """One entry of an incident's event log. Appended by actions; never edited."""

    class Kind(models.TextChoices):
        DECLARED = "declared", "Declared"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        STATUS_CHANGED = "status_changed", "Status changed"
        SEVERITY_CHANGED = "severity_changed", "Severity changed"
        ROLE_ASSIGNED = "role_assigned", "Role assigned"
        ROLE_RELEASED = "role_released", "Role released"
        NOTE = "note", "Note"
        STATUS_UPDATE = "status_update", "Status update"
        DETAILS_CHANGED = "details_changed", "Details changed"
        TASK_ADDED = "task_added", "Task added"
        TASK_DONE = "task_done", "Task done"
        TASK_REOPENED = "task_reopened", "Task reopened"
        EVIDENCE_ADDED = "evidence_added", "Evidence added"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"
        # Written by the deadline engine; `data["targets"]` names who was paged or told. A reopen
        # pages level 1 with an `escalated` event of its own: `data["page"]` True,
        # `data["reason"]` "reopened".
        ESCALATED = "escalated", "Escalated"
        ACK_SLA_BREACHED = "ack_sla_breached", "Acknowledge SLA breached"
        UPDATE_OVERDUE = "update_overdue", "Status update overdue"
        RESOLVE_TARGET_BREACHED = "resolve_target_breached", "Resolve target breached"
        NOBODY_TO_PAGE = "nobody_to_page", "Nobody to page"
        # The severity's status-page window passed with the incident still unpublished:
        # `data["targets"]` names who is reminded (the communications lead, else the commander).
        STATUS_PAGE_OVERDUE = "status_page_overdue", "Status page publication overdue"
        # Written for comms when a message could not be delivered after its retries, or when
        # routing decided not to deliver to someone the timeline named (`data["reason"]`).
        NOTIFICATION_FAILED = "notification_failed", "Notification failed"
        # Written by postmortems' daily reminders; `data["targets"]` names who is reminded and
        # `data["context"]` the message's extra words (due_date, item, postmortem_url).
        POSTMORTEM_REMINDER = "postmortem_reminder", "Post-mortem reminder"

    class Visibility(models.TextChoices):
        INTERNAL = "internal", "Internal"
        EXTERNAL = "external", "External"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    # The outbox marker: set once comms has written this event's notifications. Beat sweeps
    # events left undispatched (a broker down at commit, a lost task) after a grace period.
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["occurred_at"], condition=Q(dispatched_at__isnull=True), name="timeline_undispatched"),
            models.Index(fields=["incident", "-occurred_at"], name="timeline_incident_time"),
            models.Index(
                fields=["incident", "-occurred_at"],
                condition=Q(kind="status_update"),
                name="timeline_incident_updates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return self.get_source_display()


class Deadline(models.Model):
    """A moment the engine must act on unless the incident moves first. Planned and cancelled by
    the actions; fired by `engine.tick` (docs/architecture.md, "The engine")."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", "Escalation level"
        ACK_TIMEOUT = "ack_timeout", "Acknowledge SLA"
        UPDATE_OVERDUE = "update_overdue", "Status update due"
        RESOLVE_BREACHED = "resolve_breached", "Resolve target"
        STATUS_PAGE = "status_page", "Status page publication"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(default=0, help_text="Escalation level position (0 for other kinds).")
    round = models.PositiveSmallIntegerField(default=1, help_text="Which repeat: acknowledge re-page or missed update.")
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    targets = models.JSONField(default=list, blank=True, help_text="Who it paged or told, resolved when it fired.")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            # The tick's only query: pending rows by due time. Partial, so it stays small
            # however many fired and cancelled rows pile up.
            models.Index(fields=["due_at"], condition=Q(fired_at=None, cancelled_at=None), name="deadline_pending_due"),
            models.Index(fields=["incident", "kind"], name="deadline_incident_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "level", "round"],
                condition=Q(fired_at=None, cancelled_at=None),
                name="deadline_one_pending_per_key",
            ),
            models.CheckConstraint(
                condition=Q(fired_at=None) | Q(cancelled_at=None), name="deadline_fired_or_cancelled_not_both"
            ),
        ]

    def __str__(self) -> str:
        what = f"level {self.level}" if self.kind == self.Kind.ESCALATION else f"round {self.round}"
        return f"{self.get_kind_display()} ({what}) due {self.due_at:%Y-%m-%d %H:%M} UTC"

    @property
    def state(self) -> str:
        if self.fired_at:
            return "fired"
        if self.cancelled_at:
            return "cancelled"
        return "pending"


class EngineHeartbeat(models.Model):
    """The engine watching itself: one row, updated by every tick."""

    name = models.CharField(max_length=40, primary_key=True)
    last_tick_at = models.DateTimeField()
    last_tick_seconds = models.FloatField(default=0, help_text="How long the last tick took.")
    last_fired = models.PositiveIntegerField(default=0)
    last_lag_seconds = models.FloatField(
        default=0, help_text="Largest delay from a deadline's due time to its firing in the last tick."
    )

    def __str__(self) -> str:
        return f"{self.name}: last tick {self.last_tick_at:%Y-%m-%d %H:%M:%S} UTC"


# --- Alert ingestion (incidents/ingest.py, docs/architecture.md "Alert ingestion") ---------------


class Integration(models.Model):
    """A monitoring tool that may open incidents on one service: PagerDuty Events v2 senders use
    its routing key in the body, Alertmanager in its webhook URL. Only the key's SHA-256 is kept
    (the key is shown once, when the integration is made)."""

    name = models.CharField(max_length=100, help_text="What sends, e.g. Grafana checkout alerts.")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="integrations")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False, help_text="The key's first characters, to tell keys apart.")
    # Severity mapping from the sender's critical / error / warning / info; empty = SEV-1…SEV-4.
    critical_severity = models.ForeignKey(
        SeverityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: SEV-1."
    )
    error_severity = models.ForeignKey(
        SeverityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: SEV-2."
    )
    warning_severity = models.ForeignKey(
        SeverityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: SEV-3."
    )
    info_severity = models.ForeignKey(
        SeverityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: SEV-4."
    )
    is_active = models.BooleanField("active", default=True, help_text="An inactive integration's events are refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    SEVERITIES = ("critical", "error", "warning", "info")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertGroup(models.Model):
    """The alerts of one (integration, dedup key) while its incident is open: repeated triggers
    join it. At most one open group per key is a database constraint, so concurrent triggers
    open one incident."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alert_groups")
    dedup_key = models.CharField(max_length=255)
    incident = models.ForeignKey(Incident, null=True, on_delete=models.CASCADE, related_name="alert_groups")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    alert_count = models.PositiveIntegerField(default=1)
    last_alert_at = models.DateTimeField()
    # Repeats are noted on the timeline at most once per VIGIL_ALERT_REPEAT_NOTE_SECONDS.
    last_noted_at = models.DateTimeField()
    noted_count = models.PositiveIntegerField(default=1, help_text="alert_count when the timeline last said so.")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedup_key"], condition=Q(closed_at=None), name="alertgroup_one_open_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dedup_key} ({self.alert_count} alert{'s' if self.alert_count != 1 else ''})"


class AlertEvent(models.Model):
    """The alert log: every accepted event as received, stored before it is processed, so an
    event that fails to process is still on record (and can be processed again)."""

    class Action(models.TextChoices):
        TRIGGER = "trigger", "Trigger"
        ACKNOWLEDGE = "acknowledge", "Acknowledge"
        RESOLVE = "resolve", "Resolve"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed (maintenance)"

    class Format(models.TextChoices):
        EVENTS_V2 = "events_v2", "PagerDuty Events v2"
        ALERTMANAGER = "alertmanager", "Alertmanager webhook"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alert_events")
    received_at = models.DateTimeField()
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.EVENTS_V2)
    payload = models.JSONField(help_text="The request body as received.")
    dedup_key = models.CharField(max_length=255)
    action = models.CharField(max_length=12, choices=Action.choices)
    summary = models.CharField(max_length=1024, blank=True)
    source = models.CharField(max_length=255, blank=True, help_text="The affected system, as the sender named it.")
    severity = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(max_length=200, blank=True, help_text="What processing did.")
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_events")

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["-received_at"], name="alertevent_received"),
            models.Index(fields=["integration", "dedup_key"], name="alertevent_integration_key"),
            # The sweeper's query: events stored but never processed (a worker died between).
            models.Index(fields=["received_at"], condition=Q(status="received"), name="alertevent_unprocessed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.dedup_key}: {self.summary[:60]}"


class MaintenanceWindow(models.Model):
    """Planned work on a service: alerts arriving meanwhile are logged (suppressed), open no
    incident and page nobody."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["service", "ends_at"], name="maintenance_service_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start",
                violation_error_message="A maintenance window must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} UTC ({self.reason})"


class Heartbeat(models.Model):
    """A job that must ping regularly (backups, cron, a pipeline). A missed ping (interval +
    grace) declares one incident on its service; the next ping resolves it."""

    class State(models.TextChoices):
        NEW = "new", "Waiting for the first ping"
        UP = "up", "Up"
        DOWN = "down", "Down (ping missed)"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="heartbeats")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False)
    interval_minutes = models.PositiveIntegerField(default=60, help_text="Expected time between pings.")
    grace_minutes = models.PositiveIntegerField(default=5, help_text="Lateness allowed before it counts as missed.")
    severity = models.ForeignKey(
        SeverityLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Of the incident a miss opens. Empty: SEV-2."
    )
    is_active = models.BooleanField("active", default=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.NEW, editable=False)
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    down_since = models.DateTimeField(null=True, blank=True, editable=False)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        help_text="The incident of the current outage.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["last_ping_at"], condition=Q(state="up", is_active=True), name="heartbeat_up_last_ping")]
        constraints = [
            models.CheckConstraint(condition=Q(interval_minutes__gte=1), name="heartbeat_interval_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.service}, every {self.interval_minutes} min)"

    @property
    def due_by(self):
        """When the next ping is missed (None before the first ping)."""
        if self.last_ping_at is None:
            return None
        return self.last_ping_at + timedelta(minutes=self.interval_minutes + self.grace_minutes)
