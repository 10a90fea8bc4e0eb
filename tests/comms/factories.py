"""Factories for contact methods, notification rules, stakeholder groups, templates and notifications."""

import datetime as dt

import factory
from django.utils import timezone

from comms.models import (
    Audience,
    Channel,
    ChatWorkspace,
    ContactMethod,
    MessageKind,
    MessageTemplate,
    Notification,
    NotificationRule,
    ReportRun,
    ReportSubscription,
    StakeholderGroup,
    Subscription,
    WarRoom,
    WarRoomMember,
)
from tests.incidents.factories import IncidentFactory
from tests.oncall.factories import UserFactory


class ContactMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMethod

    user = factory.SubFactory(UserFactory)
    channel = Channel.EMAIL
    address = factory.LazyAttribute(lambda c: {"email": f"{c.user.username}@example.com", "sms": "+447400123456", "chat": f"@{c.user.username}"}[c.channel])


class NotificationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationRule

    contact_method = factory.SubFactory(ContactMethodFactory)
    user = factory.LazyAttribute(lambda r: r.contact_method.user)
    delay = dt.timedelta(0)


class StakeholderGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StakeholderGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Stakeholders {n}")
    slug = factory.Sequence(lambda n: f"stakeholders-{n}")
    audience = Audience.INTERNAL
    subscriptions = factory.LazyFunction(lambda: [Subscription.INTERNAL_UPDATES])

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)

    @factory.post_generation
    def severities(self, create, extracted, **kwargs):
        if create and extracted:
            self.severities.set(extracted)


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate
        django_get_or_create = ("kind", "audience", "channel")

    kind = MessageKind.REPORT
    audience = Audience.EXECUTIVES
    channel = Channel.EMAIL
    subject = "Report: {{ title }}"
    body = "{{ title }}"


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    key = factory.Sequence(lambda n: f"test:{n}")
    kind = MessageKind.STATUS_UPDATE
    audience = Audience.RESPONDERS
    channel = Channel.EMAIL
    recipient = factory.SubFactory(UserFactory)
    address = factory.LazyAttribute(lambda n: n.recipient.email if n.recipient else "someone@example.com")
    subject = "Update"
    body = "Something happened."
    send_after = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)


class ReportSubscriptionFactory(factory.django.DjangoModelFactory):
    """A weekly report (Mondays 08:00 London) of every section to its owner."""

    class Meta:
        model = ReportSubscription
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Weekly report {n}")
    owner = factory.SubFactory(UserFactory)
    frequency = ReportSubscription.Frequency.WEEKLY
    weekday = 1
    send_time = dt.time(8, 0)
    time_zone = "Europe/London"
    sections = factory.LazyFunction(lambda: ["open_incidents", "declared_resolved"])

    @factory.post_generation
    def users(report, create, users, **kwargs):
        if create:
            report.users.add(*(users if users is not None else [report.owner]))


class ReportRunFactory(factory.django.DjangoModelFactory):
    """A scheduled run of the week of Monday 23 November 2026, sent."""

    class Meta:
        model = ReportRun

    subscription = factory.SubFactory(ReportSubscriptionFactory)
    period_start = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    period_end = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    claimed_at = factory.LazyFunction(timezone.now)
    sent_at = factory.LazyAttribute(lambda run: run.claimed_at)


class ChatWorkspaceFactory(factory.django.DjangoModelFactory):
    """The admin's chat workspace (one row), connected to nothing unless asked (`slack=True`): a
    connected workspace makes every SEV-1/SEV-2 declared afterwards want a war room."""

    class Meta:
        model = ChatWorkspace
        django_get_or_create = ("key",)

    class Params:
        slack = factory.Trait(provider=ChatWorkspace.Provider.SLACK, bot_token="xoxb-test-vigil")

    key = "default"
    provider = ChatWorkspace.Provider.NONE


class WarRoomFactory(factory.django.DjangoModelFactory):
    """An incident's war room, open in Slack."""

    class Meta:
        model = WarRoom
        django_get_or_create = ("incident",)  # a connected workspace may have made it with the incident

    incident = factory.SubFactory(IncidentFactory)
    provider = "slack"
    state = WarRoom.State.OPEN
    name = factory.LazyAttribute(lambda room: f"inc-{room.incident.number}")
    name_asked = True
    channel_id = factory.Sequence(lambda n: f"C{n:08d}")
    url = factory.LazyAttribute(lambda room: f"https://acme.slack.com/archives/{room.channel_id}")
    created_at = factory.LazyFunction(timezone.now)
    opened_at = factory.LazyFunction(timezone.now)


class WarRoomMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WarRoomMember

    war_room = factory.SubFactory(WarRoomFactory)
    user = factory.SubFactory(UserFactory)
    chat_user_id = factory.Sequence(lambda n: f"U{n:08d}")
    invited_at = factory.LazyFunction(timezone.now)
