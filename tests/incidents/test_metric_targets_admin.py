"""The targets of the metrics are data a manager edits in the admin; nonsense is refused with a
form error and nothing is saved."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.models import MetricTargets
from tests.oncall.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGE_URL = reverse("admin:incidents_metrictargets_change", args=[1])


@pytest.fixture
def as_manager(client):
    client.force_login(UserFactory(manager=True))
    return client


def test_a_manager_changes_the_targets(as_manager):
    page = as_manager.get(CHANGE_URL)
    assert page.status_code == 200
    assert 'value="5 min"' in page.content.decode()  # typed as the matrix says durations
    response = as_manager.post(CHANGE_URL, {"mttd_target": "10 min", "postmortem_completion_target": "90"})
    assert response.status_code == 302
    targets = MetricTargets.load()
    assert (targets.mttd_target, targets.postmortem_completion_target) == (timedelta(minutes=10), 90)


@pytest.mark.parametrize(
    "field, typed, message",
    [
        ("mttd_target", "0", "Must be more than 0 s and at most 90 d."),
        ("mttd_target", "-5 min", "Must be more than 0 s and at most 90 d."),
        ("postmortem_completion_target", "101", "Ensure this value is less than or equal to 100."),
        ("postmortem_completion_target", "0", "Ensure this value is greater than or equal to 1."),
        ("postmortem_completion_target", "-5", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_nonsense_is_refused_and_nothing_saved(as_manager, field, typed, message):
    data = {"mttd_target": "5 min", "postmortem_completion_target": "100", field: typed}
    response = as_manager.post(CHANGE_URL, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert MetricTargets.load().mttd_target == timedelta(minutes=5)
    assert MetricTargets.load().postmortem_completion_target == 100


def test_the_row_is_neither_added_twice_nor_deleted(client):
    client.force_login(UserFactory(superuser=True))
    assert client.get(reverse("admin:incidents_metrictargets_add")).status_code == 403
    assert client.get(reverse("admin:incidents_metrictargets_delete", args=[1])).status_code == 403


def test_a_viewer_may_not_change_them(client):
    client.force_login(UserFactory(viewer=True))
    assert client.get(CHANGE_URL).status_code == 403
