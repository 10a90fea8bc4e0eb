"""Who a firing reaches: a level's targets at an instant, and who the reminders and warnings of a
batch's incidents go to; `describe` and `names` say who, for the timeline's data and its words."""

from __future__ import annotations

from datetime import datetime

from oncall.models import EscalationLevel, User
from oncall.schedules import on_call_at

from ..models import Incident, Participant, TimelineEvent

def level_targets(level: EscalationLevel, at: datetime, *, on_call_cache: dict | None = None) -> list:
    """The people a level reaches at instant `at`: its users and whoever is on call on its
    schedules (`on_call_cache`, schedule id → people, asks each schedule once per batch)."""
    people = [u for u in level.users.all() if u.is_active]
    for schedule in level.schedules.all():
        if on_call_cache is None:
            on_call = on_call_at(schedule, at)
        elif schedule.pk in on_call_cache:
            on_call = on_call_cache[schedule.pk]
        else:
            on_call = on_call_cache[schedule.pk] = on_call_at(schedule, at)
        people.extend(u for u in on_call if u.is_active)
    return list({u.pk: u for u in people}.values())


class Audience:
    """Who the reminders and warnings of a set of incidents go to — current commanders,
    communications leads and managers — read for the whole set on first use: at most four
    queries however many incidents (the engine's batches), none if nobody needs telling."""

    _ROLES = (Participant.Role.COMMANDER, Participant.Role.COMMUNICATIONS_LEAD)

    def __init__(self, incidents):
        self._incidents = {incident.pk: incident for incident in incidents}
        self._holders: dict[int, list[tuple[str, User]]] | None = None
        self._managers: dict[int, list[User]] | None = None
        self._acknowledgers: dict[int, str] | None = None

    def commander_and_comms(self, incident: Incident) -> list:
        return self._current_holders(incident, *self._ROLES)

    def commanders(self, incident: Incident) -> list:
        return self._current_holders(incident, Participant.Role.COMMANDER)

    def communications_leads(self, incident: Incident) -> list:
        return self._current_holders(incident, Participant.Role.COMMUNICATIONS_LEAD)

    def _current_holders(self, incident: Incident, *roles: str) -> list:
        if self._holders is None:
            self._holders = self._read_holders()
        held = self._holders[incident.pk]
        return list({user.pk: user for role, user in held if role in roles and user.is_active}.values())

    def _read_holders(self) -> dict[int, list[tuple[str, User]]]:
        # The same few people hold the roles of many incidents: each is read once.
        holders = list(
            Participant.objects.filter(incident_id__in=list(self._incidents), role__in=self._ROLES, left_at=None)
            .order_by("role", "pk")
            .values_list("incident_id", "role", "user_id")
        )
        users = User.objects.in_bulk({user_id for _, _, user_id in holders})
        found: dict[int, list[tuple[str, User]]] = {pk: [] for pk in self._incidents}
        for incident_id, role, user_id in holders:
            found[incident_id].append((role, users[user_id]))
        return found

    def acknowledger(self, incident: Incident) -> str:
        """Who acknowledged the incident (the latest acknowledgement), as the timeline named them."""
        if self._acknowledgers is None:
            self._acknowledgers = self._read_acknowledgers()
        return self._acknowledgers.get(incident.pk, "")

    def _read_acknowledgers(self) -> dict[int, str]:
        found: dict[int, str] = {}
        rows = list(
            TimelineEvent.objects.filter(incident_id__in=list(self._incidents), kind=TimelineEvent.Kind.ACKNOWLEDGED)
            .order_by("occurred_at", "pk")
            .values_list("incident_id", "actor_id", "message")
        )
        users = User.objects.in_bulk({actor_id for _, actor_id, _ in rows if actor_id})
        for incident_id, actor_id, message in rows:
            # Without a person, the message names what acknowledged ("Slack bot acknowledged INC-7").
            found[incident_id] = str(users[actor_id]) if actor_id in users else message.split(" acknowledged ")[0]
        return found

    def managers(self, incident: Incident) -> list:
        """Managers to tell: the policy's team manager, then the managers of the services' owning teams."""
        if self._managers is None:
            self._managers = self._read_managers()
        return list(self._managers[incident.pk])

    def _read_managers(self) -> dict[int, list[User]]:
        wanted: dict[int, list[int]] = {}
        for pk, incident in self._incidents.items():
            policy = incident.escalation_policy
            wanted[pk] = [policy.team.manager_id] if policy and policy.team_id and policy.team.manager_id else []
        for incident_id, manager_id in (
            Incident.services.through.objects.filter(incident_id__in=list(self._incidents))
            .order_by("incident_id", "service__name")
            .values_list("incident_id", "service__owning_team__manager_id")
        ):
            if manager_id is not None:
                wanted[incident_id].append(manager_id)
        users = User.objects.in_bulk({user_id for ids in wanted.values() for user_id in ids})
        return {
            pk: list({user_id: users[user_id] for user_id in ids if users[user_id].is_active}.values())
            for pk, ids in wanted.items()
        }


def describe(people) -> list[dict]:
    return [{"id": u.pk, "username": u.get_username(), "name": str(u)} for u in people]


def names(people) -> str:
    return ", ".join(str(u) for u in people) or "nobody"


def targets_resolver(now):
    """Level targets at `now`: every firing of a batch happens at that one instant, so each
    level is resolved, and each schedule asked, once per batch."""
    on_call: dict = {}
    resolved: dict = {}

    def people_at(level):
        if level.pk not in resolved:
            resolved[level.pk] = level_targets(level, now, on_call_cache=on_call)
        return list(resolved[level.pk])

    return people_at

