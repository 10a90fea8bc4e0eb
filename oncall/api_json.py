"""Reading JSON request bodies, for every router: the API's parser (config/api.py) and the alert
endpoints that read their bodies themselves use `read_json`, so a body nested a thousand levels
deep is a 400 that says so everywhere, never a RecursionError and a 500.

Lives in `oncall`, the lowest layer, so every app's router can use it (like `api_auth`)."""

from __future__ import annotations

import json
from typing import Any

from ninja.parser import Parser

# Deeper than any payload a monitoring tool or chat bot sends (Alertmanager's is five levels,
# PagerDuty's custom details rarely ten), far below where parsing or storing it would recurse
# out of the stack.
MAX_DEPTH = 64


class BodyNotJSON(ValueError):
    """A request body the API will not read; the message says why, for the caller."""


def read_json(body: bytes | str) -> Any:
    """The parsed body, or `BodyNotJSON` when it is not JSON or is nested deeper than `MAX_DEPTH`."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise BodyNotJSON(_too_deep()) from None
    except (ValueError, UnicodeDecodeError):
        raise BodyNotJSON("The body is not valid JSON") from None
    # A body with fewer brackets than the limit cannot be deeper: the usual alert skips the walk.
    raw = body.encode() if isinstance(body, str) else body
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
        raise BodyNotJSON(_too_deep())
    return data


def _too_deep() -> str:
    return f"The JSON body is nested more than {MAX_DEPTH} levels deep"


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative, so measuring a deep value cannot recurse out of the stack either.
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(Parser):
    """Ninja's parser with `read_json`'s limits; its `BodyNotJSON` becomes a 400 (config/api.py)."""

    def parse_body(self, request) -> Any:
        return read_json(request.body)
