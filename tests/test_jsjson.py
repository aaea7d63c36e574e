"""sandbox.js.json reads numbers as JavaScript's JSON.parse does (values checked against Node)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from sandbox.js.json import loads


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
