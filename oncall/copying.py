"""Building a row from a value object that already uses the row's field names (a parsed alert
event, a routing decision): the shared fields are named once, in a tuple, rather than written
out as `name=source.name` one by one in each app that does it."""

from __future__ import annotations

from collections.abc import Iterable


def same_named(source: object, names: Iterable[str]) -> dict[str, object]:
    """`source`'s attributes `names` as keyword arguments, for a model whose fields carry the
    same names: `AlertEvent(**same_named(event, ("dedup_key", "action")), …)`."""
    return {name: getattr(source, name) for name in names}
