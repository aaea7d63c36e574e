"""`mock_cio.json_text.compact`: the journal's JSON text, orjson's where it writes the same values,
json's compact encoder's everywhere else."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio.json_text import compact

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
    """Equal as decoded JSON, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


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
