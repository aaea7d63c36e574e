"""sandbox.mapping.paths: mapping-kit's `get` (docs/destination.md §10.2): its splitting and falsy short-circuit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import json_values, plain_keys

from sandbox.js.values import MISSING
from sandbox.mapping.paths import get, is_truthy, split_path

DATA: dict[str, Any] = {
    "s": "str",
    "a": {"b": [{"c": 1}, {"c": 2}], "d": None, "e": "", "f": 0, "g": False, "h": 0.0, "k": {}},
    "dot.key": "dotted",
    "a[b]": "bracketed",
    "list": [10, 20, 30],
    "emoji": "a😀b",
    "": {"empty": "yes"},
}


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("a.b[0].c", ("a", "b", "0", "c")),
        ("a['b']", ("a", "b")),
        ('a["b"]', ("a", "b")),
        ("a[b]", ("a[b]",)),  # [ not followed by a quote or a digit: part of the key
        ("a[0]]]", ("a", "0")),  # a run of ] after a digit is one separator
        ("a..b", ("a", "b")),  # empty pieces dropped
        (".a.", ("a",)),
        ("a.''", ("a", "")),  # dropped before the quotes go: '' becomes the empty key
        ("it's.x", ("its", "x")),  # every quote is removed, wherever it is
        ("$.x", ("$", "x")),  # split_path does not strip $.; callers do
        ("a[ 0]", ("a[ 0",)),  # a space after [ keeps the bracket in the key
        ("a.b[01]", ("a", "b", "01")),
    ],
)
def test_split_path(path: str, keys: tuple[str, ...]) -> None:
    assert split_path(path) == keys


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s", "str"),
        ("a.b[0].c", 1),
        ("a.b[1]['c']", 2),
        ('a["b"][1].c', 2),
        ("a.b.1.c", 2),
        ("a.b.length", 2),
        ("s.length", 3),  # docs/destination.md §10.2: string properties work
        ("s.0", "s"),
        ("s[2]", "r"),
        ("s.3", MISSING),
        ("emoji.length", 4),  # UTF-16 code units, as JavaScript counts
        ("emoji.1", "\ud83d"),  # half of a surrogate pair, as JavaScript indexes
        ("emoji.3", "b"),
        ("list.01", MISSING),  # not a canonical array index
        ("list.-1", MISSING),
        ("list.3", MISSING),
        ("list.map", MISSING),  # methods are not emulated
        ("nope", MISSING),
        ("nope.deeper", MISSING),  # a missing intermediate gives undefined
        ("dot.key", MISSING),  # docs/destination.md §10.2: a key holding a dot cannot be addressed
        ("a[b]", "bracketed"),
        ("a.d", None),
        ("a.d.x", None),  # docs/destination.md §10.2: through null → null
        ("a.f.x", 0),  # through 0 → 0
        ("a.e.x", ""),  # through "" → ""
        ("a.g.x.y", False),
        ("a.h.x", 0.0),
        ("a.k.x", MISSING),  # {} is truthy: its property is looked up
        ("a.''.x", MISSING),
        ("''.empty", "yes"),
        ("a.b.0.c.d", MISSING),  # 1 is truthy; numbers have no properties here
    ],
)
def test_get(path: str, expected: Any) -> None:
    assert get(DATA, path) == expected
    assert type(get(DATA, path)) is type(expected)


@pytest.mark.parametrize("path", ["", "."])
def test_root_paths_return_the_data_itself(path: str) -> None:
    assert get(DATA, path) is DATA
    assert get([1], path) == [1]


@pytest.mark.parametrize(
    ("root", "expected"),
    [(None, None), (0, 0), ("", ""), (False, False), (MISSING, MISSING), (5, MISSING), (True, MISSING)],
)
def test_get_from_a_scalar_root(root: Any, expected: Any) -> None:
    assert get(root, "a.b") is expected or get(root, "a.b") == expected


def test_truthiness_is_javascripts() -> None:
    falsy = [None, MISSING, False, 0, 0.0, -0.0, "", float("nan")]
    truthy = [True, 1, -1, 0.5, "0", " ", "false", [], {}, [0], {"a": None}]
    assert [is_truthy(v) for v in falsy] == [False] * len(falsy)
    assert [is_truthy(v) for v in truthy] == [True] * len(truthy)


@given(st.lists(plain_keys, min_size=1, max_size=4), json_values)
def test_dotted_path_of_plain_keys_finds_a_nested_value(keys: list[str], leaf: Any) -> None:
    data: Any = leaf
    for key in reversed(keys):
        data = {key: data}
    assert get(data, ".".join(keys)) == leaf
    assert get(data, "".join(f"['{k}']" for k in keys)) == leaf


@given(st.dictionaries(plain_keys, json_values, max_size=5), plain_keys)
def test_one_key_path_is_a_dict_lookup(data: dict[str, Any], key: str) -> None:
    assert get(data, key) == data.get(key, MISSING)


@given(st.lists(json_values, max_size=5), st.integers(min_value=0, max_value=6))
def test_indexes_into_arrays(items: list[Any], index: int) -> None:
    data = {"x": items}
    expected = items[index] if index < len(items) else MISSING
    assert get(data, f"x[{index}]") == expected
    assert get(data, f"x.{index}") == expected
    assert get(data, "x.length") == len(items)


def _index(key: str) -> bool:
    return key.isascii() and key.isdigit() and str(int(key)) == key


@given(
    json_values, st.lists(plain_keys | st.sampled_from(["0", "1", "length", "01"]), min_size=1, max_size=3)
)
def test_get_never_raises_and_agrees_with_the_js_rule(data: Any, keys: list[str]) -> None:
    """acc && acc[key] step by step, written out independently."""
    expected: Any = data
    for key in keys:
        if not is_truthy(expected):
            break
        if isinstance(expected, dict):
            expected = expected.get(key, MISSING)
        elif isinstance(expected, list) and _index(key):
            expected = expected[int(key)] if int(key) < len(expected) else MISSING
        elif (
            isinstance(expected, (list, str))
            and key == "length"
            and (isinstance(expected, list) or expected.isascii())
        ):
            expected = len(expected)
        elif isinstance(expected, str) and expected.isascii() and _index(key):
            expected = expected[int(key)] if int(key) < len(expected) else MISSING
        elif isinstance(expected, str) and not expected.isascii():
            return  # UTF-16 indexing is covered by the examples above
        else:
            expected = MISSING
    assert get(data, ".".join(keys)) == expected
