"""How the workers' pass reads plain files (sandbox.replay.keypass): lines split a block of bytes
at a time give what iterating the file gives, whatever the block size; the guessed keys' reader
(orjson first) gives the same times, event counts and plainness as the exact line reader, and
the same events where the two readers' numbers agree; the partitions' replay over files equals
the sequential replay with blocks small enough to cut lines anywhere."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.replay import keypass
from sandbox.replay.engine import event_time
from tests.keypass_support import block_size


def _write(path: Path, data: bytes) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as out:
            out.write(data)
    else:
        path.write_bytes(data)
    return str(path)


@settings(max_examples=150)
@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
    st.integers(1, 20),
    st.booleans(),
)
def test_line_blocks_are_the_lines_iterating_the_file_gives(
    lines: list[bytes], ending: bytes, last_ended: bool, block: int, zipped: bool
) -> None:
    import tempfile

    data = ending.join(lines) + (ending if last_ended and lines else b"")
    with tempfile.TemporaryDirectory() as temp:
        file = _write(Path(temp) / ("f.gz" if zipped else "f.jsonl"), data)
        with keypass._binary(file) as handle:
            expected = [raw.removesuffix(b"\n") for raw in handle]
        with block_size(block):
            blocks = list(keypass._line_blocks(file))
    assert all(blocks)  # no empty block
    assert [line for chunk in blocks for line in chunk] == expected


NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 2**64, 1e21, 89.0, -0.0, 0.5, 1e-7]),
)
LEAVES = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=6), st.sampled_from(["2024-03-05T12:00:00Z", "x"])
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def lines(draw: Any) -> bytes:
    """A line of a file: mostly one event with numbers anywhere, or a line that is not one plain
    event (a batch, a writeKey, a non-object, NaN, a byte order mark, invalid UTF-8, a cut)."""
    event = dict(
        draw(st.dictionaries(st.sampled_from(["userId", "properties", "traits", "n"]), VALUES, max_size=3))
    )
    event["type"] = draw(st.sampled_from(["track", "identify", "page"]))
    if draw(st.booleans()):
        event["timestamp"] = draw(st.sampled_from(["2024-03-05T12:00:00Z", "2024-03-05 12:00:00", "bad", 7]))
    text = json.dumps(event)
    kinds = ["plain"] * 6 + ["batch", "writeKey", "array", "nan", "bom", "bom2", "utf8", "cut"]
    kind = draw(st.sampled_from(kinds))
    if kind == "batch":
        text = json.dumps({"batch": [event]})
    elif kind == "writeKey":
        text = json.dumps({**event, "writeKey": "k"})
    elif kind == "array":
        text = json.dumps([event])
    elif kind == "nan":
        text = text[:-1] + ', "x": NaN}'
    elif kind == "bom":
        text = "\ufeff" + text
    elif kind == "bom2":
        text = "\ufeff\ufeff" + text
    elif kind == "cut":
        text = text[: draw(st.integers(0, len(text) - 1))]
    raw = text.encode("utf-8")
    return raw[:1] + b"\xff" + raw[1:] if kind == "utf8" else raw


def _read(reader: Any, raw: bytes, number: int) -> tuple[str, Any]:
    try:
        return "event", reader(raw, number, "f")
    except keypass._NotPlain:
        return "not plain", None


def _numbers_agree(value: Any) -> bool:
    """Whether orjson and JSON.parse read every number in `value` (as json.loads read it) alike:
    integers within 2^53, and floats that are not integral."""
    if isinstance(value, dict):
        return all(map(_numbers_agree, value.values()))
    if isinstance(value, list):
        return all(map(_numbers_agree, value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53
    return math.isfinite(value) and not value.is_integer()


@settings(max_examples=300)
@given(lines(), st.integers(1, 3))
def test_the_guessing_reader_agrees_with_the_line_reader(raw: bytes, number: int) -> None:
    """Same plainness and time always (a guessed key spelled from a number may differ, and is
    checked later); the same event where the numbers read alike."""
    exact_kind, exact = _read(keypass._line_event, raw, number)
    guess_kind, guessed = _read(keypass._guessing_event, raw, number)
    assert guess_kind == exact_kind
    if exact_kind == "event":
        assert event_time(guessed) == event_time(exact)
        assert ("type" in guessed, "writeKey" in guessed) == ("type" in exact, "writeKey" in exact)
        if _numbers_agree(json.loads(raw.decode("utf-8-sig"))):
            assert guessed == exact


@settings(max_examples=40)
@given(st.lists(lines(), min_size=1, max_size=6), st.integers(1, 40))
def test_file_keys_guessed_with_small_blocks_equal_the_line_by_line_keys(
    raw_lines: list[bytes], block: int
) -> None:
    """The guessed pass over a plain file: its counts, times, plainness and error do not depend
    on the block size, and (when tracing does not stop it) equal the exact pass's, which reads
    the file as read_file does."""
    import tempfile

    from sandbox.replay.config import load_config

    config = load_config(
        Path(__file__).resolve().parent.parent / "fixtures" / "scenarios" / "cio-sandbox.toml"
    )
    with tempfile.TemporaryDirectory() as temp:
        file = _write(Path(temp) / "f.jsonl", b"\n".join(raw_lines) + b"\n")
        with block_size(block):
            small = keypass.file_keys(file, (config,), guess=True)
        whole = keypass.file_keys(file, (config,), guess=True)
        exact = keypass.file_keys(file, (config,), guess=False)
    assert (small.events, small.times, small.plain, small.error) == (
        whole.events,
        whole.times,
        whole.plain,
        whole.error,
    )
    if exact.error is None and small.error is None:
        assert (small.events, small.times, small.plain) == (exact.events, exact.times, exact.plain)


def _reference_keys(value: object, keys: list[str]) -> None:
    """request_keys' walk as first written: every dict's identifier names, in item order."""
    from sandbox.errors import InputError
    from sandbox.replay.identities import _IDENTIFIER_KEYS, _scalar

    if isinstance(value, dict):
        if "object_id" in value or "object_type_id" in value:
            keys.append(f"object:{_scalar(value.get('object_type_id'))}/{_scalar(value.get('object_id'))}")
        for name, item in value.items():
            if name in _IDENTIFIER_KEYS:
                text = _scalar(item)
                if text is not None:
                    keys.append(f"who:{text}")
            elif name == "cio_id" and item not in (None, ""):
                raise InputError("cio_id", "w")
            _reference_keys(item, keys)
    elif isinstance(value, list):
        for item in value:
            _reference_keys(item, keys)


BODY_NAMES = st.sampled_from(
    [
        "id",
        "email",
        "anonymous_id",
        "token",
        "cio_id",
        "object_id",
        "object_type_id",
        "attributes",
        "name",
        "x",
    ]
)
BODIES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(BODY_NAMES, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(BODY_NAMES, BODIES, max_size=5))
def test_request_keys_walk_equals_the_reference_walk(body: dict[str, Any]) -> None:
    """The walk that skips a dict without identifier names gives the same keys in the same order,
    and refuses a cio_id where the reference does."""
    from sandbox.actions.request import CioRequest
    from sandbox.errors import InputError
    from sandbox.replay.identities import request_keys

    expected: list[str] = []
    try:
        _reference_keys(body, expected)
    except InputError:
        expected = ["refused"]
    request = CioRequest("POST", "https://track.customer.io/api/v2/entity", {}, body)
    try:
        got = request_keys(request, "w")
    except InputError as exc:
        assert "cio_id" in exc.message
        got = ["refused"]
    assert got == (expected or ["~keyless"])


@settings(max_examples=150)
@given(st.lists(lines(), min_size=1, max_size=6), st.data())
def test_a_partition_reads_the_lines_of_a_plain_file_as_read_file_reads_them(
    raw_lines: list[bytes], data: st.DataObject
) -> None:
    """_plain_items (each line's bytes to msgspec first) against the line reader, and against
    read_file where every line is one plain event: the same events and places for any wanted
    lines; not plain where a wanted line is not one plain event (the partition then reads the
    file with read_file). Lines not wanted are not decoded."""
    import tempfile
    from array import array

    from sandbox.replay.events import read_file

    wanted = sorted(data.draw(st.sets(st.integers(0, len(raw_lines) - 1), min_size=1)))
    exact = [_read(keypass._line_event, raw, number) for number, raw in enumerate(raw_lines, 1)]
    with tempfile.TemporaryDirectory() as temp:
        file = _write(Path(temp) / "f.jsonl", b"\n".join(raw_lines) + b"\n")
        try:
            times = array("d", [0.0] * len(wanted))
            got = list(keypass._plain_items(file, 0, len(raw_lines), array("q", wanted), times, [0]))
        except keypass._NotPlain:
            got = None
        everything = list(read_file(file)) if all(kind == "event" for kind, _ in exact) else None
    if any(exact[index][0] == "not plain" for index in wanted):
        assert got is None
        return
    assert got is not None
    assert [(item.index, item.event, item.where) for item in got] == [
        (index, exact[index][1], f"{file}:{index + 1}") for index in wanted
    ]
    if everything is not None:
        assert [item.event for item in got] == [everything[index].event for index in wanted]
        assert [item.where for item in got] == [everything[index].where for index in wanted]
