"""Message words: the flat context that describes an incident to one recipient, and rendering the
`MessageTemplate` rows (or the shipped defaults) into a subject, a text body and an HTML body.

    ctx = templating.context(incident, event=event, recipient=user, extra={"ack_url": url, "ack_code": code})
    rendered = templating.Renderer().render(kind, audience, channel, ctx)   # subject, body, html_body

For a fan-out, compute `base = templating.base_context(incident)` once and pass `base=base`.

Callers use this package as one module; its parts:
- `variables.py`: what a template may use (documented, with samples; every value a plain string
  but the participants, read-only `Entries` of `Entry`), and what a restricted incident's
  messages may fill (`for_audience`);
- `values.py`: the context itself (`base_context`, `context`);
- `sandbox.py`: the locked-down template engine (an allow-list of tags and filters over plain
  strings: an operator's template reaches no model, method, file or other template);
- `rendering.py`: rendering and its limits (size caps, SMS segments, Slack escaping, the HTML
  part of an email), `validate` for the template page, and `Renderer` with its fallbacks.
"""

from .rendering import MAX_BODY, MAX_SUBJECT, Rendered, Renderer, html_from_text, one_line, render_compiled, render_text, validate
from .sandbox import compile_template, template_errors
from .values import base_context, context, format_moment
from .variables import ALL_VARIABLES, EXTRA_VARIABLES, RESTRICTED_VARIABLES, VARIABLES, Entries, Entry, for_audience, sample_context

__all__ = [
    "ALL_VARIABLES", "EXTRA_VARIABLES", "MAX_BODY", "MAX_SUBJECT", "RESTRICTED_VARIABLES", "VARIABLES",
    "Entries", "Entry", "Rendered", "Renderer",
    "base_context", "compile_template", "context", "for_audience", "format_moment", "html_from_text", "one_line",
    "render_compiled", "render_text", "sample_context", "template_errors", "validate",
]
