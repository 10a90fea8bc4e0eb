"""The chat workspace in the admin: one row that overrides the settings, a bot token that is written
and never shown back, and form errors for a template with unknown placeholders or a provider
without what it needs."""

import pytest
from django.urls import reverse

from comms.models import ChatWorkspace
from comms.warroom import providers, workspace
from tests.admin_forms import form_data
from tests.oncall.factories import UserFactory

ADD = reverse("admin:comms_chatworkspace_add")


@pytest.fixture
def admin_client_(as_user, db):
    return as_user(UserFactory(username="root", superuser=True, is_staff=True))


def post(client, url=ADD, **changes):
    return client.post(url, form_data(client.get(url), **changes))


def test_a_slack_workspace_is_saved_and_overrides_the_settings(admin_client_, fake_slack, settings):
    settings.VIGIL_CHAT_PROVIDER = "none"
    assert providers.connected() is None
    response = post(
        admin_client_, provider="slack", new_bot_token=fake_slack.token, slack_api_url=fake_slack.url,
        workspace_url="https://acme.slack.com", channel_name_template="{reference}-{slug}",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = ChatWorkspace.objects.get()
    assert row.bot_token == fake_slack.token
    current = workspace.current()
    assert (current.provider, current.name_template) == ("slack", "{reference}-{slug}")
    assert providers.connected().create_channel("inc-1-x", private=False).url.startswith("https://acme.slack.com/archives/")


def test_the_token_is_never_shown_back_and_kept_when_left_empty(admin_client_, db):
    row = ChatWorkspace.objects.create(provider="slack", bot_token="xoxb-secret-123")
    url = reverse("admin:comms_chatworkspace_change", args=[row.pk])
    page = admin_client_.get(url)
    assert b"xoxb-secret-123" not in page.content and b"A token is saved." in page.content
    assert post(admin_client_, url, channel_name_template="war-{number}").status_code == 302
    row.refresh_from_db()
    assert (row.bot_token, row.channel_name_template) == ("xoxb-secret-123", "war-{number}")


def test_the_list_shows_whether_a_token_is_saved_in_few_queries(admin_client_, db, django_assert_max_num_queries):
    ChatWorkspace.objects.create(provider="slack", bot_token="xoxb-secret-123")
    with django_assert_max_num_queries(8):
        page = admin_client_.get(reverse("admin:comms_chatworkspace_changelist"))
    assert b"xoxb-secret-123" not in page.content and b"Chat workspace: Slack" in page.content


@pytest.mark.parametrize(
    "changes, field, error",
    [
        ({"provider": "slack"}, "new_bot_token", "Enter the bot token."),
        ({"provider": "slack"}, "provider", "Slack needs a bot token: enter it below."),
        ({"channel_name_template": "inc-{id}-{title}"}, "channel_name_template",
         "Unknown placeholder {id}: use {number}, {reference}, {slug} or {date}."),
        ({"channel_name_template": "incident-{slug"}, "channel_name_template",
         "Braces must pair up: write {number}, {reference}, {slug} or {date}."),
        ({"channel_name_template": "war-{slug}"}, "channel_name_template",
         "Include {number} or {reference}: every incident needs a channel of its own."),
        ({"provider": "mattermost", "new_bot_token": "abc"}, "mattermost_url", "Mattermost needs its server's address."),
        ({"provider": "mattermost", "new_bot_token": "abc"}, "mattermost_team_id",
         "Mattermost needs the id of the team channels are made in."),
    ],
)
def test_form_errors_say_what_to_fix(admin_client_, changes, field, error):
    response = post(admin_client_, **changes)
    assert response.status_code == 200
    assert error in response.context["adminform"].form.errors[field]
    assert not ChatWorkspace.objects.exists()


def test_one_workspace_only_and_only_for_those_allowed(admin_client_, as_user, db):
    row = ChatWorkspace.objects.create()
    assert admin_client_.get(ADD).url == reverse("admin:comms_chatworkspace_change", args=[row.pk])
    manager = UserFactory(username="mgr", manager=True, is_staff=True)
    assert as_user(manager).get(reverse("admin:comms_chatworkspace_changelist")).status_code == 403


def test_war_rooms_are_listed_read_only_with_why_one_is_still_opening(admin_client_, db, django_assert_max_num_queries):
    from comms.models import WarRoom
    from tests.comms.factories import WarRoomFactory, WarRoomMemberFactory

    WarRoomMemberFactory.create_batch(2)
    stuck = WarRoomFactory(state=WarRoom.State.OPENING, channel_id="", attempts=3, last_error="Slack conversations.create: HTTP 500")
    with django_assert_max_num_queries(10):
        page = admin_client_.get(reverse("admin:comms_warroom_changelist"))
    assert page.status_code == 200 and b"Slack conversations.create: HTTP 500" in page.content
    assert page.content.count(b"inc-") >= 3
    detail = admin_client_.get(reverse("admin:comms_warroom_change", args=[stuck.pk]))
    assert detail.status_code == 200 and b'name="name"' not in detail.content  # nothing to edit
    assert admin_client_.get(reverse("admin:comms_warroom_add")).status_code == 403
