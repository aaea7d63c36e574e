"""Payload validation: removeEmptyValues, Ajv coercion (coerceTypes "array"), and ajv-human-errors texts."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions import ACTIONS
from sandbox.actions.fields import BATCH_FIELDS, Field, default_values, to_json_schema
from sandbox.actions.validation import PayloadSchema, remove_empty_values
from sandbox.errors import PayloadValidationError
from sandbox.js.numbers import number_to_string, to_number
from sandbox.js.values import MISSING

FIELDS = {
    "person_id": Field(label="Person ID", type="string", required=True),
    "name": Field(label="Event Name", type="string", required=True),
    "data": Field(label="Event Attributes", type="object"),
    "flag": Field(label="Convert Timestamps", type="boolean"),
    "metric": Field(
        label="Metric",
        type="string",
        choices=(("delivered", "Delivered"), ("opened", "Opened"), ("clicked", "Clicked")),
    ),
    "when": Field(label="Timestamp", type="datetime"),
    **BATCH_FIELDS,
}
SCHEMA = PayloadSchema(FIELDS, "test")


def ok(payload: dict, *, batch: bool = False) -> dict:
    return SCHEMA.validate({"person_id": "u1", "name": "n", **payload}, batch=batch)


def error(payload: dict, *, batch: bool = False) -> str:
    with pytest.raises(PayloadValidationError) as info:
        SCHEMA.validate(payload, batch=batch)
    assert info.value.name == "AggregateAjvError"
    assert info.value.action == "test"
    return info.value.message


def test_required_fields_in_field_order() -> None:
    assert error({}) == (
        "The root value is missing the required field 'person_id'. "
        "The root value is missing the required field 'name'."
    )


def test_single_mode_drops_empty_strings_at_the_root_batch_keeps_them_in_string_fields() -> None:
    assert error({"person_id": "u", "name": ""}) == "The root value is missing the required field 'name'."
    assert SCHEMA.validate({"person_id": "u", "name": ""}, batch=True) == {"person_id": "u", "name": ""}
    # Not for non-string fields, in either mode; null always goes.
    assert ok({"data": "", "flag": None}, batch=True) == {"person_id": "u1", "name": "n"}


def test_nested_values_are_never_touched() -> None:
    data = {"a": None, "b": "", "c": {"d": None}}
    assert ok({"data": data})["data"] is data


def test_unknown_keys_are_stripped_silently() -> None:
    assert ok({"foo": {"x": 1}}) == {"person_id": "u1", "name": "n"}


def test_key_order_is_the_payload_order() -> None:
    out = SCHEMA.validate({"name": "n", "batch_size": "7", "person_id": 5})
    assert list(out) == ["name", "batch_size", "person_id"]
    assert out == {"name": "n", "batch_size": 7, "person_id": "5"}


@pytest.mark.parametrize(
    ("value", "coerced"),
    [
        (123, "123"),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        (["z"], "z"),
        ([7], "7"),
        (1e21, "1e+21"),
        (2.0, "2"),
    ],
)
def test_coercion_into_strings(value: object, coerced: str) -> None:
    assert ok({"person_id": value})["person_id"] == coerced


@pytest.mark.parametrize(
    ("value", "coerced"),
    [("true", True), ("false", False), (1, True), (0, False), (["true"], True), (0.0, False)],
)
def test_coercion_into_booleans(value: object, coerced: bool) -> None:
    assert ok({"flag": value})["flag"] is coerced


@pytest.mark.parametrize(
    ("value", "coerced"), [("7", 7), (" 7 ", 7), ("0x10", 16), ("2.5", 2.5), ("1e1", 10), ([3], 3)]
)
def test_coercion_into_numbers(value: object, coerced: float) -> None:
    assert ok({"batch_size": value})["batch_size"] == coerced


def test_type_errors() -> None:
    assert error({"person_id": {}, "name": "n"}) == "Person ID must be a string but it was an object."
    assert error({"person_id": ["a", "b"], "name": "n"}) == "Person ID must be a string but it was an array."
    assert error({"person_id": [], "name": "n"}) == "Person ID must be a string but it was an array."
    assert (
        error({"person_id": "u", "name": "n", "data": "x"})
        == "Event Attributes must be an object but it was a string."
    )
    # Object fields take no coercion at all, not even the one-element array unwrap.
    assert (
        error({"person_id": "u", "name": "n", "data": [{}]})
        == "Event Attributes must be an object but it was an array."
    )
    assert (
        error({"person_id": "u", "name": "n", "flag": "yes"})
        == "Convert Timestamps must be a boolean but it was a string."
    )
    assert (
        error({"person_id": "u", "name": "n", "batch_size": "abc"})
        == "Batch Size must be a number but it was a string."
    )
    assert (
        error({"person_id": "u", "name": "n", "when": {}})
        == "Timestamp must be a string or number but it was an object."
    )


def test_limits() -> None:
    assert (
        error({"person_id": "u", "name": "n", "batch_size": 1})
        == "Batch Size must be equal to or greater than 2."
    )
    assert (
        error({"person_id": "u", "name": "n", "batch_size": "101"})
        == "Batch Size must be equal to or less than 100."
    )


def test_enum_wording() -> None:
    message = 'Metric must be one of: "delivered", "opened", or "clicked".'
    assert error({"person_id": "u", "name": "n", "metric": "sent"}) == message
    two = PayloadSchema({"t": Field(label="Action Type", type="string", choices=(("a", "A"), ("b", "B")))})
    with pytest.raises(PayloadValidationError, match='^Action Type must be one of: "a" or "b".$'):
        two.validate({"t": "c"})
    # A wrong type reports both the type and the enum, as Ajv's allErrors does.
    assert (
        error({"person_id": "u", "name": "n", "metric": {}})
        == "Metric must be a string but it was an object. " + message
    )


def test_date_like_format() -> None:
    assert error({"person_id": "u", "name": "n", "when": "garbage"}) == (
        "Timestamp must be a valid date-like string but it was not."
    )
    assert ok({"when": "2024-03-05T12:34:56.789Z"})["when"] == "2024-03-05T12:34:56.789Z"
    assert ok({"when": 1709642096})["when"] == 1709642096
    # A boolean is coerced to the string "true" first, which is then not date-like.
    assert error({"person_id": "u", "name": "n", "when": True}) == (
        "Timestamp must be a valid date-like string but it was not."
    )
    assert (
        error({"person_id": "u", "name": "n", "batch_size": True})
        == "Batch Size must be equal to or greater than 2."
    )


def test_errors_are_joined_required_first_then_field_order() -> None:
    message = error({"name": 5, "batch_size": 0, "person_id": {}})
    assert message == (
        "Person ID must be a string but it was an object. Batch Size must be equal to or greater than 2."
    )
    assert error({"batch_size": 0, "data": 1}) == (
        "The root value is missing the required field 'person_id'. "
        "The root value is missing the required field 'name'. "
        "Event Attributes must be an object but it was a number. "
        "Batch Size must be equal to or greater than 2."
    )


def test_remove_empty_values() -> None:
    payload = {"person_id": "", "data": "", "flag": None, "x": "", "name": "n", "gone": MISSING}
    assert remove_empty_values(payload, FIELDS) == {"name": "n"}
    assert remove_empty_values(payload, FIELDS, batch=True) == {"person_id": "", "x": "", "name": "n"}


def test_default_values_and_json_schema() -> None:
    fields = {
        "a": Field(label="A", type="string", default={"@path": "$.a"}),
        "b": Field(label="B", type="datetime"),
    }
    assert default_values({**fields, **BATCH_FIELDS}) == {
        "a": {"@path": "$.a"},
        "enable_batching": True,
        "batch_size": 50,
    }
    schema = to_json_schema({**fields, **BATCH_FIELDS})
    assert schema["properties"]["b"]["type"] == ["string", "number"]
    assert schema["properties"]["b"]["format"] == "date-like"
    assert schema["properties"]["batch_size"]["minimum"] == 2
    assert schema["additionalProperties"] is False


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_js_string_of_integers_is_decimal(n: int) -> None:
    assert number_to_string(n) == str(n)
    assert number_to_string(float(n)) == str(n) if abs(n) < 1e21 else True


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_string_round_trips_through_to_number(x: float) -> None:
    """JS: Number(String(x)) === x for every finite double."""
    text = number_to_string(x)
    assert to_number(text) == x
    assert "e" not in text or abs(x) >= 1e21 or abs(x) < 1e-6


@given(st.text())
def test_js_number_never_raises(text: str) -> None:
    value = to_number(text)
    assert value is None or isinstance(value, float)


@given(
    st.dictionaries(
        st.sampled_from(sorted(FIELDS) + ["extra"]), st.none() | st.text() | st.integers() | st.booleans()
    )
)
def test_validation_raises_only_its_own_error_and_returns_known_keys(payload: dict) -> None:
    try:
        out = SCHEMA.validate(payload)
    except PayloadValidationError as exc:
        assert exc.message.endswith(".")
    else:
        assert set(out) <= set(FIELDS)
        assert all(v is not None and v != "" for v in out.values())
        json.dumps(out)


def test_js_number_details() -> None:
    assert to_number("") == 0
    assert to_number("  ") == 0
    assert to_number("Infinity") == math.inf
    assert to_number("inf") is None
    assert to_number("1_000") is None
    assert to_number("0b101") == 5
    assert to_number("-0x10") is None
    assert to_number(".5") == 0.5
    assert to_number("5.") == 5


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)

_OF_CLASS: dict[type, st.SearchStrategy] = {
    str: st.text(max_size=8),
    bool: st.booleans(),
    dict: st.dictionaries(st.text(max_size=4), _ANY_JSON, max_size=3),
    list: st.lists(_ANY_JSON, max_size=3),
}


@given(st.data())
def test_the_pass_through_shortcuts_are_what_the_full_checks_do(data: st.DataObject) -> None:
    """validate() skips the check of a value already of a field's one exact class (a string into
    a plain string field, an object into an object field, ...): the full check leaves it as it is."""
    from sandbox.actions import ACTIONS

    schemas = [SCHEMA] + [action.schema for action in ACTIONS.values()]
    schema = data.draw(st.sampled_from(schemas))
    shortcuts = {key: str for key in schema._plain_strings} | schema._exact
    assert ACTIONS["createUpdatePerson"].schema._exact["custom_attributes"] is dict
    if not shortcuts:
        return
    key = data.draw(st.sampled_from(sorted(shortcuts)))
    value = data.draw(_OF_CLASS[shortcuts[key]])
    messages: list[str] = []
    assert schema._checks[key](value, messages) is value
    assert messages == []


# -- the int fast path of number fields equals the generic check ------------------------------------

_NUMBER_FIELDS = sorted(
    (slug, key)
    for slug, action in ACTIONS.items()
    for key, field in action.fields.items()
    if field.json_types == ("number",)
)


@given(
    st.sampled_from(_NUMBER_FIELDS),
    st.integers(-(10**20), 10**20) | st.sampled_from([-1, 0, 1, 2, 3, 99, 100, 101, 2**53, 2**53 + 1]),
    st.booleans(),
)
def test_an_int_in_a_number_field_validates_as_the_generic_check_does(
    where: tuple[str, str], value: int, batch: bool
) -> None:
    import copy

    from sandbox.errors import SandboxError

    slug, key = where
    schema = ACTIONS[slug].schema
    generic = copy.copy(schema)
    generic._int_ranges = {}  # every value through its field's check

    def outcome(chosen: object) -> object:
        try:
            return chosen.validate({key: value}, batch=batch)  # type: ignore[attr-defined]
        except SandboxError as exc:
            return str(exc)

    assert outcome(schema) == outcome(generic)
