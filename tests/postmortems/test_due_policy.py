"""Post-mortem due dates as a procedure writes them, configured through the admin as an organisation
would, with the incident run under time-machine, and checked on the post-mortem's dates, the
reminders people receive (outbox rows) and the overdue figures of the admin and the API.

The organisation: a London team with England's bank holidays, owning the default policy; its
procedure says of SEV-1 "post-mortem draft within 48 hours, review 3 business days after the
draft, published within 5 business days of the draft". The incident is resolved on the Thursday
before Easter (Good Friday 3 April, Easter Monday 6 April 2026).
"""

import zoneinfo
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from comms import outbox
from comms.models import Channel, MessageKind, Notification
from incidents import actions
from incidents.models import Source, TimelineEvent
from postmortems import actions as postmortem_actions
from postmortems import tasks
from postmortems.models import PostMortem
from tests.admin_forms import english_team, save_form
from tests.api.keys import auth
from tests.comms.factories import ContactMethodFactory
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def org(client):
    """Configured through the admin pages: the team's zone and holidays, SEV-1's post-mortem policy."""
    root = UserFactory(username="root", superuser=True)
    client.force_login(root)
    english_team(client)
    save_form(
        client, reverse("admin:incidents_severitylevel_change", args=[severity("SEV-1").pk]),
        postmortem_draft_due="48", postmortem_draft_unit="hours",
        postmortem_review_due="3", postmortem_review_unit="business_days",
        postmortem_publish_due="5", postmortem_publish_unit="business_days",
    )
    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen", time_zone="Europe/London")
    ContactMethodFactory(user=alice, channel=Channel.CHAT)
    return {"client": client, "root": root, "alice": alice}


def dispatch():
    ids = list(TimelineEvent.objects.filter(dispatched_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    outbox.dispatch_events(ids)


def remind_at(moment) -> list[Notification]:
    """Beat's daily reminder task at `moment`, then comms' dispatch: the reminders that went out."""
    before = set(Notification.objects.values_list("pk", flat=True))
    with time_machine.travel(moment, tick=False):
        tasks.send_due_reminders()
        dispatch()
    sent = Notification.objects.filter(kind=MessageKind.POSTMORTEM_REMINDER).exclude(pk__in=before)
    return list(sent.select_related("recipient", "event").order_by("channel"))


def overdue_in_admin(client, moment) -> list[PostMortem]:
    with time_machine.travel(moment, tick=False):
        response = client.get(reverse("admin:postmortems_postmortem_changelist"), {"overdue": "yes"})
    return list(response.context["cl"].result_list)


def overdue_in_the_api(client, user, moment) -> list[str]:
    with time_machine.travel(moment, tick=False):
        response = client.get("/api/v1/postmortems?overdue=true", **auth(user, "read"))
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["items"]]


def test_a_sev1_resolved_before_a_bank_holiday_weekend_follows_the_procedures_due_dates(org):
    client, alice = org["client"], org["alice"]
    assert severity("SEV-1").postmortem_due_text == "draft 48 hours · review +3 business days · published +5 business days"
    with time_machine.travel(london(2026, 4, 2, 11, 0), tick=False):
        incident = IncidentFactory(severity=severity("SEV-1"), actor=alice, commander=alice, acknowledged=True)
    with time_machine.travel(london(2026, 4, 2, 15, 0), tick=False):  # Thursday before Easter
        actions.resolve(incident, actor=alice, source=Source.ADMIN, summary="Rolled back the bad deploy")
        dispatch()

    postmortem = PostMortem.objects.get(incident=incident)
    # Draft: 48 hours on the clock, Saturday 15:00. Review and publication: business days after
    # Saturday on the team's calendar, Easter Monday skipped — Tuesday 7, Wednesday 8, Thursday 9
    # for the review; and Friday 10, Monday 13 for the publication.
    assert (postmortem.owner, postmortem.draft_due, postmortem.review_due, postmortem.publish_due) == (
        alice, date(2026, 4, 4), date(2026, 4, 9), date(2026, 4, 13)
    )

    # Good Friday's run: the draft is due the next day; Alice hears by email and chat.
    sent = remind_at(london(2026, 4, 3, 9, 0))
    assert [(n.recipient, n.channel) for n in sent] == [(alice, Channel.CHAT), (alice, Channel.EMAIL)]
    assert sent[0].event.message == f"Post-mortem of {incident.reference}: the draft is due 4 Apr 2026 (tomorrow)."
    assert "Due: 4 Apr 2026" in sent[1].body
    assert remind_at(london(2026, 4, 3, 9, 30)) == []  # once a day

    # Saturday: due today, not overdue yet; Sunday: overdue, in the admin's filter and the API's.
    assert overdue_in_admin(client, london(2026, 4, 4, 12, 0)) == []
    assert "(today)" in remind_at(london(2026, 4, 4, 9, 0))[0].event.message
    assert overdue_in_admin(client, london(2026, 4, 5, 12, 0)) == [postmortem]
    assert overdue_in_the_api(client, org["root"], london(2026, 4, 5, 12, 0)) == [incident.reference]
    [late, _] = remind_at(london(2026, 4, 5, 9, 0))
    assert late.event.data["reminder"] == "postmortem_overdue"
    assert late.event.message == f"Post-mortem of {incident.reference}: the draft was due 4 Apr 2026 (yesterday)."

    # In review from Tuesday it waits for publication, due Monday 13: the last working day before
    # the weekend (Friday 10) reminds of it, and nothing is overdue until Tuesday 14.
    with time_machine.travel(london(2026, 4, 7, 10, 0), tick=False):
        postmortem_actions.submit_for_review(postmortem, actor=alice, source=Source.ADMIN)
        dispatch()
    assert remind_at(london(2026, 4, 9, 9, 0)) == []
    [chat, _] = remind_at(london(2026, 4, 10, 9, 0))
    assert chat.event.message == f"Post-mortem of {incident.reference}: the publication is due 13 Apr 2026 (in 3 days)."
    assert overdue_in_admin(client, london(2026, 4, 13, 12, 0)) == []
    assert overdue_in_the_api(client, org["root"], london(2026, 4, 13, 12, 0)) == []
    assert overdue_in_admin(client, london(2026, 4, 14, 12, 0)) == [postmortem]
    assert overdue_in_the_api(client, org["root"], london(2026, 4, 14, 12, 0)) == [incident.reference]


def test_severities_left_alone_keep_todays_due_dates(org):
    """SEV-2 was not changed: 5 business days to the draft, review 2 and publication 5 after it —
    now on the team's calendar, so Easter is skipped too."""
    alice = org["alice"]
    with time_machine.travel(london(2026, 4, 2, 11, 0), tick=False):
        incident = IncidentFactory(severity=severity("SEV-2"), actor=alice, commander=alice, acknowledged=True)
    with time_machine.travel(london(2026, 4, 2, 15, 0), tick=False):
        actions.resolve(incident, actor=alice, source=Source.ADMIN, summary="Fixed")
    postmortem = PostMortem.objects.get(incident=incident)
    assert (postmortem.draft_due, postmortem.review_due, postmortem.publish_due) == (
        date(2026, 4, 13), date(2026, 4, 15), date(2026, 4, 20)
    )
