"""On-call settings the engine cannot run on are refused: loop counts, escalation delay cells and
teams without working days — in the admin with a message that says the bound, and by the
database whatever path writes them. Existing teams without working days are fixed by migration."""

import datetime as dt
import importlib
import pkgutil
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse

import oncall.migrations
from oncall.forms import DelayField
from oncall.models import EscalationDelay, EscalationPolicy, Team
from oncall.working_hours import is_working_time, next_working_moment
from tests.oncall.factories import (
    EscalationDelayFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    TeamFactory,
    UserFactory,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
TEAM_ADD = reverse("admin:oncall_team_add")
POLICY_ADD = reverse("admin:oncall_escalationpolicy_add")


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(username="carol", manager=True))
    return client


def errors(response, form="adminform") -> dict:
    return response.context[form].form.errors


# --- Escalation policies: loop count -------------------------------------------------------------


def policy_form(**changes) -> dict:
    data = {
        "name": "Payments", "team": "", "description": "", "loop_count": 3,
        "levels-TOTAL_FORMS": 0, "levels-INITIAL_FORMS": 0, "levels-MIN_NUM_FORMS": 0, "levels-MAX_NUM_FORMS": 1000,
    }
    return {**data, **changes}


def test_a_policy_loops_one_to_ten_times(manager):
    assert manager.post(POLICY_ADD, policy_form(loop_count=10)).status_code == 302
    assert EscalationPolicy.objects.get(name="Payments").loop_count == 10


@pytest.mark.parametrize(
    "loop_count, message",
    [(0, "Re-page at least 1 time."), (11, "Re-page at most 10 times."), (100_000, "Re-page at most 10 times.")],
)
def test_admin_refuses_a_loop_count_out_of_bounds(manager, loop_count, message):
    response = manager.post(POLICY_ADD, policy_form(loop_count=loop_count))
    assert response.status_code == 200
    assert message in errors(response)["loop_count"]
    assert not EscalationPolicy.objects.filter(name="Payments").exists()
    assert "1 to 10" in text_of(response)  # the help text says the bounds


@pytest.mark.parametrize(
    "loop_count, error",
    # 100,000 does not even fit PostgreSQL's smallint (DataError there); SQLite refuses it by the check.
    [(0, IntegrityError), (11, IntegrityError), (100_000, DatabaseError)],
)
def test_the_database_refuses_a_loop_count_out_of_bounds(loop_count, error):
    with pytest.raises(error), transaction.atomic():
        EscalationPolicyFactory(name="Payments", loop_count=loop_count)
    default = EscalationPolicy.objects.get(is_default=True)
    with pytest.raises(error), transaction.atomic():
        EscalationPolicy.objects.filter(pk=default.pk).update(loop_count=loop_count)


# --- Escalation delay cells ----------------------------------------------------------------------


@pytest.fixture
def level():
    level = EscalationLevelFactory(policy=EscalationPolicyFactory(name="Payments"), position=1, name="Team lead")
    EscalationDelayFactory(level=level, severity_rank=1, delay=dt.timedelta(minutes=15))
    return level


def post_cell(client, level, typed: str):
    cell = level.delays.get()
    data = {
        "policy": level.policy_id, "position": 1, "name": "Team lead", "lasts": level.lasts,
        "delays-TOTAL_FORMS": 1, "delays-INITIAL_FORMS": 1, "delays-MIN_NUM_FORMS": 0, "delays-MAX_NUM_FORMS": 1000,
        "delays-0-id": cell.pk, "delays-0-level": level.pk, "delays-0-severity_rank": 1, "delays-0-delay": typed,
    }
    return client.post(reverse("admin:oncall_escalationlevel_change", args=[level.pk]), data)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("-15 min", "A delay cannot be negative: “at once” is the earliest."),
        ("-00:15:00", "A delay cannot be negative: “at once” is the earliest."),
        ("-1 d", "A delay cannot be negative: “at once” is the earliest."),
        ("31 d", "A delay is at most 30 d after declaration."),
        ("100000 h", "A delay is at most 30 d after declaration."),
        ("99999999999 d", "A delay is at most 30 d after declaration."),
        ("9" * 5000 + " min", "A delay is at most 30 d after declaration."),
        ("soon", "Type a delay such as “at once”, “15 min”, “4 h” or “1 d”."),
    ],
)
def test_level_page_refuses_a_negative_or_absurd_delay(manager, level, typed, message):
    response = post_cell(manager, level, typed)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors == [{"delay": [message]}]
    assert level.delays.get().delay == dt.timedelta(minutes=15)


def test_level_page_takes_the_bounds_themselves(manager, level):
    assert post_cell(manager, level, "30 d").status_code == 302
    assert level.delays.get().delay == dt.timedelta(days=30)
    assert post_cell(manager, level, "at once").status_code == 302
    assert level.delays.get().delay == dt.timedelta(0)


def test_level_page_says_the_bounds(manager, level):
    html = manager.get(reverse("admin:oncall_escalationlevel_change", args=[level.pk])).content.decode()
    assert 'title="Counted from declaration: from “at once” to 30 d."' in html  # the column's help tooltip


