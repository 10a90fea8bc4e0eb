"""The people the demo stories cast, and the short names the stories use for sources, roles and statuses."""

from incidents.demo.steps import OnCall, person
from incidents.models import Incident, Participant, Source

CAST = ("alice", "bob", "carol", "dave", "erin")
alice, bob, carol, dave, erin = (person(username) for username in CAST)

# Whoever Platform had on call when a story began: the person the engine paged first.
platform_on_call = OnCall("platform-primary", fallback=bob)

ADMIN_SRC = Source.ADMIN
SYSTEM_SRC = Source.SYSTEM
Role = Participant.Role
S = Incident.Status
