"""Searching incidents, one way for the admin's list and the API's: a reference goes to the number
index, title words to the title's trigram index (PostgreSQL; SQLite reads the table with LIKE)."""

from __future__ import annotations

from functools import reduce
from operator import and_

from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

from .models import Incident
from .severities import levels_named


def search(incidents: QuerySet[Incident], text: str) -> QuerySet[Incident]:
    """The incidents `text` finds.

    - A reference ("INC-42", "inc-42", "#42" or a bare "42") finds that incident and nothing else:
      `number = 42` alone, so the unique index answers it. A bare number is always a reference,
      never a title word ("500" finds INC-500, not "500 errors").
    - Otherwise every word (a "quoted phrase" is one) must be in the title, in any case; and when the
      whole text names a severity ("P0", "critical"), that severity's incidents are found too.
    Blank text finds everything; text with a NUL character, nothing."""
    if "\x00" in text:
        return incidents.none()  # no title holds a NUL, and PostgreSQL refuses one in a query
    number = Incident.number_from_reference(text)
    if number:
        return incidents.filter(number=number)
    words = [_unquoted(word) for word in smart_split(text)]
    words = [word for word in words if word.strip()]
    if not words:
        return incidents
    found = reduce(and_, (Q(title__icontains=word) for word in words))
    # The severities as ids, not as a subquery: `severity_id IN (1)` OR the title can still be
    # served from indexes, a subquery in an OR cannot.
    severities = list(levels_named(text).values_list("pk", flat=True))
    if severities:
        found |= Q(severity__in=severities)
    return incidents.filter(found)


def _unquoted(word: str) -> str:
    if word[0] in "\"'" and word[0] == word[-1] and len(word) > 1:
        try:
            return unescape_string_literal(word)
        except ValueError:
            return word
    return word
