"""Laws of segment evaluation (mock_cio/segments/), against a simple model and against itself:
all/any/not, `not_eq` = not `eq` on present attributes, timestamp rules never match values that
are not numbers, and membership after any sequence of changes and clock moves equals a fresh
evaluation."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_cio.mock import MockCio
from mock_cio.segments import Automation, Segment, check_conditions
from mock_cio.segments.evaluate import Context, matches
from mock_cio.state.people import Person

NOW = 1_700_000_000.0
DAY = 86400
FIELDS = ("plan", "age", "created_at")
values = st.sampled_from(
    ["pro", "free", "5", "2024-03-05T12:34:56Z", "", "1699999999", -5, 0, 3, 5, 8, 5.0, True]
    + [NOW - 3 * DAY, NOW - 10 * DAY, NOW + DAY, NOW, NOW - DAY - 1, 1_700_000_000_000]
)


def attribute_rules() -> st.SearchStrategy[dict[str, Any]]:
    field = st.sampled_from(FIELDS)
    valued = st.builds(
        lambda f, o, v: {"attribute": {"field": f, "operator": o, "value": v}},
        field, st.sampled_from(["eq", "not_eq", "contains", "not_contains"]),
        st.sampled_from(["pro", "5", "free", 5, "2024"]),
    )  # fmt: skip
    bare = st.builds(
        lambda f, o: {"attribute": {"field": f, "operator": o}},
        field, st.sampled_from(["exists", "not_exists", "is_timestamp"]),
    )  # fmt: skip
    numeric = st.builds(
        lambda f, o, v: {"attribute": {"field": f, "operator": o, "value": v}},
        field, st.sampled_from(["gt", "lt"]), st.integers(-3, 8),
    )  # fmt: skip
    timed = st.builds(
        lambda f, o, v: {"attribute": {"field": f, "operator": o, "value": v}},
        field, st.sampled_from(["timestamp_before", "timestamp_after"]),
        st.sampled_from([NOW, {"days_ago": 5}, {"days_from_now": 2}]),
    ) | st.builds(
        lambda f, d: {"attribute": {"field": f, "operator": "within_past_days", "value": d}}, field, st.sampled_from([1, 7, 30])
    )  # fmt: skip
    return valued | bare | numeric | timed


conditions = st.recursive(
    attribute_rules(),
    lambda inner: (
        st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda x: {"not": x}, inner)
    ),
    max_leaves=6,
)
people = st.dictionaries(st.sampled_from(FIELDS), values, min_size=1, max_size=3)


# ---------------------------------------------------------------------- the model


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _seconds(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float) and 0 <= v < 10**10:
        return float(v)
    if isinstance(v, str) and v.isdigit() and len(v) <= 10:
        return float(v)
    return None


def model(cond: dict[str, Any], attrs: dict[str, Any], now: float) -> bool:
    ((kind, body),) = cond.items()
    if kind == "and":
        return all(model(c, attrs, now) for c in body)
    if kind == "or":
        return any(model(c, attrs, now) for c in body)
    if kind == "not":
        return not model(body, attrs, now)
    op, v = body["operator"], body.get("value")
    has = body["field"] in attrs
    a = attrs.get(body["field"])
    table = {
        "exists": lambda: has,
        "not_exists": lambda: not has,
        "eq": lambda: has and _text(a) == _text(v),
        "not_eq": lambda: not (has and _text(a) == _text(v)),
        "contains": lambda: has and isinstance(a, str) and _text(v) in a,
        "not_contains": lambda: not (has and isinstance(a, str) and _text(v) in a),
    }
    if op in table:
        return table[op]()
    if not has:
        return False
    if op in ("gt", "lt"):
        try:
            n = float(a) if not isinstance(a, bool) else None
        except ValueError:
            n = None
        return n is not None and (n > v if op == "gt" else n < v)
    s = _seconds(a)
    if s is None:
        return False
    if op == "is_timestamp":
        return True
    if op == "within_past_days":
        return now - v * DAY <= s <= now
    ref = (
        v
        if not isinstance(v, dict)
        else now + (-v["days_ago"] if "days_ago" in v else v["days_from_now"]) * DAY
    )
    return s < ref if op == "timestamp_before" else s > ref


def evaluate(cond: dict[str, Any], attrs: dict[str, Any], warned: list[Any] | None = None) -> bool:
    person = Person("a3000001", attributes=dict(attrs))
    ctx = Context(
        NOW, lambda _: False, lambda f, v, o: (warned if warned is not None else []).append((f, v, o))
    )
    return matches(check_conditions(cond), person, ctx)


# ---------------------------------------------------------------------- laws


@given(conditions, people)
def test_evaluation_equals_the_model(cond: dict[str, Any], attrs: dict[str, Any]) -> None:
    assert evaluate(cond, attrs) == model(cond, attrs, NOW)


@given(st.lists(conditions, min_size=1, max_size=3), people)
def test_and_or_not_laws(conds: list[dict[str, Any]], attrs: dict[str, Any]) -> None:
    each = [evaluate(c, attrs) for c in conds]
    assert evaluate({"and": conds}, attrs) == all(each)
    assert evaluate({"or": conds}, attrs) == any(each)
    assert evaluate({"not": {"and": conds}}, attrs) == evaluate({"or": [{"not": c} for c in conds]}, attrs)
    assert evaluate({"not": {"not": conds[0]}}, attrs) == each[0]


@given(st.sampled_from(FIELDS), values, st.sampled_from(["pro", "5", 5, True, "free"]), people)
def test_not_eq_is_not_eq_on_present_attributes(
    field: str, value: Any, expected: Any, attrs: dict[str, Any]
) -> None:
    attrs = {**attrs, field: value}
    eq = {"attribute": {"field": field, "operator": "eq", "value": expected}}
    not_eq = {"attribute": {"field": field, "operator": "not_eq", "value": expected}}
    assert evaluate(not_eq, attrs) == (not evaluate(eq, attrs))


non_numbers = (
    st.text(max_size=12).filter(lambda s: not s.replace(".", "", 1).isdigit())
    | st.booleans()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


@given(
    non_numbers,
    attribute_rules().filter(
        lambda c: (
            c["attribute"]["operator"]
            in {"is_timestamp", "timestamp_before", "timestamp_after", "within_past_days"}
        )
    ),
)
def test_timestamp_rules_never_match_values_that_are_not_numbers(value: Any, rule: dict[str, Any]) -> None:
    warned: list[Any] = []
    assert evaluate(rule, {rule["attribute"]["field"]: value}, warned) is False
    assert warned and warned[0][1] == value  # and it says so


# ---------------------------------------------------------------------- incremental = fresh

AUTH = {"Authorization": "Basic " + base64.b64encode(b"s:k").decode(), "Content-Type": "application/json"}
SEGMENTS = [
    {"id": 1, "name": "stamped", "conditions": {"attribute": {"field": "created_at", "operator": "within_past_days", "value": 3}}},
    {"id": 2, "name": "buyers", "conditions": {"event": {"name": "buy", "min_count": 2, "within_days": 2}}},
    {"id": 3, "name": "pro or not 2", "conditions": {"or": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}, {"not": {"segment": {"id": 2}}}]}},
    {"id": 4, "name": "manual 7 and 1", "conditions": {"and": [{"segment": {"id": 7}}, {"segment": {"id": 1}}]}},
    # segments an added event cannot change one way (the engine does not evaluate them again: monotone.py)
    {"id": 5, "name": "2 buys ever", "conditions": {"event": {"name": "buy", "min_count": 2}}},
    {"id": 6, "name": "at most 1 buy", "conditions": {"event": {"name": "buy", "max_count": 1}}},
    {"id": 8, "name": "pro, no big buy", "conditions": {"and": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}, {"not": {"event": {"name": "buy", "data": [{"field": "total", "operator": "gt", "value": 2}]}}}]}},
    {"id": 9, "name": "2-3 others or 3 buys", "conditions": {"or": [{"event": {"name": "other", "min_count": 2, "max_count": 3}}, {"not": {"event": {"name": "buy", "max_count": 2}}}]}},
    {"id": 10, "name": "a buy, at most 1 other", "conditions": {"and": [{"event": {"name": "buy"}}, {"event": {"name": "other", "max_count": 1}}]}},
]  # fmt: skip
operations = st.one_of(
    st.tuples(st.just("identify"), st.integers(1, 3), st.sampled_from(["created_at", "plan"]), values),
    st.tuples(st.just("event"), st.integers(1, 3), st.sampled_from(["buy", "other"]), st.integers(0, 4)),
    st.tuples(st.just("clock"), st.sampled_from([3600, DAY, 2 * DAY])),
    st.tuples(st.just("back"), st.sampled_from([3600, DAY])),
    st.tuples(st.just("delete"), st.integers(1, 3)),
    st.tuples(st.just("manual"), st.integers(1, 3)),
    st.tuples(st.just("anonymous"), st.integers(1, 2), st.sampled_from(["buy", "other"]), st.integers(0, 4)),
    st.tuples(st.just("claim"), st.integers(1, 3), st.integers(1, 2)),
)


@settings(max_examples=120)
@example(  # each of segments 5-10 crossed by an added event (the engine's monotone fast path)
    [("identify", 1, "plan", "pro"), ("event", 1, "buy", 0), ("event", 1, "buy", 3), ("event", 1, "buy", 1)]
    + [("event", 1, "other", 0), ("event", 1, "other", 0)]
)
@given(st.lists(operations, max_size=14))
def test_membership_after_any_changes_and_clock_moves_equals_a_fresh_evaluation(ops: list[Any]) -> None:
    mock = MockCio({"CIO_NOW": NOW, "CIO_SEGMENTS": SEGMENTS})

    def send(method: str, path: str, body: Any) -> None:
        mock.serve(method, "track.customer.io", path, "", AUTH, json.dumps(body).encode())

    for op in ops:
        if op[0] == "identify":
            send("PUT", f"/api/v1/customers/u{op[1]}", {op[2]: op[3]})
        elif op[0] == "event":
            send(
                "POST",
                f"/api/v1/customers/u{op[1]}/events",
                {"name": op[2], "timestamp": int(mock.clock.now()) - op[3] * 3600, "data": {"total": op[3]}},
            )
        elif op[0] == "clock":
            mock.clock.advance(op[1])
        elif op[0] == "back":  # the clock set back: boundaries computed for later times
            mock.clock.set(mock.clock.now() - op[1])
        elif op[0] == "delete":
            send("DELETE", f"/api/v1/customers/u{op[1]}", None)
        elif op[0] == "anonymous":  # stored anonymous, or straight to the person who claimed it
            stamp = int(mock.clock.now()) - op[3] * 3600
            send(
                "POST", "/api/v1/events", {"name": op[2], "anonymous_id": f"anon{op[1]}", "timestamp": stamp}
            )
        elif op[0] == "claim":  # an identify that claims the anonymous id (and merges its events)
            send("PUT", f"/api/v1/customers/u{op[1]}", {"anonymous_id": f"anon{op[2]}"})
        else:
            send("POST", "/api/v1/segments/7/add_customers", {"ids": [f"u{op[1]}"]})
    fresh = Automation([Segment(s["id"], s["name"], s["conditions"]) for s in SEGMENTS])
    now = mock.clock.now()
    for ws in mock.state.workspaces.values():
        store = mock.engine.store(ws)
        for person in ws.people:
            kept = {s for s, members in store.members.items() if person.cio_id in members}
            warned: list[dict[str, Any]] = []
            assert kept == fresh.evaluate(person, now, warned), person
            seen = [(w["segment"], w["attribute"], w["value"]) for w in store.warnings.get(person.cio_id, [])]
            assert sorted(seen, key=repr) == sorted(
                [(w["segment"], w["attribute"], w["value"]) for w in warned], key=repr
            )  # the timestamp warnings too
        alive = {p.cio_id for p in ws.people}
        assert all(set(members) <= alive for members in store.members.values())


def test_timestamp_boundaries() -> None:
    def rule(op: str, value: Any = None) -> dict[str, Any]:
        body: dict[str, Any] = {"field": "t", "operator": op}
        if value is not None:
            body["value"] = value
        return {"attribute": body}

    assert evaluate(rule("timestamp_before", NOW), {"t": NOW}) is False
    assert evaluate(rule("timestamp_after", NOW), {"t": NOW}) is False
    assert evaluate(rule("timestamp_after", {"days_ago": 1}), {"t": NOW - DAY + 1}) is True
    assert evaluate(rule("timestamp_before", {"days_from_now": 1}), {"t": NOW + DAY - 1}) is True
    assert evaluate(rule("within_past_days", 1), {"t": NOW - DAY}) is True
    assert evaluate(rule("within_past_days", 1), {"t": NOW + 1}) is False  # the future is not the past
    assert evaluate(rule("is_timestamp"), {"t": "1700000000"}) is True  # digits: Unix seconds as text
    assert evaluate(rule("is_timestamp"), {"t": "1700000000000"}) is False  # milliseconds as text
    assert evaluate(rule("is_timestamp"), {"t": 9_999_999_999}) is True
    assert evaluate(rule("is_timestamp"), {"t": 10_000_000_000}) is False


# ---------------------------------------------------------------------- the fast path = the reference

event_rules = st.builds(
    lambda name, low, high, days, data: {
        "event": {
            "name": name,
            **({"min_count": low} if low is not None else {}),
            **({"max_count": high} if high is not None else {}),
            **({"within_days": days} if days is not None else {}),
            **({"data": data} if data else {}),
        }
    },
    st.sampled_from(["buy", "view"]),
    st.none() | st.integers(0, 2),
    st.none() | st.integers(2, 3),
    st.none() | st.sampled_from([1, 3]),
    st.lists(
        st.sampled_from(
            [
                {"field": "total", "operator": "gt", "value": 10},
                {"field": "at", "operator": "is_timestamp"},  # warns on the events whose `at` is ISO
            ]
        ),
        max_size=2,
    ),
) | st.builds(lambda url: {"page": {"url": url, "within_days": 2}}, st.sampled_from(["/", "/x"]))
mixed = st.recursive(
    attribute_rules() | event_rules | st.just({"segment": {"id": 7}}) | st.just({"device": {}}),
    lambda inner: (
        st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda x: {"not": x}, inner)
    ),
    max_leaves=6,
)
activity = st.lists(
    st.tuples(st.sampled_from(["event", "page"]), st.sampled_from(["buy", "view", "/", "/x"]),
              st.integers(0, 4), st.integers(0, 30)),
    max_size=6,
)  # fmt: skip


def stamp(total: int) -> Any:
    """An event's `at`: ISO text (a timestamp rule warns) or Unix seconds."""
    return "2024-03-05T12:34:56Z" if total % 3 == 0 else int(NOW) - total


