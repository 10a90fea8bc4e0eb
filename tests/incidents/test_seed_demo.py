"""`manage.py seed_demo`: logins that work, a catalog, on-call schedules and policies, incidents in
every state whose escalations happened in the past, and a second run that changes nothing."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.db.models import Q
from django.utils import timezone

from incidents import clock, engine, sla
from incidents.models import (
    Deadline,
    EvidenceLink,
    Incident,
    IncidentTask,
    Participant,
    Service,
    Source,
    Status,
    TimelineEvent,
)
from oncall.models import EscalationPolicy, Layer, Override, Schedule, Team, User
from oncall.schedules import on_call_at
from tests.commands import run_command

Kind = TimelineEvent.Kind

GROUPS = {
    "alice": "Incident commanders",
    "bob": "Responders",
    "carol": "Managers",
    "dave": "Viewers",
    "erin": "Responders",
    "frank": "Managers",
}


def seed(*, stderr=None, **options) -> str:
    return run_command("seed_demo", stderr=stderr or io.StringIO(), **options)


def printed_password(output: str) -> str:
    match = re.search(r"user: admin\s+password: (\S+)", output)
    assert match, output
    return match.group(1)


def counts() -> dict:
    models = (
        User, Team, Service, Incident, TimelineEvent, Participant, IncidentTask, EvidenceLink, Deadline,
        Schedule, Layer, Override, EscalationPolicy,
    )
    return {m.__name__: m.objects.count() for m in models}


def pending():
    return Deadline.objects.filter(fired_at=None, cancelled_at=None)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # The command hashes once per run and the tests authenticate often: a fast hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


@pytest.fixture
def output(db, var_dir):
    return seed()


def test_printed_password_opens_the_admin_and_every_demo_user(output, var_dir):
    password = printed_password(output)
    admin = authenticate(username="admin", password=password)
    assert admin is not None and admin.is_superuser and admin.is_staff
    for username in GROUPS:
        assert authenticate(username=username, password=password) is not None, username
    login_file = var_dir / "demo-login.txt"
    assert f"password: {password}" in login_file.read_text()
    assert login_file.stat().st_mode & 0o077 == 0, "the login file is readable by others"
    assert "http://127.0.0.1:8000/admin/" in output


def test_demo_users_are_staff_in_their_groups_with_real_profiles(output):
    for username, group in GROUPS.items():
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.get_full_name() and user.email.endswith("@example.com")
        assert user.time_zone != "UTC"
        assert username in output


def test_teams_and_service_catalog(output):
    assert set(Team.objects.values_list("name", flat=True)) >= {"Payments", "Platform", "Identity", "Search"}
    assert all(team.manager and team.members.exists() for team in Team.objects.all())
    services = Service.objects.all()
    assert services.count() >= 8
    assert all(s.owning_team_id and s.description and (s.runbook or s.runbook_url) for s in services)
    assert services.filter(customer_facing=True).exists() and services.filter(customer_facing=False).exists()
    checkout = Service.objects.get(name="Checkout API")
    assert {"Payments Gateway", "Primary PostgreSQL"} <= set(checkout.depends_on.values_list("name", flat=True))


def test_incidents_in_every_state_with_complete_timelines(output):
    assert set(Incident.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Incident.objects.values_list("severity__name", flat=True)) == {"SEV-1", "SEV-2", "SEV-3", "SEV-4"}
    assert TimelineEvent.objects.filter(Q(source="") & Q(actor=None)).count() == 0
    for incident in Incident.objects.all():
        kinds = list(incident.timeline.order_by("occurred_at", "pk").values_list("kind", flat=True))
        assert kinds[0] == TimelineEvent.Kind.DECLARED, incident
        times = list(incident.timeline.order_by("pk").values_list("occurred_at", flat=True))
        assert times == sorted(times), f"{incident} timeline is out of order"
    # The story covers the whole vocabulary of actions.
    used = set(TimelineEvent.objects.values_list("kind", flat=True))
    assert used >= {
        "declared", "acknowledged", "status_changed", "severity_changed", "role_assigned", "note",
        "status_update", "details_changed", "task_done", "evidence_added", "resolved", "reopened", "closed",
    }
    assert TimelineEvent.objects.filter(kind="status_update", visibility="external").exists()
    assert TimelineEvent.objects.filter(kind="status_update", visibility="internal").exists()
    triggered = Incident.objects.get(status=Status.TRIGGERED)
    assert triggered.severity.name == "SEV-1" and triggered.acknowledged_at is None
    # Declared minutes ago: the list shows its acknowledge SLA running out.
    state = sla.summary(triggered, now=timezone.now(), last_update_at=None).state
    assert state in (sla.SlaState.DUE_SOON, sla.SlaState.BREACHED)
    assert Incident.objects.filter(closed_at__isnull=False, status=Status.CLOSED).exists()
    assert Incident.objects.filter(timeline__kind="reopened", status=Status.RESOLVED).exists()


def test_a_restricted_security_incident_with_only_carol_and_alice(output):
    restricted = Incident.objects.get(is_restricted=True)
    assert restricted.incident_type.slug == "security"
    participants = set(restricted.participants.values_list("user__username", flat=True))
    # Whoever the engine paged joined as a responder, so the restricted incident reaches them.
    paged = {
        target["username"]
        for data in restricted.timeline.filter(kind__in=["escalated", "ack_sla_breached"]).values_list("data", flat=True)
        for target in data["targets"]
    }
    assert participants == {"alice", "carol"} | paged
    actors = set(restricted.timeline.exclude(actor=None).values_list("actor__username", flat=True))
    assert actors <= {"alice", "carol"}


def test_a_drill(output):
    assert Incident.objects.filter(is_drill=True).count() == 1


def test_data_passes_the_check_constraints(output):
    for incident in Incident.objects.all():
        incident.validate_constraints()


def test_second_run_creates_nothing_and_prints_the_same_password(output):
    before = counts()
    again = seed()
    assert counts() == before
    assert printed_password(again) == printed_password(output)
    assert "nothing created" in again


def test_logins_only_prints_the_saved_login_and_touches_nothing(output):
    before = counts()

    again = run_command("seed_demo", "--logins-only", "--base-url", "http://127.0.0.1:8123")

    assert counts() == before
    assert printed_password(again) == printed_password(output)
    assert "http://127.0.0.1:8123/admin/" in again and "incidents" not in again


def test_missing_login_file_gives_everyone_a_new_password(output, var_dir):
    old = printed_password(output)
    (var_dir / "demo-login.txt").unlink()
    new = printed_password(seed())
    assert new != old
    assert authenticate(username="admin", password=new) is not None
    assert authenticate(username="alice", password=new) is not None
    assert authenticate(username="admin", password=old) is None


def test_saved_password_is_reused_for_a_fresh_database(db, var_dir):
    (var_dir / "demo-login.txt").write_text("user: admin\npassword: kept-from-another-database\n")
    output = seed()
    assert printed_password(output) == "kept-from-another-database"
    assert authenticate(username="bob", password="kept-from-another-database") is not None


def test_a_password_changed_by_hand_is_left_alone(output):
    admin = User.objects.get(username="admin")
    admin.set_password("my-own-choice")
    admin.save()
    err = io.StringIO()
    again = seed(stderr=err)
    assert "password" not in again
    assert "changed by hand" in err.getvalue()
    assert authenticate(username="admin", password="my-own-choice") is not None


def test_force_incidents_adds_another_set(output):
    before = Incident.objects.count()
    seed(force_incidents=True)
    assert Incident.objects.count() == 2 * before
    assert User.objects.count() == 7
    assert not pending().filter(due_at__lte=timezone.now()).exists()
    assert not TimelineEvent.objects.filter(kind=Kind.NOBODY_TO_PAGE).exists()


@pytest.mark.parametrize("hour, minute", [(0, 1), (9, 4), (15, 19), (23, 59)])
def test_the_story_fits_before_now_at_any_time_of_day(db, var_dir, hour, minute):
    moment = timezone.now().replace(hour=hour, minute=minute, second=30)
    with time_machine.travel(moment, tick=False):
        seed()
        assert Incident.objects.filter(declared_at__gt=moment).count() == 0
        assert TimelineEvent.objects.filter(occurred_at__gt=moment).count() == 0
        assert set(Incident.objects.values_list("status", flat=True)) == set(Status.values)
        # Whatever the weekday and hour, the engine found someone to page and left nothing overdue.
        assert not pending().filter(due_at__lte=moment).exists()
        assert not TimelineEvent.objects.filter(kind=Kind.NOBODY_TO_PAGE).exists()
        assert TimelineEvent.objects.filter(kind=Kind.ESCALATED).exists()
        assert engine.tick().fired == 0


# --- On call and the engine's history ---------------------------------------------------------


def test_on_call_schedules_teams_and_policies(output):
    now = timezone.now()
    platform = Schedule.objects.get(name="Platform primary")
    payments = Schedule.objects.get(name="Payments primary")
    assert on_call_at(platform, now) and on_call_at(payments, now)
    assert on_call_at(platform, now)[0].username in {"bob", "erin", "alice"}
    weekly = platform.layers.get()
    assert weekly.rotation == Layer.Rotation.WEEKLY and weekly.start_date.isoweekday() == 1
    assert platform.time_zone == "Europe/London" and weekly.handoff_time == dt.time(9, 0)
    assert payments.layers.filter(rotation=Layer.Rotation.DAILY).exists()
    office_hours = Layer.objects.get(restriction_days=[1, 2, 3, 4, 5])
    assert (office_hours.restriction_start, office_hours.restriction_end) == (dt.time(9, 0), dt.time(17, 0))
    # Nobody is left uncovered in the days around now.
    for schedule in (platform, payments):
        for hours in range(-24 * 10, 24 * 7, 5):
            assert on_call_at(schedule, now + dt.timedelta(hours=hours)), (schedule, hours)
    # Holiday cover in the coming week.
    cover = Override.objects.get()
    assert now < cover.start < now + dt.timedelta(days=7) and cover.reason
    assert on_call_at(platform, cover.start + dt.timedelta(hours=1)) == [cover.user]
    # Teams keep office hours in their own zones.
    assert {t.time_zone for t in Team.objects.all()} >= {"Europe/London", "America/New_York"}

    default = EscalationPolicy.objects.get(is_default=True)
    levels = list(default.levels.prefetch_related("users", "schedules"))
    assert [level.position for level in levels] == [1, 2, 3, 4]
    assert all(level.users.all() or level.schedules.all() for level in levels)
    assert list(levels[0].schedules.all()) == [platform]
    assert [u.username for u in levels[3].users.all()] == ["frank"]
    assert User.objects.get(username="frank").groups.filter(name="Managers").exists()
    # A service with a policy of its own, and incidents that used it.
    payments_policy = EscalationPolicy.objects.get(name="Payments escalation")
    assert list(payments_policy.levels.get(position=1).schedules.all()) == [payments]
    assert payments_policy.levels.get(position=2).delays.get(severity_rank=1).delay == default.levels.get(
        position=2
    ).delays.get(severity_rank=1).delay
    assert Service.objects.get(slug="payments-gateway").escalation_policy == payments_policy
    assert Incident.objects.filter(escalation_policy=payments_policy).exists()
    assert Incident.objects.filter(escalation_policy=default).exists()


def test_escalations_happened_in_the_past_and_paged_someone(output):
    now = timezone.now()
    assert not pending().filter(due_at__lte=now).exists(), "the first real tick would fire old deadlines"
    assert not TimelineEvent.objects.filter(occurred_at__gt=now).exists()
    assert not TimelineEvent.objects.filter(kind=Kind.NOBODY_TO_PAGE).exists()
    escalated = TimelineEvent.objects.filter(kind=Kind.ESCALATED)
    assert escalated.filter(data__level=2).exists() and escalated.filter(data__level=3).exists()
    for event in escalated:
        assert event.data["targets"] and all(t["username"] for t in event.data["targets"]), event.message
        assert event.source == Source.ENGINE
    used = set(TimelineEvent.objects.values_list("kind", flat=True))
    assert used >= {Kind.ESCALATED, Kind.ACK_SLA_BREACHED, Kind.UPDATE_OVERDUE, Kind.RESOLVE_TARGET_BREACHED}

    for incident in Incident.objects.all():
        engine_events = incident.timeline.filter(source=Source.ENGINE)
        # Resolving stops everything; acknowledging stops the re-paging.
        if incident.resolved_at:
            assert not engine_events.filter(occurred_at__gt=incident.resolved_at).exists(), incident
        if incident.acknowledged_at:
            assert not engine_events.filter(
                kind=Kind.ACK_SLA_BREACHED, occurred_at__gt=incident.acknowledged_at
            ).exists(), incident
        # Every deadline fired when it fell due (the replay ticks at each due time), earlier for a
        # level engaged early (noted why), or at once when a severity change made it already late.
        re_rated = set(incident.timeline.filter(kind=Kind.SEVERITY_CHANGED).values_list("occurred_at", flat=True))
        for deadline in incident.deadlines.exclude(fired_at=None):
            if deadline.note:
                assert deadline.fired_at <= deadline.due_at, deadline
            elif deadline.fired_at not in re_rated:
                assert dt.timedelta(0) <= deadline.fired_at - deadline.due_at < dt.timedelta(minutes=1), deadline

    # The unanswered SEV-1 page of yesterday: re-paged after five minutes, then acknowledged.
    breach = TimelineEvent.objects.filter(kind=Kind.ACK_SLA_BREACHED).first()
    incident = breach.incident
    assert breach.data["targets"]
    assert incident.acknowledged_at > breach.occurred_at
    assert breach.occurred_at == incident.declared_at + incident.severity.ack_sla
    assert incident.timeline.filter(kind=Kind.ESCALATED, data__reason="acknowledge SLA breached").exists()


def test_the_unacknowledged_sev1_is_left_to_escalate_live(output):
    now = timezone.now()
    latest_event = TimelineEvent.objects.latest("occurred_at").occurred_at
    # Beat's first tick finds nothing old to fire (at most what fell due in the seconds since).
    fired_before = set(Deadline.objects.exclude(fired_at=None).values_list("pk", flat=True))
    result = engine.tick()
    assert result.failed == 0
    assert all(d.due_at > latest_event for d in Deadline.objects.exclude(fired_at=None).exclude(pk__in=fired_before))

    triggered = Incident.objects.get(status=Status.TRIGGERED)
    page = triggered.timeline.get(kind=Kind.ESCALATED, data__level=1)
    assert page.data["targets"] and page.occurred_at == triggered.declared_at
    assert not triggered.timeline.filter(kind=Kind.ACK_SLA_BREACHED).exists()
    future = triggered.deadlines.filter(fired_at=None, cancelled_at=None)
    assert future.exists() and all(d.due_at > now for d in future)
    assert future.filter(kind=Deadline.Kind.ACK_TIMEOUT).exists()
    assert future.filter(kind=Deadline.Kind.ESCALATION, level=2).exists()
    # A few minutes after `make run`, beat re-pages level 1 and engages the team lead.
    with clock.at(triggered.declared_at + triggered.severity.ack_sla + dt.timedelta(seconds=5)):
        assert engine.tick().fired >= 1
    breach = triggered.timeline.get(kind=Kind.ACK_SLA_BREACHED)
    assert breach.data["targets"]
    assert triggered.timeline.filter(kind=Kind.ESCALATED, data__level=2).exists()
