"""The daily post-mortem reminders: due soon and overdue drafts and action items reach their
owners (and, long overdue, their managers) once a day, as timeline events comms turns into
notifications."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from comms import outbox
from comms.models import Channel, MessageKind, Notification
from incidents.models import TimelineEvent
from oncall.models import EscalationPolicy
from postmortems import tasks
from postmortems.models import ActionItem, PostMortem, ReminderSent
from postmortems.reminders import next_business_day, send_due_reminders
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, ServiceFactory
from tests.oncall.factories import EscalationPolicyFactory, TeamFactory, UserFactory
from tests.postmortems.factories import ActionItemFactory, PostMortemFactory

pytestmark = pytest.mark.django_db

# A Wednesday, at the hour beat runs the reminders.
WEDNESDAY = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
TODAY = WEDNESDAY.date()
Kind = TimelineEvent.Kind


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", first_name="Bea", last_name="Boss")


@pytest.fixture
def owner(db, boss):
    person = UserFactory(username="olive", first_name="Olive", last_name="Owner")
    TeamFactory(slug="payments", name="Payments", manager=boss).members.add(person)
    return person


@pytest.fixture
def postmortem_of(clock, commander, service):
    def make(*, owner, draft_due, status=PostMortem.Status.DRAFT, **fields):
        incident = IncidentFactory(actor=commander, services=[service], commander=commander, title="Checkout down")
        postmortem = PostMortemFactory(
            incident=incident, owner=owner, draft_due=draft_due, review_due=draft_due + dt.timedelta(days=3),
            publish_due=draft_due + dt.timedelta(days=5), **fields,
        )
        if status != PostMortem.Status.DRAFT:
            PostMortem.objects.filter(pk=postmortem.pk).update(
                status=status, published_at=timezone.now() if status == PostMortem.Status.PUBLISHED else None
            )
            postmortem.refresh_from_db()
        return postmortem

    return make


def reminders(incident=None):
    qs = TimelineEvent.objects.filter(kind=Kind.POSTMORTEM_REMINDER).order_by("pk")
    return list(qs.filter(incident=incident) if incident else qs)


def targets(event) -> list[str]:
    return [t["username"] for t in event.data["targets"]]


# --- What is due ----------------------------------------------------------------------------------


def test_next_business_day_skips_the_weekend():
    assert next_business_day(dt.date(2026, 11, 25)) == dt.date(2026, 11, 26)  # Wednesday → Thursday
    assert next_business_day(dt.date(2026, 11, 27)) == dt.date(2026, 11, 30)  # Friday → Monday
    assert next_business_day(dt.date(2026, 11, 28)) == dt.date(2026, 11, 30)  # Saturday → Monday


def test_a_draft_due_tomorrow_reminds_its_owner(postmortem_of, owner):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY + dt.timedelta(days=1))

    outcome = send_due_reminders()

    [event] = reminders(postmortem.incident)
    assert outcome.events == 1
    assert targets(event) == ["olive"]
    assert event.data["reminder"] == "postmortem_due_soon"
    assert event.data["postmortem"] == postmortem.pk
    assert event.data["context"]["due_date"] == "26 Nov 2026"
    assert event.message == f"Post-mortem of {postmortem.incident.reference}: the draft is due 26 Nov 2026 (tomorrow)."
    assert event.dispatched_at is None  # comms will tell the owner


def test_nothing_due_beyond_the_next_business_day_or_already_done(postmortem_of, owner):
    later = postmortem_of(owner=owner, draft_due=TODAY + dt.timedelta(days=2))
    postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=9), status=PostMortem.Status.PUBLISHED)
    ActionItemFactory(postmortem=later, owner=owner, due_date=TODAY - dt.timedelta(days=1), status=ActionItem.Status.DONE)
    ActionItemFactory(postmortem=later, owner=owner, due_date=TODAY - dt.timedelta(days=1), status=ActionItem.Status.WONT_DO)
    ActionItemFactory(postmortem=later, owner=owner, due_date=None)
    ActionItemFactory(postmortem=later, owner=owner, due_date=TODAY + dt.timedelta(days=2))

    assert send_due_reminders().events == 0
    assert reminders() == []


def test_on_a_friday_a_draft_due_monday_is_due_soon(postmortem_of, owner, clock):
    monday = postmortem_of(owner=owner, draft_due=dt.date(2026, 11, 30))
    tuesday = postmortem_of(owner=owner, draft_due=dt.date(2026, 12, 1))
    clock.move_to(dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc))

    send_due_reminders()

    assert [e.incident_id for e in reminders()] == [monday.incident_id]
    assert "(in 3 days)" in reminders()[0].message
    assert not reminders(tuesday.incident)


def test_before_a_bank_holiday_weekend_due_soon_reaches_the_teams_next_business_day(postmortem_of, owner, clock, commander):
    team = TeamFactory(slug="london", time_zone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")
    EscalationPolicy.objects.filter(is_default=True).update(team=team)
    saturday = postmortem_of(owner=owner, draft_due=dt.date(2026, 4, 4))
    tuesday = postmortem_of(owner=owner, draft_due=dt.date(2026, 4, 7))
    wednesday = postmortem_of(owner=owner, draft_due=dt.date(2026, 4, 8))
    # Under a policy without a team the next business day is Good Friday, as before.
    elsewhere = ServiceFactory(slug="elsewhere", escalation_policy=EscalationPolicyFactory(team=None))
    incident = IncidentFactory(actor=commander, services=[elsewhere], commander=commander)
    weekend = PostMortemFactory(incident=incident, owner=owner, draft_due=dt.date(2026, 4, 4))
    clock.move_to(dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.timezone.utc))  # Thursday before Easter

    send_due_reminders()

    # Good Friday, the weekend and Easter Monday are closed in England: Tuesday is the next business day.
    assert {e.incident_id for e in reminders()} == {saturday.incident_id, tuesday.incident_id}
    assert reminders(saturday.incident)[0].message.endswith("the draft is due 4 Apr 2026 (in 2 days).")
    assert not reminders(wednesday.incident) and not reminders(weekend.incident)


def test_in_review_the_reminder_is_about_publication(postmortem_of, owner):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=5), status=PostMortem.Status.IN_REVIEW)
    # publish_due = draft_due + 5 days = today

    send_due_reminders()

    [event] = reminders(postmortem.incident)
    assert "the publication is due" in event.message and "(today)" in event.message


# --- Overdue and managers -------------------------------------------------------------------------


def test_overdue_reminds_the_owner_then_after_n_days_their_manager_too(postmortem_of, owner, boss, clock):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=1))

    send_due_reminders()
    [first] = reminders(postmortem.incident)
    assert first.data["reminder"] == "postmortem_overdue"
    assert targets(first) == ["olive"]
    assert "was due 24 Nov 2026 (yesterday)" in first.message

    clock.move_to(WEDNESDAY + dt.timedelta(days=1))  # two days overdue: not yet more than 2
    send_due_reminders()
    assert targets(reminders(postmortem.incident)[-1]) == ["olive"]

    clock.move_to(WEDNESDAY + dt.timedelta(days=2))  # three days overdue
    send_due_reminders()
    last = reminders(postmortem.incident)[-1]
    assert targets(last) == ["olive", "boss"]
    assert "Also reminding Bea Boss (overdue by more than 2 days)." in last.message
    assert len(reminders(postmortem.incident)) == 3


def test_the_manager_threshold_is_a_setting(postmortem_of, owner, settings):
    settings.VIGIL_REMINDER_MANAGER_AFTER_DAYS = 0
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=1))

    send_due_reminders()

    assert targets(reminders(postmortem.incident)[0]) == ["olive", "boss"]


def test_an_owner_without_a_team_escalates_to_the_manager_of_the_services_owning_team(clock, commander):
    loner = UserFactory(username="loner")
    service_boss = UserFactory(username="svcboss")
    service = ServiceFactory(slug="ledger", name="Ledger", owning_team=TeamFactory(slug="ledger-team", manager=service_boss))
    incident = IncidentFactory(actor=commander, services=[service], commander=commander)
    PostMortemFactory(incident=incident, owner=loner, draft_due=TODAY - dt.timedelta(days=3))

    send_due_reminders()

    assert targets(reminders(incident)[0]) == ["loner", "svcboss"]


def test_a_manager_is_never_reminded_through_themselves(postmortem_of, boss):
    TeamFactory(slug="leads", manager=boss).members.add(boss)
    postmortem = postmortem_of(owner=boss, draft_due=TODAY - dt.timedelta(days=5))

    send_due_reminders()

    # Boss manages their own team: the services' owning team's manager is told instead.
    service_manager = postmortem.incident.services.get().owning_team.manager
    assert targets(reminders(postmortem.incident)[0]) == ["boss", service_manager.username]


# --- Action items ---------------------------------------------------------------------------------


def test_action_items_due_soon_and_overdue_remind_their_owners_and_managers(postmortem_of, owner, boss):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY + dt.timedelta(days=10))
    doer = UserFactory(username="dora")
    TeamFactory(slug="platform", manager=boss).members.add(doer)
    soon = ActionItemFactory(postmortem=postmortem, owner=doer, due_date=TODAY, description="Alert on 5xx rate")
    late = ActionItemFactory(
        postmortem=postmortem, owner=doer, due_date=TODAY - dt.timedelta(days=4), status=ActionItem.Status.IN_PROGRESS,
        description="Smoke-test payments in the pipeline",
    )
    unowned = ActionItemFactory(postmortem=postmortem, owner=None, due_date=TODAY + dt.timedelta(days=1), description="Runbook")

    assert send_due_reminders().events == 3

    by_item = {e.data["action_item"]: e for e in reminders(postmortem.incident)}
    assert by_item[soon.pk].data["reminder"] == "action_item_due_soon"
    assert targets(by_item[soon.pk]) == ["dora"]
    assert by_item[soon.pk].data["context"]["item"] == "Alert on 5xx rate"
    assert by_item[late.pk].data["reminder"] == "action_item_overdue"
    assert targets(by_item[late.pk]) == ["dora", "boss"]
    assert "overdue: was due 21 Nov 2026 (4 days ago): Smoke-test payments" in by_item[late.pk].message
    assert targets(by_item[unowned.pk]) == ["olive"]  # no owner: the post-mortem's owner


# --- Once a day -----------------------------------------------------------------------------------


def test_each_reminder_goes_once_per_item_and_day_even_when_run_twice(postmortem_of, owner, boss, clock):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=3))
    ActionItemFactory(postmortem=postmortem, owner=owner, due_date=TODAY)

    assert send_due_reminders().events == 2
    assert send_due_reminders().events == 0  # a second beat, a retried task
    assert tasks.send_due_reminders() == 0  # the beat task runs the same
    clock.move_to(WEDNESDAY + dt.timedelta(hours=15))  # 23:00 UTC: still the same day
    assert send_due_reminders().events == 0

    assert len(reminders()) == 2
    assert ReminderSent.objects.filter(sent_on=TODAY).count() == 3  # owner ×2, boss for the draft

    clock.move_to(WEDNESDAY + dt.timedelta(days=1))  # the next day
    assert send_due_reminders().events == 2
    assert len(reminders()) == 4


def test_a_claimed_recipient_is_left_out_but_the_others_still_hear(postmortem_of, owner, boss):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=3))
    ReminderSent.objects.create(kind="postmortem_overdue", postmortem=postmortem, recipient=owner, sent_on=TODAY)

    send_due_reminders()

    assert targets(reminders(postmortem.incident)[0]) == ["boss"]


def test_a_failure_while_recording_releases_the_days_claims(postmortem_of, owner, monkeypatch):
    postmortem = postmortem_of(owner=owner, draft_due=TODAY)

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("incidents.actions.record_postmortem_reminder", broken)
    assert send_due_reminders().events == 0
    assert not ReminderSent.objects.exists()

    monkeypatch.undo()
    assert send_due_reminders().events == 1
    assert targets(reminders(postmortem.incident)[0]) == ["olive"]


# --- What comms sends -----------------------------------------------------------------------------


def test_comms_writes_post_mortem_reminder_notifications_with_the_due_date_item_and_link(postmortem_of, owner, boss, settings):
    settings.VIGIL_BASE_URL = "https://vigil.example.com"
    ContactMethodFactory(user=owner, channel=Channel.CHAT, address="@olive")
    postmortem = postmortem_of(owner=owner, draft_due=TODAY - dt.timedelta(days=3))
    item = ActionItemFactory(postmortem=postmortem, owner=owner, due_date=TODAY + dt.timedelta(days=1), description="Alert on 5xx rate")

    send_due_reminders()
    events = reminders(postmortem.incident)
    outbox.dispatch_events([e.pk for e in events])
    outbox.dispatch_events([e.pk for e in events])  # dispatching again writes nothing new

    rows = Notification.objects.filter(event__in=events).select_related("recipient").order_by("pk")
    assert {(r.recipient.username, r.channel) for r in rows} == {
        ("olive", Channel.EMAIL), ("olive", Channel.CHAT), ("boss", Channel.EMAIL),  # draft overdue
    } | {("olive", Channel.EMAIL), ("olive", Channel.CHAT)}  # the item
    assert rows.count() == 5
    assert {r.kind for r in rows} == {MessageKind.POSTMORTEM_REMINDER}
    assert all(not r.is_page for r in rows)

    ref = postmortem.incident.reference
    draft_mail = rows.get(event=events[0], recipient=owner, channel=Channel.EMAIL)
    assert draft_mail.subject == f"Post-mortem due: {ref} – Checkout down"
    assert "is waiting for its draft" in draft_mail.body
    assert "Due: 22 Nov 2026" in draft_mail.body
    assert "https://vigil.example.com/" in draft_mail.body
    item_mail = rows.get(event__data__action_item=item.pk, channel=Channel.EMAIL)
    assert item_mail.subject == f"Post-mortem action item: {ref} – Checkout down"
    assert "Alert on 5xx rate" in item_mail.body and "Due: 26 Nov 2026" in item_mail.body
    item_chat = rows.get(event__data__action_item=item.pk, channel=Channel.CHAT)
    assert "due 26 Nov 2026" in item_chat.body
    assert not TimelineEvent.objects.filter(kind=Kind.POSTMORTEM_REMINDER, dispatched_at=None).exists()


def test_beat_runs_the_reminders_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["postmortem-reminders"]
    assert entry["task"] == "postmortems.tasks.send_due_reminders"
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}
