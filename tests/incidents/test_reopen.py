"""Reopening is an event of its own: a new acknowledge round, paged and chased by the engine.

Default policy (oncall/seed.py): level 1 on-call engineer, 2 team lead, 3 engineering manager,
4 director; SEV-1 delays 0 / 15 min / 30 min / 1 h, acknowledge SLA 5 min, three re-paging
rounds. Pages are checked where they land: the events are dispatched by the outbox and the
Notification rows asserted.
"""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.urls import reverse

from comms import acks, chat, outbox
from comms.models import MessageKind, Notification
from incidents import actions
from incidents.errors import IllegalTransition
from incidents.forms.lifecycle import AcknowledgeForm
from incidents.models import Deadline, Source, Status, TimelineEvent
from postmortems import metrics
from tests.comms.delivery import dispatch_all
from tests.incidents.engine_clock import T0, at, run
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory, staff_default_policy

Kind = TimelineEvent.Kind
ADMIN = Source.ADMIN


@pytest.fixture
def people(db):
    """One person per level of the default policy, and a commander on none of them."""
    staff = {username: UserFactory(username=username, responder=True) for username in ["oncall", "lead", "em", "director"]}
    staff_default_policy(*staff.values())
    staff["ic"] = UserFactory(username="ic")
    return staff


def pages_to(user, after=None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user, kind=MessageKind.PAGE, channel="email").order_by("pk")
    if after is not None:
        rows = rows.filter(event__occurred_at__gte=after)
    return list(rows)


def repages_after(incident, moment) -> list[tuple[timedelta, str]]:
    rows = incident.timeline.filter(kind=Kind.ACK_SLA_BREACHED, occurred_at__gte=moment).order_by("occurred_at")
    return [(e.occurred_at - moment, e.message) for e in rows]


def escalated_after(incident, moment) -> list[tuple[int, str, list[str]]]:
    rows = incident.timeline.filter(kind=Kind.ESCALATED, occurred_at__gte=moment).order_by("occurred_at", "pk")
    return [(e.data["level"], e.data["reason"], [t["username"] for t in e.data["targets"]]) for e in rows]


def sev1_resolved_then_reopened(people, *, acknowledged_at=2, resolved_at=20, reopened_at=25, reopened_by="ic"):
    """SEV-1 declared at T0 and worked by the engine, acknowledged by the on-call engineer
    (or not), resolved, then reopened — all at the minutes given."""
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=people["ic"], commander=people["ic"])
    run(0, acknowledged_at or resolved_at - 1)
    if acknowledged_at:
        with at(acknowledged_at):
            actions.acknowledge(incident, actor=people["oncall"], source=Source.CHAT)
        run(acknowledged_at, resolved_at - 1)
    with at(resolved_at):
        actions.resolve(incident, actor=people["ic"], source=ADMIN, summary="Rolled back")
    with at(reopened_at):
        incident = actions.reopen(incident, actor=people[reopened_by], source=ADMIN, reason="Errors are back")
    return incident


