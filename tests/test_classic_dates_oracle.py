"""sandbox/classic/dates.py against the published date packages the classic integration used
(@segment/isodate, @segment/isodate-traverse, new-date, unix-time), run with Node.

tests/classic_reference is their npm project (`npm ci --prefix tests/classic_reference`). Without
Node or the packages these tests skip, unless CIO_SANDBOX_REQUIRE_NODE=1 (CI sets it), which
makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.classic.dates import convert_dates, is_iso, new_date, parse_iso

HERE = Path(__file__).resolve().parent / "classic_reference"


@pytest.fixture(scope="module")
def oracle():
    node = shutil.which("node")
    ready = node is not None and (HERE / "node_modules" / "new-date").is_dir()
    if not ready:
        why = "needs node and `npm ci --prefix tests/classic_reference`"
        if os.environ.get("CIO_SANDBOX_REQUIRE_NODE") == "1":
            pytest.fail(why)
        pytest.skip(why)
    proc = subprocess.Popen(
        [node, str(HERE / "oracle.js")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE
    )

    def ask(op: str, value: Any, **extra: Any) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"op": op, "value": value, **extra}) + "\n")
        proc.stdin.flush()
        got = json.loads(proc.stdout.readline())
        assert "error" not in got, got
        return got["ok"]

    yield ask
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(timeout=10)


DIGIT = st.sampled_from("0123456789")


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(DIGIT, min_size=n, max_size=n).map("".join)


# Strings near the ISO pattern: a year, optional parts with the separators isodate allows, and
# now and then a stray character, so both sides of every branch are exercised.
_part = st.one_of(
    _digits(2).map(lambda d: "-" + d),
    _digits(2),
    st.tuples(st.sampled_from("T "), _digits(2), st.sampled_from(":"), _digits(2)).map("".join),
    _digits(2).map(lambda d: ":" + d),
    st.tuples(st.sampled_from(".,"), st.integers(1, 9).flatmap(_digits)).map("".join),
    st.just("Z"),
    st.tuples(st.sampled_from("+-"), _digits(2), st.sampled_from(["", ":"]), _digits(2)).map("".join),
    st.sampled_from(["x", " ", "GMT", "\n"]),
)
ISOISH = st.tuples(_digits(4), st.lists(_part, max_size=6)).map(lambda t: t[0] + "".join(t[1]))
DATEISH = st.one_of(
    ISOISH,
    _digits(10),
    _digits(13),
    st.sampled_from(
        ["25 Mar 2015", "Tue, 05 Mar 2024 12:34:56 GMT", "03/05/2024", "n/a", "2024", "20240305"]
    ),
)


@given(ISOISH, st.booleans())
def test_is_iso(oracle, text, strict):
    assert is_iso(text, strict=strict) is oracle("is", text, strict=strict)


@given(ISOISH)
def test_parse_iso(oracle, text):
    if is_iso(text, strict=False):
        assert parse_iso(text) == oracle("parse", text)


@given(st.one_of(DATEISH, st.integers(-(10**13), 10**13), st.floats(-1e12, 1e13, allow_nan=False)))
def test_new_date(oracle, value):
    assert new_date(value) == oracle("new_date", value)


JSON_VALUES = st.recursive(
    st.one_of(DATEISH, st.integers(-1000, 1000), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(JSON_VALUES)
def test_convert_dates(oracle, value):
    assert convert_dates(value) == oracle("convert", value)
