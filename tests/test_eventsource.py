"""sandbox.replay.events: every input form, errors that say where, and streaming (nothing read ahead)."""

from __future__ import annotations

import gzip
import io
import json
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sandbox.errors import InputError
from sandbox.replay.events import (
    expand_path,
    parse_chunks,
    parse_events,
    parse_text,
    read_events,
    read_located,
)
from tests.strategies import events as any_events
from tests.strategies import well_formed_events

E1 = {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}}
E2 = {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 12.5}}
E3 = {"type": "page", "anonymousId": "a1", "name": "Home"}


def events_of(text: str) -> list[dict]:
    return [located.event for located in parse_text(text)]


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_text(text, "in.json")
    return str(info.value)


# -- forms -----------------------------------------------------------------------------------------


def test_json_array() -> None:
    assert events_of(json.dumps([E1, E2, E3], indent=2)) == [E1, E2, E3]


def test_empty_array_and_empty_text() -> None:
    assert events_of("[]") == []
    assert events_of("  \n ") == []
    assert events_of("") == []


def test_json_lines_with_blank_lines() -> None:
    text = "\n".join(json.dumps(e) for e in (E1, E2)) + "\n\n" + json.dumps(E3) + "\n"
    assert events_of(text) == [E1, E2, E3]


def test_a_value_cut_over_two_lines_is_an_error_not_an_event() -> None:
    """Neither half is JSON, and they are not one value either (no comma between `{"d": 1}` and
    `{"e": 2}`); joined with a comma, as a block of lines read as one array would be, they would
    read as two events."""
    text = '{"type": "track", "event": "A", "properties": {"c": [{"d": 1}\n{"e": 2}]}}, {"type": "page"}\n'
    assert "line 2, column 1" in error_of(text)
    assert "line 2, column 1" in error_of(text * 300)  # in a buffer of many lines too


def test_lines_name_where_each_event_starts() -> None:
    text = json.dumps(E1) + "\n\n" + json.dumps(E2) + "\n"
    assert [(x.source, x.line) for x in parse_text(text, "f.jsonl")] == [("f.jsonl", 1), ("f.jsonl", 3)]
    pretty = json.dumps([E1, E2], indent=2)
    lines = [x.line for x in parse_text(pretty)]
    assert lines[0] == 2 and lines[1] > lines[0]


def test_batch_payload_shares_context_and_integrations() -> None:
    payload = {
        "batch": [
            {"type": "track", "event": "A", "userId": "u"},
            {"type": "identify", "userId": "u", "context": {"ip": "1.2.3.4", "locale": "fr"}},
        ],
        "context": {"locale": "en", "library": {"name": "x"}},
        "integrations": {"All": True},
        "writeKey": "secret",
    }
    first, second = events_of(json.dumps(payload))
    assert first["context"] == {"locale": "en", "library": {"name": "x"}}
    assert first["integrations"] == {"All": True}
    assert second["context"] == {"locale": "fr", "library": {"name": "x"}, "ip": "1.2.3.4"}
    assert "writeKey" not in first and "writeKey" not in second


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"userId": "u", "event": "Signed Up"}, "track"),
        ({"userId": "u", "traits": {"plan": "pro"}}, "identify"),
        ({"userId": "u", "groupId": "g1", "traits": {}}, "group"),
        ({"userId": "u", "previousId": "a1"}, "alias"),
    ],
)
def test_single_call_bodies_get_their_type(body: dict, kind: str) -> None:
    (event,) = events_of(json.dumps({**body, "writeKey": "k"}))
    assert event == {"type": kind, **body}


def test_single_call_body_that_says_nothing_asks_for_a_type() -> None:
    message = error_of('{"userId": "u", "name": "Home", "properties": {}}')
    assert message.startswith("in.json: line 1:") and '"type"' in message


def test_mixed_forms_in_one_text() -> None:
    text = json.dumps([E1]) + "\n" + json.dumps(E2) + "\n" + json.dumps({"batch": [E3]})
    assert events_of(text) == [E1, E2, E3]


def test_bom_is_allowed() -> None:
    assert events_of("\ufeff" + json.dumps([E1])) == [E1]


def test_files_directories_gzip_and_order(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text(json.dumps(E2) + "\n", encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps([E1]), encoding="utf-8")
    with gzip.open(tmp_path / "c.ndjson.gz", "wt", encoding="utf-8") as out:
        out.write(json.dumps(E3) + "\n")
    (tmp_path / "cio-sandbox.toml").write_text("not events", encoding="utf-8")
    (tmp_path / "README.md").write_text("# not events", encoding="utf-8")
    (tmp_path / ".hidden.json").write_text("broken", encoding="utf-8")
    assert [Path(p).name for p in expand_path(tmp_path)] == ["a.json", "b.jsonl", "c.ndjson.gz"]
    assert list(read_events(tmp_path)) == [E1, E2, E3]
    assert list(read_events([tmp_path / "b.jsonl", tmp_path / "a.json"])) == [E2, E1]
    located = list(read_located(tmp_path))
    assert located[2].where == f"{tmp_path / 'c.ndjson.gz'}:1"


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps(E1) + "\n" + json.dumps(E2)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    located = list(read_located("-"))
    assert [x.event for x in located] == [E1, E2]
    assert located[1].where == "<stdin>:2"


def test_stdin_without_a_binary_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps([E1, E3])))
    assert list(read_events("-")) == [E1, E3]


