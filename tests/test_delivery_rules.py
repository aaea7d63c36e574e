"""Segment's delivery rules, rule by rule: which statuses are retried, timeouts, the four-hour
window, the backoff, Retry-After, and the send rate that slows on 429."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.delivery import rules
from sandbox.delivery.rules import Decision, Pacer, decide, is_retryable

T0 = 1_704_067_200.0


def once(status: int, *, latency: float = 0.0, attempt: int = 1, sent_at: float = T0, first: float = T0,
         u: float = 0.5, wait: float | None = None) -> Decision:  # fmt: skip
    return decide(status, latency=latency, sent_at=sent_at, first_sent_at=first, attempt=attempt, u=u,
                  wait_at_least=wait)  # fmt: skip


# -- each status class, as actions-core's IntegrationError documents it ----------------------------


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (200, "deliver", ""),
        (204, "deliver", ""),
        (207, "deliver", ""),  # a partly failed batch is still a success for Segment
        (400, "drop", "not retryable 400"),
        (401, "drop", "not retryable 401"),
        (404, "drop", "not retryable 404"),
        (408, "retry", "retryable 408"),
        (413, "drop", "not retryable 413"),
        (423, "retry", "retryable 423"),
        (429, "retry", "retryable 429"),
        (500, "retry", "retryable 500"),
        (501, "drop", "not retryable 501"),
        (502, "retry", "retryable 502"),
        (503, "retry", "retryable 503"),
        (504, "retry", "retryable 504"),
    ],
)
def test_status_classes(status: int, kind: str, reason: str) -> None:
    decision = once(status)
    assert (decision.kind, decision.reason) == (kind, reason)
    assert (decision.retry_at is not None) is (kind == "retry")


def test_a_timeout_is_retried_as_408_even_when_the_answer_was_a_success() -> None:
    """actions-core aborts after 10 s: Segment never sees the (late) 200."""
    assert rules.REQUEST_TIMEOUT == 10.0
    late = once(200, latency=10.0)
    assert (late.kind, late.reason) == ("retry", "timeout")
    assert late.retry_at is not None and late.retry_at >= T0 + 10.0  # it waited the 10 s first
    assert once(200, latency=9.999).kind == "deliver"
    assert rules.seen_status(200, 12.0) == 408 and rules.seen_status(503, 1.0) == 503


@given(st.integers(100, 599))
def test_retryable_is_exactly_408_423_429_and_5xx_but_501(status: int) -> None:
    expected = status in (408, 423, 429) or (500 <= status <= 599 and status != 501)
    assert is_retryable(status) is expected


@given(st.integers(100, 599), st.floats(0, 30), st.integers(1, 40), st.floats(0, 1, exclude_max=True))
def test_a_decision_is_one_of_three_and_a_retry_is_later_and_inside_the_window(
    status: int, latency: float, attempt: int, u: float
) -> None:
    decision = once(status, latency=latency, attempt=attempt, u=u)
    assert decision.kind in ("deliver", "retry", "drop")
    if decision.kind == "retry":
        assert decision.retry_at is not None
        assert T0 < decision.retry_at <= T0 + rules.RETRY_WINDOW


def test_the_retry_window_is_four_hours_from_the_first_attempt() -> None:
    assert rules.RETRY_WINDOW == 4 * 3600
    near_the_end = T0 + rules.RETRY_WINDOW - 1
    assert once(503, sent_at=near_the_end, attempt=20).reason == "retry window exhausted"
    assert once(503, sent_at=T0 + 3600, attempt=3).kind == "retry"
    # a permanent error is dropped as such, whatever the time
    assert once(400, sent_at=near_the_end).reason == "not retryable 400"


@given(st.integers(1, 60), st.floats(0, 1, exclude_max=True))
def test_backoff_is_exponential_capped_and_randomized_within_half(attempt: int, u: float) -> None:
    full = min(rules.BACKOFF_CAP, rules.BACKOFF_BASE * 2 ** (attempt - 1))
    wait = rules.backoff(attempt, u)
    assert full / 2 <= wait <= full
    assert rules.backoff(attempt, 0.0) == full / 2


def test_backoff_grows_until_the_cap() -> None:
    waits = [rules.backoff(n, 0.0) for n in range(1, 12)]
    assert waits == sorted(waits) and waits[0] == rules.BACKOFF_BASE / 2
    assert waits[-1] == rules.BACKOFF_CAP / 2


def test_retry_after_is_the_shortest_wait() -> None:
    assert once(429, wait=600.0, u=0.0).retry_at == T0 + 600.0
    assert once(429, wait=1.0, u=0.0).retry_at == T0 + rules.backoff(1, 0.0)
    assert rules.retry_after("7") == 7.0 and rules.retry_after(" 2.5 ") == 2.5
    assert rules.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert rules.retry_after("-1") is None and rules.retry_after(None) is None


# -- the send rate -------------------------------------------------------------------------------


def test_the_pacer_is_unlimited_until_a_429_then_halves_and_recovers() -> None:
    pacer = Pacer()
    assert [pacer.reserve(T0) for _ in range(10)] == [T0] * 10  # nothing slows it yet
    pacer.answered(429)
    assert pacer.rate == 5.0  # half the ten requests sent in the current second
    pacer.answered(429)
    assert pacer.rate == 2.5
    pacer.answered(200)
    assert pacer.rate == 2.5 + rules.RATE_STEP
    slots = [pacer.reserve(T0) for _ in range(3)]
    assert slots[1] - slots[0] == pytest.approx(1 / 3.5) and slots[2] > slots[1]


def test_the_pacer_never_goes_below_its_minimum() -> None:
    pacer = Pacer()
    for _ in range(20):
        pacer.answered(429)
    assert pacer.rate == rules.MIN_RATE


@given(st.floats(0.5, 5000), st.integers(1, 50))
def test_a_capped_pacer_spaces_requests_by_one_over_the_rate(rate: float, n: int) -> None:
    pacer = Pacer(rate)
    slots = [pacer.reserve(T0) for _ in range(n)]
    assert slots[0] == T0
    assert all(b - a == pytest.approx(1 / rate, abs=1e-5) for a, b in zip(slots, slots[1:], strict=False))


@given(st.integers(200, 299), st.floats(0, 9.99), st.integers(1, 30), st.floats(0, 1, exclude_max=True))
def test_the_loops_fast_path_equals_decide_for_a_success_in_time(
    status: int, latency: float, attempt: int, u: float
) -> None:
    """The attempt loop skips decide() (and its random draw) for a 2xx answered in time."""
    assert rules.seen_status(status, latency) == status
    assert once(status, latency=latency, attempt=attempt, u=u) == rules.DELIVER
