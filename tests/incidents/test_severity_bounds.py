"""A severity level the engine cannot run on is refused: in the admin with the bound in the
message, and by the database whatever path writes it. Existing rows are repaired by the migration."""

import importlib
import pkgutil
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.duration import duration_string

import incidents.migrations
from incidents.models import SeverityLevel
from incidents.seed import SEVERITIES
from tests.incidents.factories import SeverityLevelFactory, severity
from tests.oncall.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:incidents_severitylevel_add")

BAD_VALUES = [
    ("ack_sla", "-00:05:00", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "0", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "8 00:00:00", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "-5 min", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "at once", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "8 d", "Must be more than 0 s and at most 7 d."),
    ("ack_sla", "99999999999 d", "Far longer than any target of the matrix may be: see the bound below."),
    ("ack_sla", "soon", "Type a duration such as “5 min”, “4 h”, “1 h 30 min” or “14 d”."),
    ("first_update_interval", "0", "Must be more than 0 s and at most 7 d."),
    ("update_interval", "0", "Must be more than 0 s and at most 7 d."),
    ("update_interval", "-01:00:00", "Must be more than 0 s and at most 7 d."),
    ("resolve_target", "00:00:00", "Must be more than 0 s and at most 90 d."),
    ("resolve_target", "91 00:00:00", "Must be more than 0 s and at most 90 d."),
    ("observation_period", "-00:00:01", "Must be 0 s or more and at most 30 d."),
    ("observation_period", "31 00:00:00", "Must be 0 s or more and at most 30 d."),
    ("mtta_target", "0", "Must be more than 0 s and at most 90 d."),
    ("mtta_target", "-5 min", "Must be more than 0 s and at most 90 d."),
    ("mttr_target", "91 d", "Must be more than 0 s and at most 90 d."),
    ("color", "red", "Give the colour as #rrggbb, e.g. #b71c1c."),
    ("color", "#fff", "Give the colour as #rrggbb, e.g. #b71c1c."),
    ("color", "#12345g", "Give the colour as #rrggbb, e.g. #b71c1c."),
]


def form_data(**changes) -> dict:
    """The add form as a manager fills it in for a SEV-5, with sane values unless changed."""
    data = {
        "name": "SEV-5", "label": "Informational", "rank": 5, "description": "", "color": "#607d8b",
        "ack_sla": duration_string(timedelta(days=2)), "first_update_interval": duration_string(timedelta(hours=4)),
        "update_interval": duration_string(timedelta(days=1)), "resolve_target": duration_string(timedelta(days=30)),
        "observation_period": "0", "postmortem_policy": "none",
        "postmortem_draft_due": "5", "postmortem_draft_unit": "business_days", "postmortem_review_due": "2",
        "postmortem_review_unit": "business_days", "postmortem_publish_due": "5", "postmortem_publish_unit": "business_days",
        "ack_sla_clock": "wall", "update_clock": "wall", "resolve_clock": "wall",
    }
    return {**data, **changes}


BOTH_BOUNDS = "Must be 0 to 60 business days, or 1 to 1440 hours."
POSTMORTEM_BAD_VALUES = [
    ({"postmortem_draft_due": "61"}, "postmortem_draft_due", "Must be 0 to 60 business days."),
    ({"postmortem_draft_due": "0", "postmortem_draft_unit": "hours"}, "postmortem_draft_due", "Must be 1 to 1440 hours."),
    ({"postmortem_review_due": "1441", "postmortem_review_unit": "hours"}, "postmortem_review_due", BOTH_BOUNDS),
    ({"postmortem_review_due": "-1"}, "postmortem_review_due", BOTH_BOUNDS),
    ({"postmortem_publish_due": "1440"}, "postmortem_publish_due", "Must be 0 to 60 business days."),
    ({"postmortem_publish_due": "99999", "postmortem_publish_unit": "hours"}, "postmortem_publish_due", BOTH_BOUNDS),
    ({"postmortem_publish_due": "a week"}, "postmortem_publish_due", "Enter a whole number."),
    ({"postmortem_publish_unit": "weeks"}, "postmortem_publish_unit",
     "Select a valid choice. weeks is not one of the available choices."),
]


@pytest.fixture
def as_admin(client):
    """Managers change severities; adding one takes a superuser."""
    client.force_login(UserFactory(username="root", superuser=True))
    return client


def test_a_sane_severity_is_saved(as_admin):
    response = as_admin.post(ADD_URL, form_data())
    assert response.status_code == 302
    assert SeverityLevel.objects.get(name="SEV-5").ack_sla == timedelta(days=2)