def test_level_page_shows_a_cell_exactly_so_saving_it_changes_nothing(manager, level):
    level.delays.update(delay=dt.timedelta(minutes=1, seconds=30))
    html = manager.get(reverse("admin:oncall_escalationlevel_change", args=[level.pk])).content.decode()
    assert 'value="1 min 30 s"' in html
    assert post_cell(manager, level, "1 min 30 s").status_code == 302
    assert level.delays.get().delay == dt.timedelta(seconds=90)


@pytest.mark.parametrize("typed", ["-15 min", "- 1 h 30 min"])
def test_a_typed_minus_reads_as_negative_not_as_a_typo(typed):
    assert DelayField().clean(typed) < dt.timedelta(0)


def test_django_negative_durations_keep_their_meaning():
    assert DelayField().clean("-1 23:55:00") == dt.timedelta(minutes=-5)


@pytest.mark.parametrize("delay", [dt.timedelta(minutes=-1), dt.timedelta(days=30, seconds=1)])
def test_the_database_refuses_a_delay_out_of_bounds(level, delay):
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationDelayFactory(level=level, severity_rank=2, delay=delay)
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationDelay.objects.filter(level=level).update(delay=delay)


# --- Teams: working days --------------------------------------------------------------------------


def team_form(**changes) -> dict:
    data = {
        "name": "Payments", "slug": "payments", "description": "", "manager": "", "time_zone": "Europe/London",
        "working_days": [1, 2, 3, 4, 5], "working_hours_start": "09:00", "working_hours_end": "17:00",
        "closed_days-TOTAL_FORMS": "0", "closed_days-INITIAL_FORMS": "0",  # the page's closed-days inline, empty
    }
    return {**data, **changes}


def test_a_new_team_starts_monday_to_friday(manager):
    form = manager.get(TEAM_ADD).context["adminform"].form
    assert form["working_days"].value() == [1, 2, 3, 4, 5]
    html = str(form["working_days"])
    assert re.findall(r'value="(\d)"[^>]*checked', html) == ["1", "2", "3", "4", "5"]


def test_a_team_saved_as_offered_works_monday_to_friday(manager):
    offered = manager.get(TEAM_ADD).context["adminform"].form["working_days"].value()
    response = manager.post(TEAM_ADD, team_form(working_days=offered))
    assert response.status_code == 302
    assert Team.objects.get(slug="payments").working_days == [1, 2, 3, 4, 5]


def test_a_team_without_working_days_is_refused(manager):
    data = team_form()
    del data["working_days"]  # every box unticked: the browser sends nothing
    response = manager.post(TEAM_ADD, data)
    assert response.status_code == 200
    assert errors(response)["working_days"] == ["Tick the days the team works (all seven for a team that works every day)."]
    assert not Team.objects.filter(slug="payments").exists()


def test_a_team_that_works_every_day_ticks_all_seven(manager):
    assert manager.post(TEAM_ADD, team_form(working_days=[7, 1, 2, 3, 4, 5, 6])).status_code == 302
    team = Team.objects.get(slug="payments")
    assert team.working_days == [1, 2, 3, 4, 5, 6, 7]
    assert is_working_time(team, dt.datetime(2026, 5, 10, 12, tzinfo=UTC))  # a Sunday


def test_the_team_form_explains_equal_and_crossing_hours(manager):
    page = text_of(manager.get(TEAM_ADD))
    assert "A team that works every day ticks all seven." in page
    assert "an end equal to the start means all day (24 h)" in page
    assert "An end before the start crosses midnight" in page


def test_equal_start_and_end_is_all_day_on_working_days(manager):
    assert manager.post(TEAM_ADD, team_form(working_hours_start="08:00", working_hours_end="08:00")).status_code == 302
    team = Team.objects.get(slug="payments")
    assert is_working_time(team, dt.datetime(2026, 5, 6, 2, tzinfo=UTC))  # Wednesday 03:00 in London
    assert is_working_time(team, dt.datetime(2026, 5, 9, 6, 59, tzinfo=UTC))  # Friday's day runs to Saturday 08:00
    assert next_working_moment(team, dt.datetime(2026, 5, 9, 7, tzinfo=UTC)) == dt.datetime(2026, 5, 11, 7, tzinfo=UTC)


def test_the_model_refuses_an_empty_or_impossible_week():
    team = TeamFactory.build(slug="ops", name="Ops", manager=None, working_days=[])
    with pytest.raises(ValidationError, match="Tick the days"):
        team.full_clean()
    team.working_days = [0, 8]
    with pytest.raises(ValidationError, match="ISO weekday"):
        team.full_clean()


def _migration(suffix: str):
    name = next(m.name for m in pkgutil.iter_modules(oncall.migrations.__path__) if m.name.endswith(suffix))
    return importlib.import_module(f"oncall.migrations.{name}")


def test_the_migration_gives_teams_without_working_days_monday_to_friday():
    migration = _migration("_squashed_0007_escalation_level_lasts")
    empty = TeamFactory(slug="empty", working_days=[])
    weekend = TeamFactory(slug="weekend", working_days=[6, 7])
    migration.teams_work_monday_to_friday(apps, None)
    empty.refresh_from_db()
    weekend.refresh_from_db()
    assert (empty.working_days, weekend.working_days) == ([1, 2, 3, 4, 5], [6, 7])
    assert "Monday–Friday" in migration.__doc__
    saturday = dt.datetime(2026, 5, 9, 12, tzinfo=UTC)
    assert not is_working_time(empty, saturday)