# -- errors say where --------------------------------------------------------------------------------


def test_bad_json_line_names_line_and_column() -> None:
    text = json.dumps(E1) + "\n" + json.dumps(E2) + '\n{"type": "track", "event": }\n'
    assert error_of(text) == "in.json: line 3, column 28: Expecting value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"type": "page"},]', "in.json: line 1, column 19: a trailing comma before ']' is not JSON"),
        ('[{"type": "page"}', "in.json: line 1, column 18: the JSON array is not closed (expected ']')"),
        ('[{"type": "page"} {"type": "page"}]', "in.json: line 1, column 19: expected ',' or ']'"),
        ('{"type": "track", "event": "x', "in.json: line 1, column 28: a string is not closed"),
        ("[1]", "in.json: line 1: expected a Segment event (a JSON object), got a number"),
        ('"hello"', "in.json: line 1: expected a Segment event (a JSON object), got a string"),
        ('{"type": "track", "n": NaN}', "in.json: line 1, column 1: NaN is not a JSON value"),
        ('{"batch": [{"event": "x"}]}', 'in.json: line 1: batch[0]: a batch item needs a "type"'),
        (
            '{"batch": [3]}',
            "in.json: line 1: batch[0]: expected a Segment event (a JSON object), got a number",
        ),
        ("[" * 100000, "in.json: line 1, column 2: the value is nested too deeply"),
    ],
)
def test_errors_name_file_and_position(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_error_position_survives_buffer_compaction() -> None:
    """A bad line far into a big input is reported at its true line and column."""
    good = json.dumps(E2) + "\n"
    text = good * 5000 + '  {"type": "track" "event": "x"}\n'
    chunks = (text[i : i + 1000] for i in range(0, len(text), 1000))
    with pytest.raises(InputError) as info:
        list(parse_chunks(chunks, "big.jsonl"))
    assert str(info.value) == "big.jsonl: line 5001, column 20: Expecting ',' delimiter"


def test_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"type": "track", "event": "caf\xe9"}\n')
    with pytest.raises(InputError) as info:
        list(read_events(path))
    assert str(info.value) == f"{path}: byte 31: not UTF-8 text"


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        list(read_events(tmp_path / "nope.json"))
    with pytest.raises(InputError, match=r"no event files in this directory \(looked for .json, .jsonl"):
        list(read_events(tmp_path))


def test_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read"):
        list(read_events(path))


# -- streaming -------------------------------------------------------------------------------------


def _endless_chunks(consumed: list[int]) -> Iterator[str]:
    yield "["
    n = 0
    while True:
        consumed[0] += 1
        yield ("," if n else "") + json.dumps({**E2, "messageId": f"m{n}"})
        n += 1


def test_a_generator_input_is_not_materialised() -> None:
    """Taking the first events of an endless array reads only as far as they go."""
    consumed = [0]
    stream = parse_chunks(_endless_chunks(consumed), "endless")
    first = [next(stream).event["messageId"] for _ in range(3)]
    assert first == ["m0", "m1", "m2"]
    assert consumed[0] <= 5


def test_reading_is_lazy_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(E1) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("this is not JSON\n", encoding="utf-8")
    stream = read_events(tmp_path)
    assert next(stream) == E1  # the broken second file is not touched yet
    with pytest.raises(InputError, match="b.jsonl: line 1, column 1"):
        next(stream)


