"""The war room: an incident's own chat channel, opened on declaration for severities that ask for
one (`SeverityLevel.opens_war_room`), with its responders invited, its events posted through the
outbox and archived when the incident closes. Only this package talks to the chat provider.
"""

from __future__ import annotations

from incidents.models import Incident


def incident_for_channel(channel_id: str) -> Incident | None:
    """The incident whose war room is the chat channel `channel_id` (a Slack or Mattermost channel
    id), or None: chat commands typed there apply to it without a reference."""
    if not channel_id:
        return None
    return Incident.objects.filter(war_room_channel__channel_id=channel_id).select_related("severity").first()
