"""Shift cover as responders use it: Alice asks Bob to take her Wednesday night on the London
schedule, the email reaches a real SMTP server, Bob follows its link and takes the shift, and who
is on call changes; requests that expire, shifts already under way, declines, people who were not
asked, and who may ask for whom.

Primary (tests/oncall/fixtures.py), seen on Wednesday 6 May 2026 at 12:00 UTC: Bob is on call
(business hours) until 16:00 UTC, then Alice (24/7 layer) until Thursday 08:00 UTC."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from oncall import cover
from oncall.errors import CoverRefused
from oncall.models import CoverRequest, Override
from oncall.schedules import on_call_at
from tests.comms.delivery import deliver_due
from tests.comms.servers import django_smtp, smtp_server  # noqa: F401
from tests.oncall.factories import TeamFactory
from tests.oncall.fixtures import NOW, UTC, alice, bob, carol, frozen_clock, primary  # noqa: F401
from tests.pages import text_of

pytestmark = pytest.mark.django_db

NIGHT = (dt.datetime(2026, 5, 6, 16, tzinfo=UTC), dt.datetime(2026, 5, 7, 8, tzinfo=UTC))  # Alice's
ADD = reverse("admin:oncall_coverrequest_add")


def at(hour: int, minute: int = 0, day: int = 6) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def team(primary, carol):
    primary.team = TeamFactory(name="Platform", slug="platform", manager=carol)
    primary.save()
    return primary.team


def link_in(message) -> str:
    url = re.search(r"https?://\S+/oncall/cover/\S+/", message.get_content()).group(0)
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def mail_to(sink, address: str) -> list:
    return [m for m in sink.messages if address in m["To"]]


def test_asked_by_email_bob_takes_alices_night_and_everyone_is_told(client, django_smtp, team, primary, alice, bob, carol):
    # Alice asks Bob from the admin, the form pre-filled by her row's "Ask for cover" button.
    client.force_login(alice)
    page = client.get(reverse("admin:oncall_schedule_change", args=[primary.pk]))
    mine = [row for row in page.context["rows"] if row.ask_url]
    assert [(row.start, row.end) for row in mine][0] == NIGHT and all(row.shift.user == alice for row in mine)
    form = client.get(mine[0].ask_url).context["adminform"].form
    assert (form.initial["start"], form.initial["end"]) == NIGHT
    data = {
        "schedule": primary.pk, "user": alice.pk, "asked": bob.pk, "reason": "Parents' evening",
        "start_0": "2026-05-06", "start_1": "16:00", "end_0": "2026-05-07", "end_1": "08:00", "_save": "Save",
    }
    response = client.post(ADD, data, follow=True)
    assert "Cover asked of Bob Okafor for Wed 06 May 16:00 – Thu 07 May 08:00 (16 h)." in text_of(response)
    assert "If nobody takes this, Wed 06 May 16:00 – Thu 07 May 08:00 (16 h) has nobody on call." in text_of(response)
    request = CoverRequest.objects.get()
    assert (request.user, request.asked, request.expires_at, request.status) == (alice, bob, NIGHT[0], "pending")

    # The schedule page warns about the gap the pending request would leave.
    schedule_page = text_of(client.get(reverse("admin:oncall_schedule_change", args=[primary.pk])))
    assert "Alice Chen asks Bob Okafor : If nobody takes this, Wed 06 May 16:00 – Thu 07 May 08:00 (16 h) has nobody on call." in schedule_page

    # The email reaches Bob at the real SMTP server, with a link.
    assert deliver_due() == ["sent"]
    [asked] = django_smtp.messages
    assert asked["To"] == "bob@example.com"
    assert asked["Subject"] == "Can you cover Alice Chen's shift on Primary, Wed 06 May 16:00 – Thu 07 May 08:00 (16 h)?"
    assert "Why: Parents' evening" in asked.get_content()

    # Bob follows it, without signing in: the page asks, and only the button acts.
    client.logout()
    link = link_in(asked)
    shown = client.get(link)
    assert shown.status_code == 200 and "Cover Alice Chen's shift on Primary" in text_of(shown)
    assert not Override.objects.exists()
    taken = client.post(link, {"answer": "accept"})
    assert taken.status_code == 200
    assert "You are on call for Primary, Wed 06 May 16:00 – Thu 07 May 08:00 (16 h)." in text_of(taken)

    override = Override.objects.get()
    assert (override.user, override.start, override.end, override.created_by) == (bob, *NIGHT, bob)
    assert override.reason == "Covering Alice Chen: Parents' evening"
    assert on_call_at(primary, at(20)) == [bob]
    request.refresh_from_db()
    assert (request.status, request.answered_by, request.override) == ("accepted", bob, override)

    # Alice, Bob and the team's manager are told.
    assert deliver_due() == ["sent", "sent", "sent"]
    told = {m["To"]: m["Subject"] for m in django_smtp.messages[1:]}
    subject = "Bob Okafor covers Alice Chen's shift on Primary, Wed 06 May 16:00 – Thu 07 May 08:00 (16 h)"
    assert told == {"alice@example.com": subject, "bob@example.com": subject, "carol@example.com": subject.replace("16:00", "12:00").replace("08:00", "04:00")}

    # The link works once.
    again = client.post(link, {"answer": "accept"})
    assert again.status_code == 410 and "already accepted by Bob Okafor" in text_of(again)
    assert Override.objects.count() == 1


def test_a_request_expires_unaccepted_when_the_shift_starts(client, django_smtp, primary, alice, bob):
    cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=bob, created_by=alice)
    deliver_due()
    link = link_in(django_smtp.messages[0])
    with time_machine.travel(at(16, 1), tick=False):
        shown = client.get(link)
        assert shown.status_code == 410
        assert "This shift started at Wed 06 May 2026 16:00: it can no longer be covered through this request." in text_of(shown)
        assert client.post(link, {"answer": "accept"}).status_code == 410
    assert not Override.objects.exists() and on_call_at(primary, at(20)) == [alice]


def test_an_explicit_expiry_closes_it_earlier(primary, alice, bob):
    request = cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=bob, expires_at=at(14), created_by=alice)
    with time_machine.travel(at(14), tick=False), pytest.raises(CoverRefused, match="This request expired at Wed 06 May 2026 14:00"):
        cover.accept(request.pk, by=bob)
    with pytest.raises(CoverRefused, match="expires at the latest when the shift starts"):
        cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], expires_at=at(17), created_by=alice)


def test_a_shift_under_way_is_offered_for_what_is_left_of_it(primary, alice, bob):
    # Bob has been on call since 08:00 UTC (09:00 London); at 12:00 he asks for the rest of his day.
    request = cover.request_cover(primary, user=bob, start=at(8), end=at(16), asked=alice, created_by=bob)
    assert (request.start, request.expires_at) == (NOW, at(16))
    with time_machine.travel(at(13), tick=False):
        override = cover.accept(request.pk, by=alice)
    assert (override.start, override.end) == (at(13), at(16))
    assert on_call_at(primary, at(12, 30)) == [bob] and on_call_at(primary, at(14)) == [alice]


def test_bob_declines_and_alice_is_told(client, django_smtp, primary, alice, bob):
    cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=bob, created_by=alice)
    deliver_due()
    link = link_in(django_smtp.messages[0])
    declined = client.post(link, {"answer": "decline"})
    assert declined.status_code == 200 and "You declined. Alice Chen has been told." in text_of(declined)
    assert CoverRequest.objects.get().status == "declined" and not Override.objects.exists()
    assert deliver_due() == ["sent"]
    told = django_smtp.messages[1]
    assert told["To"] == "alice@example.com" and told["Subject"].startswith("Bob Okafor cannot cover your shift on Primary")
    assert client.post(link, {"answer": "accept"}).status_code == 410


def test_only_the_named_colleague_may_take_it(client, primary, alice, bob, carol):
    request = cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=bob, created_by=alice)
    with pytest.raises(CoverRefused, match="Only Bob Okafor was asked to cover this shift."):
        cover.accept(request.pk, by=carol)
    # Carol's own signed link (as if forwarded one) is refused the same way.
    forged = cover.link_for(request, carol).split("/oncall/", 1)[1]
    refused = client.post(f"/oncall/{forged}", {"answer": "accept"})
    assert refused.status_code == 403 and "Only Bob Okafor was asked" in text_of(refused)
    tampered = client.get(f"/oncall/{forged[:-3]}x/")
    assert tampered.status_code == 400 and "This link is not valid" in text_of(tampered)
    assert not Override.objects.exists()


def test_an_open_request_goes_to_everyone_on_the_schedule(client, django_smtp, primary, alice, bob, carol):
    request = cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], created_by=alice)
    assert deliver_due() == ["sent"]
    assert [m["To"] for m in django_smtp.messages] == ["bob@example.com"]  # not Alice herself, not Carol (not on it)
    with pytest.raises(CoverRefused, match="Only people on Primary's rotations can cover this shift."):
        cover.accept(request.pk, by=carol)
    with pytest.raises(CoverRefused, match="nothing to decline"):
        cover.decline(request.pk, by=bob)
    assert cover.accept(request.pk, by=bob).user == bob


def test_what_cannot_be_asked(primary, alice, bob, carol, settings):
    with pytest.raises(CoverRefused) as refused:
        cover.request_cover(primary, user=alice, start=at(12), end=at(20), created_by=alice)
    assert refused.value.errors == {"start": "Alice Chen is not on call for all of now – Wed 06 May 20:00 (8 h) on Primary: Bob Okafor is for part of it."}
    with pytest.raises(CoverRefused, match="is not on Primary's rotations"):
        cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=carol, created_by=alice)
    with pytest.raises(CoverRefused, match="already over"):
        cover.request_cover(primary, user=alice, start=at(1), end=at(2), created_by=alice)
    settings.VIGIL_MAX_OVERRIDE_DAYS = 0
    with pytest.raises(CoverRefused, match="An override lasts at most 0 days"):
        cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], created_by=alice)
    assert not CoverRequest.objects.exists()


def test_a_responder_asks_only_for_his_own_shifts_and_a_manager_for_anyones(client, primary, alice, bob, carol):
    client.force_login(bob)
    form = client.get(ADD).context["adminform"].form
    assert list(form.fields["user"].queryset) == [bob]
    data = {
        "schedule": primary.pk, "user": alice.pk, "start_0": "2026-05-06", "start_1": "16:00",
        "end_0": "2026-05-07", "end_1": "08:00", "_save": "Save",
    }
    assert "Select a valid choice" in text_of(client.post(ADD, data))
    with pytest.raises(CoverRefused, match="You can ask for cover of your own shifts only"):
        cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], created_by=bob)
    # Responders may not edit or delete requests, nor add overrides.
    assert not bob.has_perm("oncall.change_coverrequest") and not bob.has_perm("oncall.add_override")
    assert not CoverRequest.objects.exists()

    client.force_login(carol)  # a manager, asking on Alice's behalf
    response = client.post(ADD, {**data, "start_1": "12:00", "end_1": "04:00"})  # Carol's zone is New York
    assert response.status_code == 302
    request = CoverRequest.objects.get()
    assert (request.user, request.created_by, request.start) == (alice, carol, NIGHT[0])


def test_the_requester_takes_it_back_in_the_admin_and_bob_answers_there(client, primary, alice, bob):
    request = cover.request_cover(primary, user=alice, start=NIGHT[0], end=NIGHT[1], asked=bob, created_by=alice)
    client.force_login(bob)
    page = client.get(reverse("admin:oncall_coverrequest_change", args=[request.pk]))
    assert page.context["may_accept"] and page.context["may_decline"] and not page.context["may_cancel"]
    answered = client.post(reverse("admin:oncall_coverrequest_answer", args=[request.pk, "accept"]), follow=True)
    assert "You are on call for this window now; everyone concerned has been told." in text_of(answered)
    assert on_call_at(primary, at(20)) == [bob]

    other = cover.request_cover(primary, user=bob, start=at(8, day=7), end=at(16, day=7), created_by=bob)
    client.force_login(alice)
    assert client.get(reverse("admin:oncall_coverrequest_change", args=[other.pk])).context["may_cancel"] is False
    client.force_login(bob)
    client.post(reverse("admin:oncall_coverrequest_answer", args=[other.pk, "cancel"]))
    other.refresh_from_db()
    assert other.status == "cancelled"


@pytest.mark.parametrize("size", [2, 12])
def test_the_request_list_runs_a_fixed_number_of_queries(client, primary, alice, bob, size, django_assert_max_num_queries):
    for day in range(size):
        CoverRequest.objects.create(
            schedule=primary, user=alice, asked=bob, start=at(16, day=7 + day), end=at(20, day=7 + day),
            expires_at=at(16, day=7 + day), created_by=alice,
        )
    client.force_login(bob)  # a responder: the list is narrowed to what concerns him
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:oncall_coverrequest_changelist"))
    assert response.status_code == 200 and len(response.context["cl"].result_list) == size
    assert "If nobody takes this, Thu 07 May 16:00 – Thu 07 May 20:00 (4 h) has nobody on call." in text_of(response)
