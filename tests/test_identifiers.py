"""resolveIdentifiers (docs/destination.md §7.2): the upstream unit cases, the edges, and the priority law."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared_data import shared_json

from sandbox.actions.identifiers import is_email, is_truthy, resolve_identifiers
from sandbox.errors import InputError
from sandbox.js.values import MISSING

CASES = shared_json("conformance", "upstream-cases.json")
UNIT = [c for c in CASES if c["kind"] == "unit" and c["function"] == "resolveIdentifiers"]


def test_there_are_seven_upstream_cases() -> None:
    assert len(UNIT) == 7


@pytest.mark.parametrize("case", UNIT, ids=lambda c: c["name"])
def test_upstream_unit_case(case: dict) -> None:
    for assertion in case["assertions"]:
        (args,) = assertion["args"]
        got = resolve_identifiers(**args)
        if assertion.get("returns_undefined"):
            assert got is None
        else:
            assert got == assertion["returns"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"object_id": "o1"}, {"object_id": "o1", "object_type_id": "1"}),  # the "1" default
        ({"object_id": "o1", "object_type_id": None, "person_id": "p"}, {"id": "p"}),  # null: no default
        ({"object_id": "o1", "object_type_id": "", "email": "e@x.io"}, {"email": "e@x.io"}),
        ({"object_id": "", "object_type_id": "2", "anonymous_id": "a"}, {"anonymous_id": "a"}),
        ({"object_id": 0, "anonymous_id": "a"}, {"anonymous_id": "a"}),
        ({"object_id": "o1", "person_id": "cio_1"}, {"object_id": "o1", "object_type_id": "1"}),
        ({"person_id": "cio_"}, {"cio_id": ""}),
        ({"person_id": "CIO_abc"}, {"id": "CIO_abc"}),  # the prefix is case-sensitive
        ({"person_id": "cio_a@b.co"}, {"cio_id": "a@b.co"}),  # cio_ before email
        ({"person_id": "a@b"}, {"id": "a@b"}),  # the domain needs a dot
        ({"person_id": "a@b.co"}, {"email": "a@b.co"}),
        ({"person_id": "First.Last+tag@Example.COM"}, {"email": "First.Last+tag@Example.COM"}),
        ({"person_id": "a@b.co\n"}, {"id": "a@b.co\n"}),  # JS `$` is the very end
        ({"person_id": "a@ſ.co"}, {"id": "a@ſ.co"}),  # the `i` flag folds ASCII only
        ({"person_id": "a@-b.co"}, {"id": "a@-b.co"}),
        ({"person_id": "", "email": "e@x.io"}, {"email": "e@x.io"}),
        ({"person_id": None, "email": "e@x.io"}, {"email": "e@x.io"}),
        ({"person_id": "p", "email": "e@x.io", "anonymous_id": "a"}, {"id": "p"}),
        ({"email": "not-an-email"}, {"email": "not-an-email"}),  # email is not checked
        ({"email": "", "anonymous_id": "a"}, {"anonymous_id": "a"}),
        ({"anonymous_id": ""}, None),
        ({"anonymous_id": None, "email": None, "object_type_id": "3"}, None),
    ],
)
def test_resolution_edges(kwargs: dict, expected: dict | None) -> None:
    assert resolve_identifiers(**kwargs) == expected


@pytest.mark.parametrize("person_id", [123, 0, True, ["p"], {"id": "p"}])
def test_non_string_person_id_is_an_input_error(person_id: object) -> None:
    with pytest.raises(InputError, match="person_id must be a string"):
        resolve_identifiers(person_id=person_id)


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        ("", False),
        (0, False),
        (0.0, False),
        (float("nan"), False),
        (None, False),
        (MISSING, False),
        (False, False),
        ("0", True),
        (" ", True),
        (1, True),
        (-0.5, True),
        (True, True),
        ([], True),
        ({}, True),
    ],
)
def test_js_truthiness(value: object, truthy: bool) -> None:
    assert is_truthy(value) is truthy


# --------------------------------------------------------------------------------------------
# The priority law

VALUES = st.one_of(
    st.just(MISSING),
    st.none(),
    st.sampled_from(["", 0, False]),
    st.text(max_size=8),
    st.sampled_from(["cio_", "cio_abc", "a@b.co", "a@b", "user@example.com", "x"]),
)
PERSON_IDS = st.one_of(
    st.just(MISSING),
    st.none(),
    st.text(max_size=10),
    st.sampled_from(["", "cio_", "cio_x", "a@b.co", "a@b", "u1"]),
)


@given(
    anonymous_id=VALUES,
    email=VALUES,
    object_id=VALUES,
    object_type_id=VALUES,
    person_id=PERSON_IDS,
)
def test_identifiers_follow_the_priority_order(
    anonymous_id: object, email: object, object_id: object, object_type_id: object, person_id: object
) -> None:
    got = resolve_identifiers(
        anonymous_id=anonymous_id,
        email=email,
        object_id=object_id,
        object_type_id=object_type_id,
        person_id=person_id,
    )
    type_id = "1" if object_type_id is MISSING else object_type_id
    # The same rules, stated as an ordered table: the first applicable one wins.
    rules = [
        (is_truthy(object_id) and is_truthy(type_id), {"object_id": object_id, "object_type_id": type_id}),
        (isinstance(person_id, str) and person_id.startswith("cio_"), {"cio_id": str(person_id)[4:]}),
        (is_email(person_id), {"email": person_id}),
        (is_truthy(person_id), {"id": person_id}),
        (is_truthy(email), {"email": email}),
        (is_truthy(anonymous_id), {"anonymous_id": anonymous_id}),
        (True, None),
    ]
    expected = next(result for applies, result in rules if applies)
    assert got == expected
    # Never more than one identifier kind, and never a falsy identifier value, except cio_id "".
    if got is not None:
        kinds = set(got)
        assert kinds in ({"object_id", "object_type_id"}, {"cio_id"}, {"email"}, {"id"}, {"anonymous_id"})
        assert all(is_truthy(v) for k, v in got.items() if k != "cio_id")


@given(st.from_regex(r"[a-z0-9._%+-]{1,10}@([a-z0-9]{1,8}\.){1,3}[a-z]{2,6}", fullmatch=True))
def test_plain_emails_resolve_to_email(address: str) -> None:
    if ".." in address.split("@")[0] or address.startswith(".") or ".@" in address:
        assert resolve_identifiers(person_id=address) == {"id": address}
    else:
        assert resolve_identifiers(person_id=address) == {"email": address}