@example(  # exactly max_count events: the count stops only above it
    {"event": {"name": "buy", "max_count": 2, "within_days": 1}}, {"plan": "pro"},
    [("event", "buy", 0, 5), ("event", "buy", 0, 6)], False,
)  # fmt: skip
@example(  # a data rule that warns: every event is looked at, in order (no early answer)
    {"event": {"name": "buy", "data": [{"field": "at", "operator": "is_timestamp"}]}},
    {"plan": "pro"},
    [("event", "buy", 0, 0), ("event", "buy", 0, 1)],
    False,
)
@given(mixed, people, activity, st.booleans())
def test_compiled_conditions_equal_the_reference_evaluation(
    cond: dict[str, Any], attrs: dict[str, Any], acts: list[Any], manual: bool
) -> None:
    from mock_cio.segments.compiled import Env, compile_conditions
    from mock_cio.state.people import PersonEvent

    events = [
        PersonEvent(
            None, name, kind, int(NOW - days * DAY), NOW, {"total": total, "at": stamp(total)}, False, True
        )
        for kind, name, days, total in acts
    ]
    person = Person("a3000001", attributes=dict(attrs), events=events, segments={7} if manual else set())
    seen: list[Any] = []
    ctx = Context(NOW, lambda s: s in person.segments, lambda f, v, o: seen.append((f, v, o)))
    reference = matches(check_conditions(cond), person, ctx)
    env = Env(NOW, person, warnings=[])  # no data-driven segments: a reference is a manual one
    assert compile_conditions(cond)(env) == reference
    assert [w[1:] for w in env.warnings or ()] == seen  # the same warnings, in the same order


