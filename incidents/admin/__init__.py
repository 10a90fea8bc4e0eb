"""The operator's UI, one module per area; importing them registers their pages:
`incidents.py` (the incident list, the declare page, the incident and details pages), `page.py`
(the incident page as the commander's command centre, and the JSON it polls), `operations.py` (the
incident page's small forms), `preview.py` (the escalation preview), `catalog.py` (severities,
types, services) and `ingest.py` (integrations, the alert log, maintenance, heartbeats).

The admin never writes incident state itself. Every change is one call to `incidents.actions`
with the signed-in user as actor and `Source.ADMIN`; permissions come from `permissions.py`;
a refused step (`DomainError`) becomes an error message and changes nothing.
"""

from . import catalog, incidents, ingest  # noqa: F401  (each registers its ModelAdmins)
