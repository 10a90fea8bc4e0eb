"""The people the demo stories cast, and the short names the stories use for roles and statuses."""

from incidents.demo.steps import OnCall, Player, person
from incidents.models import Incident, Participant, Source

CAST = ("alice", "bob", "carol", "dave", "erin")
alice, bob, carol, dave, erin = (Player(person(username)) for username in CAST)

# Whoever Platform had on call when a story began: the person the engine paged first.
platform_on_call = Player(OnCall("platform-primary", fallback=bob.actor))

# Monitoring, declaring and linking on its own: no person, the system as source.
monitoring = Player(None, Source.SYSTEM)

Role = Participant.Role
S = Incident.Status
