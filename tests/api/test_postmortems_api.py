"""The post-mortems API: list and read post-mortems by incident reference (restricted incidents
as 404), list and change action items, schedule the review meeting — with scopes, permissions
and a bounded number of queries."""

import datetime as dt
import json

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail

from postmortems.models import ActionItem, PostMortem
from tests.incidents.factories import IncidentFactory
from tests.api.keys import auth
from tests.oncall.factories import UserFactory
from tests.postmortems.factories import ActionItemFactory, PostMortemFactory, WhyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_windows")]

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="postmortems", codename__in=codenames))
    return user


def patch(client, path, headers, body):
    return client.patch(path, data=json.dumps(body), content_type="application/json", **headers)


def post(client, path, headers, body):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def reader(commander):
    return grant(commander, "view_postmortem", "view_actionitem")


@pytest.fixture
def editor(commander):
    return grant(commander, "view_postmortem", "view_actionitem", "change_actionitem", "change_postmortem")


@pytest.fixture
def pm(commander, service):
    incident = IncidentFactory(actor=commander, services=[service], commander=commander, title="Checkout down")
    postmortem = PostMortemFactory(
        incident=incident, owner=commander, draft_due=TODAY - dt.timedelta(days=1),
        review_due=TODAY + dt.timedelta(days=2), publish_due=TODAY + dt.timedelta(days=5), root_cause="A bad deploy",
    )
    WhyFactory(postmortem=postmortem, position=1, question="Why did checkout fail?", answer="Bad build")
    return postmortem


@pytest.fixture
def items(pm):
    doer = UserFactory(username="dora")
    return {
        "late": ActionItemFactory(postmortem=pm, owner=doer, due_date=TODAY - dt.timedelta(days=3), description="Late one"),
        "soon": ActionItemFactory(postmortem=pm, owner=doer, due_date=TODAY + dt.timedelta(days=1), priority="low"),
        "done": ActionItemFactory(postmortem=pm, owner=None, due_date=TODAY - dt.timedelta(days=9), status=ActionItem.Status.DONE),
    }


# --- Post-mortems ---------------------------------------------------------------------------------


def test_a_post_mortem_by_its_incidents_reference(client, reader, pm, items):
    ref = pm.incident.reference
    for given in (ref, str(pm.incident.number), ref.lower()):
        response = client.get(f"/api/v1/postmortems/{given}", **auth(reader, "read"))
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == ref and body["title"] == "Checkout down" and body["severity"] == "SEV-2"
    assert body["status"] == "draft" and body["owner"]["username"] == "ic"
    assert body["current_due"] == str(TODAY - dt.timedelta(days=1)) and body["overdue"] is True
    assert body["open_action_items"] == 2 and body["overdue_action_items"] == 1
    assert body["sections"]["root_cause"] == "A bad deploy"
    assert body["whys"] == [{"position": 1, "question": "Why did checkout fail?", "answer": "Bad build"}]
    by_id = {item["id"]: item for item in body["action_items"]}
    assert by_id[items["late"].pk]["overdue"] is True and by_id[items["late"].pk]["days_until_due"] == -3
    assert by_id[items["done"].pk]["overdue"] is False


def test_unknown_restricted_or_missing_post_mortems_are_404(client, reader, pm, commander):
    headers = auth(reader, "read")
    no_pm = IncidentFactory(actor=commander)
    secret = IncidentFactory(actor=UserFactory(username="sec"), is_restricted=True)
    PostMortemFactory(incident=secret)
    for ref in (no_pm.reference, secret.reference, "INC-99999", "nonsense"):
        response = client.get(f"/api/v1/postmortems/{ref}", **headers)
        assert response.status_code == 404, ref
        assert response.json()["detail"].startswith("No post-mortem for")


def test_reading_needs_the_scope_and_the_permission(client, pm):
    nobody = UserFactory(username="nobody")  # in no group
    assert client.get("/api/v1/postmortems", **auth(nobody, "read")).status_code == 403  # no view_postmortem
    grant(nobody, "view_postmortem")
    assert client.get("/api/v1/postmortems", **auth(nobody, "chat")).status_code == 403
    assert client.get("/api/v1/postmortems", **auth(nobody, "read")).status_code == 200
    assert client.get("/api/v1/postmortems").status_code == 401


