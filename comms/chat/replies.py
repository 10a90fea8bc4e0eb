"""What chat shows: `Reply` (Slack-compatible `{"response_type", "text", "blocks"}`), the usage
texts, and the mrkdwn pieces the commands' replies are made of. Every user-supplied value goes
through `comms.slack.escape`, so a title cannot mention a room."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from incidents.models import Incident, SeverityLevel
from incidents.severities import severity_choices, severity_levels

from ..slack import code, escape
from .parse import USAGE

# Slack refuses a section text over 3,000 characters and a message over 50 blocks.
_SECTION_LIMIT = 3000
_BLOCK_LIMIT = 50


@dataclass
class Reply:
    """What chat shows: mrkdwn sections (values already escaped); `in_channel` for changes."""

    sections: list[str]
    in_channel: bool = False
    ok: bool = True

    @property
    def text(self) -> str:
        return "\n\n".join(self.sections)

    def as_slack(self) -> dict:
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(section, _SECTION_LIMIT)}}
            for section in self.sections[:_BLOCK_LIMIT]
            if section.strip()
        ]
        return {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": clip(self.text, 35_000), "blocks": blocks}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def usage(command: str = "", *, prefix: str = "", levels: Sequence[SeverityLevel] | None = None) -> str:
    """How to write `command`, or every command, in the organisation's own severity names: read from
    the database unless `levels` are given or the text names no severity."""
    lead = f"{escape(prefix)} " if prefix else ""
    shown = [USAGE[command]] if command in USAGE else list(USAGE.values())
    if levels is None and (len(shown) > 1 or "{" in shown[0][1]):
        levels = severity_levels()
    names = [code(level.name) for level in levels or ()] or ["<severity>"]
    examples = {"gravest": names[0], "lesser": names[min(1, len(names) - 1)]}
    if command in USAGE:
        form, what = shown[0]
        return f"Usage: `{lead}{form}` — {what.format(**examples)}."
    lines = [f"• `{lead}{form}` — {what.format(**examples)}" for form, what in shown]
    return "*Vigil commands*\n" + "\n".join(lines) + f"\n{REFERENCES} {_severities(levels or [])}"


# How an incident is written, and when it may be left out (parse.py's rule, for people).
REFERENCES = (
    "<INC> is `INC-42`, `#42` or `42`. In an incident's own channel, leave it out to mean that incident; "
    "there, before text (`update`, `note`, `severity`, `mitigated`, `resolve`), only `INC-42` or `#42` name an incident, "
    "so `note 500 errors since 10:02` is a note, not INC-500."
)


def _severities(levels: Sequence[SeverityLevel]) -> str:
    if not levels:
        return "there are no severity levels yet: add them in the Vigil admin."
    return f"a severity is {escape(severity_choices(levels))}; names and labels in any case."


def refusal(message: str, command: str = "", *, prefix: str = "") -> Reply:
    """An error reply: what went wrong, then how to write it."""
    return Reply([f":warning: {message}", usage(command, prefix=prefix)], ok=False)


def headline(incident: Incident) -> str:
    return f"*{incident.reference}* · {escape(incident.severity.name)} · {escape(incident.title)}"


def names(people: Iterable[object], *, empty: str = "none") -> str:
    shown = [escape(str(person)) for person in people]
    return ", ".join(shown) if shown else empty


def quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(clip(text, 2500)).splitlines() or [""])
