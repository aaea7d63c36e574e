"""Shared Hypothesis vocabulary for the test suite: JSON values and Segment events.

Import what you need with `from strategies import events` (pytest puts tests/ on sys.path, as
tests/ has no __init__.py). Other test modules may append strategies at the end of this file; keep the
existing names stable, they are used across the suite.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

# -- JSON -----------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
"""A JSON scalar as `json.loads` produces it (no NaN or infinities: JSON cannot carry them)."""

json_keys = st.text(max_size=8) | st.sampled_from(["a", "b", "email", "id", "0", "1", "length", "x.y", ""])
"""Object keys: arbitrary short text, plus a few that exercise path parsing."""

json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value."""

json_objects = st.dictionaries(json_keys, json_values, max_size=5)
"""A JSON object (dict) with arbitrary values."""

# -- Segment events -------------------------------------------------------------------------------

EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

RESERVED_EVENT_NAMES = (
    "Application Installed",
    "Application Opened",
    "Application Uninstalled",
    "Device Created or Updated",
    "Device Deleted",
    "Relationship Deleted",
    "User Deleted",
    "User Suppressed",
    "User Unsuppressed",
    "Object Deleted",
    "Report Delivery Event",
    "Report Content Event",
)

event_names = st.sampled_from(RESERVED_EVENT_NAMES) | st.text(max_size=16)
"""A track event name: a reserved one (which routes to a special preset) or any text."""

ids = st.text(min_size=1, max_size=12) | st.sampled_from(["u1", "user-42", "cio_abc", "a@b.co"])
"""A user, anonymous, group or message id."""

iso_timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2100, 1, 1),
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")
"""A strict ISO-8601 UTC timestamp with milliseconds, as Segment's libraries send."""

timestamps = iso_timestamps | json_values
"""A `timestamp` value: usually ISO, sometimes anything."""

traits = st.dictionaries(
    st.sampled_from(["email", "name", "created_at", "createdAt", "plan", "age"]) | json_keys,
    json_values,
    max_size=5,
)

properties = st.dictionaries(
    st.sampled_from(["url", "revenue", "deliveryId", "metric", "objectId", "actionType"]) | json_keys,
    json_values,
    max_size=5,
)

contexts = st.fixed_dictionaries(
    {},
    optional={
        "device": st.fixed_dictionaries(
            {}, optional={"token": ids, "type": st.sampled_from(["ios", "android"])}
        ),
        "app": st.fixed_dictionaries({}, optional={"version": st.text(max_size=6)}),
        "ip": st.text(max_size=15),
    },
)


def _envelope(event_type: str, **fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {"type": st.just(event_type), "messageId": ids},
        optional={
            "userId": ids,
            "anonymousId": ids,
            "timestamp": timestamps,
            "context": contexts,
            **fields,
        },
    )


track_events = _envelope("track", properties=properties).flatmap(
    lambda e: event_names.map(lambda name: {**e, "event": name})
)
"""A well-formed track event (an `event` name always present)."""

identify_events = _envelope("identify", traits=traits)
"""A well-formed identify event."""

page_events = _envelope("page", properties=properties, name=st.text(max_size=10))
screen_events = _envelope("screen", properties=properties, name=st.text(max_size=10))
group_events = _envelope("group", traits=traits, groupId=ids)
alias_events = _envelope("alias", previousId=ids)

well_formed_events = st.one_of(
    track_events, identify_events, page_events, screen_events, group_events, alias_events
)
"""A well-formed Segment event of any of the six types."""

EVENT_KEYS = (
    "type",
    "event",
    "name",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "messageId",
    "timestamp",
    "traits",
    "properties",
    "context",
)

malformed_events = st.dictionaries(st.sampled_from(EVENT_KEYS) | json_keys, json_values, max_size=8)
"""An event-shaped dict whose values may be anything (non-dict properties, lists, numbers...)."""

events = st.one_of(well_formed_events, malformed_events)
"""Any event a user might feed the sandbox: well-formed or not (always a dict)."""

# -- Mapping paths and mappings (sandbox.mapping.paths, sandbox.mapping) ----------------------------------

plain_keys = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=".[]'\"", exclude_categories=("Cs",)),
    min_size=1,
    max_size=8,
)
"""Object keys a dotted path can address as they are: non-empty, no `.`, brackets or quotes."""

DIRECTIVE_NAMES = (
    "@path",
    "@template",
    "@if",
    "@literal",
    "@arrayPath",
    "@case",
    "@replace",
    "@merge",
    "@transform",
    "@flatten",
    "@json",
    "@liquid",
    "@excludeWhenNull",
)

mapping_keys = json_keys | st.sampled_from(
    [
        *DIRECTIVE_NAMES,
        "@nope",
        "@",
        "@X",
        "_metadata",
        "exists",
        "blank",
        "then",
        "else",
        "value",
        "mode",
        "operator",
        "pattern",
        "replacement",
        "pattern2",
        "separator",
        "objects",
        "direction",
        "apply",
        "mapping",
        "__segment_internal_directive",
    ]
)
"""Keys for arbitrary mappings: JSON keys, directive names (real and not) and directive option names."""

mapping_scalars = json_scalars | st.sampled_from(
    ["$.a", "a.b", "$.a[0]", "{{a}}", "{{{a}}}", "lower", "upper", "encode", "decode", "left", "right", "."]
)

any_mappings = st.recursive(
    mapping_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(mapping_keys, inner, max_size=4),
    max_leaves=16,
)
"""Any JSON that might be a mapping, often with directives (well-formed or not) at any depth."""