def test_the_list_filters_by_status_and_overdue_and_pages(client, reader, pm, commander, items):
    other = PostMortemFactory(incident=IncidentFactory(actor=commander), owner=commander, draft_due=TODAY + dt.timedelta(days=3))
    published = PostMortemFactory(incident=IncidentFactory(actor=commander), owner=commander, draft_due=TODAY - dt.timedelta(days=30))
    PostMortem.objects.filter(pk=published.pk).update(status="published", published_at=NOW)
    headers = auth(reader, "read")

    def refs(query):
        response = client.get(f"/api/v1/postmortems{query}", **headers)
        assert response.status_code == 200, response.content
        return [item["reference"] for item in response.json()["items"]]

    assert set(refs("")) == {pm.incident.reference, other.incident.reference, published.incident.reference}
    assert refs("?overdue=true") == [pm.incident.reference]
    assert set(refs("?overdue=false")) == {other.incident.reference, published.incident.reference}
    assert refs("?status=published") == [published.incident.reference]
    assert client.get("/api/v1/postmortems?status=lost", **headers).status_code == 422

    first = client.get("/api/v1/postmortems?limit=2", **headers).json()
    second = client.get(f"/api/v1/postmortems?limit=2&cursor={first['next_cursor']}", **headers).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert {i["reference"] for i in first["items"] + second["items"]} == set(refs(""))
    assert client.get("/api/v1/postmortems?cursor=bogus", **headers).status_code == 422


@pytest.mark.parametrize("size", [2, 20])
def test_lists_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries, reader, commander, size):
    for _ in range(size):
        postmortem = PostMortemFactory(incident=IncidentFactory(actor=commander), owner=commander)
        ActionItemFactory(postmortem=postmortem)
    headers = auth(reader, "read")
    client.get("/api/v1/postmortems", **headers)  # warm the key's last-used write
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/postmortems?limit=200", **headers).json()["items"]) == size
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/action-items?limit=200", **headers).json()["items"]) == size


# --- Action items ---------------------------------------------------------------------------------


def test_action_items_filter_by_status_owner_overdue_and_priority(client, reader, items, commander):
    headers = auth(reader, "read")

    def ids(query):
        response = client.get(f"/api/v1/action-items{query}", **headers)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids("") == {i.pk for i in items.values()}
    assert ids("?overdue=true") == {items["late"].pk}
    assert ids("?overdue=false") == {items["soon"].pk, items["done"].pk}
    assert ids("?status=open&status=in_progress") == {items["late"].pk, items["soon"].pk}
    assert ids("?owner=dora") == {items["late"].pk, items["soon"].pk}
    assert ids("?owner=me") == set()
    assert ids("?priority=low") == {items["soon"].pk}
    page = client.get("/api/v1/action-items?limit=1", **headers).json()
    rest = client.get(f"/api/v1/action-items?limit=5&cursor={page['next_cursor']}", **headers).json()
    assert {i["id"] for i in page["items"] + rest["items"]} == {i.pk for i in items.values()}


def test_items_of_restricted_incidents_stay_hidden(client, reader):
    secret = IncidentFactory(actor=UserFactory(username="sec"), is_restricted=True)
    hidden = ActionItemFactory(postmortem=PostMortemFactory(incident=secret))
    grant(reader, "change_actionitem")
    assert client.get("/api/v1/action-items", **auth(reader, "read")).json()["items"] == []
    assert patch(client, f"/api/v1/action-items/{hidden.pk}", auth(reader), {"status": "done"}).status_code == 404


