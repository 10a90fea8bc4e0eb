"""Post-incident reviews: the post-mortem document, its timeline, five whys and action items.

Created from a resolved incident (`services.create_for`); its state moves only through
`postmortems.actions`. Durations, "overdue" and "days until due" are derived, never stored.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, TimelineEvent


class PostMortem(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="postmortems_owned"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    draft_due = models.DateField(help_text="The draft is written by this day (the owner's calendar).")
    review_due = models.DateField(help_text="Reviewed by this day.")
    publish_due = models.DateField(help_text="Published by this day.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who moved it, and when (`postmortems.actions`); the incident's timeline says the same.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField("last submitted for review", null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+",
        verbose_name="last submitted by",
    )
    returned_at = models.DateTimeField("last sent back to draft", null=True, blank=True, editable=False)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+",
        verbose_name="last sent back by",
    )

    summary = models.TextField(blank=True)
    users_affected = models.TextField(blank=True)
    impact_duration = models.TextField(blank=True, help_text="Empty: computed from the incident.")
    business_impact = models.TextField(blank=True)
    immediate_cause = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    contributing_technical = models.TextField("technical contributing factors", blank=True)
    contributing_process = models.TextField("process contributing factors", blank=True)
    went_well = models.TextField("what went well", blank=True)
    could_improve = models.TextField("what could be improved", blank=True)
    lessons_learned = models.TextField(blank=True)

    review_meeting_at = models.DateTimeField(null=True, blank=True)
    review_meeting_minutes = models.PositiveSmallIntegerField(default=60)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "post-mortem"
        indexes = [
            models.Index(fields=["status", "draft_due"], name="postmortem_status_draft_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status="published"),
                name="postmortem_published_at_only_when_published",
            ),
        ]

    def __str__(self) -> str:
        return f"Post-mortem {self.incident.reference} · {self.incident.title}"

    @property
    def current_due(self) -> date | None:
        """The due date of the step it waits for: the draft, then the publication (None once published).

        In review it waits for publication: `review_due` is when the review meeting should
        have happened, `publish_due` when the document must be out."""
        if self.status == self.Status.DRAFT:
            return self.draft_due
        if self.status == self.Status.IN_REVIEW:
            return self.publish_due
        return None

    def is_overdue_on(self, today: date) -> bool:
        due = self.current_due
        return due is not None and due < today

    @property
    def is_overdue(self) -> bool:
        """Past its current due date, today in the active time zone."""
        return self.is_overdue_on(timezone.localdate())


class PostMortemTimelineEntry(models.Model):
    """A row of the post-mortem's timeline: copied from an incident event, or added by the author."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="timeline_entries")
    event = models.ForeignKey(TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField()
    text = models.TextField()
    hidden = models.BooleanField(default=False, help_text="Left out of the published document.")
    annotation = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "occurred_at", "pk"]
        verbose_name = "timeline entry"
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.text[:60]}"


class Why(models.Model):
    """One of the five whys, in order."""

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "why"
        verbose_name_plural = "five whys"
        constraints = [models.UniqueConstraint(fields=["postmortem", "position"], name="why_unique_position")]

    def __str__(self) -> str:
        return f"Why {self.position}: {self.question[:60]}"


class ActionItem(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    class Horizon(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate"
        SHORT_TERM = "short_term", "Short term"
        LONG_TERM = "long_term", "Long term"

    FINISHED = (Status.DONE, Status.WONT_DO)

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="action_items")
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="postmortem_action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    horizon = models.CharField(max_length=12, choices=Horizon.choices, default=Horizon.SHORT_TERM)
    completion_criteria = models.TextField(blank=True)
    ticket_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Only "done" is completed: "won't do" is finished but carries none (`postmortems.actions`).
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Undated items last on every database (SQLite and PostgreSQL differ by default).
        ordering = [models.F("due_date").asc(nulls_last=True), "pk"]
        verbose_name = "action item"
        indexes = [
            # Overdue and "due soon" lists: unfinished items by due date.
            models.Index(fields=["due_date"], condition=Q(status__in=["open", "in_progress"]), name="actionitem_open_due"),
            models.Index(fields=["owner", "status"], name="actionitem_owner_status"),
        ]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def days_until_due_on(self, today: date) -> int | None:
        """Days from `today` to the due date; negative when late, None without a due date."""
        if self.due_date is None:
            return None
        return (self.due_date - today).days

    def is_overdue_on(self, today: date) -> bool:
        days = self.days_until_due_on(today)
        return days is not None and days < 0 and not self.is_finished

    @property
    def days_until_due(self) -> int | None:
        """`days_until_due_on` today, in the active time zone (the viewer's, in a request)."""
        return self.days_until_due_on(timezone.localdate())

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())


from .models_reminders import ReminderSent  # noqa: E402,F401  (the daily reminders' ledger; postmortems/reminders.py)
