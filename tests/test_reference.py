"""Differential tests: the sandbox against Segment's published destination, byte for byte.

The reference is @segment/action-destinations (the version pinned in tests/reference/package.json)
run by tests/reference/runner.js through actions-core's Destination.onSubscription, with a fixed
clock, TZ=UTC and the network replaced by a recorder. Hypothesis generates the cases
(tests/reference_strategies.py); both sides plan each one, in single and batch mode, and every
request (method, URL, headers, body TEXT) and every error message must be equal.

Counterexamples found by the soak (bench/differential_soak.py) are kept in
tests/reference/regressions.json and replayed here first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_strategies import cases, event_text, values
from reference_support import CASES_FILE, Reference, agree, ask_case, require_reference, sandbox_outcome

from sandbox.actions import ACTIONS
from sandbox.js import json as js_json

# The CI budget: generated cases, each planned in single AND batch mode by both sides (profile
# "ci" is derandomized, so CI runs the same cases every time).
CASES = 1000


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    require_reference()
    oracle = Reference()
    yield oracle
    oracle.close()


def _compare(reference: Reference, case: dict[str, Any]) -> None:
    want = ask_case(reference, case)
    got = sandbox_outcome(case)
    where = f"the sandbox differs from the reference for case {json.dumps(case, ensure_ascii=True)}"
    if any(entry.get("rejected") == "mapping" for entry in got):
        assert agree(want, got), where  # a mapping refused when compiled: see reference_support.agree
    else:
        assert got == want, where


@settings(
    max_examples=CASES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(case=cases(mode="single"))
def test_generated_cases_agree_with_the_reference(reference: Reference, case: dict[str, Any]) -> None:
    """Both sides plan each case in single mode and in batch mode: equal requests and errors."""
    _compare(reference, case)
    _compare(reference, {**case, "mode": "batch"})


def _regressions() -> list[dict[str, Any]]:
    if not CASES_FILE.exists():
        return []
    data = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return list(data["cases"])


REGRESSIONS = _regressions()


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c["why"] for c in REGRESSIONS])
def test_regression_case_agrees_with_the_reference(reference: Reference, case: dict[str, Any]) -> None:
    """Saved counterexamples: each once differed (its `why` says how); both sides must now agree."""
    _compare(reference, case)


# -- JSON.stringify ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(values, min_size=1, max_size=20))
def test_stringify_writes_the_bytes_node_writes(reference: Reference, items: list[Any]) -> None:
    """JSON.stringify(JSON.parse(text)) in Node equals sandbox.js.json.stringify(loads(text)), and the
    json.dumps fast path gives the same text, for any JSON value (numbers at the edges of doubles,
    integer-like keys, lone surrogates, `__proto__`)."""
    texts = [event_text(item) for item in items]
    want = reference.ask({"op": "stringify", "texts": texts})
    for text, expected in zip(texts, want, strict=True):
        value = js_json.loads(text)
        assert js_json.stringify(value) == expected, text
        assert js_json.dumps(value) == expected, text


def test_stringify_examples() -> None:
    """Node's answers, written down (so they hold without Node too)."""
    assert js_json.dumps({"big": 12345678901234567890}) == '{"big":12345678901234567000}'
    assert js_json.dumps(js_json.loads('{"big": 12345678901234567890}')) == '{"big":12345678901234567000}'
    assert js_json.dumps([1e21, 1e16, 1e-7, 5e-324, 2.0, -0.0]) == "[1e+21,10000000000000000,1e-7,5e-324,2,0]"
    assert js_json.dumps({"b": 1, "10": 2, "2": 3, "01": 4, "4294967295": 5}) == (
        '{"2":3,"10":2,"b":1,"01":4,"4294967295":5}'
    )
    assert js_json.dumps(["a\ud800b", "\ud83d\ude00"]) == '["a\\ud800b","😀"]'
    assert js_json.dumps({"x": float("inf"), "y": 10**400}) == '{"x":null,"y":null}'


# -- the field table -----------------------------------------------------------------------------------


def test_fields_and_labels_are_the_reference_ones(reference: Reference) -> None:
    """Every action's fields: the same names, in order, with the same labels, types, required
    flags and defaults (the labels appear in validation messages)."""
    described = reference.ask({"op": "describe"})
    assert sorted(described) == sorted(ACTIONS)
    for slug, action in ACTIONS.items():
        theirs = described[slug]["fields"]
        assert list(action.fields) == list(theirs), slug
        for name, field in action.fields.items():
            assert field.label == theirs[name]["label"], f"{slug}.{name}"
            assert field.type == theirs[name]["type"], f"{slug}.{name}"
            assert field.required == theirs[name]["required"], f"{slug}.{name}"
        assert action.has_batch == described[slug]["hasBatch"], slug
