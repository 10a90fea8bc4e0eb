"""The incident core: incidents, their roles, tasks and evidence, and the timeline.

Fields that describe an incident's state are written only by `incidents.actions`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce

from oncall.models import EscalationPolicy

from ..indexes import TrigramIndex
from .catalog import IncidentType, Service, SeverityLevel


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


# The lifecycle instants that must not be out of order, compared where both are set. Not
# acknowledged → mitigated: resolving an unacknowledged incident stamps its mitigation, and a
# reopen then acknowledges it later; recording a mitigation before acknowledging does the same.
INSTANTS_IN_ORDER = (
    ("detected", "declared"),
    ("declared", "acknowledged"),
    ("declared", "mitigated"),
    ("declared", "resolved"),
    ("acknowledged", "resolved"),
    ("mitigated", "resolved"),
    ("resolved", "closed"),
)


def _in_order(earlier: str, later: str) -> Q:
    first, then = f"{earlier}_at", f"{later}_at"
    return Q(**{f"{first}__isnull": True}) | Q(**{f"{then}__isnull": True}) | Q(**{f"{first}__lte": F(then)})


_REFERENCE = re.compile(r"(?:inc-?\s*|#)?(\d{1,9})", re.IGNORECASE)


# Incidents the status page may show, whatever their severity says (the partial indexes' condition).
PUBLIC = Q(public_on_status_page=True, is_restricted=False, is_drill=False)
# Where an incident still open ends, in ranges over when incidents ended.
STILL_OPEN = datetime(9999, 12, 31, tzinfo=UTC)


def ended_or_open() -> Coalesce:
    """When the incident was resolved, or `STILL_OPEN`: "ended after t or still open" becomes one
    range, `ended_or_open() >= t`, which a single index scan answers."""
    return Coalesce("resolved_at", Value(STILL_OPEN, output_field=DateTimeField()))


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

    # What the incident was held to, stamped from its severity by `declare` and `change_severity`
    # (`incidents.sla.held`): editing a severity later never rewrites them. Due instants, not
    # lengths, because a business-hours clock turns a length into an instant only on a calendar.
    # Empty on an incident whose severity never had the target.
    ack_due_at = models.DateTimeField("acknowledge due", null=True, blank=True, editable=False)
    first_update_due_at = models.DateTimeField("first update due", null=True, blank=True, editable=False)
    resolve_due_at = models.DateTimeField("resolve due", null=True, blank=True, editable=False)
    held_update_interval = models.DurationField("update cadence held to", null=True, blank=True, editable=False)
    held_mtta_target = models.DurationField("MTTA target held to", null=True, blank=True, editable=False)
    held_mttr_target = models.DurationField("MTTR target held to", null=True, blank=True, editable=False)

    # Where responders meet: the call bridge stamped at declaration (incidents/bridge.py), and the
    # war-room chat channel once comms has opened it (actions.record_war_room_opened).
    call_bridge_url = models.URLField("call bridge", max_length=1000, blank=True)
    war_room_name = models.CharField("war room", max_length=100, blank=True, editable=False)
    war_room_url = models.URLField("war room link", max_length=1000, blank=True, editable=False)

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
            # The visibility filter (selectors.visible_incidents) and the list's capped count read
            # this narrow index alone, unrestricted rows first.
            models.Index(fields=["is_restricted", "id"], name="incident_visibility"),
            # Title words are searched with icontains: a pg_trgm GIN index on PostgreSQL.
            TrigramIndex(field="title", name="incident_title_trgm"),
            # The status page's day pages and open incidents: public incidents by resolution time.
            models.Index(fields=["resolved_at"], condition=PUBLIC, name="incident_public_resolved"),
            # The status page's 90 days: public incidents that ended after an instant or are still
            # open, as one range, with every column the aggregates read (an index-only scan).
            models.Index(
                ended_or_open(),
                include=["id", "status", "severity", "detected_at", "declared_at", "resolved_at"],
                condition=PUBLIC,
                name="incident_public_window",
            ),
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
            *(
                models.CheckConstraint(condition=_in_order(earlier, later), name=f"incident_{earlier}_not_after_{later}")
                for earlier, later in INSTANTS_IN_ORDER
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
        # Written for comms about the incident's chat channel: opened (`data["name"]`, `data["url"]`),
        # could not be opened or joined (`data["error"]`; the sweeper retries), archived.
        WAR_ROOM_OPENED = "war_room_opened", "War room opened"
        WAR_ROOM_FAILED = "war_room_failed", "War room failed"
        WAR_ROOM_ARCHIVED = "war_room_archived", "War room archived"

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
            # Updates on cadence (`incidents.metrics`): each incident's updates and resolutions in
            # order, read from the index alone.
            models.Index(
                fields=["incident", "occurred_at", "id"],
                include=["kind"],
                condition=Q(kind__in=["status_update", "resolved"]),
                name="timeline_incident_cadence",
            ),
            # The status page's uptime: the reopenings of its 90 days, without a pass over every incident's timeline.
            models.Index(fields=["occurred_at"], condition=Q(kind="reopened"), name="timeline_reopened"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return self.get_source_display()
