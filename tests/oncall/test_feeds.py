"""iCalendar feeds: a secret URL per person or schedule that calendar apps subscribe to."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from oncall import feeds
from oncall.models import CalendarFeed, Layer
from tests.oncall.factories import CalendarFeedFactory, LayerFactory, OverrideFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 5, 6, 12, 0, tzinfo=UTC)  # a Wednesday


def feed_url(token: str) -> str:
    return reverse("oncall:calendar_feed", args=[token])


def events(response) -> list:
    return Calendar.from_ical(response.content).walk("VEVENT")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Chen")


@pytest.fixture
def primary(alice):
    """Alice and Bob alternate daily at 09:00 London; Alice's first shift starts 4 May."""
    schedule = ScheduleFactory(name="Primary", time_zone="Europe/London")
    LayerFactory(
        schedule=schedule, name="Daily", rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 5, 4),
        members=[alice, UserFactory(username="bob", first_name="Bob", last_name="Okafor")],
    )
    return schedule


def test_a_new_feed_gives_its_token_once_and_keeps_only_its_hash(alice):
    feed, token = feeds.create_feed(user=alice, created_by=alice)
    feed.refresh_from_db()
    assert len(token) >= 40
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert feed.token_prefix == token[:8]
    stored = [str(value) for value in CalendarFeed.objects.filter(pk=feed.pk).values().get().values()]
    assert not any(token in value for value in stored)
    assert feeds.active_feed(token) == feed


def test_the_feed_url_needs_no_login_and_serves_parseable_icalendar(client, alice, primary):
    _, token = feeds.create_feed(schedule=primary)
    with time_machine.travel(NOW, tick=False):
        response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert str(calendar["X-WR-CALNAME"]) == "On call: Primary"
    found = calendar.walk("VEVENT")
    # 4 May 09:00 BST (feed starts 14 days back, before the rotation) … 90 days ahead.
    assert found[0].decoded("DTSTART") == dt.datetime(2026, 5, 4, 8, tzinfo=UTC)
    assert str(found[0]["SUMMARY"]) == "On call: Primary (Alice Chen)"
    assert str(found[1]["SUMMARY"]) == "On call: Primary (Bob Okafor)"
    for event in found:
        assert event["UID"] and event.decoded("DTSTAMP") == NOW
        assert event["DTSTART"].to_ical().endswith(b"Z") and event["DTEND"].to_ical().endswith(b"Z")
    assert len({str(e["UID"]) for e in found}) == len(found)
    assert found[-1].decoded("DTEND") == NOW + feeds.FEED_AHEAD
    assert b"\r\nDTSTART:20260504T080000Z\r\n" in response.content  # UTC on the wire


def test_a_persons_feed_covers_every_schedule_and_marks_overrides(client, alice, primary):
    database = ScheduleFactory(name="Database", time_zone="America/New_York")
    LayerFactory(schedule=database, business_hours=True, members=[UserFactory(username="carol")])
    OverrideFactory(
        schedule=database, user=alice, start=dt.datetime(2026, 5, 7, 16, tzinfo=UTC), end=dt.datetime(2026, 5, 7, 18, tzinfo=UTC),
        reason="Holiday cover", created_by=UserFactory(username="mgr", first_name="Mina", last_name="Grey"),
    )
    feed = CalendarFeedFactory(user=alice, token="alice-token-1234567890")
    with time_machine.travel(NOW, tick=False):
        response = client.get(feed_url("alice-token-1234567890"))
    summaries = [(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in events(response)]
    assert ("On call: Database (Alice Chen)", dt.datetime(2026, 5, 7, 16, tzinfo=UTC)) in summaries
    assert summaries[0] == ("On call: Primary (Alice Chen)", dt.datetime(2026, 5, 4, 8, tzinfo=UTC))
    assert {s for s, _ in summaries} == {"On call: Primary (Alice Chen)", "On call: Database (Alice Chen)"}
    override = next(e for e in events(response) if "Database" in str(e["SUMMARY"]))
    assert "Override by Mina Grey: Holiday cover" in str(override["DESCRIPTION"])
    feed.refresh_from_db()
    assert feed.last_used_at == NOW


def test_revoked_unknown_and_replaced_tokens_are_404(client, alice, primary):
    old, old_token = feeds.create_feed(user=alice)
    new, new_token = feeds.create_feed(user=alice)  # a new URL for the same person ends the old one
    old.refresh_from_db()
    assert old.revoked_at is not None and new.revoked_at is None
    assert client.get(feed_url(old_token)).status_code == 404
    assert client.get(feed_url("not-a-token")).status_code == 404
    assert client.get(feed_url(new_token)).status_code == 200
    assert feeds.revoke_feeds(CalendarFeed.objects.filter(pk=new.pk)) == 1
    assert client.get(feed_url(new_token)).status_code == 404
    assert client.post(feed_url(new_token)).status_code == 405


def test_a_feed_is_for_a_person_or_a_schedule(alice, primary):
    with pytest.raises(ValueError):
        feeds.create_feed(user=alice, schedule=primary)
    with pytest.raises(ValueError):
        feeds.create_feed()


def test_feeds_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries, alice):
    for n in range(5):
        schedule = ScheduleFactory()
        LayerFactory(schedule=schedule, rotation=Layer.Rotation.DAILY, start_date=dt.date(2026, 4, 1), members=[alice, UserFactory()])
        LayerFactory(schedule=schedule, business_hours=True, members=[UserFactory(), alice])
        OverrideFactory(schedule=schedule, user=alice, start=NOW + dt.timedelta(days=n), end=NOW + dt.timedelta(days=n, hours=3))
    CalendarFeedFactory(user=alice, token="alice-token-1234567890")
    CalendarFeedFactory(user=None, schedule=schedule, token="schedule-token-1234567890")
    with time_machine.travel(NOW, tick=False):
        # The feed, then the person's schedules, layers, members and overrides, then "last used".
        with django_assert_max_num_queries(6):
            response = client.get(feed_url("alice-token-1234567890"))
        assert len(events(response)) > 50
        with django_assert_max_num_queries(5):
            assert client.get(feed_url("schedule-token-1234567890")).status_code == 200
