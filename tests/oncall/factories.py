"""Factories for people and teams."""

import factory
from django.contrib.auth.models import Group

from oncall.models import Team, User


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
