"""Factories for post-mortems, their timeline rows, five whys and action items.

`PostMortemFactory` makes a raw row on an open incident; tests of behaviour resolve an
incident (`IncidentFactory(resolved=True)` on a severity that requires one) or call
`postmortems.services.create_for`, which fill the due dates and timeline as the real thing does.
"""

import factory
from django.utils import timezone

from postmortems.models import ActionItem, PostMortem, PostMortemTimelineEntry, ReminderSent, Why
from tests.incidents.factories import IncidentFactory
from tests.oncall.factories import UserFactory


class PostMortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostMortem

    incident = factory.SubFactory(IncidentFactory)
    owner = factory.SubFactory(UserFactory)
    draft_due = factory.LazyFunction(lambda: timezone.localdate() + timezone.timedelta(days=2))
    review_due = factory.LazyAttribute(lambda o: o.draft_due + timezone.timedelta(days=2))
    publish_due = factory.LazyAttribute(lambda o: o.draft_due + timezone.timedelta(days=5))
    summary = "Checkout returned errors for 40 minutes after a bad deploy."


class PostMortemTimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostMortemTimelineEntry

    postmortem = factory.SubFactory(PostMortemFactory)
    occurred_at = factory.LazyFunction(timezone.now)
    text = "Rolled back the deploy"
    position = factory.Sequence(lambda n: n + 1)


class WhyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Why

    postmortem = factory.SubFactory(PostMortemFactory)
    position = factory.Sequence(lambda n: n + 1)
    question = "Why did checkout fail?"
    answer = "The new build could not reach the payment service."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    postmortem = factory.SubFactory(PostMortemFactory)
    description = "Add a smoke test for the payment call to the deploy pipeline"
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timezone.timedelta(days=14))
    priority = ActionItem.Priority.HIGH
    horizon = ActionItem.Horizon.SHORT_TERM
    completion_criteria = "A deploy that breaks payments fails the pipeline."


__all__ = ["ActionItemFactory", "PostMortemFactory", "PostMortemTimelineEntryFactory", "ReminderSentFactory", "WhyFactory"]


class ReminderSentFactory(factory.django.DjangoModelFactory):
    """A raw record of a reminder already sent (postmortems.reminders writes the real ones)."""

    class Meta:
        model = ReminderSent

    # An action-item reminder: the model's `action_item` is null but not blank, so full_clean
    # accepts only rows that name one.
    kind = "action_item_overdue"
    action_item = factory.SubFactory(ActionItemFactory)
    postmortem = factory.SelfAttribute("action_item.postmortem")
    recipient = factory.SubFactory(UserFactory)
    sent_on = factory.LazyFunction(timezone.localdate)
