"""Admin for people, teams, on-call schedules (layers, members, overrides), calendar feeds, API keys
and escalation policies, one module per area; importing them registers their pages.

The schedule page shows who is on call now, the next 14 days of shifts in the viewer's zone with
overrides marked and gaps warned about, and a "Cover" button per row that opens a pre-filled
override form (click 1) that the manager saves (click 2). Every schedule read is one call to
`oncall.schedules`; overrides are written through `oncall.actions`, feeds through `oncall.feeds`,
keys through `oncall.api_auth`, cover requests (`cover.py`) through `oncall.cover`.
"""

from . import access, cover, policies, schedules  # noqa: F401  (each registers its ModelAdmins)
