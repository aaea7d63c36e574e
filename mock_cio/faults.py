"""Fault injection and the optional rate limit: reasons to answer before the state is touched.

Where it sits: right after a Track API request is received (faults) and after it is authenticated
(rate limit). A fault makes the next `count` requests answer a given status with a JSON body, or
wait `latency` seconds first (or both); faults queue in the order they were injected. The rate
limit counts requests per workspace in a sliding one-second window of real (monotonic) time, not
mock time, because the mock clock may be frozen.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_cio.errors import MockError

JSON = Any

_FAULT_TEXTS = {
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
RATE_LIMITED = {"meta": {"error": "Too many requests: the workspace's rate limit was exceeded"}}


class FaultError(MockError):
    """An invalid fault specification (the message names the field)."""


@dataclass(slots=True)
class Fault:
    status: int | None
    latency: float
    remaining: int
    body: JSON

    def to_dict(self) -> dict[str, JSON]:
        return {
            "status": self.status,
            "latency": self.latency,
            "remaining": self.remaining,
            "body": self.body,
        }


def fault_body(status: int) -> dict[str, JSON]:
    return {"meta": {"error": f"{_FAULT_TEXTS.get(status, 'Injected fault')} (injected by the mock)"}}


class Faults:
    """The queue of injected faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()

    def inject(
        self, status: JSON = None, count: JSON = 1, latency: JSON = None, body: JSON = None
    ) -> dict[str, JSON]:
        """Queue a fault; return the admin view of all pending faults."""
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
        ):
            raise FaultError(f"status must be an HTTP status code between 100 and 599, got {status!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaultError(f"count must be a positive integer, got {count!r}")
        if latency is not None and (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not math.isfinite(latency)
            or not 0 <= latency <= 60
        ):
            raise FaultError(f"latency must be a number of seconds between 0 and 60, got {latency!r}")
        if status is None and not latency:
            raise FaultError("a fault needs a status, a latency, or both")
        if body is not None and status is None:
            raise FaultError("body needs a status")
        fault = Fault(
            status,
            float(latency or 0.0),
            count,
            body if body is not None else (fault_body(status) if status is not None else None),
        )
        with self._lock:
            self._queue.append(fault)
        return self.to_dict()

    def take(self) -> Fault | None:
        """The fault for the request being handled, if any (its count goes down by one)."""
        if not self._queue:
            return None
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._queue.popleft()
            return Fault(fault.status, fault.latency, fault.remaining, fault.body)

    def clear(self) -> dict[str, JSON]:
        with self._lock:
            self._queue.clear()
        return self.to_dict()

    def to_dict(self) -> dict[str, JSON]:
        with self._lock:
            return {"faults": [fault.to_dict() for fault in self._queue]}


class RateLimiter:
    """Per-workspace sliding one-second windows."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._windows: dict[str, deque[float]] = {}

    def allow(self, site_id: str, per_second: float | None) -> bool:
        """Count one request; False when `site_id` is over `per_second` in the last second."""
        if per_second is None:
            return True
        now = self._monotonic()
        with self._lock:
            window = self._windows.setdefault(site_id, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
