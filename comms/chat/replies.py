"""What chat shows: `Reply` (Slack-compatible `{"response_type", "text", "blocks"}`), the usage
texts, and the mrkdwn pieces the commands' replies are made of. Every user-supplied value goes
through `comms.slack.escape`, so a title cannot mention a room."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from incidents.models import Incident

from ..slack import escape
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


def usage(command: str = "", *, prefix: str = "") -> str:
    lead = f"{escape(prefix)} " if prefix else ""
    if command in USAGE:
        form, what = USAGE[command]
        return f"Usage: `{lead}{form}` — {what}."
    lines = [f"• `{lead}{form}` — {what}" for form, what in USAGE.values()]
    return "*Vigil commands*\n" + "\n".join(lines) + "\n<INC> is `INC-42` or `42`; a severity is `SEV-1`, `sev1` or `1`."


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
