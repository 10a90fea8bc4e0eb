"""API authentication: hashed, scoped, rate-limited, revocable keys; admin sessions; the shared
error shapes (401, 403, 413, 422, 429)."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError
from django.utils import timezone

from oncall import api_auth
from oncall.models import ApiKey
from tests.api.keys import bearer
from tests.commands import run_command
from tests.oncall.factories import ApiKeyFactory, UserFactory
from tests.pages import text_of

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

ME = "/api/v1/me"


@pytest.mark.django_db
def test_a_key_is_shown_once_and_stored_only_as_a_hash(commander):
    key, secret = api_auth.create_key(name="Slack bot", owner=commander, scopes=["chat", "read"])
    assert secret.startswith("vigil_") and len(secret) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in (stored.key_hash, stored.prefix) and stored.key_hash == api_auth.hash_key(secret)
    assert stored.prefix == secret[:12] and stored.scopes == ["chat", "read"]


@pytest.mark.django_db
def test_a_key_authenticates_as_its_owner_by_bearer_or_header(client, commander):
    key, secret = api_auth.create_key(name="Bot", owner=commander, scopes=["read"])
    for headers in ({"HTTP_AUTHORIZATION": f"Bearer {secret}"}, {"HTTP_X_API_KEY": secret}):
        response = client.get(ME, **headers)
        assert response.status_code == 200
        assert response.json()["username"] == "ic" and response.json()["scopes"] == ["read"]
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer vigil_wrong"}, {"HTTP_X_API_KEY": "nope"}])
def test_no_key_or_a_wrong_key_is_401_with_a_helpful_body(client, headers):
    response = client.get(ME, **headers)
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


@pytest.mark.django_db
def test_a_revoked_key_or_a_deactivated_owner_stops_working(client, commander):
    key = ApiKeyFactory(owner=commander)
    assert client.get(ME, **bearer(key)).status_code == 200
    api_auth.revoke(ApiKey.objects.filter(pk=key.pk))
    assert client.get(ME, **bearer(key)).status_code == 401
    other = ApiKeyFactory(owner=UserFactory(username="leaver"))
    other.owner.is_active = False
    other.owner.save()
    assert client.get(ME, **bearer(other)).status_code == 401


@pytest.mark.django_db
def test_going_over_the_rate_limit_is_429_with_retry_after(client, commander):
    key = ApiKeyFactory(owner=commander, rate_limit_per_minute=3)
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        assert [client.get(ME, **bearer(key)).status_code for _ in range(4)] == [200, 200, 200, 429]
        response = client.get(ME, **bearer(key))
        assert response.status_code == 429 and response["Retry-After"] == "55"
        assert "3 requests per minute" in response.json()["detail"]
    with time_machine.travel(timezone.now().replace(second=5) + dt.timedelta(minutes=1), tick=False):
        assert client.get(ME, **bearer(key)).status_code == 200  # a new window


@pytest.mark.django_db
def test_a_signed_in_staff_session_may_call_the_api(client, commander):
    client.force_login(commander)
    response = client.get(ME)
    assert response.status_code == 200 and response.json()["key"] is None


@pytest.mark.django_db
def test_a_body_over_512_kb_is_413(client, commander):
    key = ApiKeyFactory(owner=commander)
    response = client.post(ME, data=b"x" * (512 * 1024 + 1), content_type="application/json", **bearer(key))
    assert response.status_code == 413 and "at most 524,288" in response.json()["detail"]


@pytest.mark.django_db
def test_the_management_command_prints_a_working_key(client, commander):
    err = io.StringIO()
    secret = run_command("apikey", "create", "--name", "Alertmanager", "--scopes", "ingest,read", "--owner", "ic", stderr=err).strip()
    assert "shown once" in err.getvalue()
    assert client.get(ME, HTTP_X_API_KEY=secret).json()["scopes"] == ["ingest", "read"]
    with pytest.raises(CommandError, match="choose from read, write, ingest, chat"):
        run_command("apikey", "create", "--name", "x", "--scopes", "admin", "--owner", "ic")


@pytest.mark.django_db
def test_the_admin_shows_a_new_key_once(client, manager):
    client.force_login(manager)
    response = client.post(
        "/admin/oncall/apikey/add/",
        {"name": "Grafana", "scopes": ["ingest"], "owner": manager.pk, "rate_limit_per_minute": 100},
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret in response.content.decode() and "only time this key is shown" in response.content.decode()
    listing = client.get("/admin/oncall/apikey/").content.decode()
    assert "Grafana" in listing and secret not in listing


@pytest.mark.django_db
def test_people_without_the_permission_see_and_make_only_their_own_keys(client, responder, manager):
    ApiKeyFactory(owner=manager, name="Managers key")
    client.force_login(responder)
    assert "Managers key" not in client.get("/admin/oncall/apikey/").content.decode()
    response = client.post("/admin/oncall/apikey/add/", {"name": "Mine", "scopes": ["read"], "owner": manager.pk, "rate_limit_per_minute": 10})
    assert "secret" not in response.context or not response.context.get("secret")
    assert not ApiKey.objects.filter(name="Mine").exists()


@pytest.mark.django_db
def test_a_viewer_is_offered_only_the_scopes_his_permissions_allow(client):
    dave = UserFactory(username="dave", viewer=True)
    client.force_login(dave)
    page = client.get("/admin/oncall/apikey/add/")
    assert [value for value, _ in page.context["form"].fields["scopes"].choices] == ["read", "chat"]
    text = page.content.decode()
    assert "Your permissions allow read, chat (read: read incidents, on-call, services · chat: chat commands)." in text
    assert 'value="write"' not in text
    response = client.post("/admin/oncall/apikey/add/", {"name": "Mine", "scopes": ["read", "write"], "owner": dave.pk, "rate_limit_per_minute": 10})
    assert "Your permissions do not allow the write scope (a key acts as its owner)." in response.content.decode()
    assert not ApiKey.objects.exists()
    made = client.post("/admin/oncall/apikey/add/", {"name": "Mine", "scopes": ["read"], "owner": dave.pk, "rate_limit_per_minute": 10})
    assert made.context["secret"] and ApiKey.objects.get().scopes == ["read"]


@pytest.mark.django_db
def test_a_manager_keeps_every_scope_for_himself_but_not_for_a_viewer(client, manager):
    dave = UserFactory(username="dave", first_name="Dave", last_name="Viewer", viewer=True)
    client.force_login(manager)
    form = client.get("/admin/oncall/apikey/add/").context["form"]
    assert [value for value, _ in form.fields["scopes"].choices] == ["read", "write", "ingest", "chat"]
    mine = client.post("/admin/oncall/apikey/add/", {"name": "Mine", "scopes": ["read", "write", "ingest", "chat"], "owner": manager.pk, "rate_limit_per_minute": 10})
    assert mine.context["secret"] and ApiKey.objects.get(name="Mine").scopes == ["chat", "ingest", "read", "write"]
    for_dave = client.post("/admin/oncall/apikey/add/", {"name": "Dave's", "scopes": ["read", "write"], "owner": dave.pk, "rate_limit_per_minute": 10})
    assert "Dave Viewer's permissions do not allow the write scope (a key acts as its owner); they allow: read, chat." in text_of(for_dave)
    assert not ApiKey.objects.filter(name="Dave's").exists()


@pytest.mark.django_db
def test_the_scopes_each_group_may_have(responder, manager):
    assert api_auth.allowed_scopes(UserFactory(viewer=True)) == ["read", "chat"]
    assert api_auth.allowed_scopes(responder) == ["read", "write", "ingest", "chat"]
    assert api_auth.allowed_scopes(manager) == ["read", "write", "ingest", "chat"]
    assert api_auth.allowed_scopes(UserFactory(viewer=True, is_active=False)) == []
