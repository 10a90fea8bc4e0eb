"""`manage.py seed_comms_demo` after `seed_demo`: demo people reachable, groups staffed, and the
replayed history never mailed to anyone."""

import io

import pytest
from django.core.management import call_command

from comms.models import Channel, ContactMethod, Notification, StakeholderGroup
from incidents.models import TimelineEvent


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("seed_comms_demo", stdout=out)
    return out.getvalue()


def test_demo_people_can_be_reached_and_groups_have_members(seeded):
    assert "created" in seeded
    alice = {m.channel: m.address for m in ContactMethod.objects.filter(user__username="alice")}
    assert alice == {Channel.EMAIL: "alice.chen@example.com", Channel.SMS: "+447400123401", Channel.CHAT: "@alice"}
    for method in ContactMethod.objects.all():
        method.full_clean()  # valid E.164 numbers and addresses
    groups = {g.slug: g for g in StakeholderGroup.objects.all()}
    assert set(groups["leadership"].members.values_list("username", flat=True)) == {"carol", "frank"}
    assert groups["customers"].external_list() == ["status-subscribers@customer.example", "ops@partner.example"]


def test_it_runs_once(seeded):
    before = ContactMethod.objects.count()
    out = io.StringIO()
    call_command("seed_comms_demo", stdout=out)
    assert ContactMethod.objects.count() == before
    assert "already present" in out.getvalue()


def test_the_replayed_history_is_never_notified(seeded):
    assert not TimelineEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert not Notification.objects.exists()
