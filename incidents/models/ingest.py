"""Alert ingestion's tables: integrations, the alert log and its groups, maintenance windows and
heartbeats (written by `incidents.ingest`; docs/architecture.md "Alert ingestion")."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q

from oncall.models import Created

from .catalog import Service, SeverityLevel
from .core import Incident


class Integration(Created):
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


class MaintenanceWindow(Created):
    """Planned work on a service: alerts arriving meanwhile are logged (suppressed), open no
    incident and page nobody."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)

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


class Heartbeat(Created):
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
