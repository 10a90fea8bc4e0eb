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

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        """UserFactory(groups=["Responders"]) puts the user in those (migration-made) groups."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))

    class Params:
        viewer = factory.Trait(groups=["Viewers"])
        responder = factory.Trait(groups=["Responders"])
        commander = factory.Trait(groups=["Incident commanders"])
        manager = factory.Trait(groups=["Managers"])
        superuser = factory.Trait(is_superuser=True)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    manager = factory.SubFactory(UserFactory)
