"""Escalations fired by level, acknowledge-SLA breaches and the pager's own latency, worked out
by hand from instants the engine and outbox really ran at."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comms.models import Channel, Notification
from comms.reports import DEFINITIONS, Period, escalations, pager_latency
from incidents import actions
from incidents.models import Deadline, Source
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import ServiceFactory
from tests.oncall.factories import TeamFactory, UserFactory

from tests.comms.delivery import dispatch_all, tick_and_dispatch

from .drive import declare, deliver, frozen, on_call, resolve, utc

T0 = utc(2026, 3, 3, 10, 0)  # a Tuesday
S = dt.timedelta(seconds=1)
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def alice(db):
    """Reached by email at once and SMS after 2 minutes if still unacknowledged (the default rules)."""
    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen", email="alice@example.com")
    ContactMethodFactory(user=alice, channel=Channel.SMS, address="+447700900001")
    on_call(alice)
    return alice


def test_pager_latency_per_channel_from_when_each_page_was_due(alice, outbox):
    # A: declared at T0, the engine fires level 1 4 s late, the email leaves at +10 s, the SMS
    # (due 2 min after the page by its rule) at +2 min 30 s.
    a = declare(T0, tick_after=4)
    deliver(T0 + 10 * S)
    deliver(T0 + 2 * MIN + 30 * S)
    resolve(a, T0 + 3 * MIN)
    # B: declared at +10 min, fired at once, email at +40 s, SMS 2 min 10 s after the page.
    b_at = T0 + 10 * MIN
    b = declare(b_at)
    deliver(b_at + 40 * S)
    deliver(b_at + 2 * MIN + 10 * S)
    resolve(b, b_at + 3 * MIN)
    # C (restricted: counted all the same): fired 2 s late, email at +20 s; acknowledged before
    # its SMS rule's 2 minutes, so no SMS.
    c_at = T0 + 20 * MIN
    c = declare(c_at, tick_after=2, is_restricted=True, title="Payroll export leaked")
    deliver(c_at + 20 * S)
    resolve(c, c_at + MIN)
    deliver(c_at + 3 * MIN)
    # A drill's page, email and SMS 7 minutes late, is left out.
    d_at = T0 + 30 * MIN
    d = declare(d_at, is_drill=True, commander=alice)
    deliver(d_at + 7 * MIN)
    resolve(d, d_at + 8 * MIN)

    sent = Notification.objects.filter(is_page=True, status=Notification.Status.SENT)
    assert sent.filter(channel=Channel.EMAIL).count() == 4 and sent.filter(channel=Channel.SMS).count() == 3

    email, sms = pager_latency(Period(T0, T0 + dt.timedelta(hours=1)))
    # Email latencies 10, 40, 20 → ordered 10, 20, 40: p50 20; p95 at rank 0.95 × 2 = 1.9,
    # 20 + 0.9 × (40 − 20) = 38.
    assert (email.channel, email.pages, email.p50_seconds, email.p95_seconds, email.max_seconds) == ("email", 3, 20, 38, 40)
    # SMS: A 150 − 120 = 30, B 130 − 120 = 10 → p50 = 20, p95 = 10 + 0.95 × 20 = 29.
    assert (sms.channel, sms.pages, sms.p50_seconds, sms.p95_seconds, sms.max_seconds) == ("sms", 2, 20, 29, 30)

    # The period counts pages by when they were sent: from +15 min only C's email (20 s).
    [late] = pager_latency(Period(T0 + 15 * MIN, T0 + dt.timedelta(hours=1)))
    assert (late.channel, late.pages, late.p50_seconds, late.p95_seconds) == ("email", 1, 20, 20)
    assert "sent_at" in DEFINITIONS["pager_latency"] and "due_at" in DEFINITIONS["pager_latency"]


def test_an_acknowledge_breach_counts_and_the_level_it_engages_early_is_due_with_the_breach(alice, outbox):
    bob = UserFactory(username="bob", email="bob@example.com")
    policy_levels = list(alice.escalation_levels.get().policy.levels.order_by("position"))
    policy_levels[1].users.set([bob])
    # Nobody acknowledges: at +5 min (SEV-1's acknowledge SLA) the tick, 3 s late, re-pages
    # Alice and engages level 2 (Bob) early; Bob's email leaves 12 s after the breach was due.
    incident = declare(T0)
    deliver(T0 + 5 * S)
    breach_due = T0 + 5 * MIN
    with frozen(breach_due + 3 * S):
        tick_and_dispatch()
    deliver(breach_due + 12 * S)
    resolve(incident, T0 + 6 * MIN)
    # A drill breaching the same way is left out.
    drill = declare(T0 + 10 * MIN, is_drill=True, commander=alice)
    with frozen(T0 + 15 * MIN + S):
        tick_and_dispatch()
    resolve(drill, T0 + 16 * MIN)

    figures = escalations(Period(T0, T0 + dt.timedelta(hours=1)))
    assert [(lvl.level, lvl.fired, lvl.incidents) for lvl in figures.by_level] == [(1, 1, 1), (2, 1, 1)]
    assert (figures.ack_sla_breaches, figures.incidents_breaching_ack_sla) == (1, 1)
    assert Deadline.objects.filter(incident=drill, kind=Deadline.Kind.ACK_TIMEOUT, fired_at__isnull=False).exists()

    to_bob = Notification.objects.get(recipient=bob, is_page=True, channel=Channel.EMAIL)
    assert to_bob.sent_at == breach_due + 12 * S
    email, sms = pager_latency(Period(T0, T0 + dt.timedelta(hours=1)))
    # Email: Alice's first page 5 s, Bob's 12 s (from the breach, not from his level's own
    # delay of 15 min, which would be negative), Alice's re-page 12 s.
    assert (email.pages, email.p50_seconds, email.p95_seconds, email.max_seconds) == (3, 12, 12, 12)
    # Alice's first SMS was due at T0 + 2 min and went out with the +5 min 12 s delivery: 192 s.
    assert (sms.pages, sms.p50_seconds, sms.max_seconds) == (1, 192, 192)


def test_a_team_sees_its_own_incidents_and_a_level_with_nobody_hands_over(db, outbox):
    on_call()  # level 1 has nobody: the engine says so and engages level 2 (a stand-in) at once
    payments = TeamFactory(name="Payments", slug="payments")
    mine = declare(T0, services=[ServiceFactory(name="Checkout API", slug="checkout", owning_team=payments)])
    deliver(T0 + 7 * S)
    resolve(mine, T0 + MIN)
    theirs = declare(T0 + 10 * MIN, tick_after=1, services=[ServiceFactory(name="Search", slug="search")])
    deliver(T0 + 10 * MIN + 30 * S)
    resolve(theirs, T0 + 11 * MIN)

    everyone = Period(T0, T0 + dt.timedelta(hours=1))
    team = Period(T0, T0 + dt.timedelta(hours=1), team=payments)
    levels = lambda figures: [(lvl.level, lvl.fired, lvl.incidents) for lvl in figures.by_level]  # noqa: E731
    assert levels(escalations(team)) == [(1, 1, 1), (2, 1, 1)]
    assert levels(escalations(everyone)) == [(1, 2, 2), (2, 2, 2)]
    [email] = pager_latency(team)
    assert (email.pages, email.p50_seconds) == (1, 7)
    [email] = pager_latency(everyone)
    assert (email.pages, email.p50_seconds, email.p95_seconds) == (2, 18.5, 28.85)  # 7 and 30: 7 + 0.95 × 23


def test_each_figure_is_one_query_however_many_rows(alice, outbox, django_assert_max_num_queries):
    period = Period(T0, T0 + dt.timedelta(hours=2))
    incident = declare(T0)
    deliver(T0 + 5 * S)
    resolve(incident, T0 + MIN)
    with django_assert_max_num_queries(2) as few:
        escalations(period), pager_latency(period)
    for n in range(1, 5):
        incident = declare(T0 + n * 10 * MIN)
        deliver(T0 + n * 10 * MIN + 2 * MIN + 5 * S)  # email and SMS
        resolve(incident, T0 + n * 10 * MIN + 3 * MIN)
    with django_assert_max_num_queries(2) as many:
        figures, latency = escalations(period), pager_latency(period)
    assert figures.by_level[0].fired == 5 and [row.pages for row in latency] == [5, 4]
    assert len(few.captured_queries) == len(many.captured_queries) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_the_period_is_read_through_the_partial_indexes(alice, outbox):
    incident = declare(T0)
    deliver(T0 + 5 * S)
    resolve(incident, T0 + MIN)
    period = Period(T0, T0 + dt.timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_deadline")
        cursor.execute("ANALYZE comms_notification")
        cursor.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as captured:
        escalations(period), pager_latency(period)
    plans = []
    for query in captured.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    fired, sent = plans
    assert "deadline_fired" in fired, fired
    assert "notification_page_sent" in sent, sent


def test_a_reopen_pages_at_once_and_its_latency_counts_from_the_reopen(alice, outbox):
    incident = declare(T0)
    deliver(T0 + 5 * S)
    resolve(incident, T0 + MIN)
    reopened_at = T0 + 30 * MIN
    with frozen(reopened_at):
        actions.reopen(incident, actor=None, source=Source.SYSTEM, reason="Errors are back")
        dispatch_all()
    deliver(reopened_at + 9 * S)
    resolve(incident, reopened_at + MIN)

    # 5 s for the first page (due when declared), 9 s for the reopen's (due when reopened).
    email, *_ = pager_latency(Period(T0, T0 + dt.timedelta(hours=1)))
    assert (email.pages, email.p50_seconds, email.max_seconds) == (2, 7, 9)
