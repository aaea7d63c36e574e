"""FQL subscriptions: the reference's parse results and quirks (docs/destination.md §11), and the laws
that hold for any input: `type = "x"` matches exactly the events of that type, rendering round-trips,
and nothing but SubscriptionSyntaxError ever escapes the parser."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions.presets import AUTOMATIC
from sandbox.errors import SandboxError, SubscriptionSyntaxError
from sandbox.subscriptions import (
    Check,
    Compare,
    Group,
    explain,
    lex,
    matches,
    parse_subscription,
    render,
)

TRACK = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "properties": {"total": 5, "plan": "pro"},
}


def leaves(text: str) -> tuple:
    return parse_subscription(text).children


# -- parsing: what the reference produces ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('type = "track"', Group("and", (Compare("type", "=", "track"),))),
        ("event = null", Group("and", (Compare("event", "=", "null"),))),
        ("event != null", Group("and", (Compare("event", "!=", "null"),))),
        ("name != null", Group("and", (Compare("name", "exists"),))),
        ("name = null", Group("and", (Compare("name", "not_exists"),))),
        ("userId = true", Group("and", (Compare("userId", "is_true"),))),
        ("userId = 5", Group("and", (Compare("userId", "=", "5"),))),
        ("properties.n = 5", Group("and", (Compare("properties", "number_equals", 5, name="n"),))),
        ("properties.n != 5", Group("and", (Compare("properties", "number_not_equals", 5, name="n"),))),
        ('properties.n = "5"', Group("and", (Compare("properties", "=", "5", name="n"),))),
        ("properties.n > 5", Group("and", (Compare("properties", ">", 5, name="n"),))),
        ("traits.vip = false", Group("and", (Compare("traits", "is_false", name="vip"),))),
        ("context.device.type != null", Group("and", (Compare("context", "exists", name="device.type"),))),
        ("event = 'A'", Group("and", (Compare("event", "=", "'A'"),))),
        ("properties.a >=5", Group("and", (Compare("properties", ">", "=", name="a"),))),
        ('event="x"', Group("and", (Compare("event", "=", "x"),))),
        ('contains(event, "Sign")', Group("and", (Compare("event", "contains", "Sign"),))),
        (
            '!contains(properties.plan, "pro")',
            Group("and", (Compare("properties", "not_contains", "pro", name="plan"),)),
        ),
        ('match(event, "Sign*")', Group("and", (Compare("event", "starts_with", "Sign"),))),
        ('match(event, "*Up")', Group("and", (Compare("event", "ends_with", "Up"),))),
        ('match(event,"abc")', Group("and", (Compare("event", "ends_with", "bc"),))),
        ('match(event, "*abc*")', Group("and", (Compare("event", "starts_with", "*abc"),))),
        ('!match(userId, "x*")', Group("and", (Compare("userId", "not_starts_with", "x"),))),
    ],
)
def test_parse(text: str, expected: Group) -> None:
    assert parse_subscription(text) == expected


def test_last_conditional_wins_without_precedence() -> None:
    assert parse_subscription('type = "a" and type = "b" or type = "c"').op == "or"
    assert parse_subscription('type = "a" or type = "b" and type = "c"').op == "and"
    assert len(parse_subscription('type = "a" and type = "b" or type = "c"').children) == 3


def test_text_the_reference_accepts_although_it_looks_broken() -> None:
    # A trailing conditional only sets the group's operator; a second `=` becomes the value.
    assert parse_subscription('type = "track" and') == Group("and", (Compare("type", "=", "track"),))
    assert parse_subscription('type = = "x"') == Group("and", (Compare("type", "=", "="),))
    # Unknown words are skipped.
    assert parse_subscription('type = "track" garbage') == Group("and", (Compare("type", "=", "track"),))


def test_a_parenthesised_group_one_level_deep() -> None:
    cond = parse_subscription('type = "track" and (event = "A" or contains(event, "x"))')
    assert cond.op == "and"
    assert cond.children[1] == Group("or", (Compare("event", "=", "A"), Compare("event", "contains", "x")))
    assert matches(cond, {"type": "track", "event": "xyz"})
    assert not matches(cond, {"type": "track", "event": "B"})


def test_a_lone_parenthesised_group_is_the_top_group() -> None:
    assert parse_subscription('(event = "A" or event = "B")') == Group(
        "or", (Compare("event", "=", "A"), Compare("event", "=", "B"))
    )


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('event!="x"', 5),
        ('event !="x"', 6),
        ("type<5", 4),
        ('(type = "track" and (event = "A" or event = "B"))', 20),
        ("typo", 0),
        ("", 0),
        ('event = "unterminated', 21),
        ('type = "track" and (event = "A"', 19),
        ("type", 4),
        ("event = 5.", 10),
        ('event = "a" \r', 12),
        ("()", 0),
        ("properties.items[0].sku = null", 16),  # an ident cannot be followed by `[`
    ],
)
def test_syntax_errors_name_the_column(text: str, column: int) -> None:
    with pytest.raises(SubscriptionSyntaxError) as info:
        parse_subscription(text)
    assert info.value.position == column
    assert info.value.text == text
    assert "^" in str(info.value)


def test_lexer_keeps_quotes_and_merges_dotted_idents() -> None:
    kinds = [(t.kind, t.value) for t in lex('properties.plan = "pro"')]
    assert kinds == [
        ("ident", "properties"),
        ("dot", "."),
        ("ident", "plan"),
        ("operator", "="),
        ("string", '"pro"'),
        ("eos", "eos"),
    ]
    # A trailing `an` loses its `n`: fql-ts's accept() does not roll back at the end of input.
    assert [t.value for t in lex("an")] == ["a", "eos"]
    assert [t.kind for t in lex("AND")] == ["ident", "eos"]
    assert [t.kind for t in lex("and")] == ["conditional", "eos"]
    assert [t.value for t in lex(r"properties.a\ b")] == ["properties", ".", "a b", "eos"]


def test_a_number_after_a_dot_is_not_merged() -> None:
    # properties.items.0 parses wrongly, as in the reference: the name stops at `items`.
    assert leaves("properties.items.0 = 5") != (Compare("properties", "number_equals", 5, name="items.0"),)


# -- evaluation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "event", "expected"),
    [
        ('type = "track"', {"type": "identify"}, False),
        ('event != "User Deleted"', {"type": "identify"}, True),  # a missing field satisfies !=
        ("event != null", {"type": "track"}, True),  # compares with the string "null"
        ("event = null", {"type": "track", "event": None}, False),
        ("properties.n = 5", {"properties": {"n": 5}}, True),
        ("properties.n = 5", {"properties": {"n": "5"}}, False),
        ('properties.n = "5"', {"properties": {"n": "5"}}, True),
        ('properties.n = "5"', {"properties": {"n": 5}}, False),
        ("properties.n != 5", {"properties": {"n": 5}}, False),
        ("properties.n != 5", {"properties": {"n": "5"}}, False),
        ("properties.n != 5", {"properties": {"n": 6}}, True),
        ("properties.n > 4", {"properties": {"n": 5}}, True),
        ("properties.n > 4", {"properties": {"n": "5"}}, False),
        ("properties.n > true", {"properties": {"n": 2}}, True),
        ("properties.flag = true", {"properties": {"flag": "true"}}, False),
        ("properties.flag = true", {"properties": {"flag": True}}, True),
        ("properties.a.b != null", {"properties": {"a": {"b": 0}}}, True),
        ("properties.a.b != null", {"properties": {"a": None}}, False),
        ("type =", {"type": "eos"}, True),  # the end-of-input token becomes the value, as upstream
        ("properties.name.length = 3", {"properties": {"name": "abc"}}, True),
        ("properties.name.length = 2", {"properties": {"name": "\U0001f600"}}, True),  # UTF-16 units
        ('contains(properties.plan, "ro")', {"properties": {"plan": "pro"}}, True),
        ('!contains(properties.plan, "ro")', {"properties": {"plan": 5}}, False),
        ("userId = true", {"userId": "true"}, False),
        ("traits.email != null", {"type": "identify", "traits": {"email": "a@b.co"}}, True),
        ('context.device.type = "ios"', {"context": {"device": {"type": "ios"}}}, True),
        ("properties.n = 5", {"properties": "not an object"}, False),
        ("properties.n = 5", {"properties": [5]}, False),
    ],
)
def test_matches(text: str, event: dict, expected: bool) -> None:
    assert matches(parse_subscription(text), event) is expected


def test_track_event_preset_excludes_reserved_events() -> None:
    preset = next(s for s in AUTOMATIC if s.partnerAction == "trackEvent")
    cond = parse_subscription(preset.subscribe)
    assert cond.op == "and" and len(cond.children) == 13
    assert matches(cond, TRACK)
    assert not matches(cond, {**TRACK, "event": "User Deleted"})
    assert not matches(cond, {"type": "identify"})


def test_explain_gives_one_check_per_leaf() -> None:
    cond = parse_subscription('type = "track" and properties.total > 10')
    checks = explain(cond, TRACK)
    assert checks == [
        Check('type = "track"', True, "track"),
        Check("properties.total > 10", False, 5),
    ]
    assert explain(cond, {"type": "page"})[1] == Check("properties.total > 10", False, None)


def test_non_object_events_never_match() -> None:
    cond = parse_subscription('event != "x"')
    for event in (None, [], "track", 5):
        assert matches(cond, event) is False
        assert [c.passed for c in explain(cond, event)] == [False]


# -- laws ------------------------------------------------------------------------------------------

EVENT_TYPES = ["identify", "track", "page", "screen", "group", "alias"]
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda xs: st.lists(xs, max_size=3) | st.dictionaries(st.text(max_size=4), xs, max_size=3),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(EVENT_TYPES) | json_values,
        "event": st.text(max_size=8) | json_values,
        "userId": st.text(max_size=8) | json_values,
        "properties": json_values,
        "traits": json_values,
        "context": json_values,
    },
)


@given(event=events, type_=st.sampled_from(EVENT_TYPES))
def test_type_equals_matches_exactly_events_of_that_type(event: dict, type_: str) -> None:
    assert matches(parse_subscription(f'type = "{type_}"'), event) == (event.get("type") == type_)


@given(st.text())
def test_parser_raises_only_syntax_errors(text: str) -> None:
    try:
        cond = parse_subscription(text)
    except SubscriptionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    assert isinstance(cond, Group)


fql_alphabet = st.sampled_from(
    list(
        "type event name userId properties.a traits.b context.c = != < <= > >= and or null true false ( ) , ! \" ' 5 -1 2.5 contains match \\ . [ ] x *".split()
    )
    + [" ", " ", "\n", "\t"]
)


@given(st.lists(fql_alphabet, max_size=14).map("".join), events)
def test_fql_shaped_text_parses_or_fails_cleanly_and_matching_never_raises(text: str, event: dict) -> None:
    try:
        cond = parse_subscription(text)
    except SandboxError:
        return
    assert matches(cond, event) in (True, False)
    assert all(isinstance(c, Check) for c in explain(cond, event))


segments = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="."), min_size=1, max_size=5)
names = st.lists(segments, min_size=1, max_size=3).map(".".join)
strings = st.text(alphabet=st.characters(codec="utf-8", exclude_characters='"\r'), max_size=6)
numbers = st.integers(-(10**6), 10**6) | st.floats(0, 1e6, allow_nan=False).map(lambda f: round(f, 3))
top_fields = st.sampled_from(["type", "event", "name", "userId"])
scoped_fields = st.sampled_from(["properties", "traits", "context"])

plain_leaves = st.one_of(
    st.builds(
        Compare, field=st.sampled_from(["type", "event"]), op=st.sampled_from(["=", "!="]), value=strings
    ),
    st.builds(
        Compare, field=st.sampled_from(["name", "userId"]), op=st.sampled_from(["exists", "not_exists"])
    ),
    st.builds(Compare, field=st.just("userId"), op=st.sampled_from(["is_true", "is_false"])),
    st.builds(
        Compare,
        field=scoped_fields,
        op=st.sampled_from(["exists", "not_exists", "is_true", "is_false"]),
        name=names,
    ),
    st.builds(
        Compare,
        field=scoped_fields,
        op=st.sampled_from(["number_equals", "number_not_equals", "<", ">", "<=", ">="]),
        value=numbers,
        name=names,
    ),
    st.builds(
        Compare, field=scoped_fields, op=st.sampled_from(["=", "!=", "<", ">"]), value=strings, name=names
    ),
)
# `match(x, "*")` reads as starts_with "", so an ends_with pattern cannot be empty or end in `*`.
suffixes = strings.filter(lambda v: v != "" and not v.endswith("*"))
function_leaves = st.one_of(
    st.builds(
        Compare,
        field=st.sampled_from(["event", "name", "userId"]),
        op=st.sampled_from(["contains", "not_contains", "starts_with", "not_starts_with"]),
        value=strings,
    ),
    st.builds(
        Compare,
        field=st.sampled_from(["event", "name", "userId"]),
        op=st.sampled_from(["ends_with", "not_ends_with"]),
        value=suffixes,
    ),
    st.builds(
        Compare,
        field=scoped_fields,
        op=st.sampled_from(["contains", "not_contains", "starts_with"]),
        value=strings,
        name=names,
    ),
    st.builds(Compare, field=scoped_fields, op=st.just("ends_with"), value=suffixes, name=names),
)
leaf_conditions = plain_leaves | function_leaves
subgroups = st.builds(
    Group,
    op=st.sampled_from(["and", "or"]),
    children=st.lists(plain_leaves, min_size=2, max_size=3).map(tuple),
)


@st.composite
def conditions(draw: st.DrawFn) -> Group:
    """Normal-form trees the parser can produce: a top group, with at most one level of parenthesised
    groups of plain leaves; a single top child is a leaf."""
    children = draw(st.lists(leaf_conditions | subgroups, min_size=1, max_size=4))
    if len(children) == 1:
        return children[0] if isinstance(children[0], Group) else Group("and", tuple(children))
    return Group(draw(st.sampled_from(["and", "or"])), tuple(children))


@given(conditions())
def test_render_then_parse_is_identity(cond: Group) -> None:
    """Rendering covers escaping of names and every operator; values with a double quote are left
    out on purpose (FQL has no escape for them)."""
    if any(
        isinstance(c, Compare) and isinstance(c.value, float) and math.isinf(c.value) for c in cond.children
    ):
        return
    assert parse_subscription(render(cond)) == cond


@given(conditions(), events)
def test_explain_agrees_with_matches(cond: Group, event: dict) -> None:
    checks = explain(cond, event)
    flat = [c for c in cond.children]
    assert len(checks) >= len(flat)
    if cond.op == "and" and all(isinstance(c, Compare) for c in flat):
        assert matches(cond, event) == all(c.passed for c in checks)
    if cond.op == "or" and all(isinstance(c, Compare) for c in flat):
        assert matches(cond, event) == any(c.passed for c in checks)
