"""The call bridge: a per-service or global URL template, stamped on the incident at declaration,
refused in the service form when it would not make a link; and the war-room record actions."""

import pytest
from django.core.exceptions import ValidationError

from incidents import actions, bridge
from incidents.models import Source, TimelineEvent
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory

Kind = TimelineEvent.Kind


@pytest.mark.parametrize(
    "template, error",
    [
        ("https://meet.jit.si/acme-{ref}", "Unknown placeholder {ref}"),
        ("https://meet.jit.si/acme-{reference", "Braces must pair up"),
        ("meet.jit.si/{reference}", "start with https://"),
        ("javascript:alert({number})", "start with https://"),
    ],
)
def test_a_template_that_would_not_make_a_link_is_refused(template, error):
    with pytest.raises(ValidationError) as refused:
        bridge.validate_template(template)
    assert error in refused.value.messages[0]


def test_templates_name_the_incident():
    bridge.validate_template("https://zoom.example.com/j/{number}?room={slug}&t={reference}")
    assert bridge.render("https://meet.jit.si/acme-{reference}", 42) == "https://meet.jit.si/acme-INC-42"
    assert bridge.render("https://x.example/{slug}/{number}", 7) == "https://x.example/inc-7/7"


@pytest.mark.django_db
def test_the_service_form_shows_the_template_error_on_its_field():
    service = ServiceFactory(call_bridge_url="https://meet.jit.si/{room}")
    with pytest.raises(ValidationError) as refused:
        service.full_clean()
    assert "call_bridge_url" in refused.value.message_dict


@pytest.mark.django_db
def test_declare_stamps_the_service_bridge_before_the_global_one(settings):
    settings.VIGIL_CALL_BRIDGE_URL = "https://meet.jit.si/global-{reference}"
    user = UserFactory()
    with_bridge = ServiceFactory(name="Payments", call_bridge_url="https://zoom.example.com/payments/{number}")
    plain = ServiceFactory(name="Checkout")
    incident = actions.declare(title="Card auth failing", severity=severity("SEV-1"), services=[plain, with_bridge], actor=user, source=Source.ADMIN)
    incident.refresh_from_db()
    assert incident.call_bridge_url == f"https://zoom.example.com/payments/{incident.number}"

    other = actions.declare(title="Search slow", severity=severity("SEV-3"), services=[plain], actor=user, source=Source.ADMIN)
    other.refresh_from_db()
    assert other.call_bridge_url == f"https://meet.jit.si/global-INC-{other.number}"

    # Changing the templates later never moves a running incident's bridge.
    settings.VIGIL_CALL_BRIDGE_URL = ""
    other.refresh_from_db()
    assert other.call_bridge_url.endswith(f"INC-{other.number}")


@pytest.mark.django_db
def test_no_template_no_bridge(settings):
    settings.VIGIL_CALL_BRIDGE_URL = ""
    incident = actions.declare(title="Disk full", severity=severity("SEV-4"), actor=UserFactory(), source=Source.ADMIN)
    incident.refresh_from_db()
    assert incident.call_bridge_url == ""


@pytest.mark.django_db
def test_the_gravest_two_severities_open_war_rooms_by_default():
    assert [(s.name, s.opens_war_room) for s in (severity(f"SEV-{n}") for n in (1, 2, 3, 4))] == [
        ("SEV-1", True), ("SEV-2", True), ("SEV-3", False), ("SEV-4", False)
    ]


@pytest.mark.django_db
def test_the_war_room_record_actions_say_it_on_the_timeline():
    incident = IncidentFactory()
    actions.record_war_room_opened(incident, name="inc-7-checkout", url="https://acme.slack.com/archives/C1")
    actions.record_war_room_failure(incident, "could not open the war room: Slack answered ratelimited")
    incident.refresh_from_db()
    actions.record_war_room_archived(incident)
    assert (incident.war_room_name, incident.war_room_url) == ("inc-7-checkout", "https://acme.slack.com/archives/C1")
    events = list(incident.timeline.order_by("pk").values_list("kind", "message"))[-3:]
    assert events == [
        (Kind.WAR_ROOM_OPENED, "War room opened: #inc-7-checkout"),
        (Kind.WAR_ROOM_FAILED, "could not open the war room: Slack answered ratelimited"),
        (Kind.WAR_ROOM_ARCHIVED, "War room #inc-7-checkout archived"),
    ]
