"""An organisation's executive summary as its procedure words it ("Response Team: [team members
involved]", the impact, the next update in the reader's own time), configured through the admin's
forms, run with the engine's own tick under time-machine, and checked on what executives receive.

The organisation: a London team with England's bank holidays owns the default policy; SEV-2
updates every 2 hours of business hours; the Leadership group has one executive in London and one
in New York.
"""

import zoneinfo
from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from comms.models import Channel, MessageKind, MessageTemplate, Notification, StakeholderGroup
from incidents import actions, engine
from incidents.models import Participant, Source, TimelineEvent
from tests.admin_forms import english_team, save_form
from tests.comms.delivery import deliver_due, dispatch_all
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
Kind = TimelineEvent.Kind

SUMMARY = """{{ ref }} · {{ severity }} · {{ status_label }}
{{ title }}
Services: {{ services }}
Impact: about {{ users_affected_estimated|default:'an unknown number of' }} users in {{ regions|default:'no known region' }}; revenue impact {{ revenue_impact }}
Response Team: {{ response_team }}
{% for person in participants %}- {{ person.name }}, {{ person.role }}, {{ person.email }}
{% endfor %}
Updates every {{ update_interval }}; next update due {{ next_update_due|default:'when known' }}."""


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def org(db, client, mail):
    root = UserFactory(username="root", superuser=True)
    client.force_login(root)
    english_team(client)
    save_form(client, reverse("admin:incidents_severitylevel_change", args=[severity("SEV-2").pk]),
          update_interval="2 h", update_clock="business_hours")
    people = {
        "alice": UserFactory(username="alice", first_name="Alice", last_name="Smith", email="alice@example.com", time_zone="Europe/London"),
        "bob": UserFactory(username="bob", first_name="Bob", last_name="Okafor", email="bob@example.com", time_zone="Europe/London"),
        "dana": UserFactory(username="dana", first_name="Dana", last_name="Lee", email="dana@example.com", time_zone="Europe/London"),
        "nora": UserFactory(username="nora", first_name="Nora", last_name="Diaz", email="nora@example.com", time_zone="America/New_York"),
    }
    leadership = StakeholderGroup.objects.get(slug="leadership")
    save_form(client, reverse("admin:comms_stakeholdergroup_change", args=[leadership.pk]),
          members=[str(people["dana"].pk), str(people["nora"].pk)])
    summary = MessageTemplate.objects.get(kind=MessageKind.EXECUTIVE_SUMMARY, audience="executives", channel=Channel.EMAIL)
    save_form(client, reverse("admin:comms_messagetemplate_change", args=[summary.pk]), body=SUMMARY)
    return {"client": client, "summary": summary, **people}


def summaries(incident, person, event_kind) -> list[str]:
    rows = Notification.objects.filter(
        incident=incident, recipient=person, kind=MessageKind.EXECUTIVE_SUMMARY, event__kind=event_kind,
    ).order_by("pk")
    return [row.body for row in rows]


def test_the_template_page_documents_the_new_variables(org):
    page = org["client"].get(reverse("admin:comms_messagetemplate_change", args=[org["summary"].pk])).content.decode()
    for name in ("response_team", "participants", "next_update_due", "users_affected_estimated", "revenue_impact",
                 "reputation_impact", "compliance_impact", "impact_description", "regions", "services"):
        assert f"{{{{ {name} }}}}" in page, name
    assert "Alice Ng (Incident commander), Bob Smith (Technical lead)" in page  # the samples


def test_executives_read_the_response_team_and_the_next_update_in_their_own_zone(org, mail):
    alice, bob, dana, nora = org["alice"], org["bob"], org["dana"], org["nora"]
    with time_machine.travel(london(2026, 5, 22, 16, 0), tick=False):  # Friday before the Spring bank holiday
        incident = IncidentFactory(
            title="Checkout API returning errors", severity=severity("SEV-2"), actor=alice, commander=alice,
            services=[ServiceFactory(name="Checkout API", slug="checkout-api")],
        )
        dispatch_all()
        deliver_due()
    [declared] = summaries(incident, dana, Kind.DECLARED)
    assert "Response Team: Alice Smith (Incident commander)\n- Alice Smith, Incident commander, alice@example.com\n" in declared
    assert "Impact: about an unknown number of users in no known region; revenue impact None" in declared
    # The first update: 15 minutes of business hours.
    assert "next update due Fri 22 May 16:15 BST." in declared
    assert "next update due Fri 22 May 11:15 EDT." in summaries(incident, nora, Kind.DECLARED)[0]

    with time_machine.travel(london(2026, 5, 22, 16, 5), tick=False):
        actions.acknowledge(incident, actor=alice, source=Source.ADMIN)
        actions.assign_role(incident, bob, Participant.Role.TECHNICAL_LEAD, actor=alice, source=Source.ADMIN)
        actions.update_details(
            incident, actor=alice, source=Source.ADMIN, users_affected_estimated=1200, regions=["eu-west-1"], revenue_impact="high",
        )
        dispatch_all()
    with time_machine.travel(london(2026, 5, 22, 16, 15), tick=False):
        engine.tick()  # the first update is late: Alice is reminded
        dispatch_all()
    assert incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).exists()
    with time_machine.travel(london(2026, 5, 22, 16, 40), tick=False):
        actions.post_update(incident, "Failing over the ledger database.", actor=alice, source=Source.ADMIN)
        dispatch_all()
        deliver_due()

    # 2 h of business hours from Friday 16:40: 20 minutes on Friday, none over the weekend or
    # on the bank holiday, 1 h 40 min on Tuesday.
    team_lines = (
        "Response Team: Alice Smith (Incident commander), Bob Okafor (Technical lead)\n"
        "- Alice Smith, Incident commander, alice@example.com\n"
        "- Bob Okafor, Technical lead, bob@example.com\n"
    )
    expected = {
        dana: "Updates every 2 h of business hours; next update due Tue 26 May 10:40 BST.",
        nora: "Updates every 2 h of business hours; next update due Tue 26 May 05:40 EDT.",
    }
    for person, next_update in expected.items():
        [body] = summaries(incident, person, Kind.STATUS_UPDATE)
        assert body.startswith(f"{incident.reference} · SEV-2 · Investigating\nCheckout API returning errors\n")
        assert "Services: Checkout API\nImpact: about 1,200 users in eu-west-1; revenue impact High\n" in body
        assert team_lines in body and body.endswith(next_update)
        [email] = [message for message in mail if message.to == [person.email] and next_update in message.body]
        assert email.body == body
        assert email.subject == f"Executive summary: {incident.reference} SEV-2 – Checkout API returning errors"

    # The engine's next reminder is due when the executives were told, and the next summary moves on.
    with time_machine.travel(london(2026, 5, 26, 10, 40), tick=False):
        engine.tick()
        dispatch_all()
    assert incident.timeline.filter(kind=Kind.UPDATE_OVERDUE).count() == 2
    with time_machine.travel(london(2026, 5, 26, 10, 50), tick=False):
        actions.post_update(incident, "Ledger database failed over; watching.", actor=alice, source=Source.ADMIN)
        dispatch_all()
    assert summaries(incident, dana, Kind.STATUS_UPDATE)[-1].endswith("next update due Tue 26 May 12:50 BST.")
    assert summaries(incident, nora, Kind.STATUS_UPDATE)[-1].endswith("next update due Tue 26 May 07:50 EDT.")
