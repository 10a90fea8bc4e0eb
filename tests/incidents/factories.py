"""Factories for the incident core.

`IncidentFactory` builds incidents through `incidents.actions`, so every factory-made
incident has the same state and timeline a real one would: traits walk the lifecycle
(`IncidentFactory(acknowledged=True)`, `resolved=True`, `closed=True`).
"""

import factory
from django.utils import timezone

from incidents import actions
from incidents import ingest
from incidents.models import (
    AlertEvent,
    AlertGroup,
    Deadline,
    EngineHeartbeat,
    EvidenceLink,
    Heartbeat,
    Incident,
    IncidentTask,
    IncidentType,
    Integration,
    MaintenanceWindow,
    MetricTargets,
    Participant,
    Service,
    SeverityLevel,
    Source,
    TimelineEvent,
)
from tests.oncall.factories import TeamFactory, UserFactory


def severity(name: str = "SEV-2") -> SeverityLevel:
    """The seeded severity row (the data migration creates SEV-1…SEV-4)."""
    return SeverityLevel.objects.get(name=name)


def incident_type(slug: str = "availability") -> IncidentType:
    return IncidentType.objects.get(slug=slug)


class SeverityLevelFactory(factory.django.DjangoModelFactory):
    """A custom severity beyond the seeded four."""

    class Meta:
        model = SeverityLevel

    name = factory.Sequence(lambda n: f"SEV-X{n}")
    label = "Custom"
    rank = factory.Sequence(lambda n: 10 + n)
    ack_sla = timezone.timedelta(minutes=30)
    first_update_interval = timezone.timedelta(minutes=30)
    update_interval = timezone.timedelta(hours=1)
    resolve_target = timezone.timedelta(hours=8)
    postmortem_policy = SeverityLevel.PostmortemPolicy.OPTIONAL


class MetricTargetsFactory(factory.django.DjangoModelFactory):
    """The one row of metric targets (seeded by the migration: this returns it)."""

    class Meta:
        model = MetricTargets
        django_get_or_create = ("id",)

    id = 1


class IncidentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentType

    name = factory.Sequence(lambda n: f"Type {n}")
    slug = factory.Sequence(lambda n: f"type-{n}")
    checklist = factory.LazyFunction(lambda: ["Look at the dashboards", "Post the first update"])


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    owning_team = factory.SubFactory(TeamFactory)
    description = "A service in the catalog."
    customer_facing = False


def publish_postmortem(incident: Incident) -> None:
    """Publish the incident's post-mortem if it has one, as closing a SEV-1/SEV-2 requires
    (postmortems registers that close guard; tests may import any app)."""
    from postmortems.actions import publish, submit_for_review
    from postmortems.models import PostMortem

    postmortem = PostMortem.objects.filter(incident=incident).first()
    if postmortem is not None and postmortem.status != PostMortem.Status.PUBLISHED:
        if postmortem.status == PostMortem.Status.DRAFT:
            postmortem = submit_for_review(postmortem)
        publish(postmortem)


