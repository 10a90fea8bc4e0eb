"""What the organisation calls each severity rank, for oncall's own pages.

Escalation cells are keyed by severity rank because severities live in `incidents`, a layer
above. `incidents` names the ranks here when it starts (`IncidentsConfig.ready` calls `provide`),
so the escalation matrix heads its columns "P0 · P1 …" or "SEV-1 · SEV-2 …" as the
organisation's response matrix does. Without a provider a rank reads "rank 1"."""

from __future__ import annotations

from collections.abc import Callable

_names: Callable[[], dict[int, str]] | None = None


def provide(names: Callable[[], dict[int, str]]) -> None:
    """Register how ranks are named: a function answering {rank: name}, read on each page."""
    global _names
    _names = names


def labels(ranks) -> list[tuple[int, str]]:
    """(rank, its name) for each rank, in order: "rank N" for a rank no severity holds."""
    named = _names() if _names is not None else {}
    return [(rank, named.get(rank, f"rank {rank}")) for rank in ranks]