def test_a_large_array_reads_in_bounded_memory(tmp_path: Path) -> None:
    """20,000 events (about 2.5 MB) are read with a peak far below the file's size."""
    path = tmp_path / "big.json"
    event = {**E2, "properties": {"text": "x" * 80, "n": 1}, "context": {"ip": "10.0.0.1"}}
    with open(path, "w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(20000):
            out.write(("," if n else "") + json.dumps({**event, "messageId": f"m{n}"}) + "\n")
        out.write("]\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_events(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20000
    assert peak < size / 4, (peak, size)


# -- laws ------------------------------------------------------------------------------------------


def _cut(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(text[last:point])
        last = point
    pieces.append(text[last:])
    return pieces


@given(st.lists(any_events, max_size=6), st.lists(st.integers(min_value=0), max_size=12), st.booleans())
def test_events_do_not_depend_on_where_the_text_is_cut(
    events: list[dict], cuts: list[int], array: bool
) -> None:
    """Whatever the chunk boundaries (even inside strings, numbers and escapes), the same events
    come out. Only dicts with a `type` are generated as-is; others go through a batch or are typed."""
    events = [
        {**e, "type": e.get("type", "track")} if "batch" not in e else {**e, "type": "track"} for e in events
    ]
    text = json.dumps(events, ensure_ascii=False) if array else "\n".join(json.dumps(e) for e in events)
    whole = [x.event for x in parse_text(text)]
    assert whole == events
    assert [x.event for x in parse_chunks(_cut(text, cuts), "t")] == whole


@given(st.lists(well_formed_events, max_size=8), st.integers(min_value=0, max_value=4))
def test_array_lines_and_batch_give_the_same_events(events: list[dict], indent: int) -> None:
    """A JSON array (any indentation), JSON lines and a `{"batch": [...]}` of the same events agree."""
    as_array = json.dumps(events, indent=indent or None)
    as_lines = "".join(json.dumps(e) + "\n" for e in events)
    as_batch = json.dumps({"batch": events})
    assert events_of(as_array) == events_of(as_lines) == events_of(as_batch) == events


# -- odd lines, cut anywhere ----------------------------------------------------------------------

_PARSING_LINES = [  # one JSON value on the line: only objects are events
    "[1, 2]",
    '[{"type": "page"}]',
    "[]",
    "1",
    '"text"',
    "null",
    '{"type": "track", "n": 1e400, "m": 89.0, "big": 12345678901234567890}',
    '{"type": "identify", "writeKey": "k", "userId": "u"}',
    '{"userId": "u", "traits": {}}',
    '{"batch": [{"type": "track", "event": "b"}], "context": {"ip": "1"}}',
    '{"type": "page", "name": "\\ud800"}',
    '{"type": "page", "a": 1, "a": 2}',
    '  {"type": "page"}  ',
]
_BREAKING_LINES = [  # no value, several, part of one, or no JSON
    "",
    "   ",
    "\t\r",
    "not JSON",
    "{",
    "}",
    '{"type": "track", "event": "x"} {"type": "track", "event": "y"}',
    '{"type": "track", "event": "x"}, {"type": "track", "event": "y"}',
    '{"type": "track", "n": NaN}',
    '{"type": "track"}]',
    '[{"type": "track"}',
    '\ufeff{"type": "page"}',
    "[" * 3000 + "]" * 3000,
]

_lines_of_text = st.lists(
    st.one_of(
        well_formed_events.map(json.dumps),
        well_formed_events.map(lambda e: json.dumps(e, ensure_ascii=False)),
        well_formed_events.map(lambda e: json.dumps(e, indent=1)),
        st.sampled_from(_PARSING_LINES),
        st.sampled_from(_BREAKING_LINES),
    ),
    max_size=12,
)


def _read_all(text: str, cuts: list[int]) -> tuple[list[tuple[object, str, int]], str | None]:
    """Every event parse_chunks gives (with where), then the error that stopped it, if any."""
    out: list[tuple[object, str, int]] = []
    try:
        for located in parse_chunks(_cut(text, cuts), "in.jsonl"):
            out.append((located.event, located.source, located.line))
    except InputError as exc:
        return out, str(exc)
    return out, None


_PAGE = '{"type": "page"}'


@given(
    _lines_of_text,
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.lists(st.integers(min_value=0), max_size=8),
)
@example([_PAGE, "[1, 2]", _PAGE], "\n", True, [])  # an array on a line is streamed, not one value
@example([_PAGE, "", _PAGE, "not JSON"], "\n", True, [])  # a blank line, then an error where it is
@example([_PAGE, "7", _PAGE], "\r\n", True, [])
@example([_PAGE, json.dumps({"type": "page"}, indent=1), _PAGE], "\n", True, [5])
def test_odd_json_lines_read_the_same_wherever_the_text_is_cut(
    lines: list[str], newline: str, last_newline: bool, cuts: list[int]
) -> None:
    """Events, the lines they start on, the error and where it stops the reading are the same
    whatever the chunks, and parse_events gives the same events."""
    text = newline.join(lines) + (newline if last_newline else "")
    whole, whole_error = _read_all(text, [])
    cut, cut_error = _read_all(text, cuts)
    assert cut == whole and cut_error == whole_error
    if whole_error is None:
        assert list(parse_events(_cut(text, cuts), "in.jsonl")) == [event for event, _, _ in whole]


def test_line_numbers_over_many_chunks() -> None:
    """5,000 lines cut into 64 KiB chunks: each event's line, counted as the values go."""
    text = "".join(
        json.dumps({**E2, "messageId": f"m{n}"}) + ("\n\n" if n % 7 == 0 else "\n") for n in range(5000)
    )
    chunks = [text[i : i + 65536] for i in range(0, len(text), 65536)]
    starts = [n + 1 for n, row in enumerate(text.split("\n")) if row]
    assert [x.line for x in parse_chunks(chunks, "t")] == starts
