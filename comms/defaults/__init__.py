"""The message templates Vigil ships: one (subject, body) per kind × audience × channel that
makes sense, in the procedures' wording, and the fallback order for the cells left out.

The data migration copies them into `MessageTemplate` rows so operators edit them in the
admin; `comms.templating.Renderer` falls back to them when a row is missing or broken.
Variables are the flat context of `comms.templating.context` (listed in `templating.VARIABLES`).

The words are kept by audience — `responders.py` (responders and internal stakeholders),
`executives.py`, `customers.py`, `restricted.py` — with what they share in `pieces.py`;
`cells.py` says which words fill which cell (`DEFAULTS`), `fallback.py` which cells stand in
for a missing one (`candidates`).

SMS texts use plain ASCII punctuation (a dash, not an en dash): one character outside GSM-7
makes the whole message UCS-2 and halves what a segment holds. Chat texts are Slack mrkdwn.
Customer texts name no person and no internal detail. Restricted-incident texts say the
reference, severity and services (and the acknowledge link of a page), and render from a
context where everything else is blank; they never fall back to another audience's words.
"""

from .cells import DEFAULTS
from .fallback import AUDIENCE_FALLBACK, KIND_FALLBACK, candidates
from .pieces import REOPENED_PUBLIC_WORDS, Cell

__all__ = ["AUDIENCE_FALLBACK", "DEFAULTS", "KIND_FALLBACK", "REOPENED_PUBLIC_WORDS", "Cell", "candidates"]
