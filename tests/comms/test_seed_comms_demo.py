"""`manage.py seed_comms_demo` after `seed_demo`: demo people reachable, groups staffed, and the
replayed history never mailed to anyone."""

import pytest

from comms.models import Channel, ContactMethod, Notification, ReportSubscription, StakeholderGroup
from incidents.models import TimelineEvent
from tests.commands import run_command


@pytest.fixture
def seeded(demo):
    return run_command("seed_comms_demo")


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
    out = run_command("seed_comms_demo")
    assert ContactMethod.objects.count() == before
    assert "already present" in out


def test_the_replayed_history_is_never_notified(seeded):
    assert not TimelineEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert not Notification.objects.exists()


def test_the_demo_has_a_weekly_report_for_managers_and_a_monthly_one_for_leadership(seeded):
    weekly = ReportSubscription.objects.get(name="Weekly escalation report")
    monthly = ReportSubscription.objects.get(name="Monthly escalation report")
    assert (weekly.frequency, weekly.owner.username) == ("weekly", "carol")
    assert list(weekly.user_groups.values_list("name", flat=True)) == ["Managers"]
    assert (monthly.frequency, monthly.day_of_month) == ("monthly", 1)
    assert list(monthly.stakeholder_groups.values_list("slug", flat=True)) == ["leadership"]