def test_patch_changes_status_owner_and_due_date(client, editor, items):
    item = items["late"]
    headers = auth(editor)

    response = patch(client, f"/api/v1/action-items/{item.pk}", headers, {"status": "done"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["completed_at"] is not None
    assert response.json()["owner"]["username"] == "dora"  # fields not sent are kept

    body = patch(client, f"/api/v1/action-items/{item.pk}", headers, {"status": "open", "owner": "ic", "due_date": "2026-12-01"}).json()
    assert body["completed_at"] is None and body["owner"]["username"] == "ic" and body["due_date"] == "2026-12-01"
    body = patch(client, f"/api/v1/action-items/{item.pk}", headers, {"owner": None, "due_date": None}).json()
    assert body["owner"] is None and body["due_date"] is None
    item.refresh_from_db()
    assert item.owner is None and item.due_date is None and item.status == "open"

    assert patch(client, f"/api/v1/action-items/{item.pk}", headers, {"owner": "ghost"}).status_code == 422
    assert patch(client, f"/api/v1/action-items/{item.pk}", headers, {"status": "finished"}).status_code == 422
    assert patch(client, f"/api/v1/action-items/{item.pk}", headers, {"status": None}).status_code == 422
    assert patch(client, "/api/v1/action-items/999999", headers, {"status": "done"}).status_code == 404


def test_patch_needs_the_write_scope_and_the_change_permission(client, editor, viewer, items):
    item = items["soon"]
    assert patch(client, f"/api/v1/action-items/{item.pk}", auth(editor, "read"), {"status": "done"}).status_code == 403
    response = patch(client, f"/api/v1/action-items/{item.pk}", auth(viewer), {"status": "done"})  # Viewers only read
    assert response.status_code == 403 and "postmortems.change_actionitem" in response.json()["detail"]
    item.refresh_from_db()
    assert item.status == "open"


# --- The review meeting ---------------------------------------------------------------------------


def test_scheduling_the_review_invites_everyone(client, editor, pm, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    starts = "2026-11-27T14:00:00Z"

    response = post(client, f"/api/v1/postmortems/{pm.incident.reference}/review", auth(editor), {"starts_at": starts, "minutes": 30})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == pm.incident.reference and body["minutes"] == 30
    assert body["invited"] == ["ic@example.com"]
    assert body["ends_at"].startswith("2026-11-27T14:30:00")
    [message] = mail.outbox
    assert message.subject == f"Post-mortem review: {pm.incident.reference} – Checkout down"
    assert any(name == "invite.ics" for name, _, _ in message.attachments)
    pm.refresh_from_db()
    assert pm.review_meeting_at == dt.datetime(2026, 11, 27, 14, tzinfo=dt.timezone.utc)


def test_a_review_that_cannot_be_is_refused(client, editor, pm):
    url = f"/api/v1/postmortems/{pm.incident.reference}/review"
    assert post(client, url, auth(editor), {"starts_at": "2026-11-01T10:00:00Z"}).status_code == 400  # in the past
    assert post(client, url, auth(editor), {"starts_at": "2026-11-27T10:00:00", "minutes": 5}).status_code == 422
    assert post(client, url, auth(editor, "read"), {"starts_at": "2026-11-27T10:00:00"}).status_code == 403
    assert post(client, "/api/v1/postmortems/INC-99999/review", auth(editor), {"starts_at": "2026-11-27T10:00:00"}).status_code == 404


def test_a_mail_server_that_is_down_is_a_503_with_the_meeting_kept(client, editor, pm, settings):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sock.getsockname()[1], 2
    try:
        response = post(client, f"/api/v1/postmortems/{pm.incident.reference}/review", auth(editor), {"starts_at": "2026-11-27T10:00:00Z"})
    finally:
        sock.close()
    assert response.status_code == 503 and response["Retry-After"]
    assert "schedule it again" in response.json()["detail"]
    pm.refresh_from_db()
    assert pm.review_meeting_at is not None


# --- Markdown -------------------------------------------------------------------------------------


def test_the_markdown_export(client, reader, pm, items, commander):
    response = client.get(f"/api/v1/postmortems/{pm.incident.reference}/markdown", **auth(reader, "read"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith(f"# Post-Mortem: {pm.incident.reference}")
    assert "Late one" in text
    secret = IncidentFactory(actor=UserFactory(username="sec"), is_restricted=True)
    PostMortemFactory(incident=secret)
    assert client.get(f"/api/v1/postmortems/{secret.reference}/markdown", **auth(reader, "read")).status_code == 404
