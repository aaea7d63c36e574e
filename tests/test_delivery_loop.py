"""The attempt loop against the in-process mock: outages survived or not, each status class end to
end, the 5-minute merge window missed by a retried event, the 207 batch, and the laws (exactly
one of delivered or dropped, at least one attempt, nothing applied twice, same seed same report)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_cio.clock import iso
from sandbox.delivery.loop import DeliveryLoop
from sandbox.replay.config import default_config, parse_config
from sandbox.replay.engine import Answer, InProcessTarget
from sandbox.replay.summary import Summary

T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def at(seconds: float) -> str:
    return iso(T0 + seconds)


def identify(n: int, when: float, **extra: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": f"u{n}", "messageId": f"i{n}-{when}", "traits": {"email": f"u{n}@x.io"},
            "timestamp": at(when), "receivedAt": at(when), **extra}  # fmt: skip


def track(n: int, when: float, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{n}", "event": "Paid", "messageId": f"t{n}-{when}",
            "timestamp": at(when), "receivedAt": at(when), **extra}  # fmt: skip


def replay(events: list[dict[str, Any]], faults: dict[str, Any] | None = None, *, seed: int = 0,
           batch: bool = False, config: Any = None, target: Any = None) -> tuple[DeliveryLoop, Summary, list[Any]]:  # fmt: skip
    target = target or InProcessTarget(config={"CIO_FAULTS": faults} if faults else None)
    loop = DeliveryLoop(config or default_config(), target, seed=seed)
    summary = Summary()
    records = []
    for record in loop.run(events, batch=batch):
        summary.add(record)
        records.append(record)
    return loop, summary, records


# -- outages ---------------------------------------------------------------------------------------


def test_a_30_minute_503_outage_is_survived_with_every_event_delivered_late() -> None:
    events = [track(n, 600 + 60 * n) for n in range(30)]  # one a minute, all inside the outage
    loop, summary, _ = replay(events, {"outages": [{"status": 503, "start": at(600), "end": at(600 + 1800)}]})
    report = loop.report.to_dict()
    assert report["delivered"] == 30 and report["dropped"] == 0
    assert report["retried"] == 30
    assert report["delivered_late"]["count"] == 30
    assert 0 < report["delivered_late"]["max_delay_seconds"] <= 1800 + 900
    assert report["attempts"] > 30 and summary.outcomes["rejected"] == report["attempts"] - 30
    mock = loop.target.mock  # type: ignore[attr-defined]
    assert sum(len(mock.person(f"u{n}")["events"]) for n in range(30)) == 30
    # every delivered attempt arrived after the outage, in mock time
    assert all(e["received_at"] >= T0 + 2400 for e in mock.requests(status=200))


def test_a_5_hour_outage_drops_the_events_with_retry_window_exhausted() -> None:
    events = [track(n, 600 + 60 * n) for n in range(5)]
    loop, _, records = replay(events, {"outages": [{"status": 503, "start": at(0), "end": at(5 * 3600)}]})
    report = loop.report.to_dict()
    assert report["dropped"] == 5 and report["delivered"] == 0
    assert report["dropped_by_reason"] == {"retry window exhausted": 5}
    for record in records:
        attempts = [d.attempt for d in record.deliveries]
        assert attempts[-1].decision == "drop"
        assert attempts[-1].sent_at - attempts[0].sent_at <= 4 * 3600
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    assert loop.target.mock.people() == []  # type: ignore[attr-defined]


# -- each status class, end to end -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "delivered", "reason"),
    [
        (400, False, "not retryable 400"),
        (401, False, "not retryable 401"),
        (404, False, "not retryable 404"),
        (408, True, None),
        (413, False, "not retryable 413"),
        (423, True, None),
        (429, True, None),
        (500, True, None),
        (501, False, "not retryable 501"),
        (503, True, None),
    ],
)
def test_each_status_class_is_retried_or_dropped(status: int, delivered: bool, reason: str | None) -> None:
    target = InProcessTarget()
    target.mock.inject_fault(status=status, count=1)
    loop, _, records = replay([track(1, 0)], target=target)
    report = loop.report.to_dict()
    assert report["delivered"] == int(delivered) and report["dropped"] == int(not delivered)
    attempts = [d.attempt for d in records[0].deliveries]
    assert len(attempts) == (2 if delivered else 1)
    if reason is not None:
        assert report["dropped_by_reason"] == {reason: 1}
    else:
        assert attempts[1].sent_at > attempts[0].sent_at  # the retry came later, in mock time
        assert target.mock.requests()[0]["received_at"] == attempts[1].sent_at


class SlowFirst:
    """The in-process mock, but its first answer takes 15 s (over Segment's 10-second timeout)."""

    def __init__(self) -> None:
        self.inner = InProcessTarget()
        self.mock = self.inner.mock
        self.name = "slow"
        self.sent = 0

    def send(self, request: Any) -> Answer:
        answer = self.inner.send(request)
        self.sent += 1
        if self.sent == 1:
            return Answer(
                answer.status, answer.body, {**answer.headers, "x-mock-latency": "15"}, answer.journal
            )
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_timeout_is_retried_and_customer_io_dedupes_the_event_by_id() -> None:
    target = SlowFirst()
    loop, _, records = replay([track(1, 0)], target=target)
    attempts = [d.attempt for d in records[0].deliveries]
    assert [(a.status, a.decision) for a in attempts] == [(408, "retry"), (200, "deliver")]
    assert attempts[1].sent_at >= attempts[0].sent_at + 10  # Segment waited the full 10 s first
    events = target.mock.person("u1")["events"]
    assert len(events) == 1  # applied by the timed-out attempt, deduped on the retry


def test_a_profile_timeout_is_applied_and_answered_late() -> None:
    target = InProcessTarget(config={"CIO_FAULTS": {"timeout_rate": 1.0, "timeout_latency": 30}})
    loop, _, _ = replay([track(1, 0)], target=target)
    report = loop.report.to_dict()
    assert report["dropped_by_reason"] == {"retry window exhausted": 1}
    assert len(target.mock.person("u1")["events"]) == 1  # every attempt reached the state; one event


# -- virtual time and the merge window -------------------------------------------------------------


def _merge_story(faults: dict[str, Any] | None) -> tuple[DeliveryLoop, dict[str, Any]]:
    events = [
        identify(1, 0, anonymousId="anon-1"),
        {
            "type": "track",
            "anonymousId": "anon-1",
            "event": "Viewed Pricing",
            "messageId": "p1",
            "timestamp": at(60),
            "receivedAt": at(60),
        },  # fmt: skip
    ]
    loop, _, _ = replay(events, faults)
    return loop, loop.target.mock.person("u1")  # type: ignore[attr-defined]


def test_a_retried_event_that_arrives_6_minutes_after_the_identify_misses_the_merge_window() -> None:
    on_time, person = _merge_story(None)
    assert [e["name"] for e in person["events"]] == ["Viewed Pricing"]
    assert on_time.report.missed_merge == 0
    # Customer.io is down from 00:01 to 00:06: the page view's retries land after 00:05
    late, person = _merge_story({"outages": [{"status": 503, "start": at(30), "end": at(360)}]})
    assert person["events"] == []
    pending = late.target.mock.anonymous_events()  # type: ignore[attr-defined]
    assert [e["anonymous_id"] for e in pending] == ["anon-1"]
    assert pending[0]["received_at"] > T0 + 300  # it reached the mock more than 5 minutes after the claim
    assert late.report.to_dict()["missed_windows"]["anonymous_merge"] == 1


def test_the_mock_clock_moves_to_each_attempt_and_never_back() -> None:
    events = [track(n, 60 * n) for n in range(10)]
    loop, _, _ = replay(events, {"error_rate": 0.5, "seed": 4}, seed=9)
    times = [e["received_at"] for e in loop.target.mock.requests(limit=1000)]  # type: ignore[attr-defined]
    assert sorted(times, reverse=True) == times  # the journal lists newest first
    assert len(times) == loop.report.attempts


# -- batches ---------------------------------------------------------------------------------------

BATCHING = parse_config(
    """
[[subscriptions]]
name = "Track Event"
subscribe = 'type = "track"'
partnerAction = "trackEvent"
useDefaultMappings = true
enable_batching = true
batch_size = 10
"""
)


def test_a_207_batch_is_reported_delivered_for_all_while_the_mock_lacks_the_bad_item() -> None:
    events = [track(1, 0), track(2, 1, event=""), track(3, 2)]  # batch mode keeps the empty name
    loop, summary, _ = replay(events, batch=True, config=BATCHING)
    report = loop.report.to_dict()
    assert summary.outcomes["partial"] == 1
    assert report["delivered"] == 3 and report["dropped"] == 0
    assert report["reported_delivered_but_rejected"] == 1
    mock = loop.target.mock  # type: ignore[attr-defined]
    assert mock.person("u2") is None or mock.person("u2")["events"] == []
    assert len(mock.person("u1")["events"]) == 1 and len(mock.person("u3")["events"]) == 1
    assert (
        "1 batch item(s) Segment reports delivered, though Customer.io rejected them" in loop.report.render()
    )


def test_a_failed_batch_is_retried_and_delivered() -> None:
    events = [track(n, n) for n in range(25)]
    loop, _, records = replay(events, {"outages": [{"status": 500, "start": at(0), "end": at(60)}]},
                              batch=True, config=BATCHING)  # fmt: skip
    report = loop.report.to_dict()
    assert report["delivered"] == 25 and report["retried"] == 25
    mock = loop.target.mock  # type: ignore[attr-defined]
    assert sum(len(mock.person(f"u{n}")["events"]) for n in range(25)) == 25
    sizes = [len(d.event_indexes) for r in records for d in r.deliveries]
    assert sum(sizes) > 25 and max(sizes) <= 10


# -- the laws --------------------------------------------------------------------------------------

BOTH_BATCHING = parse_config(
    """
[[subscriptions]]
name = "Track Event"
subscribe = 'type = "track"'
partnerAction = "trackEvent"
useDefaultMappings = true
batch_size = 3

[[subscriptions]]
name = "Person"
subscribe = 'type = "identify"'
partnerAction = "createUpdatePerson"
useDefaultMappings = true
batch_size = 2
"""
)

profiles = st.fixed_dictionaries(
    {},
    optional={
        "error_rate": st.floats(0, 1),
        "timeout_rate": st.floats(0, 0.5),
        "rate_limit": st.sampled_from([1, 2, 5]),
        "latency": st.sampled_from(
            [
                0.2,
                {"distribution": "exponential", "mean": 3.0},
                {"distribution": "uniform", "min": 0, "max": 12},
            ]
        ),  # fmt: skip
        "outages": st.lists(
            st.tuples(
                st.sampled_from([429, 500, 503, 400, 501]), st.integers(0, 600), st.integers(1, 6 * 3600)
            ).map(lambda t: {"status": t[0], "start": T0 + t[1], "end": T0 + t[1] + t[2]}),
            max_size=2,
        ),
    },
)
streams = st.lists(
    st.tuples(st.sampled_from(["identify", "track"]), st.integers(0, 4), st.integers(0, 120)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=30)
@given(profile=profiles, seed=st.integers(0, 2**16), stream=streams, batch=st.booleans())
def test_every_event_is_delivered_or_dropped_once_and_nothing_is_applied_twice(
    profile: dict[str, Any], seed: int, stream: list[tuple[str, int, int]], batch: bool
) -> None:
    when = 0.0
    events = []
    for position, (kind, user, gap) in enumerate(stream):
        when += gap
        event = (identify if kind == "identify" else track)(user, when)
        event["messageId"] = f"m{position}"
        events.append(event)
    config = BOTH_BATCHING if batch else default_config()
    profile = {**profile, "seed": seed}

    def once() -> tuple[dict[str, Any], Any, list[Any]]:
        loop, _, records = replay(events, profile, seed=seed, batch=batch, config=config)
        return loop.report.to_dict(), loop, records

    report, loop, records = once()
    assert report["delivered"] + report["dropped"] == report["events"] == len(events)
    assert report["attempts"] >= (1 if batch else report["events"])
    sent = [i for r in records for d in r.deliveries for i in d.event_indexes]
    assert set(sent) == set(range(len(events)))  # every event had at least one attempt
    assert all(d.attempt.number >= 1 for r in records for d in r.deliveries)
    mock = loop.target.mock
    ids = [e["id"] for p in mock.people() for e in p["events"]]
    assert len(ids) == len(set(ids))  # Customer.io's dedupe by event id holds across retries
    assert len(ids) <= sum(1 for e in events if e["type"] == "track")
    again, _, _ = once()
    assert again == report


def test_a_429_slows_the_send_rate() -> None:
    """50 events at one instant against a limit of 5/s: after the first 429 Segment paces its
    sends below the limit, so a handful of 429s, not one per event, and every event arrives."""
    events = [track(n, 0) for n in range(50)]
    loop, _, _ = replay(events, {"rate_limit": 5})
    report = loop.report.to_dict()
    assert report["delivered"] == 50 and report["dropped"] == 0
    mock = loop.target.mock  # type: ignore[attr-defined]
    limited = mock.requests(status=429, limit=1000)
    assert 1 <= len(limited) <= 10  # AIMD: a few, as the rate climbs back past the limit; not 45
    assert loop.pacer.rate is not None and loop.pacer.rate < 5 + 50  # lowered, then raised by successes
    ok = sorted(e["received_at"] for e in mock.requests(status=200, limit=1000))
    assert ok[-1] - ok[0] > 5  # spread over time instead of hammering at one instant