@given(mixed, activity, activity, st.sampled_from([0, 3600, DAY, 5 * DAY]))
def test_the_kept_event_index_equals_a_fresh_grouping(
    cond: dict[str, Any], first: list[Any], later: list[Any], move: int
) -> None:
    """The engine's per-person index, brought up to date after appends, groups as a fresh one
    does (each group's timestamps sorted), and time boundaries read through it equal those read from the whole history."""
    from mock_cio.segments.boundaries import next_change
    from mock_cio.segments.compiled import EventIndex
    from mock_cio.state.people import PersonEvent

    def made(acts: list[Any]) -> list[PersonEvent]:
        return [
            PersonEvent(None, name, kind, int(NOW - days * DAY), NOW, {"total": total}, False, True)
            for kind, name, days, total in acts
        ]

    person = Person("a3000001", attributes={"created_at": NOW - 2 * DAY}, events=made(first))
    index = EventIndex(person.events).current(person.events)
    person.events.extend(made(later))
    index = index.current(person.events)
    fresh: dict[tuple[str, str], list[PersonEvent]] = {}
    for event in person.events:
        fresh.setdefault((event.type, event.name), []).append(event)
    assert index.groups == fresh
    sorted_stamps = {key: sorted(e.timestamp for e in group) for key, group in fresh.items()}
    assert index.stamps == sorted_stamps  # each group's timestamps, kept sorted as events arrive
    again = index.current(list(person.events))  # another list: indexed afresh
    assert again.groups == fresh and again.stamps == sorted_stamps
    cond = check_conditions(cond)
    assert next_change(cond, person, NOW + move, index) == next_change(cond, person, NOW + move)


