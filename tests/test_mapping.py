"""sandbox.mapping: mapping-kit's validation texts, every directive and quirk (docs/destination.md §10), laws.

Expected values come from the observed examples of docs/destination.md and from mapping-kit's own tests
(packages/core/src/mapping-kit/__tests__ and schema-fixtures), restated here as tables.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import DIRECTIVE_NAMES, any_mappings, json_objects, json_values, plain_keys

from sandbox.errors import MappingError, SandboxError
from sandbox.js.values import MISSING
from sandbox.mapping import compile_mapping, remove_undefined, resolve, validate_mapping
from sandbox.mapping.compile import compile_node
from sandbox.mapping.jsvalues import json_stringify, number_to_string, to_string

EVENT: dict[str, Any] = {
    "s": "str",
    "n": 1,
    "t": True,
    "f": False,
    "z": 0,
    "e": "",
    "ws": "  ",
    "nul": None,
    "arr": [],
    "obj": {},
    "a": {"d": None, "f": 0, "e": "", "b": [1, [2, 3]], "o": {"k": "v"}},
    "traits": {"email": "PEOPLE@example.com", "name": "Ann"},
}


def one(mapping: Any, data: dict[str, Any] | None = None) -> Any:
    """Resolve `{"v": mapping}` and return the value of v (MISSING when removed)."""
    full = {"v": mapping}
    validate_mapping(full)
    return resolve(full, EVENT if data is None else data).get("v", MISSING)


# -- validation ------------------------------------------------------------------------------------

VALID = [
    {
        "@arrayPath": [
            "$.products",
            {"cash_money": {"@path": "$.price"}, "product_id": {"@path": "$.productId"}},
        ]
    },
    {"@arrayPath": ["$.foo.bar"]},
    {"@if": {"exists": {"@path": "$.foo"}, "then": {"@path": "$.bar"}, "else": {"@path": "$.baz"}}},
    {"@if": {"exists": 1, "else": 3}},
    {"@if": {"exists": 1, "then": 2, "else": 3}},
    {"@path": {"@path": "$.foo.bar"}},
    {"@path": "$.foo.bar"},
    {"@replace": {"pattern": "+", "replacement": "-", "value": {"@path": "$.a"}, "ignorecase": True}},
    {"@replace": {"pattern": "+", "value": {"@path": "$.a"}}},
    {"@template": "{{foo.bar}}", "_metadata": {"type": "autocomplete", "label": "X"}},
    {"@template": {"@path": "$.my.template"}},
    {"hello": {"world!": True}},
    {"cool": True, "string": "right here!"},
    {"a": 1, "b": {"@path": "$.foo.bar"}},
    {"@literal": False},
    {"x": [{"@nope": 1}]},  # validate.ts does not look inside arrays
    {"x": {"@literal": {"y": {"@nope": 1}}}},  # nor inside raw option values
    {"x": {"@if": {"blank": [{"@nope": 1}], "then": 1}}},  # `blank` is only checked as a value
    {"x": {"@json": {"mode": "ENCODE", "value": 1}}},  # modes are compared lower-cased
    {"x": {"@merge": {"objects": [{"@path": "$.a"}, {"b": 1}]}}},  # direction is optional here
    {"x": {"@liquid": "{{ a }}"}},
    {"x": {"@excludeWhenNull": None}},
]


@pytest.mark.parametrize("mapping", VALID, ids=[json.dumps(m)[:60] for m in VALID])
def test_valid_mappings_pass(mapping: dict[str, Any]) -> None:
    validate_mapping(mapping)


INVALID = [
    ({"@arrayPath": "nope"}, "/@arrayPath should be an array but it is a string.", ("@arrayPath",)),
    (
        {"@if": {"exists": True, "then": {"@oops": {}}}},
        "/@if/then has an invalid directive: @oops.",
        ("@if", "then"),
    ),
    ({"@path": False}, "/@path should be a string or a mapping directive but it is a boolean.", ("@path",)),
    (
        {"@replace": {"value": {"@path": "$.a"}}},
        '/@replace should have field "pattern" but it doesn\'t.',
        ("@replace",),
    ),
    ({"@replace": {"pattern": "bla"}}, '/@replace should have field "value" but it doesn\'t.', ("@replace",)),
    (
        {"@replace": {"pattern": "waaaaayyytoooooloooong", "value": {"@path": "$.a"}}},
        "/@replace/pattern should be a string of length 10 or less.",
        ("@replace", "pattern"),
    ),
    (
        {"@replace": {"pattern": "", "value": "x"}},
        "/@replace/pattern should be a string of length 1 or greater.",
        ("@replace", "pattern"),
    ),
    (
        {"@replace": {"pattern": "w", "replacement": "waaaayyyytooolong", "value": {"@path": "$.a"}}},
        "/@replace/replacement should be a string of length 10 or less.",
        ("@replace", "replacement"),
    ),
    (
        {"@replace": {"pattern": "+", "replacement": "-", "value": {"@path": "$.a"}, "global": "bla"}},
        "/@replace/global should be a boolean but it is a string.",
        ("@replace", "global"),
    ),
    (
        {"@replace": {"pattern": "+", "replacement": "-", "value": {"@path": "$.a"}, "ignorecase": "bla"}},
        "/@replace/ignorecase should be a boolean but it is a string.",
        ("@replace", "ignorecase"),
    ),
    (
        {"@template": 123},
        "/@template should be a string or a mapping directive but it is a number.",
        ("@template",),
    ),
    ({"@path": "$.foo", "bar": "baz"}, "/ should only have one @-prefixed key but it has 2 keys.", ()),
    ({"@path": "$.foo", "@bar": "baz"}, "/ should only have one @-prefixed key but it has 2 keys.", ()),
    ({"@oops": {}}, "/ has an invalid directive: @oops.", ()),
    (
        {"obj": {"@path": "foo.bar", "oops": True}, "hash": {"@template": {}}},
        "/obj should only have one @-prefixed key but it has 2 keys."
        " /hash/@template should be a string or a mapping directive but it is an object.",
        ("obj",),
    ),
    # docs/destination.md §10.1 examples
    (
        {"x": {"@path": 1}},
        "/x/@path should be a string or a mapping directive but it is a number.",
        ("x", "@path"),
    ),
    ({"x": {"@path": "a", "@if": {}}}, "/x should only have one @-prefixed key but it has 2 keys.", ("x",)),
    ({"x": {"@nope": 1}}, "/x has an invalid directive: @nope.", ("x",)),
    (
        {"x": {"@if": {"blank": {"@nope": 1}, "then": 1}}},  # options are first validated as a mapping
        "/x/@if/blank has an invalid directive: @nope.",
        ("x", "@if", "blank"),
    ),
    ({"x": {"@Path": "a"}}, "/x has an invalid directive: @Path.", ("x",)),
    (
        {"x": {"a": 1, "_metadata": {}, "@path": "a"}},
        "/x should only have one @-prefixed key but it has 3 keys.",
        ("x",),
    ),
    (
        {"oops": {"@merge": [{}, 123]}},
        "/oops/@merge should be an object but it is an array.",
        ("oops", "@merge"),
    ),
    (
        {"x": {"@merge": {"direction": "up", "objects": []}}},
        '/x/@merge/direction should be one of left, right but it is "up".',
        ("x", "@merge", "direction"),
    ),
    (
        {"x": {"@merge": {"direction": "left", "objects": [{}, 1]}}},
        "/x/@merge/objects/1 should be a object or a mapping directive but it is a number.",
        ("x", "@merge", "objects", "1"),
    ),
    (
        {"x": {"@merge": {"objects": {"oops": True}}}},
        "/x/@merge/objects should be an array but it is an object.",
        ("x", "@merge", "objects"),
    ),
    (
        {"x": {"@json": {"mode": "oops", "value": 1}}},
        '/x/@json/mode should be one of encode, decode but it is "oops".',
        ("x", "@json", "mode"),
    ),
    (
        {"x": {"@json": {}}},
        '/x/@json should have field "value" but it doesn\'t. /x/@json should have field "mode" but it doesn\'t.',
        ("x", "@json"),
    ),
    (
        {"x": {"@transform": {"@path": {}}}},
        "/x/@transform should be an object but it is a directive.",
        ("x", "@transform"),
    ),
    (
        {"x": {"@transform": {"apply": 1, "mapping": {}}}},
        "/x/@transform/apply should be a object or a mapping directive but it is a number.",
        ("x", "@transform", "apply"),
    ),
    ({"x": {"@case": "not an object"}}, "/x/@case should be an object but it is a string.", ("x", "@case")),
    (
        {"x": {"@case": {"operator": 1}}},
        "/x/@case/operator should be a string but it is a number.",
        ("x", "@case", "operator"),
    ),
    ({"x": {"@liquid": 123}}, "/x/@liquid should be a string but it is a number.", ("x", "@liquid")),
    ({"x": {"@liquid": {}}}, "/x/@liquid should be a string but it is an object.", ("x", "@liquid")),
    ({"x": {"@liquid": []}}, "/x/@liquid should be a string but it is an array.", ("x", "@liquid")),
    (
        {"x": {"@flatten": {"value": 1, "separator": 2}}},
        "/x/@flatten/separator should be a string but it is a number.",
        ("x", "@flatten", "separator"),
    ),
    (
        {"x": {"@arrayPath": []}},
        "/x/@arrayPath should be a string or a mapping directive but it is an undefined.",
        ("x", "@arrayPath"),
    ),
    (
        {"x": {"@arrayPath": ["$.a", {"y": {"@nope": 1}}]}},
        "/x/@arrayPath/y has an invalid directive: @nope.",
        ("x", "@arrayPath", "y"),
    ),
    (
        {"x": {"@if": {"exists": {"@path": 1}, "then": {"@nope": 1}}}},
        "/x/@if/exists/@path should be a string or a mapping directive but it is a number."
        " /x/@if/then has an invalid directive: @nope.",
        ("x", "@if", "exists", "@path"),
    ),
    (
        {"a": {"b": {"@path": True}}, "c": [], "d": {"@template": None}},
        "/a/b/@path should be a string or a mapping directive but it is a boolean."
        " /d/@template should be a string or a mapping directive but it is a null.",
        ("a", "b", "@path"),
    ),
]


@pytest.mark.parametrize(("mapping", "message", "path"), INVALID, ids=[m for _, m, _ in INVALID])
def test_invalid_mappings_give_mapping_kits_message(
    mapping: Any, message: str, path: tuple[str, ...]
) -> None:
    with pytest.raises(MappingError) as info:
        validate_mapping(mapping)
    assert info.value.message == message
    assert str(info.value) == message
    assert info.value.path == path


@pytest.mark.parametrize(("mapping", "kind"), [([1, 2], "an array"), ("foo", "a string"), (None, "a null")])
def test_a_mapping_must_be_an_object(mapping: Any, kind: str) -> None:
    with pytest.raises(MappingError, match=f"^/ should be an object but it is {kind}.$"):
        validate_mapping(mapping)


def test_validation_does_not_mutate_and_needs_no_data() -> None:
    mapping = {"__segment_internal_directive": {"@transform": {"apply": {"a": 1}}}, "x": {"@path": "$.a"}}
    before = copy.deepcopy(mapping)
    validate_mapping(mapping)
    assert mapping == before


# -- resolution basics -----------------------------------------------------------------------------


def test_raw_values_pass_through_and_undefined_keys_go() -> None:
    assert resolve({}, {"cool": False}) == {}
    assert resolve({"cool": True}, {}) == {"cool": True}
    assert resolve({"x": None, "y": 1, "z": "hi", "o": {}}, {}) == {"x": None, "y": 1, "z": "hi", "o": {}}
    assert resolve({"x": {"y": {"@path": "$.q"}, "z": 1}, "foo": 1}, {}) == {"x": {"z": 1}, "foo": 1}
    assert resolve({"x": {"y": {"z": {"@path": "$.q"}}}, "foo": 1}, {}) == {"x": {"y": {}}, "foo": 1}


def test_undefined_array_items_become_null() -> None:
    # docs/destination.md §10.1 observed: [{"@path":"$.s"},{"@path":"$.zz"}] → ["str", null]
    assert one([{"@path": "$.s"}, {"@path": "$.zz"}]) == ["str", None]
    assert one([[{"@path": "$.zz"}], {"k": {"@path": "$.zz"}}]) == [[None], {}]


def test_resolve_returns_new_containers_and_leaves_the_mapping_alone() -> None:
    mapping = {"o": {"k": [1, {"x": 2}]}, "p": {"@path": "$.a.o"}}
    before = copy.deepcopy(mapping)
    out = resolve(mapping, EVENT)
    assert out == {"o": {"k": [1, {"x": 2}]}, "p": {"k": "v"}}
    assert out["o"] is not mapping["o"] and out["o"]["k"] is not mapping["o"]["k"]
    assert mapping == before


@pytest.mark.parametrize(("data", "kind"), [(123, "number"), ([], "array"), (None, "null"), ("x", "string")])
def test_data_must_be_an_object(data: Any, kind: str) -> None:
    with pytest.raises(MappingError, match=f"^data must be an object, got {kind}$"):
        resolve({"a": 1}, data)


# -- @path -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.s", "str"),
        ("s", "str"),  # a path without $. works
        ("$.a.d.x", None),  # docs/destination.md §10.2: falsy intermediates are returned
        ("$.a.f.x", 0),
        ("$.a.e.x", ""),
        ("$.q.x", MISSING),
        ("$.s.length", 3),
        ("$.a.b[1][0]", 2),
        ("$.a.o", {"k": "v"}),
        ("a.$.s", MISSING),  # only the first $. goes: "a.s"… → a has no "s"
        ("$.$.s", "str"),  # "$.s" after one strip → key "$" → missing?  no: see below
    ],
)
def test_path(path: str, expected: Any) -> None:
    if path == "$.$.s":
        # replace('$.', '') removes the first "$." only, leaving "$.s": keys "$" and "s".
        assert one({"@path": path}, {"$": {"s": "str"}}) == expected
        assert one({"@path": path}) is MISSING
        return
    assert one({"@path": path}) == expected


def test_path_first_occurrence_of_dollar_dot_anywhere() -> None:
    data = {"ab": {"c": 1}, "a$": {"b": 2}}
    assert one({"@path": "ab$.c"}, data) == MISSING  # "abc"
    assert one({"@path": "a$.b"}, {"ab": 7}) == 7


@pytest.mark.parametrize("path", ["", "$.", ".", "$.."])
def test_root_path_gives_the_whole_event(path: str) -> None:
    data = {"foo": "bar"}
    assert one({"@path": path}, data) == data


def test_nested_path_directive_and_its_type_error() -> None:
    assert one({"@path": {"@path": "$.foo"}}, {"foo": "bar", "bar": "baz"}) == "baz"
    with pytest.raises(MappingError) as info:
        one({"@path": {"@path": "$.n"}})
    assert info.value.message == "@path: expected string, got number"
    assert info.value.path == ("v", "@path")
    with pytest.raises(MappingError, match="^@path: expected string, got undefined$"):
        one({"@path": {"@path": "$.nothing"}})


def test_spaced_keys() -> None:
    data = {"integrations": {"Actions Amplitude": {"session_id": "bar"}}}
    assert one({"@path": "$.integrations.Actions Amplitude.session_id"}, data) == "bar"


# -- @template ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("{{foo}}", {"foo": True}, "true"),
        ("{{foo}}", {"foo": False}, "false"),
        ("{{foo}}", {"foo": 1}, "1"),
        ("{{foo}}", {"foo": 0}, "0"),
        ("{{foo}}", {"foo": 1.0}, "1"),
        ("{{foo}}", {"foo": 1.5}, "1.5"),
        ("{{foo}}", {"foo": 1e21}, "1e+21"),
        ("{{foo}}", {"foo": 0.1}, "0.1"),
        ("{{foo}}", {"foo": -0.0}, "0"),
        ("{{foo}}", {"foo": {"bar": "baz"}}, "[object Object]"),
        ("{{foo}}", {"foo": [1, [2, 3]]}, "1,2,3"),
        ("{{foo}}", {"foo": [None, "a", [None], {}]}, ",a,,[object Object]"),
        ("{{foo}}", {"foo": None}, ""),
        ("{{foo}}", {}, ""),
        ("{{foo}}}", {"foo": "hello"}, "hello}"),
        ("Hello world", {}, "Hello world"),
        ("Hello {{foo}} {{bar}}", {"foo": "Mr.", "bar": "Bean"}, "Hello Mr. Bean"),
        ("Hello, {{who.name}}!", {"who": {"name": "World"}}, "Hello, World!"),
        ("<blink>{{a}} {{{a}}}</blink>", {"a": "<b>Hi</b>"}, "<blink><b>Hi</b> <b>Hi</b></blink>"),
        ("{{oops.yo}}", {}, ""),
        ("{{ traits.email }}", EVENT, "PEOPLE@example.com"),
        ("{{\u00a0traits.name\ufeff}}", EVENT, "Ann"),  # JavaScript's trim
        ("{{$.s}}", EVENT, ""),  # $. is not stripped (docs/destination.md §10.3)
        ("{{.}}", {"a": 1}, "[object Object]"),  # the root
        ("{{ }}", {"a": 1}, "[object Object]"),  # trims to "", the root
        ("{{a}b}}", {"a": 1}, "{{a}b}}"),  # a path may not contain }
        ("{{{a}}}", {"a": "{{b}}", "b": "twice"}, "twice"),  # {{ }} runs over {{{ }}}'s output
        ("{{a}}", {"a": "{{b}}", "b": "once"}, "{{b}}"),
        ("{{{a}}", {"a": "x"}, ""),  # {{ then "{a" as the path, then }}
        ("{{s.length}}{{z}}", {"s": "abc", "z": 0}, "30"),
        ("{{a}}\n{{b}}", {"a": 1, "b": 2}, "1\n2"),
        ("{{a\nb}}", {"a\nb": 1}, "1"),
    ],
)
def test_template(template: str, data: dict[str, Any], expected: str) -> None:
    assert one({"@template": template}, data) == expected


def test_template_from_a_directive_and_its_type_error() -> None:
    assert one({"@template": {"@path": "$.t"}}, {"t": "Hi {{n}}", "n": 2}) == "Hi 2"
    with pytest.raises(MappingError, match="^@template: expected string, got object$"):
        one({"@template": {"@path": "$.obj"}})


# -- @if -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "exists", "blank"),
    [
        ("s", 1, 1),
        ("n", 1, 1),
        ("t", 1, 1),
        ("f", 1, 2),  # false exists, and is blank (false == '')
        ("z", 1, 2),  # 0 exists, and is blank
        ("e", 1, 2),  # "" exists (docs/destination.md §10.3), and is blank
        ("ws", 1, 1),  # a whitespace string is not blank
        ("nul", 2, 2),
        ("missing", 2, 2),
        ("arr", 1, 2),  # [] == '' is true
        ("obj", 1, 1),
    ],
)
def test_if_exists_and_blank(field: str, exists: int, blank: int) -> None:
    assert one({"@if": {"exists": {"@path": f"$.{field}"}, "then": 1, "else": 2}}) == exists
    assert one({"@if": {"blank": {"@path": f"$.{field}"}, "then": 1, "else": 2}}) == blank


@pytest.mark.parametrize(
    ("value", "blank"),
    [([""], True), ([[]], True), ([None], True), ([0], False), (["0"], False), ([1, 2], False), (0.0, True)],
)
def test_if_blank_uses_loose_equality(value: Any, blank: bool) -> None:
    assert one({"@if": {"blank": {"@path": "$.x"}, "then": "full", "else": "blank"}}, {"x": value}) == (
        "blank" if blank else "full"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"exists": {"@path": "$.s"}}, MISSING),  # true without then
        ({"exists": {"@path": "$.q"}, "then": 1}, MISSING),  # false without else
        ({"exists": {"@path": "$.q"}, "else": ""}, MISSING),  # a falsy else is never returned
        ({"exists": {"@path": "$.q"}, "else": 0}, MISSING),
        ({"exists": {"@path": "$.q"}, "else": False}, MISSING),
        ({"exists": {"@path": "$.q"}, "else": None}, MISSING),
        ({"exists": {"@path": "$.q"}, "else": []}, []),  # [] is truthy
        ({"exists": {"@path": "$.s"}, "then": None}, None),  # a null then is returned
        ({"exists": {"@path": "$.s"}, "then": ""}, ""),
        ({"exists": "raw", "then": 1}, 1),  # a raw value exists
        ({"exists": True, "blank": None, "then": 1}, 1),
        ({"exists": None, "blank": {"@path": "$.s"}, "then": 1, "else": 2}, 2),  # exists wins when defined
        ({"blank": "x", "then": {"@path": "$.s"}}, "str"),
        ({"exists": {"@path": "$.q"}, "then": 1, "else": {"@path": "$.q"}}, MISSING),
    ],
)
def test_if_branches(options: dict[str, Any], expected: Any) -> None:
    assert one({"@if": options}) == expected


@pytest.mark.parametrize(
    "options", [{}, {"then": 1}, {"exists": "", "then": 1}, {"exists": 0}, {"blank": False}, {"exists": None}]
)
def test_if_requires_exists_or_blank(options: dict[str, Any]) -> None:
    with pytest.raises(MappingError) as info:
        one({"@if": options})
    assert info.value.message == '@if requires an "exists" key or a "blank" key'
    assert info.value.path == ("v", "@if")


def test_if_untaken_branch_is_not_evaluated() -> None:
    mapping = {"@if": {"exists": 1, "then": 1, "else": {"@path": {"@path": "$.n"}}}}
    assert one(mapping) == 1


def test_if_default_preset_shape() -> None:
    # shared.py's path-or-path default: {"@if": {"exists": p1, "then": p1, "else": p2}}
    mapping = {
        "@if": {
            "exists": {"@path": "$.userId"},
            "then": {"@path": "$.userId"},
            "else": {"@path": "$.anonymousId"},
        }
    }
    assert one(mapping, {"userId": "u", "anonymousId": "a"}) == "u"
    assert one(mapping, {"userId": "", "anonymousId": "a"}) == ""
    assert one(mapping, {"userId": None, "anonymousId": "a"}) == "a"
    assert one(mapping, {}) is MISSING


# -- @literal ----------------------------------------------------------------------------------------------


def test_literal() -> None:
    assert one({"@literal": False}) is False
    assert one({"@literal": "{{s}}"}) == "{{s}}"
    assert one({"@literal": {"@path": "$.s"}}) == "str"  # docs/destination.md §10.3: nested directives run
    nested = {"@literal": {"a": {"@path": "$.a"}, "b": {"@path": "$.b"}}}
    assert one(nested, {"a": "some value"}) == {"a": "some value"}


# -- @arrayPath ----------------------------------------------------------------------------------------------

PRODUCTS = {"products": [{"productId": "123", "price": 0.5}, {"productId": "456", "price": 0.99}]}
SHAPE = {"product_id": {"@path": "$.productId"}, "monies": {"@path": "$.price"}}


def test_array_path() -> None:
    assert one({"@arrayPath": ["$.products"]}, PRODUCTS) == PRODUCTS["products"]
    assert one({"@arrayPath": ["$.products", SHAPE]}, PRODUCTS) == [
        {"product_id": "123", "monies": 0.5},
        {"product_id": "456", "monies": 0.99},
    ]
    via_if = {"@if": {"exists": {"@path": "$.products"}, "then": {"@path": "$.products"}, "else": []}}
    assert one({"@arrayPath": [via_if, SHAPE]}, PRODUCTS) == one(
        {"@arrayPath": ["$.products", SHAPE]}, PRODUCTS
    )
    assert one({"@arrayPath": ["$.products", SHAPE]}, {"products": {"notAnArray": True}}) == [{}]
    assert one({"@arrayPath": ["$.p", SHAPE]}, {"p": {"productId": "123", "price": 0.5}}) == [
        {"product_id": "123", "monies": 0.5}
    ]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ("text", "text"),  # not an object or array: returned as is
        (5, 5),
        (None, None),
        ([1, "x"], [{}, {}]),  # items that are not objects have no keys to read
        ([None, 0], [{"product_id": None, "monies": None}, {"product_id": 0, "monies": 0}]),  # falsy items
        ([{"productId": 0}], [{"product_id": 0}]),
    ],
)
def test_array_path_items_of_any_kind(found: Any, expected: Any) -> None:
    assert one({"@arrayPath": ["$.p", SHAPE]}, {"p": found}) == expected


def test_array_path_empty_shape_returns_the_value() -> None:
    assert one({"@arrayPath": ["$.p", {}]}, {"p": {"a": 1}}) == {"a": 1}
    assert one({"@arrayPath": ["$.p"]}, {}) is MISSING


def test_array_path_shape_items_read_relative_then_strings_of_the_item() -> None:
    shape = {"len": {"@path": "length"}, "first": {"@path": "0"}}
    assert one({"@arrayPath": ["$.p", shape]}, {"p": ["ab", ""]}) == [
        {"len": 2, "first": "a"},
        {"len": "", "first": ""},
    ]


def test_array_path_needs_an_array_when_unvalidated() -> None:
    mapping = {"v": [{"@arrayPath": "nope"}]}  # inside an array, so validation does not see it
    validate_mapping(mapping)
    with pytest.raises(MappingError) as info:
        resolve(mapping, {})
    assert info.value.message == "@arrayPath expected array, got string"
    assert info.value.path == ("v", "0", "@arrayPath")


# -- @case -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("lower", "MAKE ME LOWER CASE", "make me lower case"),
        ("upper", "make me upper case", "MAKE ME UPPER CASE"),
        ("lower", "mIXeD StRinG CasING W/ NuMBErs 190wdB", "mixed string casing w/ numbers 190wdb"),
        ("upper", "straße", "STRASSE"),
        ("lower", "", ""),
        ("lower", 1, 1),
        ("lower", None, None),
        ("lower", False, False),
        (
            "lower",
            {"key1": "with values", "key2": ["hi", True, None]},
            {"key1": "with values", "key2": ["hi", True, None]},
        ),
    ],
)
def test_case(operator: str, value: Any, expected: Any) -> None:
    assert one({"@case": {"operator": operator, "value": {"@path": "$.x"}}}, {"x": value}) == expected


def test_case_errors_and_falsy_value() -> None:
    with pytest.raises(MappingError, match='^@case requires a "operator" key$'):
        one({"@case": {"wrongKey": "lower", "value": {"@path": "$.s"}}})
    with pytest.raises(MappingError, match='^operator key should have a value of "lower" or "upper"$'):
        one({"@case": {"operator": "unsupported snake", "value": {"@path": "$.s"}}})
    # an unknown operator on a non-string is fine: the value is returned
    assert one({"@case": {"operator": "snake", "value": {"@path": "$.n"}}}) == 1
    assert one({"@case": {"operator": "lower"}}) is MISSING
    assert one({"@case": {"operator": "lower", "value": ""}}) is MISSING  # the raw value is falsy


# -- @replace --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "value", "expected"),
    [
        ({"pattern": "_", "replacement": "rrrrr"}, "", ""),
        ({"pattern": "_", "replacement": "rrrrr"}, None, ""),
        ({"pattern": "_", "replacement": "rrrrr"}, {"a": 1}, ""),  # not a string: ""
        ({"pattern": "WW", "replacement": "oo", "ignorecase": False}, "cWWl-story-ww", "cool-story-ww"),
        (
            {"pattern": "AaB", "replacement": "nice", "ignorecase": True},
            "aab-----AaB---aab",
            "nice-----nice---nice",
        ),
        ({"pattern": "_", "replacement": ""}, "nomore_underscore", "nomoreunderscore"),
        ({"pattern": "_", "replacement": "weird"}, "nomore_underscore", "nomoreweirdunderscore"),
        ({"pattern": "LOL", "replacement": "YAY"}, "Well Hello there LOL", "Well Hello there YAY"),
        (
            {"pattern": "+", "replacement": "_", "global": True},
            "many+different+things",
            "many_different_things",
        ),
        (
            {"pattern": "+", "replacement": "_", "global": False},
            "many+different+things",
            "many_different+things",
        ),
        ({"pattern": "aaabbbcccd", "replacement": ""}, "aaabbbcccd", ""),
        ({"pattern": "many+"}, "many+different+things", "different+things"),
        ({"pattern": "true", "replacement": "granted"}, True, "granted"),
        ({"pattern": "1", "replacement": "granted"}, 1, "granted"),
        ({"pattern": ".5", "replacement": "!"}, 1.5, "1!"),
        (
            {"pattern": "-", "replacement": " ", "pattern2": "great", "replacement2": "awesome"},
            "something-great!",
            "something awesome!",
        ),
        (
            {"pattern": "true", "replacement": "granted", "pattern2": "false", "replacement2": "denied"},
            False,
            "denied",
        ),
        ({"pattern": "a", "pattern2": "b"}, "abab", ""),  # replacement2 defaults to ""
        ({"pattern": "aa", "replacement": "b"}, "aaa", "ba"),  # left to right, no overlap
        ({"pattern": ".*", "replacement": "x"}, "a.*b", "axb"),  # the pattern is literal
        ({"pattern": "b", "replacement": "[$&]"}, "abc", "a[b]c"),  # JS replacement patterns
        ({"pattern": "b", "replacement": "$$"}, "abc", "a$c"),
        ({"pattern": "b", "replacement": "$`"}, "abc", "aac"),
        ({"pattern": "b", "replacement": "$'"}, "abc", "acc"),
        ({"pattern": "b", "replacement": "$1$<n>"}, "abc", "a$1$<n>c"),
        ({"pattern": "ß", "replacement": "x", "ignorecase": True}, "SS ß", "SS x"),  # one char only
        ({"pattern": "s", "replacement": "x", "ignorecase": True}, "\u017f S s", "\u017f x x"),  # ſ stays
        ({"pattern": "é", "replacement": "e", "ignorecase": True}, "É é", "e e"),
    ],
)
def test_replace(options: dict[str, Any], value: Any, expected: str) -> None:
    assert one({"@replace": {**options, "value": {"@path": "$.x"}}}, {"x": value}) == expected


def test_replace_runtime_limits_and_falsy_value() -> None:
    assert one({"@replace": {"pattern": "a", "value": ""}}) is MISSING  # the raw value is falsy
    with pytest.raises(MappingError, match='^@replace requires a "pattern" less than 10 characters$'):
        one({"@replace": {"pattern": "a", "pattern2": "b" * 11, "value": "abc"}})
    with pytest.raises(MappingError, match='^@replace requires a "replacement" less than 10 characters$'):
        one({"@replace": {"pattern": "a", "pattern2": "b", "replacement2": "c" * 11, "value": "abc"}})


# -- @json ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("encode", "bar", '"bar"'),
        ("encode", {"bar": "baz"}, '{"bar":"baz"}'),
        ("encode", ["bar", "baz"], '["bar","baz"]'),
        ("encode", {"a": [1, 1.0, 1e21, None, True]}, '{"a":[1,1,1e+21,null,true]}'),
        ("encode", 'é\u2028\x01"\\', '"é\u2028\\u0001\\"\\\\"'),
        ("encode", None, "null"),
        ("decode", '"bar"', "bar"),
        ("decode", '{"bar":"baz"}', {"bar": "baz"}),
        ("decode", '["bar","baz"]', ["bar", "baz"]),
        ("decode", "Hello World", "Hello World"),
        ("decode", "NaN", "NaN"),  # JSON.parse rejects it
        ("decode", " 1 ", 1),
        ("decode", {"a": 1}, {"a": 1}),  # not a string: unchanged
        ("decode", 5, 5),
    ],
)
def test_json(mode: str, value: Any, expected: Any) -> None:
    assert one({"@json": {"mode": mode, "value": {"@path": "$.x"}}}, {"x": value}) == expected


def test_json_missing_value_and_odd_modes() -> None:
    assert one({"@json": {"mode": "encode", "value": {"@path": "$.bad"}}}) is MISSING
    assert one({"@json": {"mode": "ENCODE", "value": {"@path": "$.s"}}}) is MISSING  # valid, matches no mode
    assert (
        one(
            {
                "@json": {
                    "mode": "encode",
                    "value": {"@literal": {"a": {"@path": "$.q"}, "b": [{"@path": "$.q"}]}},
                }
            }
        )
        == '{"b":[null]}'
    )
    with pytest.raises(MappingError, match='^@json requires a "value" key$'):
        one({"@json": {"mode": "encode", "value": None}})  # validation passes, resolution does not
    with pytest.raises(MappingError, match='^@json requires a "value" key$'):
        one({"@json": {"mode": "encode", "value": 0}})


# -- @flatten ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        (
            {"bar": "baz", "aces": {"a": 1, "b": 2}},
            {"separator": "."},
            {"bar": "baz", "aces.a": 1, "aces.b": 2},
        ),
        ([{"fazz": "bar", "fizz": "baz"}], {"separator": "."}, {"0.fazz": "bar", "0.fizz": "baz"}),
        (
            {"bar": "baz", "aces": [1, 2]},
            {"separator": ".", "omitArrays": True},
            {"bar": "baz", "aces": [1, 2]},
        ),
        ({"a": {"b": {"c": None}}, "d": []}, {"separator": "_"}, {"a_b_c": None}),  # [] has no entries
        ({"a": {}}, {"separator": "_"}, {}),
        ("prim", {"separator": "."}, {"": "prim"}),  # a primitive gives {"": v}
        ({"": {"a": 1}}, {"separator": "."}, {"a": 1}),  # an empty prefix is no prefix
        ({"a": 1, "b": {"": 2}}, {"separator": "."}, {"a": 1, "b.": 2}),
        ([[1, 2]], {"separator": "/", "omitArrays": True}, {"": [[1, 2]]}),
    ],
)
def test_flatten(value: Any, options: dict[str, Any], expected: Any) -> None:
    assert one({"@flatten": {**options, "value": {"@path": "$.x"}}}, {"x": value}) == expected


def test_flatten_undefined_leaves_vanish() -> None:
    assert one({"@flatten": {"separator": ".", "value": {"@path": "$.q"}}}) == {}
    array = {"@literal": [{"@path": "$.q"}, 1]}
    assert one({"@flatten": {"separator": ".", "value": array}}) == {"1": 1}


def test_flatten_runtime_errors() -> None:
    with pytest.raises(MappingError, match='^@flatten requires a "separator" key$'):
        one({"@flatten": {"value": 1}})
    with pytest.raises(MappingError, match="^@flatten requires a string separator$"):
        resolve({"v": [{"@flatten": {"value": 1, "separator": {"@path": "$.n"}}}]}, EVENT)


# -- @merge --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["left", "right"])
def test_merge_same_either_way(direction: str) -> None:
    assert one({"@merge": {"direction": direction, "objects": []}}) == {}
    assert one({"@merge": {"direction": direction, "objects": [{"cool": True}]}}) == {"cool": True}
    nested = {"@merge": {"direction": direction, "objects": [{"cool": True}, {"@path": "foo"}]}}
    assert one(nested, {"foo": {"bar": "baz"}}) == {"cool": True, "bar": "baz"}


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("right", {"cool": True, "hey": "you", "bar": "baz"}),
        ("left", {"bar": "baz", "hey": "there", "cool": True}),
    ],
)
def test_merge_direction(direction: str, expected: dict[str, Any]) -> None:
    objects = [{"cool": True, "hey": "there"}, {"@path": "foo"}]
    assert (
        one({"@merge": {"direction": direction, "objects": objects}}, {"foo": {"bar": "baz", "hey": "you"}})
        == expected
    )
    # Object.assign keeps a key where it first appeared
    assert list(
        one({"@merge": {"direction": direction, "objects": objects}}, {"foo": {"bar": "baz", "hey": "you"}})
    ) == list(expected)


def test_merge_copies_undefined_keys_like_object_assign() -> None:
    first, second = {"a": 1, "b": 1}, {"a": {"@path": "$.q"}}
    assert one({"@merge": {"direction": "right", "objects": [first, second]}}) == {"b": 1}
    assert one({"@merge": {"direction": "left", "objects": [second, first]}}) == {"b": 1}
    assert one({"@merge": {"direction": "left", "objects": [first, second]}}) == {"a": 1, "b": 1}


def test_merge_sources_of_any_kind() -> None:
    objects = [{"@path": "$.s"}, {"@path": "$.a.b"}, {"@path": "$.n"}, {"@path": "$.nul"}]
    assert one({"@merge": {"direction": "right", "objects": objects}}) == {"0": 1, "1": [2, 3], "2": "r"}


def test_merge_runtime_errors() -> None:
    with pytest.raises(MappingError, match='^@merge requires a "direction" key$'):
        one({"@merge": {"objects": [{"a": 1}]}})  # validation allows it, mapping-kit's resolver does not
    unvalidated = {"v": [{"@merge": {"direction": "right", "objects": {"a": 1}}}]}
    with pytest.raises(MappingError, match="^@merge: expected opts.array, got object$"):
        resolve(unvalidated, {})


# -- @transform and the root directive --------------------------------------------------------------------------------

PROPS = {
    "properties": {"test": "value", "another": "thing", "nested": {"a": "special", "b": 2}},
    "otherStuff": "foo",
    "more": "bar",
}
FLAT = {"test": "value", "another": "thing", "nested_a": "special", "nested_b": 2}


def test_transform() -> None:
    simple = {"@transform": {"apply": {"foo": {"@path": "$.a"}}, "mapping": {"cool": {"@path": "$.foo"}}}}
    assert one(simple, {"a": 1, "b": 2}) == {"cool": 1}
    composed = {
        "@transform": {
            "apply": {"properties": {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_"}}},
            "mapping": {
                "properties": {"@path": "$.properties"},
                "topLevel": {"@path": "$.properties.nested_a"},
            },
        }
    }
    assert one(composed, PROPS) == {"properties": FLAT, "topLevel": "special"}


def test_root_directive_injection() -> None:
    mapping = {
        "__segment_internal_directive": {
            "@transform": {
                "apply": {"properties": {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_"}}}
            }
        },
        "properties": {"@path": "$.properties"},
        "topLevel": {"@path": "$.properties.nested_a"},
    }
    validate_mapping(mapping)
    assert resolve(mapping, PROPS) == {"properties": FLAT, "topLevel": "special"}


@pytest.mark.parametrize(
    ("root", "message"),
    [
        ({"@transform": {}, "@path": "x"}, "The root mapping must only have a single directive object"),
        ({}, "The root directive must be an object"),
        ({"@transform": "x"}, "The root directive must be an object"),
        (None, "The root directive must be an object"),
    ],
)
def test_root_directive_errors(root: Any, message: str) -> None:
    with pytest.raises(MappingError, match=f"^{message}$") as info:
        validate_mapping({"__segment_internal_directive": root, "a": 1})
    assert info.value.path[0] == "__segment_internal_directive"


def test_transform_validates_apply_when_run_and_needs_object_data() -> None:
    bad = {"v": [{"@transform": {"apply": {"x": {"@nope": 1}}, "mapping": {"y": 1}}}]}
    validate_mapping(bad)  # inside an array: not looked at
    with pytest.raises(MappingError) as info:
        resolve(bad, {})
    assert info.value.message == "/v/0/@transform/apply/x has an invalid directive: @nope."
    shape = {"t": {"@transform": {"apply": {"a": 1}, "mapping": {"b": {"@path": "$.a"}}}}}
    with pytest.raises(MappingError, match="^data must be an object, got number$"):
        one({"@arrayPath": ["$.xs", shape]}, {"xs": [1]})
    assert one({"@arrayPath": ["$.xs", shape]}, {"xs": [{}]}) == [{"t": {"b": 1}}]


def test_transform_runtime_errors() -> None:
    with pytest.raises(MappingError, match='^@transform "apply" key should be an object$'):
        resolve({"v": [{"@transform": {"apply": [1], "mapping": {"a": 1}}}]}, {})
    with pytest.raises(MappingError, match='^@transform requires a "mapping" key$'):
        resolve({"v": [{"@transform": {"apply": {"a": 1}}}]}, {})


# -- @excludeWhenNull -----------------------------------------------------------------------------------------------


def test_exclude_when_null() -> None:
    data = {
        "foo": {"bar": None, "aces": {"a": 1, "b": 2, "c": None, "d": {"a": None, "b": None}, "l": [None]}}
    }
    assert one({"@excludeWhenNull": {"@path": "$.foo.bar"}}, data) is MISSING
    assert one({"@excludeWhenNull": {"@path": "$.foo"}}, data) == {
        "aces": {"a": 1, "b": 2, "d": {}, "l": [None]}
    }
    assert one({"@excludeWhenNull": {"@path": "$.foo.aces.l"}}, data) == [None]  # arrays untouched
    assert data["foo"]["bar"] is None and data["foo"]["aces"]["c"] is None  # the event is not changed


def test_exclude_when_null_composed() -> None:
    path_null = {"@path": "$.foo.bar"}
    massive = {
        "pathNull": {"@excludeWhenNull": path_null},
        "templateEmpty": {"@excludeWhenNull": {"@template": "{{foo.bar}}"}},
        "literalNull": {"@excludeWhenNull": {"@literal": None}},
        "ifNull": {
            "@excludeWhenNull": {"@if": {"exists": {"@path": "$.foo.foobar"}, "then": 1, "else": None}}
        },
        "caseNull": {"@excludeWhenNull": {"@case": {"operator": "upper", "value": path_null}}},
        "replaceNull": {
            "@excludeWhenNull": {"@replace": {"pattern": "-", "replacement": "nice", "value": path_null}}
        },
        "jsonNull": {"@excludeWhenNull": {"@json": {"mode": "decode", "value": path_null}}},
        "transformNull": {
            "@excludeWhenNull": {
                "@transform": {
                    "apply": {"properties": path_null},
                    "mapping": {"properties": {"@excludeWhenNull": {"@path": "$.properties"}}},
                }
            }
        },
        "transformNull2": {
            "@excludeWhenNull": {
                "@transform": {
                    "apply": {"properties": {"@excludeWhenNull": path_null}},
                    "mapping": {"properties": {"@path": "$.properties"}},
                }
            }
        },
        "transformValue": {
            "@excludeWhenNull": {
                "@transform": {
                    "apply": {"properties": {"@path": "$.foo"}},
                    "mapping": {"properties": {"@path": "$.properties"}},
                }
            }
        },
        "jsonNullEncode": {"@excludeWhenNull": {"@json": {"mode": "encode", "value": path_null}}},
    }
    assert one(massive, {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}}) == {
        "templateEmpty": "",
        "replaceNull": "",
        "transformNull": {},
        "transformNull2": {},
        "transformValue": {"properties": {"aces": {"a": 1, "b": 2}}},
        "jsonNullEncode": "null",
    }


# -- @liquid -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("test", {"properties": {"test": "abc"}}, "test"),
        ("Hello, {{ properties.world }} !", {"properties": {"world": "Earth"}}, "Hello, Earth !"),
        (
            "Hello, {{ properties.planet.country.city }}",
            {"properties": {"planet": {"country": {"city": "BB"}}}},
            "Hello, BB",
        ),
        (
            '{% if properties.world == "Earth" %}Hello {{ properties.world }} {% else %} Hello World {% endif %}',
            {"properties": {"world": "Earth"}},
            "Hello Earth ",
        ),
        ("HELLO {{ properties.world | upcase }}", {"properties": {"world": "earth"}}, "HELLO EARTH"),
        ("{{ missing.deep }}", {}, ""),
        ("", {}, ""),
    ],
)
def test_liquid(template: str, data: dict[str, Any], expected: str) -> None:
    assert one({"@liquid": template}, data) == expected


@pytest.mark.parametrize("tag", ["case", "for", "include", "layout", "render", "tablerow"])
def test_liquid_disabled_tags(tag: str) -> None:
    with pytest.raises(MappingError, match=f'^tag "{tag}" is disabled'):
        one({"@liquid": f"{{% {tag} %}} , {{{{ properties.test }}}}"}, {"properties": {"test": "test"}})


@pytest.mark.parametrize(
    "name", ["concat", "map", "reverse", "sort", "sort_natural", "uniq", "newline_to_br", "has", "find"]
)
def test_liquid_disabled_filters(name: str) -> None:
    with pytest.raises(MappingError, match=f'^filter "{name}" is disabled'):
        one({"@liquid": f"{{{{ properties.list | {name} }}}}"}, {"properties": {"list": [1, 2]}})


def test_liquid_limits_and_errors() -> None:
    with pytest.raises(MappingError, match="^liquid template values are limited to 1000 characters$"):
        one({"@liquid": "{{ properties.test }}" + "a" * 1001})
    with pytest.raises(MappingError) as info:
        one({"@liquid": "{{ unclosed "})
    assert info.value.path == ("v", "@liquid")


# -- runtime errors from unvalidated places ------------------------------------------------------------------------------


def test_unknown_directive_inside_an_array_fails_when_resolved() -> None:
    mapping = {"x": [{"@nope": 1}]}
    validate_mapping(mapping)
    with pytest.raises(MappingError) as info:
        resolve(mapping, {})
    assert info.value.message == "@nope is not a valid directive, got undefined"
    assert info.value.path == ("x", "0", "@nope")


def test_mixed_keys_inside_an_array_are_a_plain_object() -> None:
    mapping = {"x": [{"a": 1, "@path": "$.s"}]}
    assert resolve(mapping, EVENT) == {"x": [{"a": 1, "@path": "$.s"}]}


# -- the JavaScript conversions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (123456789, "123456789"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123e18, "123000000000000000000"),
        (1.5e300, "1.5e+300"),
        (0.1, "0.1"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.2345e-7, "1.2345e-7"),
        (0.000123, "0.000123"),
        (2**53 + 1, "9007199254740992"),  # rounded to a double, as JavaScript holds it
        (10**400, "Infinity"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    assert number_to_string(number) == text


def test_to_string_and_stringify() -> None:
    assert to_string([1, [2, [3, None]], MISSING, True]) == "1,2,3,,,true"
    assert to_string({}) == "[object Object]"
    assert json_stringify(MISSING) is MISSING
    assert (
        json_stringify({"a": MISSING, "b": [MISSING, float("nan")], "c": "\ud800"})
        == '{"b":[null,null],"c":"\\ud800"}'
    )
    assert json_stringify("😀") == '"😀"'


# -- laws --------------------------------------------------------------------------------------------------------------


@given(json_objects, st.lists(plain_keys, min_size=1, max_size=3))
def test_path_agrees_with_a_direct_lookup(data: dict[str, Any], keys: list[str]) -> None:
    expected: Any = data
    for key in keys:
        expected = expected.get(key, MISSING) if isinstance(expected, dict) else MISSING
        if expected is MISSING:
            break
    path = "$." + ".".join(keys)
    result = resolve({"v": {"@path": path}}, data)
    if not isinstance(expected, dict) and len(keys) > 1:
        return  # through a non-object the JS rules apply (covered in test_paths)
    if expected is MISSING:
        assert "v" not in result
    else:
        assert result["v"] == expected


def _has_directive(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).startswith("@") for k in value) or any(_has_directive(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_directive(v) for v in value)
    return False


plain_mappings = st.dictionaries(
    plain_keys,
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda i: st.lists(i, max_size=3) | st.dictionaries(plain_keys, i, max_size=3),
        max_leaves=10,
    ),
    max_size=5,
).filter(lambda m: not _has_directive(m) and "__segment_internal_directive" not in m)


@given(plain_mappings, json_objects)
def test_a_mapping_without_directives_resolves_to_itself(
    mapping: dict[str, Any], data: dict[str, Any]
) -> None:
    validate_mapping(mapping)
    assert resolve(mapping, data) == mapping


@given(json_objects)
def test_a_preset_like_mapping_resolves_like_the_slow_definition(data: dict[str, Any]) -> None:
    """The compiled @if/@path/@template agree with a direct reading of docs/destination.md §10.3."""
    mapping = {
        "id": {"@if": {"exists": {"@path": "$.a"}, "then": {"@path": "$.a"}, "else": {"@path": "$.b"}}},
        "t": {"@template": "{{a}}-{{b}}"},
    }
    out = resolve(mapping, data)
    a, b = data.get("a", MISSING), data.get("b", MISSING)
    chosen = a if a is not MISSING and a is not None else (b if _js_truthy_mapping_else() else MISSING)
    assert out.get("id", MISSING) == chosen
    assert (
        out["t"]
        == f"{'' if a in (None, MISSING) else to_string(a)}-{'' if b in (None, MISSING) else to_string(b)}"
    )


def _js_truthy_mapping_else() -> bool:
    return True  # the else branch is a directive object: always truthy


@given(any_mappings, json_values)
def test_nothing_but_sandbox_errors_escape(mapping: Any, data: Any) -> None:
    try:
        validate_mapping(mapping)
    except SandboxError:
        return
    try:
        out = resolve(mapping, data)
    except SandboxError:
        return
    assert isinstance(out, dict)
    json.dumps(out, allow_nan=False)  # JSON-ready: no MISSING left anywhere


@given(
    st.dictionaries(st.sampled_from(DIRECTIVE_NAMES) | plain_keys, any_mappings, min_size=1, max_size=3),
    json_objects,
)
def test_directives_with_arbitrary_options_raise_only_mapping_errors(
    mapping: dict[str, Any], data: dict[str, Any]
) -> None:
    wrapped = {"v": mapping}
    try:
        validate_mapping(wrapped)
        out = resolve(wrapped, data)
    except MappingError as exc:
        assert str(exc)
        return
    json.dumps(out, allow_nan=False)


@given(any_mappings, json_objects)
def test_unvalidated_mappings_raise_only_mapping_errors(mapping: Any, data: dict[str, Any]) -> None:
    """Inside arrays nothing is validated: resolution must still fail cleanly."""
    try:
        out = resolve({"v": [mapping]}, data)
    except MappingError:
        return
    json.dumps(out, allow_nan=False)


# -- the compile cache ---------------------------------------------------------------------------------------------------


def test_resolve_caches_by_identity_and_compiles_new_dicts() -> None:
    first: dict[str, Any] = {"a": {"@path": "$.s"}}
    assert resolve(first, EVENT) == {"a": "str"}
    second = {**first, "a": {"@path": "$.n"}}
    assert resolve(second, EVENT) == {"a": 1}
    assert resolve(first, EVENT) == {"a": "str"}
    equal = {"a": {"@path": "$.s"}}  # equal content: the compiled form is shared
    assert resolve(equal, EVENT) == {"a": "str"}
    equal["b"] = 1  # ...but a later change to this dict is not seen: it was resolved already
    assert resolve(equal, EVENT) == {"a": "str"}
    many = [{"k": {"@path": f"$.x{i}"}} for i in range(600)]  # more than the cache holds
    assert [resolve(m, {f"x{i}": i}) for i, m in enumerate(many)] == [{"k": i} for i in range(600)]


def test_compile_mapping_is_reusable() -> None:
    run = compile_mapping({"a": {"@path": "$.x"}, "b": {"@template": "<{{x}}>"}})
    assert run({"x": 1}) == {"a": 1, "b": "<1>"}
    assert run({}) == {"b": "<>"}


class _NotQuiteDict(dict):  # type: ignore[type-arg]
    """Data that is not exactly a dict takes the closures instead of the generated fast path."""


@given(any_mappings, json_objects)
def test_generated_fast_path_agrees_with_the_closures(mapping: Any, data: dict[str, Any]) -> None:
    full = {"v": mapping, "w": {"@if": {"exists": {"@path": "$.a"}, "then": {"@path": "$.a.b"}, "else": 1}}}
    run = compile_node(full)
    try:
        fast = run(data)
    except MappingError as exc:
        with pytest.raises(MappingError) as info:
            run(_NotQuiteDict(data))
        assert info.value.message == exc.message
        return
    assert run(_NotQuiteDict(data)) == fast


@given(any_mappings, json_objects)
def test_clean_form_is_remove_undefined_of_the_raw_form(mapping: Any, data: dict[str, Any]) -> None:
    try:
        raw = compile_node(mapping, (), False)(data)
    except MappingError:
        with pytest.raises(MappingError):
            compile_node(mapping, (), True)(data)
        return
    assert compile_node(mapping, (), True)(data) == remove_undefined(raw)


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    current = root
    for _ in range(depth):
        current["a"] = {}
        current = current["a"]
    return root


def test_too_deep_mappings_and_data_give_mapping_errors() -> None:
    deep = _nested(3000)
    with pytest.raises(MappingError, match="nested too deeply"):
        validate_mapping(deep)
    with pytest.raises(MappingError, match="nested too deeply"):
        resolve(deep, {})
    for directive in (
        {"@flatten": {"separator": ".", "value": {"@path": ""}}},
        {"@json": {"mode": "encode", "value": {"@path": ""}}},
        {"@excludeWhenNull": {"@path": ""}},
    ):
        with pytest.raises(MappingError):
            resolve({"x": directive}, deep)
    assert resolve({"x": {"@path": "$.a.a.a"}}, deep)["x"] is deep["a"]["a"]["a"]  # shared, not copied


# -- own_properties: the orjson text check equals the walk ------------------------------------------

_PROTO_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
    | st.just("__proto__"),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "__proto__", "b", "__proto_", "0"]), inner, max_size=3)
    ),
    max_leaves=15,
)


@given(_PROTO_VALUES)
def test_own_properties_fast_check_is_the_walk(value: Any) -> None:
    """own_properties (orjson's text, then the walk) is _own_properties: the same value, and the
    very same object whenever no `__proto__` key is anywhere inside."""
    from sandbox.mapping.compile import _own_properties, own_properties

    got, want = own_properties(value), _own_properties(value)
    assert got == want and type(got) is type(want)
    if got is not value:
        assert want is not value
