"""Segment's delivery rules for a cloud-mode Actions destination, as pure functions.

What the public sources say, and where:

- Which answers are retried: `@segment/actions-core`'s `IntegrationError` (packages/core/src/
  errors.ts in segmentio/action-destinations): "4xx errors are not automatically retried, except
  for 408, 423, 429; 5xx are automatically retried, except for 501". A destination's answer
  outside 2xx becomes such an error with the answer's status (`APIError`).
- Timeouts: the actions-core request client aborts a request after `DEFAULT_REQUEST_TIMEOUT`,
  10,000 ms (packages/core/src/request-client.ts), and reports it as a `RequestTimeoutError`
  with status 408: retried.
- How long, how often: Segment's documentation, "Destinations overview › Retries between Segment
  and destinations" (segment.com/docs/connections/destinations/): "Segment's internal systems
  retry failed destination API calls for four hours with a randomized exponential backoff after
  each attempt."
- Batches: the same page, "Stream batching": batches "might contain different events between
  retry attempts, as events in previous batches may have succeeded, failed with a permanent
  error, or expired". actions-core's `executeBatch` (packages/core/src/destination-kit/
  action.ts) gives every payload of a batch the batch answer's status (`fillMultiStatusResponse`)
  when the action returns a plain response, as the Customer.io destination's `sendBatch` does:
  a `207` counts as delivered for every event in it; the per-item errors are not read.
- Send rate: Segment documents no fixed rate per destination; its egress "uses an adaptive
  algorithm": "the occurrence of 429 and other retryable errors actually signals our egress to
  slow down … if we achieve more successes, the rate will increase" (segmentio/segment-docs
  pull request 6463, on Klaviyo).

What the sources leave open, and what this model chooses (the README says the same):
- the backoff's numbers: `BACKOFF_BASE` seconds, doubled after each attempt, at most
  `BACKOFF_CAP`, with "equal jitter" (half the delay fixed, half uniform random), drawn from a
  seeded generator so a seed gives the same report;
- a `Retry-After` header (seconds) is honoured as the shortest wait before the next attempt;
- the send rate: additive increase, multiplicative decrease (`Pacer`): a 429 halves it, each
  success adds `RATE_STEP` requests/second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

RETRY_WINDOW = 4 * 3600.0
"""Seconds after an event's first attempt during which Segment keeps retrying it."""
REQUEST_TIMEOUT = 10.0
"""Seconds actions-core's request client waits for an answer."""
TIMEOUT_STATUS = 408
"""The status actions-core gives a timed-out request (`RequestTimeoutError`)."""
RETRYABLE_4XX = frozenset({408, 423, 429})
NOT_RETRYABLE_5XX = frozenset({501})
BACKOFF_BASE = 10.0
BACKOFF_CAP = 900.0
MIN_RATE = 1.0
"""The slowest the adaptive send rate goes (requests/second)."""
RATE_STEP = 1.0
"""Requests/second the adaptive rate gains with each success once it has been lowered."""

Kind = Literal["deliver", "retry", "drop"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What Segment does after one attempt: `deliver`; `retry` at `retry_at` (virtual seconds);
    or `drop`, with `reason` (`not retryable 400`, `retry window exhausted`)."""

    kind: Kind
    reason: str = ""
    retry_at: float | None = None


def is_retryable(status: int) -> bool:
    """Whether Segment retries a request answered `status` (not 2xx): 408, 423, 429 and every 5xx
    but 501. Other statuses (4xx, 3xx, 1xx) are permanent."""
    if 400 <= status <= 499:
        return status in RETRYABLE_4XX
    if 500 <= status <= 599:
        return status not in NOT_RETRYABLE_5XX
    return False


def seen_status(status: int, latency: float) -> int:
    """The status Segment sees: the answer's, or 408 when it took `REQUEST_TIMEOUT` or longer."""
    return TIMEOUT_STATUS if latency >= REQUEST_TIMEOUT else status


def backoff(attempt: int, u: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, …), for a uniform draw `u`
    in [0, 1): half of min(cap, base·2^(attempt-1)) plus a random share of the other half."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(attempt - 1, 30))
    return delay / 2.0 + u * delay / 2.0


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` header in seconds (an HTTP date is not honoured: None)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


DELIVER = Decision("deliver")


def decide(
    status: int,
    *,
    latency: float,
    sent_at: float,
    first_sent_at: float,
    attempt: int,
    u: float,
    wait_at_least: float | None = None,
) -> Decision:
    """Segment's decision after attempt `attempt` of a request first sent at `first_sent_at`,
    sent at `sent_at`, answered `status` after `latency` seconds. `u` is the backoff's uniform
    draw; `wait_at_least` a Retry-After in seconds."""
    seen = seen_status(status, latency)
    if 200 <= seen <= 299:
        return DELIVER
    if not is_retryable(seen):
        return Decision("drop", f"not retryable {seen}")
    answered_at = sent_at + min(latency, REQUEST_TIMEOUT)
    wait = max(backoff(attempt, u), wait_at_least or 0.0)
    at = answered_at + wait
    if at > first_sent_at + RETRY_WINDOW:
        return Decision("drop", "retry window exhausted")
    return Decision("retry", "timeout" if seen != status else f"retryable {seen}", at)


class Pacer:
    """Segment's send rate towards the destination: unlimited until a 429, then additive
    increase / multiplicative decrease; `cap` (requests/second, `run --rate`) bounds it always.

    `reserve(t)` gives a request its send moment: `t`, or the next free slot after the one
    reserved before (each request gets its own slot, so a queue drains in order)."""

    def __init__(self, cap: float | None = None) -> None:
        self.cap = cap
        self.rate: float | None = None  # the adaptive rate, None while nothing slowed it
        self._last: float | None = None
        self._second = -1.0  # the second (floor of the send time) being counted
        self._in_second = 0  # sends in it: where the first 429 starts the adaptive rate from

    def current(self) -> float | None:
        rates = [r for r in (self.cap, self.rate) if r is not None]
        return min(rates) if rates else None

    def reserve(self, t: float) -> float:
        if self.cap is None and self.rate is None:  # nothing slows it: count, and send now
            second = t // 1.0
            if second != self._second:
                self._second, self._in_second = second, 0
            self._in_second += 1
            self._last = t if self._last is None or t > self._last else self._last
            return t
        rate = self.current()
        assert rate is not None
        at = t if self._last is None else max(t, self._last + 1.0 / rate)
        self._last = at if self._last is None else max(self._last, at)
        return at

    def answered(self, seen: int) -> None:
        """A 429 halves the rate (from the recent send rate the first time); a 2xx raises it."""
        if seen == 429:
            start = self.rate if self.rate is not None else max(float(self._in_second), 2 * MIN_RATE)
            self.rate = max(MIN_RATE, start / 2.0)
        elif 200 <= seen <= 299 and self.rate is not None:
            self.rate += RATE_STEP
