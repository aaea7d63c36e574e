"""The fast JSON reader (msgspec, sandbox.js.json.read_fast) against the exact one (the json
module's decoder with JavaScript's numbers, exact_loads), and the readers that use it.

The law: on any text, read_fast gives exactly exact_loads's value (types included: 89.0 is the int
89, an integer beyond 2^53 a double, -0.0 the int 0) or leaves the text to it (NOT_READ); so
`loads` and the event files' scanner (which plan and run read events with) read what they read
with the exact path alone, errors included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sandbox.errors import InputError
from sandbox.js import json as js_json
from sandbox.js.json import NOT_READ, exact_loads, loads, read_fast
from sandbox.replay import events as events_module


def typed(value: Any) -> Any:
    """`value` with every type spelled out (so 1 and 1.0, 0 and -0.0, True and 1 differ)."""
    if type(value) is dict:
        return ("object", [(key, typed(item)) for key, item in value.items()])
    if type(value) is list:
        return ("array", [typed(item) for item in value])
    if type(value) is float:
        return ("float", repr(value))
    return (type(value).__name__, value)


def outcome(read: Any, text: str | bytes) -> Any:
    try:
        return ("value", typed(read(text)))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc).__name__)


# Number tokens as a JSON text may spell them: every shape JSON allows, the ones whose value is
# integral or beyond a double's exact integers among them.
_DIGITS = st.text("0123456789", min_size=1, max_size=22)
_INTEGER = st.builds(
    lambda sign, digits: sign + (digits.lstrip("0") or "0"), st.sampled_from(["", "-"]), _DIGITS
)
_FRACTION = st.builds(lambda digits: "." + digits, _DIGITS) | st.sampled_from([".0", ".000", ".5", ".50"])
_EXPONENT = st.builds(
    lambda e, sign, digits: e + sign + digits, st.sampled_from("eE"), st.sampled_from(["", "+", "-"]),
    st.text("0123456789", min_size=1, max_size=4),
)  # fmt: skip
NUMBER_TOKENS = st.builds(
    lambda whole, fraction, exponent: whole + fraction + exponent,
    _INTEGER,
    st.just("") | _FRACTION,
    st.just("") | _EXPONENT,
)


class Token(str):
    """A number written as it is in the text (not re-spelled by json.dumps)."""


def _text(value: Any, space: str) -> str:
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, dict):
        return "{" + ("," + space).join(
            json.dumps(key) + space + ":" + space + _text(item, space) for key, item in value.items()
        ) + "}"  # fmt: skip
    if isinstance(value, list):
        return "[" + ("," + space).join(_text(item, space) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


STRINGS = st.text(max_size=8) | st.sampled_from(
    ["2024-03-05T12:34:56.000Z", "12345678901234567", "\ud800", "é"]
)
SCALARS = (
    st.none() | st.booleans() | STRINGS | st.integers() | st.floats(allow_nan=False)
    | NUMBER_TOKENS.map(Token)
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(STRINGS, inner, max_size=4),
    max_leaves=12,
)
TEXTS = st.builds(_text, VALUES, st.sampled_from(["", " ", "\t", "\r\n "]))


def _mutated(text: str, data: st.DataObject) -> str:
    """`text` with a few characters inserted, removed or replaced (mostly invalid JSON)."""
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(text)))
        piece = data.draw(
            st.sampled_from(["", "0", "1e", ".", "-", ",", "}", "]", '"', "\\", "\x00", "\ufeff", " ", "NaN"])
        )
        text = text[:at] + piece + text[at + data.draw(st.integers(0, 2)) :]
    return text


@given(TEXTS)
def test_the_fast_reader_gives_the_exact_value_or_leaves_the_text(text: str) -> None:
    fast = read_fast(text)
    exact = outcome(exact_loads, text)
    if fast is not NOT_READ:
        assert exact == ("value", typed(fast))
    assert outcome(loads, text) == exact
    assert outcome(loads, text.encode("utf-8", "surrogatepass")) == outcome(
        exact_loads, text.encode("utf-8", "surrogatepass")
    )


@given(TEXTS, st.data())
def test_broken_texts_read_as_the_exact_reader_reads_them(text: str, data: st.DataObject) -> None:
    text = _mutated(text, data)
    assert outcome(loads, text) == outcome(exact_loads, text)


@given(st.lists(TEXTS, max_size=6), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_lines_read_at_once_read_as_each_line_alone(texts: list[str], newline: str, last: bool) -> None:
    """read_fast_lines gives read_fast's value of every line, or None when read_fast leaves any of
    them to the exact reader: the 16-digit check over the whole text sees no run that a line
    alone lacks. (A final newline makes a blank last line.)"""
    text = newline.join(texts) + (newline if last and texts else "")
    each = [read_fast(line) for line in text.split("\n")]
    at_once = js_json.read_fast_lines(text)
    if any(value is NOT_READ for value in each):
        assert at_once is None
    else:
        assert at_once is not None and [typed(v) for v in at_once] == [typed(v) for v in each]


@pytest.mark.parametrize(
    "text",
    [
        "9007199254740993",  # 2^53 + 1: a double rounds it
        "-9007199254740993",
        "12345678901234567890",  # beyond 64 bits in msgspec's eyes too
        '{"id": 1234567890123456789}',
        "9007199254740992.5",
        "89.0",
        "-0.0",
        "-0",
        "1E+2",
        "1e400",
        "-1e400",
        "1e-400",
        "5e-324",
        '"\\ud800"',  # a lone surrogate: JSON.parse keeps it
        '"\\ud83d\\ude00"',
        "\ufeff{}",
        "NaN",
        "[Infinity]",
        '{"a": 1, "a": 2, "b": 3}',
        "[" * 2000 + "]" * 2000,
    ],
)
def test_the_edges_of_the_fast_reader(text: str) -> None:
    fast = read_fast(text)
    if fast is not NOT_READ:
        assert outcome(exact_loads, text) == ("value", typed(fast))
    assert outcome(loads, text) == outcome(exact_loads, text)


def test_the_fast_reader_takes_the_common_event() -> None:
    event = '{"type": "track", "event": "Order Completed", "properties": {"total": 54.0, "qty": 2}}'
    assert read_fast(event) == {
        "type": "track",
        "event": "Order Completed",
        "properties": {"total": 54, "qty": 2},
    }
    assert type(read_fast(event)["properties"]["total"]) is int
    assert read_fast(b'{"a": 1.5}') == {"a": 1.5}
    assert read_fast('{"phone": "1234567890123456"}') is NOT_READ  # 16 digits: left to the exact reader
    assert read_fast(b'{"a": "\xff"}') is NOT_READ


# -- the readers that use it --------------------------------------------------------------------


def _events(text: str, chunk: int) -> Any:
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    try:
        return [(located.event, located.line) for located in events_module.parse_chunks(pieces, "in.jsonl")]
    except InputError as exc:
        return str(exc)


LINES = st.lists(
    TEXTS
    | st.sampled_from(["", "   ", '{"type": "track"} {"type": "page"}', "[1,\n2]", '{"type":\n"identify"}']),
    max_size=5,
)


@given(LINES, st.sampled_from(["\n", "\r\n"]), st.integers(1, 40), st.data())
def test_event_files_read_the_same_with_and_without_the_fast_path(
    lines: list[str], newline: str, chunk: int, data: st.DataObject
) -> None:
    text = newline.join(lines)
    if data.draw(st.booleans()):
        text = "[" + text + "]"
    fast_events = _events(text, chunk)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events_module, "_read_fast", lambda text: NOT_READ)
        patch.setattr(js_json, "read_fast", lambda text: NOT_READ)
        patch.setattr(js_json, "read_fast_lines", lambda text: None)
        exact_events = _events(text, chunk)
    assert repr(fast_events) == repr(exact_events)


EVENT_TEXTS = st.builds(
    lambda rest, space: _text({"type": "track", **rest}, space),
    st.dictionaries(STRINGS, VALUES, max_size=3),
    st.sampled_from(["", " ", "\r\n "]),
)
"""One event's text (spaced out over lines sometimes): an event file's common line."""
EVENT_LINES = st.lists(
    EVENT_TEXTS
    | st.sampled_from(["", " ", '[{"type": "page"}]', '{"type": "page"} {"type": "screen"}', "{", "7"]),
    min_size=1,
    max_size=30,
)


@given(EVENT_LINES, st.sampled_from(["\n", "\r\n"]), st.integers(1, 400), st.booleans())
@example(['{"type": "a"}'] * 20 + ['{"type":', '"b"}'] + ['{"type": "c"}'] * 20, "\n", 64, False)
@example(['{"type": "a"}', '[{"type": "b"}, {"type": "c"}]', '{"type": "d"}'], "\n", 400, True)
@example(['{"type": "a"}', "", '{"type": "b"}'], "\n", 10, False)  # a blank line at the buffer's end
def test_json_lines_read_a_buffer_at_a_time_read_as_value_by_value(
    lines: list[str], newline: str, chunk: int, last: bool
) -> None:
    """The event scanner reads JSON lines a buffer at a time (_Scanner._lines): the same events,
    line numbers and errors as value by value, for object lines among lines of other kinds
    (blank ones, arrays, two values, a value over several lines, a broken one), cut anywhere."""
    text = newline.join(lines) + (newline if last else "")
    at_once = _events(text, chunk)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(js_json, "read_fast_lines", lambda text: None)
        one_by_one = _events(text, chunk)
    assert repr(at_once) == repr(one_by_one)


def test_a_value_alone_on_its_line_is_read_fast_and_the_rest_exactly() -> None:
    text = '{"type": "track", "n": 1.0}\n{"type": "page",\n "n": 12345678901234567}\n'
    assert _events(text, 7) == [({"type": "track", "n": 1}, 1), ({"type": "page", "n": 12345678901234568}, 2)]