# ---------------------------------------------------------------------- time boundaries

timed_rules = st.builds(
    lambda name, low, high, days, data: {
        "event": {
            "name": name,
            **({"min_count": low} if low is not None else {}),
            **({"max_count": high} if high is not None else {}),
            "within_days": days,
            **({"data": data} if data else {}),
        }
    },
    st.sampled_from(["buy", "view"]),
    st.none() | st.integers(0, 3),
    st.none() | st.integers(3, 5),
    st.sampled_from([1, 2, 3]),
    st.lists(
        st.sampled_from(
            [
                {"field": "total", "operator": "gt", "value": 10},
                {"field": "at", "operator": "within_past_days", "value": 1},
            ]
        ),
        max_size=1,
    ),
) | st.builds(
    lambda f, o, v: {"attribute": {"field": f, "operator": o, "value": v}},
    st.sampled_from(FIELDS),
    st.sampled_from(["timestamp_before", "timestamp_after", "within_past_days"]),
    st.sampled_from([{"days_ago": 1}, {"days_from_now": 2}]),
).map(
    lambda r: (
        r
        if r["attribute"]["operator"] != "within_past_days"
        else {"attribute": {**r["attribute"], "value": 2}}
    )
)
stamped_activity = st.lists(
    st.tuples(st.sampled_from(["buy", "buy", "buy", "view"]), st.integers(-24, 80), st.integers(0, 30)),
    max_size=8,
)


