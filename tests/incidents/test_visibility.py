"""Restricted incidents and who may do what: selectors and permissions."""

import pytest

from incidents import actions, permissions
from incidents.models import Participant, Source
from incidents.selectors import incident_list, visible_incidents
from tests.incidents.factories import IncidentFactory, incident_type
from tests.oncall.factories import UserFactory

Role = Participant.Role


@pytest.fixture
def breach(db, commander):
    return IncidentFactory(actor=commander, incident_type=incident_type("security"), commander=commander)


@pytest.mark.django_db
def test_restricted_incidents_are_seen_by_participants_and_the_permission_only(breach, incident, responder, manager, commander):
    assert breach.is_restricted
    assert list(visible_incidents(responder)) == [incident]
    assert set(visible_incidents(manager)) == {incident, breach}
    assert set(visible_incidents(commander)) == {incident, breach}  # commander of the breach
    assert not permissions.can_view(responder, breach)

    actions.assign_role(breach, responder, Role.SUBJECT_MATTER_EXPERT, actor=commander, source=Source.ADMIN)
    assert set(visible_incidents(responder)) == {incident, breach}
    participant = breach.participants.get(user=responder)
    actions.release_role(participant, actor=commander, source=Source.ADMIN)
    assert list(visible_incidents(responder)) == [incident]  # leaving the incident ends access


@pytest.mark.django_db
def test_inactive_users_see_nothing(incident):
    gone = UserFactory(is_active=False, superuser=True)
    assert not visible_incidents(gone).exists()


@pytest.mark.django_db
def test_what_each_group_may_do(incident, viewer, responder, commander, manager):
    def abilities(user):
        return (
            permissions.can_view(user, incident),
            permissions.can_respond(user, incident),
            permissions.can_command(user, incident),
            permissions.can_declare(user),
        )

    assert abilities(viewer) == (True, False, False, False)
    assert abilities(responder) == (True, True, False, True)
    assert abilities(commander) == (True, True, True, True)
    assert abilities(manager) == (True, True, True, True)


@pytest.mark.django_db
def test_the_commander_of_an_incident_may_command_it_without_the_group_permission(incident, commander):
    responder_in_charge = UserFactory(responder=True)
    assert not permissions.can_command(responder_in_charge, incident)
    actions.assign_role(incident, responder_in_charge, Role.COMMANDER, actor=commander, source=Source.ADMIN)
    fresh = incident_list(responder_in_charge).get(pk=incident.pk)
    assert permissions.can_command(responder_in_charge, fresh)


@pytest.mark.django_db
def test_incident_list_has_a_fixed_query_count(django_assert_max_num_queries, commander, responder, service):
    for _ in range(30):
        IncidentFactory(actor=commander, services=[service], commander=commander)
    for user in (commander, responder):
        # incidents + services + commanders, and two for the permission check on a fresh user
        with django_assert_max_num_queries(5):
            rows = list(incident_list(user))
            for row in rows:
                _ = (row.severity.name, [s.name for s in row.services.all()], [c.user.username for c in row.commanders], row.last_update_at)
        assert len(rows) == 30
