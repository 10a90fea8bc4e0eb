"""The post-mortem admin, one module per page; importing them registers their pages:
`postmortems.py` (the post-mortem list and document) and `action_items.py` (every action item
across post-mortems). `base.py` holds what both share.

State moves and action-item status changes go through `postmortems.actions`; a refused step
becomes an error message. A post-mortem is visible only to who may see its incident
(`incidents.selectors`).
"""

from . import action_items, postmortems  # noqa: F401  (each registers its ModelAdmins)
