"""Factories for people, teams, schedules (layers, members, overrides, feeds) and escalation policies."""

import datetime as dt
import hashlib

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from oncall.models import (
    ApiKey,
    CalendarFeed,
    ClosedDay,
    CoverRequest,
    EscalationDelay,
    EscalationLevel,
    EscalationPolicy,
    Layer,
    LayerMember,
    Override,
    Schedule,
    Team,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    time_zone = "UTC"
    password = factory.django.Password("correct-horse-battery")

    # UserFactory(group_names=["Responders"]) or a trait puts the user in those
    # (migration-made) groups.
    group_names = ()

    class Params:
        viewer = factory.Trait(group_names=("Viewers",))
        responder = factory.Trait(group_names=("Responders",))
        commander = factory.Trait(group_names=("Incident commanders",))
        manager = factory.Trait(group_names=("Managers",))
        superuser = factory.Trait(is_superuser=True)

    @classmethod
    def _create(cls, model_class, *args, group_names=(), **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        if group_names:
            groups = list(Group.objects.filter(name__in=group_names))
            assert len(groups) == len(set(group_names)), f"unknown group in {group_names}"
            user.groups.add(*groups)
        return user


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    manager = factory.SubFactory(UserFactory)


class ClosedDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClosedDay

    team = factory.SubFactory(TeamFactory)
    date = factory.Sequence(lambda n: dt.date(2026, 12, 24) + dt.timedelta(days=n))
    name = "Company shutdown"


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Schedule {n}")
    slug = factory.Sequence(lambda n: f"schedule-{n}")
    time_zone = "UTC"


class LayerFactory(factory.django.DjangoModelFactory):
    """A 24/7 weekly rotation. `LayerFactory(members=[alice, bob])` puts people on it in that order."""

    class Meta:
        model = Layer
        skip_postgeneration_save = True

    schedule = factory.SubFactory(ScheduleFactory)
    name = factory.Sequence(lambda n: f"Layer {n}")
    priority = factory.Sequence(lambda n: n + 1)
    rotation = Layer.Rotation.WEEKLY
    start_date = dt.date(2026, 1, 5)  # a Monday
    handoff_time = dt.time(9, 0)

    class Params:
        business_hours = factory.Trait(
            restriction_days=[1, 2, 3, 4, 5], restriction_start=dt.time(9, 0), restriction_end=dt.time(17, 0)
        )

    @factory.post_generation
    def members(layer, create, users, **kwargs):
        for position, user in enumerate(users or (), 1):
            LayerMember.objects.create(layer=layer, user=user, position=position)


class LayerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LayerMember

    layer = factory.SubFactory(LayerFactory)
    user = factory.SubFactory(UserFactory)
    position = factory.Sequence(lambda n: n + 1)


class OverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Override

    schedule = factory.SubFactory(ScheduleFactory)
    user = factory.SubFactory(UserFactory)
    start = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=8))
    reason = "Shift swap"


class CoverRequestFactory(factory.django.DjangoModelFactory):
    """An open request to cover tomorrow's eight hours of someone's shift (not checked against the
    schedule: `oncall.cover.request_cover` does that)."""

    class Meta:
        model = CoverRequest

    schedule = factory.SubFactory(ScheduleFactory)
    user = factory.SubFactory(UserFactory)
    start = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + dt.timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=8))
    expires_at = factory.LazyAttribute(lambda o: o.start)
    created_by = factory.LazyAttribute(lambda o: o.user)


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    """A feed for a person (by default) whose token is `token` — tests can fetch its URL."""

    class Meta:
        model = CalendarFeed
        exclude = ("token",)

    token = factory.Sequence(lambda n: f"test-feed-token-{n:04d}")
    user = factory.SubFactory(UserFactory)
    token_hash = factory.LazyAttribute(lambda f: hashlib.sha256(f.token.encode()).hexdigest())
    token_prefix = factory.LazyAttribute(lambda f: f.token[:8])


class EscalationPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationPolicy
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Policy {n}")
    loop_count = 3


class EscalationLevelFactory(factory.django.DjangoModelFactory):
    """`EscalationLevelFactory(users=[...], schedules=[...])` sets its targets."""

    class Meta:
        model = EscalationLevel
        skip_postgeneration_save = True

    policy = factory.SubFactory(EscalationPolicyFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = "On-call engineer"

    @factory.post_generation
    def users(level, create, users, **kwargs):
        if users:
            level.users.add(*users)

    @factory.post_generation
    def schedules(level, create, schedules, **kwargs):
        if schedules:
            level.schedules.add(*schedules)


class EscalationDelayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationDelay

    level = factory.SubFactory(EscalationLevelFactory)
    severity_rank = 1
    delay = dt.timedelta(minutes=15)
    business_hours = False


def staff_default_policy(*people: User) -> EscalationPolicy:
    """Put one person on each level of the seeded default policy (on-call engineer, team lead,
    engineering manager, director), level 1 first. A level beyond the people named gets a
    stand-in of its own (`level2`, `level3`…), so nobody named is reached for another level."""
    policy = EscalationPolicy.objects.get(is_default=True)
    levels = list(policy.levels.order_by("position"))
    assert len(people) <= len(levels), f"the default policy has {len(levels)} levels"
    for index, level in enumerate(levels):
        level.users.set([people[index] if index < len(people) else UserFactory(username=f"level{level.position}")])
    return policy


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A key whose secret is `vigil_test_<n>`, kept on the instance as `.secret` for the test."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"Key {n}")
    owner = factory.SubFactory(UserFactory)
    scopes = factory.LazyFunction(lambda: ["read"])
    secret = factory.Sequence(lambda n: f"vigil_test_{n}_{'x' * 20}")
    key_hash = factory.LazyAttribute(lambda k: hashlib.sha256(k.secret.encode()).hexdigest())
    prefix = factory.LazyAttribute(lambda k: k.secret[:12])

    @classmethod
    def _create(cls, model_class, *args, secret, **kwargs):
        key = super()._create(model_class, *args, **kwargs)
        key.secret = secret
        return key
