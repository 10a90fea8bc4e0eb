"""Severities as people type them. An organisation names its levels as its procedure does (SEV-1,
P0, "Critical"), so chat, the API and the admin's search read a typed severity here, against the
rows of the response matrix, never against a fixed "SEV-n" pattern."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower, Replace

from .errors import UnknownSeverity
from .models import SeverityLevel

# "SEV-1", "sev 1", "Sev_1" and "sev1" are the same name: case, spaces, hyphens and underscores aside.
_SEPARATORS = re.compile(r"[\s\-_]+")
_WORD = re.compile(r"\S+")
_SHOWN = 40  # characters of the typed text a refusal repeats


def severity_levels() -> list[SeverityLevel]:
    """Every severity, most severe first: load them once to resolve several typed values."""
    return list(SeverityLevel.objects.order_by("rank"))


def find_severity(text: str, levels: Sequence[SeverityLevel] | None = None) -> SeverityLevel:
    """The severity `text` names: by name ("SEV-1", "P0"), else by label ("Critical"), else by rank
    ("1"), in any case, spaces and hyphens aside. Names win over labels and labels over ranks, so a
    name is never shadowed by another level's label. `levels` saves the query when resolving many.

    Raises `UnknownSeverity`, naming the levels there are, for text that names none or several."""
    levels = severity_levels() if levels is None else sorted(levels, key=lambda level: level.rank)
    key = _key(text)
    for names_it in _MATCHERS:
        found = [level for level in levels if key and names_it(level, key)]
        if len(found) == 1:
            return found[0]
        if found:
            raise UnknownSeverity(f"{_quoted(text)} could be {_or(_shown(level) for level in found)}; {_choices(levels)}")
    raise UnknownSeverity(f"Unknown severity {_quoted(text)}; {_choices(levels)}")


def find_leading_severity(text: str, levels: Sequence[SeverityLevel]) -> tuple[SeverityLevel, str]:
    """The severity `text` starts with, and the text after it: "sev 1 Checkout down" is SEV-1 and
    "Checkout down". The fewest words that name a level win, up to one more than the longest name
    or label has ("p 0" for P0), and at least one word is left over when there is more than one;
    the spacing of what is left is kept. When no leading words name a level, the refusal is the
    first word's."""
    words = list(_WORD.finditer(text))
    for count in range(1, min(_longest(levels) + 1, len(words) - 1) + 1):
        try:
            level = find_severity(text[: words[count - 1].end()], levels)
        except UnknownSeverity:
            continue
        return level, text[words[count].start():]
    return find_severity(words[0].group() if words else "", levels), ""


def levels_named(text: str) -> QuerySet[SeverityLevel]:
    """The levels whose name or label `text` is, case, spaces, hyphens and underscores aside, as a
    query to nest in another (the admin's search: one more condition, not one more query). Unlike
    `find_severity` it takes every match and no rank: a search finds more, it never refuses."""
    key = _key(text)
    if not key:
        return SeverityLevel.objects.none()
    named = SeverityLevel.objects.alias(name_key=_sql_key("name"), label_key=_sql_key("label"))
    return named.filter(Q(name_key=key) | Q(label_key=key))


def severity_choices(levels: Sequence[SeverityLevel]) -> str:
    """The levels as a person may type them: "P0 (Critical), P1 (High) or a rank 1–2"."""
    if not levels:
        return "no severity levels are set up yet"
    ranks = sorted(level.rank for level in levels)
    contiguous = ranks == list(range(ranks[0], ranks[-1] + 1))
    rank_text = f"{ranks[0]}–{ranks[-1]}" if contiguous and len(ranks) > 1 else _or(str(rank) for rank in ranks)
    return f"{', '.join(_shown(level) for level in levels)} or a rank {rank_text}"


def _longest(levels: Sequence[SeverityLevel]) -> int:
    """How many words the longest name or label has when typed with spaces ("SEV 1": 2)."""
    return max((len(_SEPARATORS.split(text.strip())) for level in levels for text in (level.name, level.label)), default=1)


def _key(text: str) -> str:
    return _SEPARATORS.sub("", text or "").lower()


def _sql_key(field: str):
    """`_key` in SQL, for the separators people type (a tab in a severity's name is not one)."""
    key = Lower(field)
    for separator in (" ", "-", "_"):
        key = Replace(key, Value(separator), Value(""))
    return key


def _by_name(level: SeverityLevel, key: str) -> bool:
    return _key(level.name) == key


def _by_label(level: SeverityLevel, key: str) -> bool:
    return _key(level.label) == key


def _by_rank(level: SeverityLevel, key: str) -> bool:
    # isdecimal and ASCII: "³" and "٣" are digits to Python, not ranks to int().
    return key.isascii() and key.isdecimal() and len(key) < 6 and level.rank == int(key)


_MATCHERS: tuple[Callable[[SeverityLevel, str], bool], ...] = (_by_name, _by_label, _by_rank)


def _shown(level: SeverityLevel) -> str:
    """"P0 (Critical)"; just "critical" for a level whose name is its label."""
    return level.name if _key(level.name) == _key(level.label) else f"{level.name} ({level.label})"


def _choices(levels: Sequence[SeverityLevel]) -> str:
    return f"use one of {severity_choices(levels)}." if levels else f"{severity_choices(levels)}."


def _quoted(text: str) -> str:
    text = " ".join((text or "").split())
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _or(words) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