@pytest.mark.django_db
def test_reopening_pages_level_one_again_and_acknowledging_stops_the_re_pages(people):
    incident = sev1_resolved_then_reopened(people)
    reopened = T0 + timedelta(minutes=25)
    assert incident.status == Status.INVESTIGATING and incident.reopened_at == reopened
    first_ack = incident.acknowledged_at
    assert first_ack == T0 + timedelta(minutes=2)

    # The page: an escalated event for level 1, as a new acknowledge round, delivered to the on-call engineer.
    page = incident.timeline.get(kind=Kind.ESCALATED, data__reason="reopened")
    assert page.data["page"] is True and page.data["level"] == 1
    assert [t["username"] for t in page.data["targets"]] == ["oncall"]
    assert page.message == f"Reopened: paging level 1 · On-call engineer for a new acknowledge round: {people['oncall']}"
    dispatch_all()
    assert [n.event for n in pages_to(people["oncall"], after=reopened)] == [page]
    # Paged people take part in the incident.
    assert incident.participants.filter(user=people["oncall"], left_at=None).exists()
    # The team lead, engaged at 15 min before the resolution, is not paged again.
    assert not pages_to(people["lead"], after=reopened)

    # The acknowledge link in that page acknowledges the new round.
    with at(27):
        acks.acknowledge_page(pages_to(people["oncall"])[-1])
    incident.refresh_from_db()
    assert incident.reopen_acknowledged_at == T0 + timedelta(minutes=27)
    assert incident.acknowledged_at == first_ack  # the first acknowledgement stands for MTTA
    assert incident.time_to_acknowledge == timedelta(minutes=2)
    ack = incident.timeline.filter(kind=Kind.ACKNOWLEDGED).order_by("-occurred_at", "-pk").first()
    assert ack.message == f"{people['oncall']} acknowledged reopened {incident.reference} (2 min after the reopen)"
    assert ack.data == {"round": "reopened", "seconds_since_reopen": 120}
    assert [m.duration for m in metrics.metrics(incident) if m.name == "Time to acknowledge"] == [timedelta(minutes=2)]

    # Once taken, the round is not re-paged; the matrix goes on (level 3 at 30 min, level 4 at 1 h).
    run(27, 65)
    assert repages_after(incident, reopened) == []
    assert escalated_after(incident, reopened + timedelta(seconds=1)) == [
        (3, "on schedule", ["em"]),
        (4, "on schedule", ["director"]),
    ]
    with pytest.raises(IllegalTransition, match="already acknowledged after it was reopened"):
        actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)


@pytest.mark.django_db
def test_an_unacknowledged_reopen_is_re_paged_for_a_full_round_counted_from_the_reopen(people):
    # Never acknowledged before the resolution: two re-pages fired (5 and 10 min), engaging
    # levels 2 and 3 early.
    incident = sev1_resolved_then_reopened(people, acknowledged_at=None, resolved_at=12, reopened_at=20)
    reopened = T0 + timedelta(minutes=20)
    assert escalated_after(incident, T0) == [
        (1, "on schedule", ["oncall"]),
        (2, "acknowledge SLA breached", ["lead"]),
        (3, "acknowledge SLA breached", ["em"]),
        (1, "reopened", ["oncall"]),
    ]
    run(20, 45)

    # The loop count applies again: three rounds, every 5 min from the reopen.
    repaged = repages_after(incident, reopened)
    assert [when for when, _ in repaged] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=15)]
    assert repaged[0][1] == (
        "Not acknowledged 5 min after the reopen (SEV-1 acknowledge SLA: 5 min): "
        f"paging level 1 again ({people['oncall']}), round 1 of 3"
    )
    # Early engagement resumes with the next level not yet engaged; engaged ones stay engaged.
    assert escalated_after(incident, reopened + timedelta(seconds=1)) == [(4, "acknowledge SLA breached", ["director"])]
    dispatch_all()
    assert len(pages_to(people["oncall"], after=reopened)) == 4  # the reopen page and three re-pages
    assert not pages_to(people["lead"], after=reopened) and not pages_to(people["em"], after=reopened)

    # Acknowledging through the admin's operation still works after the rounds ran out.
    with at(46):
        incident = actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)
    assert incident.reopen_acknowledged_at == T0 + timedelta(minutes=46)
    assert incident.acknowledged_at is not None and incident.time_to_acknowledge == timedelta(minutes=20)


@pytest.mark.django_db
def test_reopened_by_the_on_call_engineer_pages_nobody_and_says_why(people):
    incident = sev1_resolved_then_reopened(people, reopened_by="oncall")
    reopened = T0 + timedelta(minutes=25)

    event = incident.timeline.get(kind=Kind.REOPENED)
    assert event.message == (
        f"{people['oncall']} reopened {incident.reference}: Errors are back. Not paging level 1 · On-call engineer: "
        f"{people['oncall']} is who it would page, and takes the new round"
    )
    assert not incident.timeline.filter(kind=Kind.ESCALATED, data__reason="reopened").exists()
    assert incident.reopen_acknowledged_at == reopened  # taken by whoever reopened it
    run(25, 45)
    dispatch_all()
    assert repages_after(incident, reopened) == []
    assert not pages_to(people["oncall"], after=reopened)
    with pytest.raises(IllegalTransition, match="already acknowledged"):
        actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)


