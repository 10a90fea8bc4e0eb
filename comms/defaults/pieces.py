"""What the shipped words share: the drill marker, the next-update line, what customers are told
when an incident comes back, and how a multi-line text is written here."""

from __future__ import annotations

Cell = tuple[str, str, str]  # (kind, audience, channel)

DRILL = "{% if is_drill == 'yes' %}[DRILL] {% endif %}"
# What customers are told when an incident comes back, unless the reopen gave words of its own
# for them (`data["public_update"]`): the reopen's reason is internal. The status page too.
REOPENED_PUBLIC_WORDS = "The issue has recurred; we are investigating."
NEXT_UPDATE = "Next update: {{ next_update|default:'to follow' }}"


def multiline(*lines: str) -> str:
    return "\n".join(lines)
