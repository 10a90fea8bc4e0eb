"""What the daily post-mortem reminders have sent: one row per reminder, recipient and day, so a
second run on the same day (beat started twice, a retried task) reminds nobody twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReminderSent(models.Model):
    class Kind(models.TextChoices):
        POSTMORTEM_DUE_SOON = "postmortem_due_soon", "Post-mortem due soon"
        POSTMORTEM_OVERDUE = "postmortem_overdue", "Post-mortem overdue"
        ACTION_ITEM_DUE_SOON = "action_item_due_soon", "Action item due soon"
        ACTION_ITEM_OVERDUE = "action_item_overdue", "Action item overdue"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Always set (an action item's own post-mortem too); `action_item` only for item reminders.
    postmortem = models.ForeignKey("postmortems.PostMortem", null=True, on_delete=models.CASCADE, related_name="+")
    action_item = models.ForeignKey("postmortems.ActionItem", null=True, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField(help_text="The UTC day the reminder went out.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "reminder sent"
        verbose_name_plural = "reminders sent"
        # NULLs never collide in a unique index, so the "once per item per day" key is two
        # partial constraints: one for post-mortem reminders (no item), one for item reminders.
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "postmortem", "recipient", "sent_on"],
                condition=Q(action_item__isnull=True),
                name="reminder_once_per_postmortem_day",
            ),
            models.UniqueConstraint(
                fields=["kind", "action_item", "recipient", "sent_on"],
                condition=Q(action_item__isnull=False),
                name="reminder_once_per_item_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} on {self.sent_on}"
