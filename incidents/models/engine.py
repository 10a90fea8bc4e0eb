"""The engine's tables: the deadlines it fires and the heartbeat it keeps of itself."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .core import Incident


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
            # The escalation figures (comms/reports): deadlines fired in a period.
            models.Index(fields=["fired_at"], condition=Q(fired_at__isnull=False), name="deadline_fired"),
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
