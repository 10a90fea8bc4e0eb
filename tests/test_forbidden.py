"""The 403 page: inside the admin's layout, it names the missing permission and who grants it;
each refusal is logged once, as one line."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from oncall.admin.forbidden import forbidden
from tests.incidents.factories import ServiceFactory
from tests.oncall.factories import UserFactory
from tests.pages import text_of

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def dave(db):
    return UserFactory(username="dave", viewer=True)


@pytest.fixture
def admins(db):
    UserFactory(username="admin", is_superuser=True)
    managers = Group.objects.get(name="Managers")
    managers.permissions.add(Permission.objects.get(content_type__app_label="oncall", codename="change_user"))
    UserFactory(username="frank", manager=True)
    UserFactory(username="carol", manager=True)


def test_a_viewer_on_an_add_page_is_told_the_permission_and_who_grants_it(as_user, dave, admins):
    response = as_user(dave).get("/admin/oncall/override/add/")

    assert response.status_code == 403
    page = text_of(response)
    assert "You need the “Can add override” permission (oncall.add_override) to open this page." in page
    assert "Ask Managers (carol, frank) or Administrators (admin)." in page
    # The admin's layout: its header, the user's tools, a way back.
    assert 'id="user-tools"' in response.content.decode() and "Back to the start page" in page
    assert "You are signed in as dave." in page


def test_a_page_the_viewer_may_not_see_needs_the_view_permission(as_user, dave):
    admin = UserFactory(username="admin", is_superuser=True)

    response = as_user(dave).get(f"/admin/oncall/user/{admin.pk}/change/")

    assert response.status_code == 403
    page = text_of(response)
    assert "You need the “Can view user” permission (oncall.view_user)" in page
    assert "Ask Administrators (admin)." in page


def test_saving_what_the_viewer_may_only_read_needs_the_change_permission(as_user, dave):
    service = ServiceFactory(name="Search", slug="search")
    client = as_user(dave)
    assert client.get(f"/admin/incidents/service/{service.pk}/change/").status_code == 200

    response = client.post(f"/admin/incidents/service/{service.pk}/change/", {"name": "Renamed"})

    assert response.status_code == 403
    assert "You need the “Can change service” permission (incidents.change_service)" in text_of(response)


def test_pages_outside_the_admin_keep_the_plain_403(db):
    request = RequestFactory().get("/oncall/feeds/x.ics")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()

    response = forbidden(request, None)

    assert response.status_code == 403
    assert b"403 Forbidden" in response.content and b"base_site" not in response.content


def test_a_403_is_logged_once_without_a_traceback(as_user, dave, caplog):
    with caplog.at_level(logging.INFO):
        as_user(dave).get("/admin/oncall/override/add/")

    records = [r for r in caplog.records if r.name.startswith("django")]
    assert [r.getMessage() for r in records] == ["Forbidden (Permission denied): /admin/oncall/override/add/"]
    assert records[0].exc_info is None and records[0].exc_text is None


# The terminal of `make run` (DEBUG on): Django's own console handler printed every request
# warning a second time, with the traceback.
ONE_REFUSAL = """
import django
django.setup()
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory
def refuse():
    raise PermissionDenied
try:
    refuse()
except PermissionDenied as exc:
    response_for_exception(RequestFactory().get("/admin/oncall/override/add/"), exc)
"""


def test_the_terminal_shows_one_line_per_403(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1", "VIGIL_VAR_DIR": str(tmp_path)}

    result = subprocess.run([sys.executable, "-c", ONE_REFUSAL], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].endswith("WARNING django.request Forbidden (Permission denied): /admin/oncall/override/add/"), lines


def test_an_incident_operation_names_the_permission_it_needs(as_user, dave, incident):
    response = as_user(dave).post(f"/admin/incidents/incident/{incident.pk}/do/acknowledge/")

    assert response.status_code == 403
    assert "You need the “Can acknowledge, add notes and post updates” permission (incidents.respond_incident)" in text_of(response)