@pytest.mark.parametrize("field, typed, message", BAD_VALUES)
def test_admin_refuses_a_setting_out_of_bounds_and_saves_nothing(as_admin, field, typed, message):
    response = as_admin.post(ADD_URL, form_data(**{field: typed}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert not SeverityLevel.objects.filter(name="SEV-5").exists()


@pytest.mark.parametrize("changes, field, message", POSTMORTEM_BAD_VALUES)
def test_admin_refuses_a_postmortem_due_date_out_of_its_units_bounds(as_admin, changes, field, message):
    response = as_admin.post(ADD_URL, form_data(**changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert not SeverityLevel.objects.filter(name="SEV-5").exists()


def test_postmortem_due_dates_in_hours_and_business_days_are_saved(as_admin):
    response = as_admin.post(ADD_URL, form_data(
        postmortem_draft_due="48", postmortem_draft_unit="hours", postmortem_review_due="0",
        postmortem_publish_due="1440", postmortem_publish_unit="hours",
    ))
    assert response.status_code == 302
    sev5 = SeverityLevel.objects.get(name="SEV-5")
    assert sev5.postmortem_due_text == "draft 48 hours · review +0 business days · published +1440 hours"
    assert "draft 48 hours · review +0 business days" in as_admin.get(reverse("admin:incidents_severitylevel_changelist")).content.decode()


def test_editing_the_seeded_sev4_to_a_negative_sla_changes_nothing(as_admin):
    sev4 = severity("SEV-4")
    url = reverse("admin:incidents_severitylevel_change", args=[sev4.pk])
    data = form_data(name="SEV-4", label="Low", rank=4, color=sev4.color, ack_sla="-00:05:00")
    response = as_admin.post(url, data)
    assert response.context["adminform"].form.errors == {"ack_sla": ["Must be more than 0 s and at most 7 d."]}
    sev4.refresh_from_db()
    assert sev4.ack_sla == timedelta(hours=24)


def test_durations_are_typed_and_shown_as_the_matrix_says_them(as_admin):
    response = as_admin.post(ADD_URL, form_data(ack_sla="1 min 30 s", resolve_target="14 d", observation_period="0 s"))
    assert response.status_code == 302
    sev5 = SeverityLevel.objects.get(name="SEV-5")
    assert (sev5.ack_sla, sev5.resolve_target, sev5.observation_period) == (
        timedelta(seconds=90), timedelta(days=14), timedelta(0)
    )
    html = as_admin.get(reverse("admin:incidents_severitylevel_change", args=[sev5.pk])).content.decode()
    for shown in ('value="1 min 30 s"', 'value="4 h"', 'value="1 d"', 'value="14 d"', 'value="0 s"'):
        assert shown in html  # exactly, so saving the page again changes nothing


def test_the_form_says_the_bounds(as_admin):
    text = as_admin.get(ADD_URL).content.decode()
    for hint in (
        "Acknowledge SLA", "more than 0 s and at most 7 d", "more than 0 s and at most 90 d",
        "0 s or more and at most 30 d", "#rrggbb", "0 to 60 business days, or 1 to 1440 hours",
        "after the incident's resolution", "after the draft's due date",
    ):
        assert hint in text


ORM_BAD_ROWS = [
    {"ack_sla": timedelta(minutes=-5)},
    {"ack_sla": timedelta(0)},
    {"ack_sla": timedelta(days=7, seconds=1)},
    {"first_update_interval": timedelta(0)},
    {"update_interval": timedelta(0)},
    {"resolve_target": timedelta(0)},
    {"resolve_target": timedelta(days=91)},
    {"observation_period": timedelta(seconds=-1)},
    {"observation_period": timedelta(days=31)},
    {"color": "red"},
    {"color": "#12345g"},
    {"postmortem_draft_due": 61},
    {"postmortem_review_due": 0, "postmortem_review_unit": "hours"},
    {"postmortem_publish_due": 1441, "postmortem_publish_unit": "hours"},
    {"postmortem_draft_unit": "weeks"},
]


@pytest.mark.parametrize("fields", ORM_BAD_ROWS)
def test_the_database_refuses_a_row_out_of_bounds(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        SeverityLevelFactory(**fields)
    sev4 = severity("SEV-4")
    for name, value in fields.items():
        setattr(sev4, name, value)
    with pytest.raises(IntegrityError), transaction.atomic():
        sev4.save()


def test_the_bounds_themselves_are_allowed():
    SeverityLevelFactory(
        ack_sla=timedelta(days=7), first_update_interval=timedelta(seconds=1), update_interval=timedelta(days=7),
        resolve_target=timedelta(days=90), observation_period=timedelta(days=30), color="#ABCdef",
        postmortem_draft_due=60, postmortem_review_due=1, postmortem_review_unit="hours", postmortem_publish_due=1440,
        postmortem_publish_unit="hours",
    )
    SeverityLevelFactory(postmortem_draft_due=0, postmortem_review_due=0, postmortem_publish_due=0)


def test_the_seeded_matrix_is_inside_the_bounds():
    for row in SeverityLevel.objects.all():
        row.full_clean()
    assert SeverityLevel.objects.count() == len(SEVERITIES)


# --- The migration's repair of rows saved before the bounds ---------------------------------------


def _migration(suffix: str):
    name = next(m.name for m in pkgutil.iter_modules(incidents.migrations.__path__) if m.name.endswith(suffix))
    return importlib.import_module(f"incidents.migrations.{name}")


def test_the_migration_repairs_a_severity_out_of_bounds():
    repair = _migration("_squashed_0011_time_spent_resolved").repair
    broken = SeverityLevel(
        name="SEV-4", rank=4, color="blue", ack_sla=timedelta(minutes=-5), first_update_interval=timedelta(0),
        update_interval=timedelta(hours=24), resolve_target=timedelta(days=400), observation_period=timedelta(0),
    )
    assert repair(broken) == ["ack_sla", "first_update_interval", "resolve_target", "color"]
    assert (broken.ack_sla, broken.first_update_interval, broken.resolve_target, broken.color) == (
        timedelta(hours=24), timedelta(hours=1), timedelta(days=90), "#666666"
    )
    broken.full_clean(exclude=["name", "rank", "label", "postmortem_policy"])
    custom = SeverityLevel(
        rank=9, color="#000000", ack_sla=timedelta(0), first_update_interval=timedelta(hours=1),
        update_interval=timedelta(hours=1), resolve_target=timedelta(days=1), observation_period=timedelta(0),
    )
    assert repair(custom) == ["ack_sla"] and custom.ack_sla == timedelta(hours=24)  # SEV-4's, the nearest rank
    assert repair(severity("SEV-1")) == []