@pytest.mark.django_db
def test_the_chat_command_and_the_admin_acknowledge_a_reopened_incident(people):
    incident = sev1_resolved_then_reopened(people)
    # The admin offers "Acknowledge" again while the new round waits.
    assert AcknowledgeForm(incident=incident).offered
    with at(30):
        # The on-call engineer was paged, so takes part and may respond.
        reply = chat.execute(chat.parse(f"ack {incident.reference}"), people["oncall"])
    assert "acknowledged" in str(reply.as_slack()) and "5 min after it was reopened" in str(reply.as_slack())
    incident.refresh_from_db()
    assert incident.reopen_acknowledged_at == T0 + timedelta(minutes=30) and not incident.awaiting_acknowledgement
    assert not AcknowledgeForm(incident=incident).offered
    assert acks.standing(incident, viewer=people["oncall"]).startswith(f"{incident.reference} was acknowledged by {people['oncall']}")


@pytest.mark.django_db
def test_resolve_and_reopen_twice_keeps_one_deadline_row_per_planned_deadline(people, client):
    with at(0):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=people["ic"], commander=people["ic"])
    run(0, 6)  # level 1 paged, first acknowledge round fired (level 2 early)
    for minute, step in [(7, "resolve"), (8, "reopen"), (9, "resolve"), (10, "reopen")]:
        with at(minute):
            if step == "resolve":
                actions.resolve(incident, actor=people["ic"], source=ADMIN, summary="Fixed")
            else:
                actions.reopen(incident, actor=people["ic"], source=ADMIN, reason="Back again")
    keys = list(incident.deadlines.values_list("kind", "level", "round"))
    assert len(keys) == len(set(keys)), sorted(keys)
    # Each cancelled-then-revived row keeps its story.
    resolve_row = incident.deadlines.get(kind=Deadline.Kind.RESOLVE_BREACHED)
    assert resolve_row.cancelled_at is None and resolve_row.fired_at is None
    assert resolve_row.note == (
        "resolved 2026-03-03 10:07, reopened 2026-03-03 10:08, resolved 2026-03-03 10:09, reopened 2026-03-03 10:10"
    )
    assert resolve_row.due_at == T0 + timedelta(hours=1)

    # The incident page's deadline table lists each planned deadline once.
    client.force_login(UserFactory(username="root", superuser=True))
    html = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    table = html[html.index('id="deadlines"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr class=\"vigil-deadline-") == len(keys)
    assert table.count("Resolve target") == 1


@pytest.mark.django_db
def test_the_incident_page_acknowledges_a_reopened_incident_and_shows_both_rounds(people, client):
    incident = sev1_resolved_then_reopened(people)
    # A reopen restarts the update cadence, as an update does (SEV-1: every 15 min).
    update_row = incident.deadlines.get(kind=Deadline.Kind.UPDATE_OVERDUE, fired_at=None, cancelled_at=None)
    assert update_row.due_at == T0 + timedelta(minutes=25 + 15)

    client.force_login(UserFactory(username="root", superuser=True))
    page = reverse("admin:incidents_incident_change", args=[incident.pk])
    assert 'id="op-acknowledge"' in client.get(page).content.decode()  # offered again for the new round
    with at(31):
        response = client.post(reverse("admin:incidents_incident_operate", args=[incident.pk, "acknowledge"]), follow=True)
    assert f"{incident.reference} acknowledged." in response.content.decode()
    incident.refresh_from_db()
    assert incident.reopen_acknowledged_at == T0 + timedelta(minutes=31)
    html = client.get(reverse("admin:incidents_incident_details", args=[incident.pk])).content.decode()
    assert "Last reopened" in html and "Acknowledged after the reopen" in html


@pytest.mark.django_db
def test_the_sla_badge_chases_the_reopen_round(people):
    from incidents import sla

    incident = sev1_resolved_then_reopened(people)
    with at(26):
        assert sla.summary(incident, now=T0 + timedelta(minutes=26), last_update_at=None).label == "on time: acknowledge after the reopen"
    assert sla.summary(incident, now=T0 + timedelta(minutes=31), last_update_at=None).label == "breached: acknowledge after the reopen"
    with at(32):
        incident = actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)
    # Then the next target is the update the reopen asked for (15 min after it), then the resolve target.
    assert sla.summary(incident, now=T0 + timedelta(minutes=33), last_update_at=None).target.name == "status update"


@pytest.mark.django_db
def test_a_working_hours_level_is_not_paged_by_a_reopen_at_the_weekend(people):
    # SEV-3 pages the on-call engineer in working hours only (Mon–Fri 09:00–17:00 UTC by default).
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel(friday, tick=False):
        incident = IncidentFactory(severity=severity("SEV-3"), actor=people["ic"], commander=people["ic"], acknowledged=True)
        actions.resolve(incident, actor=people["ic"], source=ADMIN, summary="Fixed")
    with time_machine.travel(friday + timedelta(days=1), tick=False):
        incident = actions.reopen(incident, actor=people["ic"], source=ADMIN, reason="Back on Saturday")
    reopened = incident.timeline.get(kind=Kind.REOPENED)
    assert reopened.message.endswith(
        "Not paging level 1 · On-call engineer now: it is paged in working hours only, not before 2026-03-09 09:00 UTC"
    )
    assert reopened.data["paged"] is False
    assert not incident.timeline.filter(kind__in=[Kind.ESCALATED, Kind.NOBODY_TO_PAGE], data__reason="reopened").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("acknowledged_again", [False, True])
def test_the_reopen_pages_sms_follows_the_new_round_not_the_first_acknowledgement(people, settings, acknowledged_again):
    """The on-call engineer acknowledged the first round; the reopen's delayed SMS ("after 2 min
    if still unacknowledged") goes out unless the reopen round itself is acknowledged in time."""
    from tests.comms import recording
    from tests.comms.factories import ContactMethodFactory

    settings.VIGIL_SMS_BACKEND = "tests.comms.recording.RecordingSMSBackend"
    recording.reset()
    ContactMethodFactory(user=people["oncall"], channel="sms", address="+447400123456")
    incident = sev1_resolved_then_reopened(people)  # acknowledged at 2 min, reopened at 25
    with at(25):
        dispatch_all()
    page = incident.timeline.get(kind=Kind.ESCALATED, data__reason="reopened")
    sms = Notification.objects.get(event=page, recipient=people["oncall"], channel="sms")
    assert sms.status == Notification.Status.PENDING and sms.send_after == T0 + timedelta(minutes=27)
    if acknowledged_again:
        with at(26):
            actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)
    with at(27):
        outbox.deliver_many([sms.pk])
    sms.refresh_from_db()
    if acknowledged_again:
        assert sms.status == Notification.Status.SUPPRESSED and recording.SENT == []
    else:
        assert sms.status == Notification.Status.SENT
        assert [m.address for m in recording.SENT] == ["+447400123456"]


@pytest.mark.django_db
def test_levels_count_only_the_time_the_incident_ran_unresolved(people):
    """Resolved at 10 min before the team lead (15 min) was due, reopened two hours later: the
    management levels come 15, 30 and 60 minutes into the incident's unresolved time — 5, 20
    and 50 minutes after the reopen — not all at once on the first tick."""
    incident = sev1_resolved_then_reopened(people, acknowledged_at=2, resolved_at=10, reopened_at=130)
    reopened = T0 + timedelta(minutes=130)
    assert incident.time_spent_resolved == timedelta(minutes=120)
    with at(130):
        actions.acknowledge(incident, actor=people["oncall"], source=ADMIN)
    run(130, 200)
    engaged = [
        (e.occurred_at - reopened, e.data["level"], e.data["page"])
        for e in incident.timeline.filter(kind=Kind.ESCALATED, occurred_at__gt=reopened).order_by("occurred_at", "pk")
    ]
    assert engaged == [
        (timedelta(minutes=5), 2, False),
        (timedelta(minutes=20), 3, False),
        (timedelta(minutes=50), 4, False),
    ]
