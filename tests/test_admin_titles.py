"""Every admin page of every registered model is titled in Vigil's words — "Schedules",
"Notification", "New schedule" — never Django's stock "Select schedule to change" or "Change
schedule" — and the user tools name who is signed in."""

import io

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.commands import run_command
from tests.oncall.factories import UserFactory
from tests.pages import text_of

STOCK = ("Select ", "Add ", "Change ", "View ")


def _heading_and_tab(response) -> tuple[str, str]:
    html = response.content.decode()
    h1 = html.split("<h1>", 1)[1].split("</h1>", 1)[0] if "<h1>" in html else ""
    tab = html.split("<title>", 1)[1].split("</title>", 1)[0]
    return h1, tab


def _assert_in_vigils_words(response, url):
    assert response.status_code == 200, url
    title = str(response.context["title"])
    h1, tab = _heading_and_tab(response)
    for shown in (title, h1, tab):
        assert not shown.startswith(STOCK), (url, shown)
        assert " to change" not in shown and " to view" not in shown, (url, shown)


@pytest.fixture
def everything(demo):
    """The demo: at least one row behind most admin pages."""
    run_command("seed_postmortems_demo")
    run_command("seed_comms_demo", stderr=io.StringIO())


@pytest.mark.django_db
def test_every_admin_page_is_titled_in_vigils_words(everything, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    checked = 0
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        listing = reverse("admin:%s_%s_changelist" % info)
        response = client.get(listing)
        _assert_in_vigils_words(response, listing)
        assert str(response.context["title"]) != ""
        pages = []
        if model_admin.has_add_permission(response.wsgi_request):
            pages.append(reverse("admin:%s_%s_add" % info))
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            pages.append(reverse("admin:%s_%s_change" % info, args=[first.pk]))
        for url in pages:
            _assert_in_vigils_words(client.get(url), url)
            checked += 1
    assert checked > 30  # the demo has a row behind most pages


@pytest.mark.django_db
def test_lists_and_pages_say_what_they_are(client, commander):
    from oncall.models import Schedule
    from tests.oncall.factories import ScheduleFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    schedule = ScheduleFactory(name="Platform primary")
    response = client.get(reverse("admin:oncall_schedule_changelist"))
    assert response.context["title"] == "Schedules"
    assert _heading_and_tab(response) == ("Schedules", "Schedules | Vigil")
    assert client.get(reverse("admin:comms_notification_changelist")).context["title"] == "Notifications"
    assert client.get(reverse("admin:oncall_schedule_add")).context["title"] == "New schedule"
    page = client.get(reverse("admin:oncall_schedule_change", args=[schedule.pk]))
    assert _heading_and_tab(page) == ("Schedule", f"{Schedule.objects.get().name} | Schedule | Vigil")


@pytest.mark.django_db
def test_the_user_tools_say_who_is_signed_in(client):
    client.force_login(UserFactory(username="alice", first_name="Alice", last_name="Smith", is_staff=True, is_superuser=True))
    page = text_of(client.get(reverse("admin:index")))
    assert "Signed in as Alice Smith View site" in page and "Welcome" not in page
    client.force_login(UserFactory(username="vigil", first_name="", last_name="", is_staff=True, is_superuser=True))
    assert "Signed in as vigil View site" in text_of(client.get(reverse("admin:index")))
