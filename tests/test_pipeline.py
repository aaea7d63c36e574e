"""The pipeline: transform (one event), plan (many, single and batch), trace (the inspector's view)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import well_formed_events

from sandbox import (
    ConfigError,
    InputError,
    PayloadValidationError,
    SandboxError,
    Settings,
    Subscription,
    plan,
    trace,
    transform,
)

US = Settings("12345", "abcde")
NOW = 1709642096.0


def identify(user: str = "u1", **traits: object) -> dict:
    return {"type": "identify", "userId": user, "traits": traits, "timestamp": "2024-03-05T12:34:56.789Z"}


def track(event: str, user: str | None = "u1", **properties: object) -> dict:
    out = {"type": "track", "event": event, "properties": properties, "messageId": f"m-{event}"}
    if user is not None:
        out["userId"] = user
    return out


def test_default_presets_route_events_to_their_actions() -> None:
    assert [r.action for r in transform(identify(), US)] == ["createUpdatePerson"]
    assert [r.action for r in transform(track("Order Completed"), US)] == ["trackEvent"]
    device = {**track("Application Opened"), "context": {"device": {"token": "t", "type": "ios"}}}
    assert [r.action for r in transform(device, US)] == ["createUpdateDevice"]
    assert transform({"type": "page", "properties": {}}, US)[0].error.message == (
        "The root value is missing the required field 'url'."
    )
    assert transform({"type": "unknown"}, US) == []


def test_a_subscription_without_subscribe_matches_everything_and_defaults_lay_under_the_mapping() -> None:
    sub = Subscription("All", None, "trackEvent", {"name": {"@path": "$.type"}}, useDefaultMappings=True)
    (result,) = transform(identify(), US, [sub])
    assert result.request.body["name"] == "identify"
    assert result.request.body["identifiers"] == {"id": "u1"}
    bare = Subscription("Bare", None, "trackEvent", {"name": {"@path": "$.type"}})
    (result,) = transform(identify(), US, [bare])
    assert result.request.body == {"type": "person", "action": "event", "name": "identify"}


def test_subscriptions_may_be_plain_dicts() -> None:
    subs = [
        {
            "name": "Tracks",
            "subscribe": 'type = "track"',
            "partnerAction": "trackEvent",
            "mapping": {},
            "useDefaultMappings": True,
        }
    ]
    assert [r.subscription.name for r in transform(track("X"), US, subs)] == ["Tracks"]
    assert transform(identify(), US, subs) == []


def test_plan_single_mode_orders_by_event_then_subscription() -> None:
    subs = [
        Subscription("A", None, "trackEvent", {"name": {"@path": "$.event"}}),
        Subscription("B", 'type = "track"', "trackEvent", {"name": "fixed"}),
    ]
    lines = list(plan([track("e0"), identify(), track("e2")], US, subs))
    assert [(line.event_index, line.subscription) for line in lines] == [
        (0, "A"),
        (0, "B"),
        (1, "A"),
        (2, "A"),
        (2, "B"),
    ]
    assert lines[2].error.message == "The root value is missing the required field 'name'."
    assert lines[2].to_dict() == {
        "event_index": 1,
        "subscription": "A",
        "action": "trackEvent",
        "error": {
            "name": "AggregateAjvError",
            "message": "The root value is missing the required field 'name'.",
        },
    }
    out = lines[0].to_dict()
    assert list(out) == ["event_index", "subscription", "action", "method", "url", "headers", "body"]
    assert out["headers"] == {"authorization": "Basic MTIzNDU6YWJjZGU=", "content-type": "application/json"}


def test_plan_batch_mode_chunks_and_reports_rejections_first() -> None:
    sub = Subscription(
        "T",
        'type = "track"',
        "trackEvent",
        {"name": {"@path": "$.event"}, "batch_size": 2, "id": {"@path": "$.userId"}},
    )
    events = [track("a"), identify(), track(""), track("c"), track("d"), {"type": "track", "userId": "u"}]
    lines = list(plan(events, US, [sub], batch=True))
    shape = [(line.event_index, line.error is not None) for line in lines]
    # chunks of matched events: (0, 2), (3, 4), (5,); "" survives batch mode, a missing name does not.
    assert shape == [((0, 2), False), ((3, 4), False), (5, True)]
    assert [item["name"] for item in lines[0].request.body["batch"]] == ["a", ""]
    assert lines[0].request.url == "https://track.customer.io/api/v2/batch"
    assert lines[0].to_dict()["event_index"] == [0, 2]


def test_plan_batch_create_update_object_and_report_delivery_event() -> None:
    groups = [
        {"type": "group", "groupId": "g1", "anonymousId": "a1"},
        {"type": "group", "groupId": "g2", "userId": "u2"},
        {"type": "group", "userId": "u3"},
    ]
    lines = list(plan(groups, US, batch=True))
    assert [(line.event_index, line.error is None) for line in lines] == [
        (2, False),
        ((1,), True),
        ((0,), True),
    ]
    assert isinstance(lines[0].error, PayloadValidationError)
    assert [line.request.body["batch"][0]["action"] for line in lines[1:]] == [
        "identify",
        "identify_anonymous",
    ]
    metrics = [
        {
            "type": "track",
            "event": "Report Delivery Event",
            "properties": {"deliveryId": "d1", "metric": "opened"},
        },
        {
            "type": "track",
            "event": "Report Delivery Event",
            "properties": {"deliveryId": "d2", "metric": "nope"},
        },
        {
            "type": "track",
            "event": "Report Delivery Event",
            "properties": {"deliveryId": "d3", "metric": "clicked"},
        },
    ]
    lines = list(plan(metrics, US, batch=True, now=NOW))
    assert [line.event_index for line in lines] == [0, 1, 2]
    assert lines[0].request.body == {"delivery_id": "d1", "metric": "opened", "timestamp": 1709642096}
    assert lines[1].error is not None


def test_bad_subscriptions_say_which_and_where() -> None:
    bad = [
        {
            "name": "Broken",
            "subscribe": 'type = "track" and event !="x"',
            "partnerAction": "trackEvent",
            "mapping": {},
        }
    ]
    with pytest.raises(ConfigError) as info:
        list(plan([track("x")], US, bad))
    assert "Broken" in str(info.value) and "column" in str(info.value) and "subscribe" in str(info.value)
    with pytest.raises(ConfigError, match="partnerAction"):
        transform(track("x"), US, [{"name": "N", "partnerAction": "nope", "mapping": {}}])
    with pytest.raises(ConfigError, match="mapping"):
        transform(
            track("x"), US, [{"name": "N", "partnerAction": "trackEvent", "mapping": {"name": {"@nope": 1}}}]
        )
    with pytest.raises(InputError, match="event 1"):
        list(plan([track("x"), [1]], US))


def test_trace_shows_every_stage() -> None:
    result = trace(track("Order Completed", total=3), US)
    by_name = {t.subscription.name: t for t in result.subscriptions}
    assert len(by_name) == 15
    assert by_name["Track Event"].matched and by_name["Track Event"].requests
    assert by_name["Track Event"].payload["name"] == "Order Completed"
    assert all(check.passed for check in by_name["Track Event"].checks)
    person = by_name["Create or Update Person"]
    assert not person.matched and person.requests == () and person.payload is None
    assert any(not check.passed for check in person.checks)


def test_events_are_never_mutated_across_subscriptions() -> None:
    event = identify(
        created_at="2024-01-01", objectTypeId="2", relationshipAttributes={"r": "2024-01-01"}, objectId="g"
    )
    frozen = copy.deepcopy(event)
    subs = [
        Subscription("P1", None, "createUpdatePerson", {}, useDefaultMappings=True),
        Subscription("P2", None, "createUpdatePerson", {}, useDefaultMappings=True),
    ]
    first, second = transform(event, US, subs)
    assert event == frozen
    assert first.request.body == second.request.body


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda xs: st.lists(xs, max_size=3) | st.dictionaries(st.text(max_size=6), xs, max_size=3),
    max_leaves=10,
)
event_keys = st.sampled_from(
    [
        "type",
        "event",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "name",
        "timestamp",
        "messageId",
        "traits",
        "properties",
        "context",
    ]
)
events = st.dictionaries(event_keys, json_values, max_size=8) | st.fixed_dictionaries(
    {"type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias"])},
    optional={
        "userId": json_values,
        "event": st.text(max_size=8),
        "traits": json_values,
        "properties": json_values,
        "timestamp": json_values,
    },
)


@given(st.lists(events, max_size=4), st.booleans())
def test_plan_never_raises_anything_but_sandbox_errors_on_any_event(evs: list, batch: bool) -> None:
    lines = list(plan(evs, US, batch=batch, now=NOW))
    for line in lines:
        json.dumps(line.to_dict())


@given(
    json_values,
    st.text(max_size=30),
    st.sampled_from(["trackEvent", "createUpdatePerson", "nope", 3]),
    json_values,
)
def test_malformed_subscriptions_raise_only_sandbox_errors(
    mapping: object, fql: str, action: object, event: object
) -> None:
    sub = {"name": "S", "subscribe": fql, "partnerAction": action, "mapping": mapping}
    try:
        list(plan([event], US, [sub]))
    except SandboxError:
        pass


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.just("track"),
                "event": st.text(min_size=1, max_size=6),
                "userId": st.text(min_size=1, max_size=6),
            },
            optional={"properties": st.dictionaries(st.text(max_size=4), json_scalars, max_size=3)},
        ),
        min_size=1,
        max_size=5,
    )
)
def test_single_and_batch_modes_agree_on_valid_payloads(evs: list) -> None:
    """Every valid event gives the same item in batch mode as its single-mode body."""
    sub = [Subscription("T", None, "trackEvent", {}, useDefaultMappings=True)]
    single = [line.request.body for line in plan(evs, US, sub) if line.request is not None]
    batched = [
        item
        for line in plan(evs, US, sub, batch=True)
        if line.request is not None
        for item in line.request.body["batch"]
    ]
    assert single == batched


# -- dispatch by type/event: a pure optimisation --------------------------------------------------

_TYPES = ["identify", "track", "page", "x"]
_NAMES = ["A", "B", "Application Opened", ""]
fql_leaves = st.one_of(
    st.builds(lambda v: f'type = "{v}"', st.sampled_from(_TYPES)),
    st.builds(lambda v: f'event = "{v}"', st.sampled_from(_NAMES)),
    st.builds(lambda v: f'type != "{v}"', st.sampled_from(_TYPES)),
    st.builds(lambda v: f'event != "{v}"', st.sampled_from(_NAMES)),
    st.sampled_from(
        [
            "type = 7",
            "event = null",
            "userId exists",
            'userId = "u1"',
            'properties.type = "track"',
            'traits.event = "A"',
            'event contains "A"',
            'type starts_with "tr"',
        ]
    ),
)
fql_groups = st.builds(
    lambda leaves, ops: (
        leaves[0] + "".join(f" {op} {leaf}" for op, leaf in zip(ops, leaves[1:], strict=False))
    ),
    st.lists(fql_leaves, min_size=1, max_size=4),
    st.lists(st.sampled_from(["and", "or"]), min_size=3, max_size=3),
)
fql_texts = st.one_of(
    fql_groups,
    st.builds(lambda a, op, b: f"({a}) {op} ({b})", fql_groups, st.sampled_from(["and", "or"]), fql_groups),
)
dispatch_events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(_TYPES) | json_values,
        "event": st.sampled_from(_NAMES) | json_values,
        "userId": st.sampled_from(["u1", None]),
        "properties": st.fixed_dictionaries({}, optional={"type": st.sampled_from(_TYPES)}),
    },
)


@given(st.lists(fql_texts, min_size=1, max_size=5), st.lists(dispatch_events, min_size=1, max_size=5))
def test_dispatch_never_skips_a_matching_subscription(texts: list[str], evs: list[dict]) -> None:
    """candidates(event) holds every subscription that matches the event, in subscription order."""
    from sandbox.pipeline import compile_subscriptions
    from sandbox.subscriptions import matches

    subs = []
    for index, text in enumerate(texts):
        try:
            compile_subscriptions(
                [{"name": "t", "subscribe": text, "partnerAction": "trackEvent", "mapping": {}}]
            )
        except ConfigError:
            continue
        subs.append({"name": f"S{index}", "subscribe": text, "partnerAction": "trackEvent", "mapping": {}})
    compiled = compile_subscriptions(subs)
    for event in evs:
        candidates = compiled.candidates(event)
        matching = [sub for sub in compiled if matches(sub.condition, event)]
        assert [sub for sub in candidates if sub in matching] == matching
        positions = [compiled.index(sub) for sub in candidates]
        assert positions == sorted(positions)
    # batch mode's one pass: per subscription, the events it matches (a subscription given twice too)
    twice = compile_subscriptions([*compiled, compiled[0]])
    assert twice.matching(evs) == [[i for i, e in enumerate(evs) if sub.matches(e)] for sub in twice]


def test_dispatch_reads_the_presets_conditions() -> None:
    from sandbox.pipeline import compile_subscriptions

    compiled = compile_subscriptions(None)
    names = lambda event: [sub.subscription.name for sub in compiled.candidates(event)]  # noqa: E731
    assert names({"type": "identify"}) == ["Create or Update Person"]
    assert names({"type": "track", "event": "Order Completed"}) == ["Track Event"]
    assert names({"type": "track", "event": "Application Opened"}) == [
        "Create or Update Device",
        "Track Event",
    ]
    # `event = ...` presets do not look at the type: any type with that name is a candidate.
    assert names({"type": "page", "event": "User Deleted"}) == ["Delete Person", "Track Page View"]
    assert names({"type": ["track"], "event": {"x": 1}}) == []


@given(events | well_formed_events)
def test_transform_is_every_matching_subscription_in_order(event: dict) -> None:
    """With dispatch, transform still gives what trying every preset in order gives."""
    from sandbox.mapping import resolve
    from sandbox.pipeline import compile_subscriptions
    from sandbox.subscriptions import matches

    expected = []
    for sub in compile_subscriptions(None):
        if sub.condition is not None and not matches(sub.condition, event):
            continue
        try:
            request = sub.action.perform(sub.action.validate(resolve(sub.mapping, event)), US, now=NOW)
        except SandboxError as exc:
            expected.append((sub.subscription.name, None, str(exc)))
        else:
            expected.append((sub.subscription.name, request.to_dict(), None))
    got = [
        (r.subscription.name, r.request.to_dict() if r.request else None, str(r.error) if r.error else None)
        for r in transform(event, US, now=NOW)
    ]
    assert got == expected


def test_one_subscription_validator_for_config_and_api() -> None:
    """A mapping key that is not a field is refused the same way by a config file and by the API."""
    from sandbox.replay.config import parse_config

    text = (
        '[[subscriptions]]\nname = "T"\nsubscribe = \'type = "track"\'\npartnerAction = "trackEvent"\n'
        '[subscriptions.mapping]\nnmae = { "@path" = "$.event" }\n'
    )
    with pytest.raises(ConfigError) as from_file:
        parse_config(text, "c.toml")
    with pytest.raises(ConfigError) as from_api:
        transform(track("x"), US, [{"name": "T", "partnerAction": "trackEvent", "mapping": {"nmae": 1}}])
    assert from_file.value.path == from_api.value.path == "mapping/nmae"
    assert from_file.value.message == from_api.value.message
