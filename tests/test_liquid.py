"""`@liquid` prints and filters as mapping-kit's LiquidJS 10.30.1 does (sandbox/mapping/liquid*.py).

The expected strings below were obtained by running each template through actions-core 3.170.0's
`evaluateLiquid` on liquidjs 10.30.1 with the same data; tests/test_upstream_oracle.py replays
the recorded oracle file. The property tests state the JavaScript laws the port relies on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import json_values

from sandbox.errors import MappingError
from sandbox.mapping import resolve, validate_mapping
from sandbox.mapping.jsvalues import json_stringify, number_to_string

DATA: dict[str, Any] = {
    "o": {"b": "ob", "x": None},
    "l": ["x", {"b": "lb"}, None],
    "ls": [1, [2, 3], None, "x"],
    "nested": [[1, [2, [3]]], True],
    "tiny": 1e-7,
    "neg": -0.0,
    "big": 1e21,
    "u": "h€llo\U0001f600",
    "s": "str",
    "ws": "\u00a0 a \n",
    "nums": [1, 2.5, "3", None, "x"],
    "objs": [{"a": 1, "b": {"c": "y"}}, {"a": 2, "b": {"c": "z"}}, {"a": "1"}],
}


def render(template: str, data: dict[str, Any] | None = None) -> Any:
    mapping = {"v": {"@liquid": template}}
    validate_mapping(mapping)
    return resolve(mapping, DATA if data is None else data)["v"]


def _cases(*pairs: tuple[str, str]) -> Any:
    return pytest.mark.parametrize(("template", "expected"), pairs, ids=[p[0] for p in pairs])


# -- output: LiquidJS stringify ------------------------------------------------------------------------


@_cases(
    ("{{ o }}", "[object Object]"),
    ("{{ l }}", "x[object Object]"),
    ("{{ ls }}", "123x"),
    ("{{ nested }}", "123true"),
    ("{{ tiny }}", "1e-7"),
    ("{{ neg }}", "0"),
    ("{{ big }}", "1e+21"),
    ("{{ missing }}", ""),
    ("{% echo o %}", "[object Object]"),
    ("{% capture c %}{{ l }}{% endcapture %}{{ c }}", "x[object Object]"),
)
def test_output_prints_javascript_strings(template: str, expected: str) -> None:
    assert render(template) == expected


def test_lone_surrogates_can_be_printed() -> None:
    assert render("{{ u | last }}") == "\ude00"  # a UTF-16 unit, as `str[str.length - 1]`


# -- math: JavaScript doubles ---------------------------------------------------------------------------


@_cases(
    ("{{ 1.5 | times: 2 }}", "3"),
    ("{{ 5 | divided_by: 2 }}", "2.5"),
    ("{{ 7 | divided_by: 2, true }}", "3"),
    ("{{ 1 | divided_by: 0 }}", "Infinity"),
    ("{{ 0 | divided_by: 0 }}", "NaN"),
    ("{{ -7 | modulo: 3 }}", "2"),
    ("{{ 0.1 | plus: 0.2 }}", "0.30000000000000004"),
    ('{{ "3" | plus: 1 }}', "4"),
    ('{{ "abc" | plus: 1 }}', "1"),
    ("{{ 2.345 | round: 2 }}", "2.35"),
    ("{{ 1234.5 | round: -2 }}", "1200"),
    ("{{ -2.5 | round }}", "-3"),
    ("{{ nums | sum }}", "6.5"),
    ('{{ "12.5" | to_integer }}', "12.5"),
)
def test_math_is_javascript_arithmetic(template: str, expected: str) -> None:
    assert render(template) == expected


# -- strings: UTF-16 lengths, code-point truncation -----------------------------------------------------


@_cases(
    ("{{ u | size }}", "7"),
    ("{{ u.size }}", "7"),
    ("{{ u | first }}", "h"),
    ("{{ u | slice: -1 }}", "\U0001f600"),
    ("{{ u | truncate: 6 }}", "h€llo\U0001f600"),
    ('{{ "str" | truncate: 2 }}', "..."),
    ('{{ "str" | truncate: 5 }}', "str"),
    ('{{ "  one two three" | truncatewords: 2 }}', "one two..."),
    ('{{ "a,b,," | split: "," | size }}', "2"),
    ('{{ "abc" | replace: "", "-" }}', "a-b-c"),
    ('{{ "xxaxx" | strip: "x" }}', "a"),
    ("{{ ws | strip }}", "a"),
    ('{{ "a+b%2B" | url_decode }}', "a b+"),
    ('{{ "a b!\'()*" | cgi_escape }}', "a+b%21%27%28%29%2A"),
    ('{{ "Hello World! Ça va?" | slugify }}', "hello-world-ça-va"),
    ('{{ "aGk=" | base64_decode }}', "hi"),
    ("{{ s | sha256 }}", "8c25cb3686462e9a86d2883c5688a22fe738b0bbc85f458d2d2b5f3f667c6d5a"),
)
def test_string_filters(template: str, expected: str) -> None:
    assert render(template) == expected


# -- arrays, json, default ------------------------------------------------------------------------------


@_cases(
    ('{{ l | join: "," }}', "x,[object Object],"),
    ("{{ l | join }}", "x [object Object] "),
    ('{{ nums | push: 9 | join: "," }}', "1,2.5,3,,x,9"),
    ("{{ objs | where: 'a', 1 | size }}", "1"),
    ("{{ objs | where: 'b' | size }}", "2"),
    ("{{ objs | where: 'b.c', 'z' | first | json }}", '{"a":2,"b":{"c":"z"}}'),
    ("{{ o | size }}", "0"),
    ("{{ o | first }}", ""),
    ("{{ true | json }}", "true"),
    ("{{ o | json }}", '{"b":"ob","x":null}'),
    ("{{ o | json: 2 }}", '{\n  "b": "ob",\n  "x": null\n}'),
    ("{{ missing | json }}", ""),
    ('{{ 0 | default: "d" }}', "0"),
    ('{{ false | default: "d", allow_false: true }}', "false"),
    ("{{ s | nosuchfilter: 1 }}", "str"),
    ("{{ s | escapejs }}", "str"),
)
def test_array_and_misc_filters(template: str, expected: str) -> None:
    assert render(template) == expected


@_cases(
    ("{{ s | append }}", "append expect 2 arguments"),
    ('{{ "%C3" | url_decode }}', "URI malformed"),
    ('{{ "!!!" | base64_decode }}', "invalid base64 provided to base64_decode"),
    ("{{ s | date_to_xmlschema }}", 'filter "date_to_xmlschema" is not emulated by the sandbox'),
    ("{% ifchanged %}a{% endifchanged %}", "ifchanged"),
    ("{{ l | where_exp: 'x', 'x' }}", 'filter "where_exp" is disabled'),
)
def test_errors_name_the_problem(template: str, expected: str) -> None:
    with pytest.raises(MappingError) as raised:
        render(template)
    assert expected in raised.value.message
    assert raised.value.path == ("v", "@liquid")


# -- laws -----------------------------------------------------------------------------------------------

doubles = st.floats(allow_nan=False, allow_infinity=False)


@given(doubles)
def test_numbers_print_as_javascript_string(number: float) -> None:
    assert render("{{ x }}", {"x": number}) == number_to_string(number)


@given(doubles, doubles)
def test_plus_and_times_are_double_arithmetic(left: float, right: float) -> None:
    data = {"a": left, "b": right}
    assert render("{{ a | plus: b }}", data) == number_to_string(left + right)
    assert render("{{ a | times: b }}", data) == number_to_string(left * right)


@given(doubles, doubles.filter(lambda d: d != 0))
def test_divided_by_is_double_division(left: float, right: float) -> None:
    assert render("{{ a | divided_by: b }}", {"a": left, "b": right}) == number_to_string(left / right)


@given(st.text())
def test_size_counts_utf16_units(text: str) -> None:
    expected = str(len(text.encode("utf-16-le", "surrogatepass")) // 2)
    assert render("{{ t | size }}", {"t": text}) == expected
    assert render("{{ t.size }}", {"t": text}) == expected


@given(json_values)
def test_json_filter_is_json_stringify(value: Any) -> None:
    out = render("{{ v | json }}", {"v": value})
    assert out == json_stringify(value)
    assert json_stringify(json.loads(out)) == out  # JSON.stringify(JSON.parse(s)) gives s back


@given(json_values)
def test_indented_json_reads_back_as_the_compact_one(value: Any) -> None:
    indented = render("{{ v | json: 2 }}", {"v": value})
    assert json.dumps(json.loads(indented)) == json.dumps(json.loads(render("{{ v | json }}", {"v": value})))


@given(st.lists(st.text(alphabet="abc€\U0001f600", min_size=1), min_size=1))
def test_split_undoes_join(parts: list[str]) -> None:
    assert render("{{ t | split: ',' | join: ',' }}", {"t": ",".join(parts)}) == ",".join(parts)


@given(st.text(), st.integers(min_value=0, max_value=30))
def test_truncate_keeps_at_most_n_code_points(text: str, size: int) -> None:
    out = render("{{ t | truncate: n }}", {"t": text, "n": size})
    if len(text) <= size:
        assert out == text
    else:
        assert out.endswith("...")
        assert len(out) == max(size - 3, 0) + 3
        assert text.startswith(out[:-3])


@given(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=6))
def test_arrays_print_their_items_joined(items: list[Any]) -> None:
    expected = "".join(
        "" if item is None else number_to_string(item) if isinstance(item, int) else item for item in items
    )
    assert render("{{ a }}", {"a": items}) == expected