@example(
    {"event": {"name": "buy", "min_count": 2, "within_days": 1}}, {}, [("buy", h, 0) for h in (1, 5, 9)], 0
)
@example(
    {"event": {"name": "buy", "max_count": 1, "within_days": 1}}, {}, [("buy", h, 0) for h in (1, 5, 9)], 0
)
@given(timed_rules, people, stamped_activity, st.sampled_from([0, 0.5, 3600, DAY, 1.5 * DAY]))
def test_a_time_dependent_rule_keeps_its_value_until_its_next_boundary(
    rule: dict[str, Any], attrs: dict[str, Any], acts: list[Any], move: float
) -> None:
    """boundaries.py's `TimeLeaf.next_change`: at every time from `now` up to (not including) the
    boundary it returns, the rule has its value at `now` (None: at every later time); a count
    rule's boundary found without trying candidates is the first time the value changes, as
    trying every candidate in turn finds."""
    from mock_cio.segments.boundaries import TimeLeaf, _walk
    from mock_cio.segments.compiled import Env
    from mock_cio.state.people import PersonEvent

    events = [
        PersonEvent(None, name, "event", NOW - hours * 3600, NOW, {"total": total, "at": NOW - hours * 3600},
                    False, True)
        for name, hours, total in acts
    ]  # fmt: skip
    person = Person("a3000001", attributes=dict(attrs), events=events)
    now = NOW + move
    leaf = TimeLeaf(check_conditions(rule))
    env = Env(now, person)
    boundary = leaf.next_change(env)
    assert env.now == now
    times: list[float] = []
    _walk(leaf.node, person, times, env.events)
    later = sorted({t for t in times if t > now})
    probes = later + [(a + b) / 2 for a, b in zip([now, *later], later, strict=False)] + [now + 400 * DAY]

    def value(at: float) -> bool:
        return matches(rule, person, Context(at, lambda _: False, lambda *_: None))

    for at in probes:
        if boundary is None or at < boundary:
            assert value(at) == value(now), (at, boundary)
    if leaf._counted is not None:
        assert boundary == leaf._tried(Env(now, person), tries=len(later) + 1)
