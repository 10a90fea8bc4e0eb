"""The table behind shift cover: one person asks for one of their shifts (or part of one) to be
covered, by a named colleague or by anyone on the schedule. The rules are `oncall/cover.py`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from .models import Created, Override, Schedule


class CoverRequest(Created):
    """A request to cover `user`'s shift on `schedule` from `start` to `end`. Accepting it makes an
    override (`override`); it can be accepted until `expires_at` (by default the window's start)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="cover_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cover_requests", help_text="Whose shift it is."
    )
    asked = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cover_asked",
        help_text="The colleague asked to take it; empty: anyone on the schedule may.",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="It can be accepted until then.")
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    override = models.OneToOneField(Override, null=True, blank=True, on_delete=models.SET_NULL, related_name="cover_request")

    class Meta:
        ordering = ["start", "pk"]
        indexes = [
            models.Index(fields=["schedule", "start"], condition=Q(status="pending"), name="cover_pending_by_schedule"),
        ]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="cover_ends_after_start")]

    def __str__(self) -> str:
        return f"Cover for {self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"

    def is_open(self, now: dt.datetime) -> bool:
        """Still waiting for an answer and not expired."""
        return self.status == self.Status.PENDING and now < self.expires_at
