"""Reading JSON request bodies (oncall/api_json.py): any nesting, however deep, is read or refused
with a message, never a RecursionError."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.api_json import MAX_DEPTH, BodyNotJSON, read_json

# Each level an object or an array; the innermost value anything plain.
shapes = st.lists(st.sampled_from(["object", "array"]), min_size=1, max_size=3000)
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))


def encode(shape: list[str], leaf) -> bytes:
    opening = "".join('{"k":' if level == "object" else "[" for level in shape)
    closing = "".join("}" if level == "object" else "]" for level in reversed(shape))
    return (opening + json.dumps(leaf) + closing).encode()


@settings(max_examples=200, deadline=None, database=None)
@given(shape=shapes, leaf=leaves)
def test_a_body_is_read_up_to_the_depth_limit_and_refused_past_it(shape, leaf):
    body = encode(shape, leaf)
    if len(shape) <= MAX_DEPTH:
        assert read_json(body) == json.loads(body)
    else:
        with pytest.raises(BodyNotJSON, match=f"nested more than {MAX_DEPTH} levels deep"):
            read_json(body)


@pytest.mark.parametrize("body", [b"", b"{nope", b"\xff\xfe", b'{"a": 1', b"[" * 200_000])
def test_anything_else_is_refused_with_a_message(body):
    with pytest.raises(BodyNotJSON):
        read_json(body)