class IncidentFactory(factory.Factory):
    """Declares through `actions.declare`, then walks the lifecycle for the traits asked."""

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Incident {n}: errors on checkout")
    severity = factory.LazyFunction(lambda: severity("SEV-2"))
    actor = factory.SubFactory(UserFactory)
    source = Source.ADMIN
    incident_type = None
    services = ()
    commander = None
    is_restricted = None
    is_drill = False

    acknowledged = False
    resolved = False
    closed = False

    @classmethod
    def _create(cls, model_class, *, actor, source, acknowledged, resolved, closed, **kwargs):
        incident = actions.declare(actor=actor, source=source, **kwargs)
        if acknowledged or resolved or closed:
            incident = actions.acknowledge(incident, actor=actor, source=source)
        if resolved or closed:
            incident = actions.resolve(incident, actor=actor, source=source, summary="Fixed")
        if closed:
            # Close after the observation period as if it had passed (a test of the
            # observation rule sets it up itself): the whole story moves back, in order.
            back = incident.severity.observation_period
            Incident.objects.filter(pk=incident.pk).update(
                **{
                    field: getattr(incident, field) - back
                    for field in ("detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at")
                    if getattr(incident, field) is not None
                }
            )
            incident.refresh_from_db()
            publish_postmortem(incident)
            incident = actions.close(incident, actor=actor, source=source)
        return incident

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Incidents exist only through actions.declare; use create().")


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A raw participant row; prefer actions.assign_role in tests of behaviour."""

    class Meta:
        model = Participant

    incident = factory.SubFactory(IncidentFactory)
    user = factory.SubFactory(UserFactory)
    role = Participant.Role.SUBJECT_MATTER_EXPERT
    joined_at = factory.LazyFunction(timezone.now)


class IncidentTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentTask

    incident = factory.SubFactory(IncidentFactory)
    position = factory.Sequence(lambda n: n + 100)
    title = "Check the dashboards"


class EvidenceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceLink

    incident = factory.SubFactory(IncidentFactory)
    url = "https://grafana.example.com/d/checkout"
    title = "Checkout dashboard"
    added_at = factory.LazyFunction(timezone.now)


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    incident = factory.SubFactory(IncidentFactory)
    kind = TimelineEvent.Kind.NOTE
    occurred_at = factory.LazyFunction(timezone.now)
    source = Source.ADMIN
    message = "Looked at the logs"


class DeadlineFactory(factory.django.DjangoModelFactory):
    """A raw deadline row; real ones are planned by the actions (`deadlines.sync`)."""

    class Meta:
        model = Deadline

    incident = factory.SubFactory(IncidentFactory)
    kind = Deadline.Kind.RESOLVE_BREACHED
    level = 0
    round = 9  # clear of the rounds the incident's own plan uses
    due_at = factory.LazyFunction(timezone.now)


class EngineHeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngineHeartbeat
        django_get_or_create = ("name",)

    name = "deadline-engine"
    last_tick_at = factory.LazyFunction(timezone.now)


# --- Alert ingestion --------------------------------------------------------------------------


class _KeyedFactory(factory.django.DjangoModelFactory):
    """Made with a known secret key (`obj.key`), stored as its hash like the real thing."""

    key = factory.LazyFunction(ingest.new_key)

    @classmethod
    def _create(cls, model_class, *args, key, **kwargs):
        kwargs.update(key_hash=ingest.hash_key(key), key_prefix=key[:6])
        obj = super()._create(model_class, *args, **kwargs)
        obj.key = key
        return obj


class IntegrationFactory(_KeyedFactory):
    """`IntegrationFactory().key` is its routing key."""

    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Monitoring {n}")
    service = factory.SubFactory(ServiceFactory)


class AlertGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertGroup

    integration = factory.SubFactory(IntegrationFactory)
    dedup_key = factory.Sequence(lambda n: f"alert-{n}")
    incident = factory.SubFactory(IncidentFactory)
    opened_at = factory.LazyFunction(timezone.now)
    last_alert_at = factory.LazyFunction(timezone.now)
    last_noted_at = factory.LazyFunction(timezone.now)


class AlertEventFactory(factory.django.DjangoModelFactory):
    """A raw alert-log row; real ones come through the API (`incidents.ingest`)."""

    class Meta:
        model = AlertEvent

    integration = factory.SubFactory(IntegrationFactory)
    received_at = factory.LazyFunction(timezone.now)
    dedup_key = factory.Sequence(lambda n: f"alert-{n}")
    action = AlertEvent.Action.TRIGGER
    summary = "CPU above 95% on db-1"
    source = "db-1"
    severity = "critical"
    payload = factory.LazyAttribute(
        lambda o: {
            "routing_key": "x" * 32, "event_action": o.action, "dedup_key": o.dedup_key,
            "payload": {"summary": o.summary, "source": o.source, "severity": o.severity},
        }
    )


class MaintenanceWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaintenanceWindow

    service = factory.SubFactory(ServiceFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(minutes=5))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=1))
    reason = "Database upgrade"


class HeartbeatFactory(_KeyedFactory):
    """`HeartbeatFactory().key` is its ping key."""

    class Meta:
        model = Heartbeat

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Nightly backup {n}")
    interval_minutes = 60
    grace_minutes = 5
