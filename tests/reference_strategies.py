"""Hypothesis strategies for the differential tests: wild events, settings and subscriptions.

The shapes are the ones hand-made cases miss: deep nesting, arrays of objects holding timestamps,
unicode and integer-like keys, `__proto__`, numbers at the edges of doubles, strings that are
nearly dates, lone surrogates; mappings with every directive; FQL with every operator.

Left out, as differences the sandbox keeps on purpose or does not emulate (README, "Differential
tests"): `created_at` keys and fields (converted more leniently on purpose); a `context` that is not
an object (the reference's batch mode crashes on `context: null`; Segment's API always sends one);
an own `toString` key (String(object) then throws in JavaScript); mapping paths through inherited
properties (`$.traits.__proto__` without an own key); liquid's `date` filter (not emulated).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from sandbox.actions import ACTIONS

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

INTEGER_KEYS = ("0", "1", "2", "10", "01", "-1", "1.5", "4294967294", "4294967295", "9007199254740993")
SPECIAL_KEYS = ("__proto__", "constructor", "hasOwnProperty", "length", "", " ", "a.b", "$")
UNICODE_KEYS = ("é", "日本", "😀", "a\u0301", "\u2028", "\x00", "\ud800", "k\udc00")
WORDS = ("a", "b", "email", "id", "name", "plan", "url", "total", "tags", "items", "date", "nested")

keys = st.sampled_from(WORDS + INTEGER_KEYS + SPECIAL_KEYS + UNICODE_KEYS) | st.text(max_size=4)

NEAR_DATES = (
    "2024-03-05T12:34:56.789Z",
    "2024-03-05T12:34:56Z",
    "2024-03-05T12:34:56",
    "2024-03-05T12:34",
    "2024-03-05",
    "2024-03-05T12:34:56+05:30",
    "2024-03-05T12:34:56-0800",
    "2024-03-05T12:34:56.123456789Z",
    "2024-03-05T12:34:56.1234567890Z",
    "2024-13-01",
    "2024-02-30T10:00:00Z",
    "2024-03-05T25:00:00Z",
    "2024-3-5",
    "20240305",
    "1709642096",
    "1709642096.5",
    "Mar 25 2015",
    "Tue, 05 Mar 2024 12:34:56 GMT",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    " 2024-03-05",
    "2024-03-05T12:34:56z",
)

EDGE_NUMBERS = (
    0,
    -0.0,
    1,
    -1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    12345678901234567890,
    10**21,
    10**21 - 1,
    10**25,
    1e21,
    1e20,
    1e16,
    1e-7,
    1e-6,
    0.1,
    0.5,
    1.5,
    123.456,
    5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1709642096,
    1709642096.789,
)

strings = (
    st.sampled_from(NEAR_DATES)
    | st.sampled_from(("", "a\ud800b", "\udfff", "\ud83d\ude00", "😀", "cio_x", "a@b.co", "x" * 40, "null"))
    | st.text(max_size=10)
    | st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=4)
)

numbers = (
    st.sampled_from(EDGE_NUMBERS)
    | st.integers(min_value=-(10**22), max_value=10**22)
    | st.floats(allow_nan=False, allow_infinity=False)
)

scalars = st.none() | st.booleans() | numbers | strings

values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=14,
)

objects = st.dictionaries(keys, values, max_size=6)

# -- events ------------------------------------------------------------------------------------------

ids = st.sampled_from(("u1", "cio_abc", "a@b.co", "anon-1", "", "😀", "a\ud800")) | strings | numbers


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {}
    kind = draw(st.sampled_from(EVENT_TYPES) | st.sampled_from(("", "Track", "other")) | values)
    if draw(st.integers(0, 9)):
        event["type"] = kind
    optional = {
        "event": st.sampled_from(
            ("Order Completed", "Report Delivery Event", "Device Created or Updated", "")
        )
        | values,
        "userId": ids,
        "anonymousId": ids,
        "messageId": ids,
        "name": strings | values,
        "groupId": ids,
        "previousId": ids,
        "timestamp": st.sampled_from(NEAR_DATES) | values,
        "traits": objects | values,
        "properties": objects | values,
        "context": st.fixed_dictionaries(
            {},
            optional={
                "device": st.fixed_dictionaries({}, optional={"token": ids, "type": strings}) | values,
                "app": st.fixed_dictionaries({}, optional={"version": strings}),
                "page": st.fixed_dictionaries({}, optional={"url": strings}),
                "traits": objects,
            },
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            event[key] = draw(strategy)
    for key, value in draw(st.dictionaries(keys, values, max_size=2)).items():
        event.setdefault(key, value)
    return event


def event_text(items: list[Any]) -> str:
    """The JSON text both sides read (lone surrogates escaped; numbers as Python writes them)."""
    return json.dumps(items, ensure_ascii=True, allow_nan=False)


# -- mappings ------------------------------------------------------------------------------------------

LIQUID = (
    "{{ userId }}",
    "{{ properties.a | default: 'none' }}",
    "{{ traits.email | downcase }}",
    "{% if properties.total > 1 %}big{% else %}small{% endif %}",
    "{{ properties.items | size }}",
)

ROOTS = (
    "$.userId",
    "$.anonymousId",
    "$.event",
    "$.name",
    "$.timestamp",
    "$.type",
    "$.groupId",
    "$.messageId",
)
CONTAINERS = ("$.traits", "$.properties", "$.context", "$.context.traits", "$.context.device")


@st.composite
def paths(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(
            st.sampled_from(ROOTS + CONTAINERS + ("$.context.device.token", "$.context.page.url", "$"))
        )
    base = draw(st.sampled_from(CONTAINERS))
    tail = draw(st.lists(st.sampled_from(WORDS + ("0", "1", "10", "length")), min_size=1, max_size=2))
    return base + "".join("." + part for part in tail)


def directives(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    path = paths()
    p = path.map(lambda text: {"@path": text})
    return st.one_of(
        p,
        st.builds(lambda a, b: {"@template": f"{{{{{a[2:]}}}}}-{b}"}, path, st.sampled_from(("x", "", "😀"))),
        st.builds(lambda test, t, e: {"@if": {"exists": test, "then": t, "else": e}}, p, inner, inner),
        st.builds(lambda test, t, e: {"@if": {"blank": test, "then": t, "else": e}}, p, inner, inner),
        st.builds(lambda v: {"@literal": v}, values),
        st.builds(
            lambda m, v: {"@case": {"operator": m, "value": v}}, st.sampled_from(("lower", "upper")), p
        ),
        st.builds(
            lambda pat, rep, v, g: {
                "@replace": {"pattern": pat, "replacement": rep, "value": v, "global": g}
            },
            st.sampled_from(("a", "-", ".", "😀", "\ud83d")),
            st.sampled_from(("", "b", "\ude00")),
            p,
            st.booleans(),
        ),
        st.builds(
            lambda objs, d: {"@merge": {"objects": objs, "direction": d}},
            st.lists(p | st.dictionaries(keys, values, max_size=3), min_size=1, max_size=3),
            st.sampled_from(("left", "right")),
        ),
        st.builds(
            lambda v, sep: {"@flatten": {"value": v, "separator": sep}}, p, st.sampled_from((".", "_", ""))
        ),
        st.builds(lambda v: {"@json": {"mode": "encode", "value": v}}, p | inner),
        st.builds(lambda v: {"@json": {"mode": "decode", "value": v}}, p),
        st.builds(lambda v: {"@excludeWhenNull": v}, p | inner),
        st.sampled_from(LIQUID).map(lambda text: {"@liquid": text}),
        st.builds(
            lambda base, shape: {"@arrayPath": [base, shape]},
            st.sampled_from(("$.properties.items", "$.traits.items", "$.properties", "$.properties.tags")),
            st.dictionaries(
                st.sampled_from(WORDS + INTEGER_KEYS[:3]),
                path.map(lambda t: {"@path": "$." + t.split(".")[-1]}),
                max_size=3,
            ),
        ),
    )


mapping_values = st.recursive(
    scalars | paths().map(lambda text: {"@path": text}),
    lambda inner: directives(inner) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def subscriptions(draw: st.DrawFn) -> dict[str, Any]:
    slug = draw(st.sampled_from(sorted(ACTIONS)))
    fields = [
        name for name in ACTIONS[slug].fields if name not in ("enable_batching", "batch_size", "created_at")
    ]
    mapping: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields))):
        mapping[name] = draw(mapping_values)
    if draw(st.integers(0, 3)) == 0 and "convert_timestamp" in ACTIONS[slug].fields:
        mapping["convert_timestamp"] = draw(st.booleans())
    return {
        "subscribe": draw(fql()),
        "partnerAction": slug,
        "mapping": mapping,
        "useDefaultMappings": draw(st.booleans()),
    }


# -- FQL -------------------------------------------------------------------------------------------------

FQL_FIELDS = (
    "type",
    "event",
    "userId",
    "properties.total",
    "properties.a",
    "traits.email",
    "context.device.type",
    "name",
)
FQL_LITERALS = (
    '"identify"',
    '"track"',
    '"page"',
    '"Order Completed"',
    '"a@b.co"',
    "1",
    "0",
    "10.5",
    "true",
    "false",
    "null",
)


@st.composite
def fql_leaf(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(FQL_FIELDS))
    form = draw(st.integers(0, 7))
    if form == 0:
        return f"{field} exists"
    if form == 1:
        return f"{field} != {draw(st.sampled_from(FQL_LITERALS))}"
    if form == 2:
        return f"{field} {draw(st.sampled_from(('<', '<=', '>', '>=')))} {draw(st.sampled_from(('1', '10.5', '-3', '0')))}"
    if form == 3:
        return f'match({field}, "{draw(st.sampled_from(("*", "Order*", "?rack", "a*@*")))}")'
    if form == 4:
        return f'contains({field}, "{draw(st.sampled_from(("a", "Order", "@", "")))}")'
    if form == 5:
        return f"!({field} = {draw(st.sampled_from(FQL_LITERALS))})"
    return f"{field} = {draw(st.sampled_from(FQL_LITERALS))}"


@st.composite
def fql(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 3)) == 0:
        return draw(
            st.sampled_from(
                ('type = "identify"', 'type = "track"', 'type = "page" or type = "screen"', 'type = "group"')
            )
        )
    leaves = draw(st.lists(fql_leaf(), min_size=1, max_size=3))
    joiners = draw(
        st.lists(st.sampled_from((" and ", " or ")), min_size=len(leaves) - 1, max_size=len(leaves) - 1)
    )
    text = leaves[0]
    for joiner, leaf in zip(joiners, leaves[1:], strict=True):
        text += joiner + leaf
    return text


# -- settings and whole cases ----------------------------------------------------------------------------

settings = st.fixed_dictionaries(
    {
        "siteId": st.sampled_from(("12345", "site", "", "é", "日本", "a\ud800"))
        | st.text(alphabet="abc123-_", max_size=8),
        "apiKey": st.sampled_from(("abcde", "key", "")) | st.text(alphabet="abc123:", max_size=8),
    },
    optional={"accountRegion": st.sampled_from(("US 🇺🇸", "EU 🇪🇺", "EU 🇪🇺 ", "elsewhere", ""))},
)

NOW_MS = 1709642096789  # 2024-03-05T12:34:56.789Z


OBJECT_SOURCES = ("$.traits", "$.properties", "$.context", "$.properties.nested", "$.traits.a")


@st.composite
def sending_events(draw: st.DrawFn) -> dict[str, Any]:
    """An event that the default mappings accept: a usable userId, wild traits and properties."""
    event = draw(events())
    event["type"] = draw(st.sampled_from(EVENT_TYPES))
    event["userId"] = draw(st.sampled_from(("u1", "cio_abc", "a@b.co", "user 2", "😀")))
    event["event"] = draw(st.sampled_from(("Order Completed", "Viewed", "")))
    for key in ("traits", "properties"):
        event[key] = draw(objects)
    event.setdefault("context", {})
    if isinstance(event["context"], dict):
        event["context"]["device"] = {"token": "tok", "type": "ios"}
    event["timestamp"] = draw(st.sampled_from(NEAR_DATES))
    return event


@st.composite
def sending_subscriptions(draw: st.DrawFn) -> dict[str, Any]:
    """The default mappings, with the object fields pointed at wild data: most of these send."""
    slug = draw(st.sampled_from(sorted(ACTIONS)))
    mapping: dict[str, Any] = {}
    for name, field in ACTIONS[slug].fields.items():
        if field.type == "object" and draw(st.booleans()):
            mapping[name] = draw(st.sampled_from(OBJECT_SOURCES).map(lambda p: {"@path": p}) | mapping_values)
    if "convert_timestamp" in ACTIONS[slug].fields:
        mapping["convert_timestamp"] = draw(st.booleans())
    for name in ("object_id", "delivery_id", "primary", "secondary", "actionType", "metric", "name"):
        if name in ACTIONS[slug].fields:
            mapping[name] = draw(
                st.sampled_from(("o1", "opened", "x@y.z", "1")) | st.just({"@path": "$.userId"})
            )
    subscribe = draw(st.sampled_from(("type exists", 'type = "identify" or type = "track"', "userId exists")))
    return {"subscribe": subscribe, "partnerAction": slug, "mapping": mapping, "useDefaultMappings": True}


@st.composite
def cases(draw: st.DrawFn, mode: str | None = None) -> dict[str, Any]:
    """Half the cases are built to send (default mappings, wild data in the bodies), half are wild
    throughout (mostly errors and non-matches: their messages are compared too)."""
    if draw(st.booleans()):
        items = draw(st.lists(sending_events(), min_size=1, max_size=4))
        subscription = draw(sending_subscriptions())
    else:
        items = draw(st.lists(events(), min_size=1, max_size=4))
        subscription = draw(subscriptions())
    return {
        "mode": mode or draw(st.sampled_from(("single", "batch"))),
        "now": NOW_MS,
        "settings": draw(settings),
        "subscription": subscription,
        "events": event_text(items),
    }
