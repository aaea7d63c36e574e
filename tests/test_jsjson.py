"""sandbox.js.json reads numbers as JavaScript's JSON.parse does (values checked against Node)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from sandbox.js.json import dumps, loads, number, stringify


def test_numbers_become_doubles() -> None:
    assert loads("89.0") == 89 and isinstance(loads("89.0"), int)
    assert loads("123456789012345678901234567890") == 1.2345678901234568e29
    assert loads("9007199254740993") == 9007199254740992  # 2^53 + 1 rounds to even
    assert loads("-0.0") == 0 and json.dumps(loads("-0.0")) == "0"
    assert loads("1e400") is None
    assert loads('{"a": [1.5, 2, 1e21]}') == {"a": [1.5, 2, 1e21]}
    assert isinstance(loads("1e21"), float)
    assert loads(b'{"x": 1}') == {"x": 1}


@given(st.integers())
def test_integers_agree_with_a_double_round_trip(n: int) -> None:
    value = loads(str(n))
    as_double = float(n)
    assert value == (int(as_double) if abs(as_double) < 1e21 else as_double)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_keep_their_value(x: float) -> None:
    value = loads(json.dumps(x))
    assert value == x or (x == 0 and value == 0)
    assert isinstance(value, int) == (x.is_integer() and abs(x) < 1e21)
    assert not isinstance(value, float) or math.isfinite(value)


def test_event_readers_use_javascript_numbers() -> None:
    """Events read from files and from the Tracking API carry Node's numbers, so what the sandbox
    sends for `{"total": 89.0}` is `89`, as Segment sends it."""
    from sandbox.live.segment_api import parse_json_object
    from sandbox.replay.events import parse_text

    line = '{"type": "track", "event": "x", "userId": "u", "properties": {"total": 89.0, "big": 123456789012345678901234567890}}'
    (located,) = parse_text(line)
    assert located.event["properties"] == {"total": 89, "big": 1.2345678901234568e29}
    assert parse_json_object(line.encode())["properties"]["total"] == 89


# -- writing: the json.dumps fast path of `dumps` equals `stringify` (the exact writer) ----------------

_EDGE_FLOATS = st.sampled_from(
    [1e-4, -1e-4, 9.999999999999999e-05, 1e16, 1e16 - 2, 2**53 - 0.5, 2**52 + 0.5, 0.1, 1e-7, 1e21, 5e-324]
)
_NUMBERS = st.floats(allow_nan=False, allow_infinity=False) | st.integers() | _EDGE_FLOATS
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | _NUMBERS | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(["0", "7", "01"]), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_the_fast_path_writes_what_stringify_writes(value: object) -> None:
    """`dumps` takes json.dumps when it gives the same text (floats included): always stringify's text."""
    assert dumps(value) == stringify(value)


@given(st.floats(allow_nan=False, allow_infinity=False) | _EDGE_FLOATS)
def test_floats_on_the_fast_path_are_written_as_javascript_writes_them(x: float) -> None:
    assert dumps([x]) == f"[{number(x)}]"


def test_every_character_is_written_as_javascript_writes_it() -> None:
    """The fast path's strings: every code point but the surrogates (which it leaves to the exact
    path), in long strings and one by one in a list."""
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    chunks = ["".join(points[i : i + 4096]) for i in range(0, len(points), 4096)]
    assert dumps(chunks) == stringify(chunks)
    assert dumps(points[:70000]) == stringify(points[:70000])


def test_numbers_the_fast_path_leaves_to_the_exact_path() -> None:
    assert (
        dumps([1.0, -0.0, 1e16, 1e-6, 2**53, 1.5, 0.1])
        == "[1,0,10000000000000000,0.000001,9007199254740992,1.5,0.1]"
    )
    assert dumps({"1": 1.0, "a": {"b": [1e21]}}) == '{"1":1,"a":{"b":[1e+21]}}'
    assert dumps({"s": ":1e5,1.0]"}) == '{"s":":1e5,1.0]"}'


def test_integer_like_keys_come_first_in_any_position() -> None:
    """An object's first key and a later one (the fast path's two key searches), nested or not."""
    assert dumps({"7": 1, "a": 2}) == '{"7":1,"a":2}'
    assert dumps({"a": 1, "7": 2}) == '{"7":2,"a":1}'
    assert dumps([{"b": {"a": 1, "0": 2}}]) == '[{"b":{"0":2,"a":1}}]'
    assert dumps({"a": 1, "07": 2, "x7": 3}) == '{"a":1,"07":2,"x7":3}'
