"""`manage.py seed_demo`: logins that work, a catalog, incidents in every state, and a second run that changes nothing."""

import io
import re

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from incidents import sla
from incidents.models import EvidenceLink, Incident, IncidentTask, Participant, Service, Status, TimelineEvent
from oncall.models import Team, User

GROUPS = {
    "alice": "Incident commanders",
    "bob": "Responders",
    "carol": "Managers",
    "dave": "Viewers",
    "erin": "Responders",
}


def seed(*, stderr=None, **options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=stderr or io.StringIO(), **options)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"user: admin\s+password: (\S+)", output)
    assert match, output
    return match.group(1)


def counts() -> dict:
    models = (User, Team, Service, Incident, TimelineEvent, Participant, IncidentTask, EvidenceLink)
    return {m.__name__: m.objects.count() for m in models}


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
    assert participants == {"alice", "carol"}
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
    assert User.objects.count() == 6


@pytest.mark.parametrize("hour, minute", [(0, 1), (9, 4), (15, 19), (23, 59)])
def test_the_story_fits_before_now_at_any_time_of_day(db, var_dir, hour, minute):
    moment = timezone.now().replace(hour=hour, minute=minute, second=30)
    with time_machine.travel(moment, tick=False):
        seed()
        assert Incident.objects.filter(declared_at__gt=moment).count() == 0
        assert TimelineEvent.objects.filter(occurred_at__gt=moment).count() == 0
        assert set(Incident.objects.values_list("status", flat=True)) == set(Status.values)
