"""`mock_cio.json_text.compact`: the journal's JSON text, orjson's where it writes the same values,
json's compact encoder's everywhere else."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio.json_text import compact, compact_size, loads

_stdlib = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":")
).encode  # written out here again: the oracle

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.floats()  # NaN and the infinities too
    | st.text()  # lone surrogates too
)
values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=2)
    ),  # json makes these keys text
    max_leaves=12,
)


def _same(a: object, b: object) -> bool:
    """Equal as decoded JSON, NaN equal to NaN, ints apart from floats, keys in the same order
    (iterative: values nested past the recursion limit compare too)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if not ((math.isnan(x) and math.isnan(y)) or x == y):  # type: ignore[arg-type]
                return False
        elif isinstance(x, list):
            if len(x) != len(y):  # type: ignore[arg-type]
                return False
            stack.extend(zip(x, y, strict=True))  # type: ignore[call-overload]
        elif isinstance(x, dict):
            if list(x) != list(y):  # type: ignore[call-overload]
                return False
            stack.extend((x[k], y[k]) for k in x)  # type: ignore[index]
        elif x != y:
            return False
    return True


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


@given(values)
def test_compact_decodes_to_what_jsons_text_decodes_to(value: object) -> None:
    assert _same(json.loads(compact(value)), json.loads(_stdlib(value)))


@given(values.filter(lambda v: not _has_float(v)))
def test_compact_is_jsons_text_where_no_float_is_spelled(value: object) -> None:
    assert compact(value) == _stdlib(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1, {"x": math.inf}]])
def test_nan_and_infinities_are_kept_as_json_writes_them(value: object) -> None:
    assert compact(value) == _stdlib(value) and "null" not in compact(value)


def test_what_json_refuses_is_still_refused() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError):
        compact({"x": Opaque()})


# -- loads: json.loads's value, by orjson where it is the same ------------------------------------

_texts = st.one_of(
    values.map(_stdlib),  # every JSON value json writes: NaN, Infinity, big integers, lone surrogates
    values.map(compact),  # the journal's texts
    st.text(alphabet='{}[]",:0123456789.eE+-tnulfas \\\\\\ud800\ufeff\x00\t', max_size=30),  # broken ones
    st.integers(min_value=1, max_value=1100).map(lambda n: "[" * n + "]" * n),  # nested deep
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


def _read(load: Any, text: str | bytes) -> tuple[str, object]:
    try:
        return "value", load(text)
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, None


def _agree(data: str | bytes) -> None:
    (kind, value), (expected_kind, expected) = _read(loads, data), _read(json.loads, data)
    assert kind == expected_kind
    assert _same(value, expected)


@given(_texts, st.booleans())
def test_loads_reads_what_json_loads_reads(text: str, as_bytes: bool) -> None:
    data: str | bytes = text
    if as_bytes:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")  # invalid UTF-8: both must refuse it
    _agree(data)


@pytest.mark.parametrize(
    "text",
    ["18446744073709551616", "-9223372036854775809", '{"a": 123456789012345678901234567890}', "1e400",
     '"\\ud800"', '{"a":NaN}', "[" * 1000 + "]" * 1000, '{"a":1,"b":2,"a":3}', "\ufeff{}"],
    ids=lambda text: text[:24],
)  # fmt: skip
def test_loads_leaves_to_json_what_orjson_reads_otherwise(text: str) -> None:
    _agree(text)
    _agree(text.encode("utf-8", "surrogatepass"))


# -- the mock's request bodies: read_fast in front of json changes no answer ----------------------

_bodies = st.one_of(
    st.dictionaries(st.text(max_size=5), values, max_size=4).map(_stdlib),
    _texts,
    st.integers(min_value=60, max_value=70).map(lambda n: '{"a":' * n + "1" + "}" * n),  # MAX_DEPTH
    st.sampled_from(['{"a":1e400}', '{"a":1e-400}', '{"a":' + "9" * 310 + "}", '{"a":1e308}']),
)


def _answer(raw: bytes) -> tuple[str, object]:
    from mock_cio.request_body import parse_body

    try:
        return "value", parse_body(raw, "application/json", flavour="v2", limit=1 << 20, notes=[])
    except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
        return type(exc).__name__, getattr(exc, "body", str(exc))


@given(_bodies)
def test_parse_body_reads_and_refuses_as_without_read_fast(text: str) -> None:
    import mock_cio.request_body as request_body
    from mock_cio.json_text import NOT_READ

    raw = text.encode("utf-8", "surrogatepass")
    fast = _answer(raw)
    original = request_body.read_fast
    request_body.read_fast = lambda data: NOT_READ
    try:
        slow = _answer(raw)
    finally:
        request_body.read_fast = original
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]) if fast[0] == "value" else fast[1] == slow[1]


@given(values)
def test_compact_size_is_the_size_of_jsons_text(value: object) -> None:
    assert compact_size(value) == len(_stdlib(value).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "value", [1e-05, [1e16], {"a": math.nan}, [None, -math.inf], {"b": 2**70}, "x\ud800"]
)
def test_compact_size_counts_what_orjson_spells_otherwise(value: object) -> None:
    assert compact_size(value) == len(_stdlib(value).encode("utf-8", "surrogatepass"))
