"""Fault injection and the optional rate limit: reasons to answer before the state is touched.

Where it sits: right after a Track API request is received (faults) and after it is authenticated
(rate limit, fault profile). Three kinds:

- queued faults: the next `count` requests answer a given status with a JSON body, or wait
  `latency` real seconds first (or both), in the order they were injected;
- the workspace setting `rate_limit`: requests per workspace in a sliding one-second window of
  real (monotonic) time, for a mock whose clock may be frozen;
- a fault profile (`FaultProfile`, below): what production looks like, in MOCK time, seeded —
  a per-workspace rate limit, a random share of 5xx and of timeouts, a latency distribution and
  outage windows. Its latencies are never slept: the answer says them in `X-Mock-Latency`.

Customer.io documents its Track API's fair-use rate (1,000 requests/second, "not strictly
enforced") but no 429 body and no `Retry-After`. The mock's choices: the 429 body is the v1
error shape below, and a profile's 429 carries `Retry-After` (whole seconds until the workspace's
one-second window has room, at least 1), the standard header of RFC 9110 §10.2.3.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_cio.errors import FaultError  # noqa: F401  (defined in mock_cio.errors; importable here too)

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
        self.profiled: Profiled | None = None

    def set_profile(self, data: JSON, seed: int | None = None) -> dict[str, JSON]:
        """Put a fault profile in force (its shape: `FaultProfile.from_dict`); `seed` applies when
        the profile names none (else 0: a mock's faults are always repeatable). An empty profile
        removes it. Returns the admin view."""
        profile = data if isinstance(data, FaultProfile) else FaultProfile.from_dict(data)
        self.profiled = None if profile.empty else Profiled(profile, seed)
        return self.profile_dict()

    def restart_profile(self) -> None:
        """The profile from its first draw again, windows empty (a reset of the mock)."""
        if self.profiled is not None:
            self.profiled = Profiled(self.profiled.profile, self.profiled.seed)

    def profile_dict(self) -> dict[str, JSON]:
        profiled = self.profiled
        return {"profile": None if profiled is None else profiled.profile.to_dict()}

    def check(self, now: float, site_id: str | None) -> Injected | None:
        """What the profile does to a request received at `now` (mock time) for `site_id`."""
        profiled = self.profiled
        return None if profiled is None else profiled.check(now, site_id)

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


# ---------------------------------------------------------------------- fault profiles
#
# A profile describes how a production Customer.io misbehaves, in the mock's own time (the clock
# that `clock.move` and `/_mock/clock` set), so a replay that moves the clock sees the same faults
# at the same moments on every run with the same seed. One shape everywhere: the admin API
# (`PUT /_mock/faults/profile`), the config file's `[faults]` table and `intercept(faults=...)`.

PROFILE_KEYS = (
    "seed",
    "rate_limit",
    "error_rate",
    "error_statuses",
    "timeout_rate",
    "timeout_latency",
    "latency",
    "outages",
)
LATENCY_KINDS = {
    "fixed": ("seconds",),
    "uniform": ("min", "max"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}
OUTAGE_KEYS = ("status", "start", "end", "workspace")
DEFAULT_ERROR_STATUSES = (500, 502, 503, 504)
DEFAULT_TIMEOUT_LATENCY = 30.0
"""Seconds a "timed out" answer takes: past Segment's 10-second request timeout."""
MAX_LATENCY = 86_400.0
"""The longest latency a profile may give (seconds): a day is already far past any client's timeout."""
MAX_SIGMA = 10.0
LATENCY_HEADER = "X-Mock-Latency"
"""Response header: the answer's latency in mock seconds (profiles never sleep in real time)."""


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency distribution in seconds: `fixed` (seconds), `uniform` (min, max), `exponential`
    (mean) or `lognormal` (median, sigma)."""

    distribution: str
    params: tuple[float, ...]

    def draw(self, u: float) -> float:
        """The latency for the uniform draw `u` in [0, 1) (one draw per request keeps runs stable)."""
        kind, p = self.distribution, self.params
        if kind == "fixed":
            return p[0]
        if kind == "uniform":
            return p[0] + (p[1] - p[0]) * u
        if kind == "exponential":
            return -p[0] * math.log(1.0 - u)
        # lognormal: the median times exp(sigma * z), z the standard normal quantile of u
        from statistics import NormalDist

        z = NormalDist().inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return min(MAX_LATENCY, p[0] * math.exp(p[1] * z))

    def to_dict(self) -> dict[str, JSON]:
        names = LATENCY_KINDS[self.distribution]
        return {"distribution": self.distribution, **dict(zip(names, self.params, strict=True))}


@dataclass(frozen=True, slots=True)
class Outage:
    """Every request received in [start, end) mock time answers `status` (a `workspace`, when
    given, limits it to that site_id)."""

    status: int
    start: float
    end: float
    workspace: str | None = None

    def covers(self, now: float, site_id: str | None) -> bool:
        return self.start <= now < self.end and (self.workspace is None or self.workspace == site_id)

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"status": self.status, "start": self.start, "end": self.end}
        if self.workspace is not None:
            out["workspace"] = self.workspace
        return out


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """How the mock misbehaves: a per-workspace `rate_limit` (requests per second of mock time,
    answered 429), a seeded random share of 5xx (`error_rate`, drawn from `error_statuses`) and of
    timeouts (`timeout_rate`: the request IS applied, but its answer takes `timeout_latency`
    seconds), a `latency` distribution for every other answer, and `outages` (time windows)."""

    seed: int | None = None
    rate_limit: float | None = None
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = DEFAULT_ERROR_STATUSES
    timeout_rate: float = 0.0
    timeout_latency: float = DEFAULT_TIMEOUT_LATENCY
    latency: Latency | None = None
    outages: tuple[Outage, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.rate_limit is None
            and not self.error_rate
            and not self.timeout_rate
            and self.latency is None
            and not self.outages
        )

    @classmethod
    def from_dict(cls, data: JSON, where: str = "faults") -> FaultProfile:
        """Read the JSON/TOML shape; a FaultError names the key (`faults.outages[0].end: ...`)."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise FaultError(f"{where} must be an object/table, got {_kind(data)}")
        unknown = sorted(set(data) - set(PROFILE_KEYS))
        if unknown:
            raise FaultError(f"{where}: unknown key(s) {', '.join(unknown)} (use {', '.join(PROFILE_KEYS)})")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultError(f"{where}.seed must be an integer, got {_kind(seed)}")
        rate = data.get("rate_limit")
        if rate is not None:
            rate = _number(rate, f"{where}.rate_limit", low=0.0, low_open=True)
        statuses = data.get("error_statuses", list(DEFAULT_ERROR_STATUSES))
        if not isinstance(statuses, list) or not statuses:
            raise FaultError(f"{where}.error_statuses must be a non-empty list of status codes")
        checked = tuple(_status(s, f"{where}.error_statuses[{i}]") for i, s in enumerate(statuses))
        latency = data.get("latency")
        outages = data.get("outages", [])
        if not isinstance(outages, list):
            raise FaultError(f"{where}.outages must be a list of {{status, start, end}} tables")
        return cls(
            seed=seed,
            rate_limit=rate,
            error_rate=_share(data.get("error_rate", 0.0), f"{where}.error_rate"),
            error_statuses=checked,
            timeout_rate=_share(data.get("timeout_rate", 0.0), f"{where}.timeout_rate"),
            timeout_latency=_number(
                data.get("timeout_latency", DEFAULT_TIMEOUT_LATENCY),
                f"{where}.timeout_latency",
                high=MAX_LATENCY,
            ),
            latency=None if latency is None else _latency(latency, f"{where}.latency"),
            outages=tuple(_outage(o, f"{where}.outages[{i}]") for i, o in enumerate(outages)),
        )

    def to_dict(self) -> dict[str, JSON]:
        return {
            "seed": self.seed,
            "rate_limit": self.rate_limit,
            "error_rate": self.error_rate,
            "error_statuses": list(self.error_statuses),
            "timeout_rate": self.timeout_rate,
            "timeout_latency": self.timeout_latency,
            "latency": None if self.latency is None else self.latency.to_dict(),
            "outages": [o.to_dict() for o in self.outages],
        }


@dataclass(frozen=True, slots=True)
class Injected:
    """What a profile does to one request: answer `status` with `body` and `headers` before the
    state is touched (status set), or let it through with an answer `latency` (mock seconds)."""

    status: int | None
    body: JSON
    headers: dict[str, str]
    latency: float
    note: str


class Profiled:
    """A profile in force: its seeded generator and the per-workspace rate windows (mock time).

    Every request draws exactly three numbers from the generator, whatever happens to it, so the
    n-th request of a run meets the same luck on every run with the same seed."""

    def __init__(self, profile: FaultProfile, seed: int | None = None) -> None:
        import random

        self.profile = profile
        self.seed = seed
        self._rng = random.Random(profile.seed if profile.seed is not None else (seed or 0))
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, now: float, site_id: str | None, *, rate_limited: bool = True) -> Injected | None:
        p = self.profile
        with self._lock:
            u_error, u_timeout, u_latency = self._rng.random(), self._rng.random(), self._rng.random()
            for outage in p.outages:
                if outage.covers(now, site_id):
                    return Injected(
                        outage.status, fault_body(outage.status), {}, 0.0,
                        f"fault profile: outage {iso_span(outage)} answers {outage.status}",
                    )  # fmt: skip
            if rate_limited and p.rate_limit is not None and site_id is not None:
                wait = self._take_slot(site_id, now, p.rate_limit)
                if wait is not None:
                    return Injected(
                        429, RATE_LIMITED, {"Retry-After": str(max(1, math.ceil(wait)))}, 0.0,
                        f"fault profile: rate limit of {p.rate_limit:g} requests/second (mock time) exceeded",
                    )  # fmt: skip
            if u_error < p.error_rate:
                status = p.error_statuses[int(u_error / p.error_rate * len(p.error_statuses))]
                return Injected(status, fault_body(status), {}, 0.0, f"fault profile: random {status}")
            if u_timeout < p.timeout_rate:
                return Injected(
                    None, None, {}, p.timeout_latency,
                    f"fault profile: answered after {p.timeout_latency:g} s (a timeout for most clients)",
                )  # fmt: skip
            if p.latency is not None:
                return Injected(None, None, {}, max(0.0, p.latency.draw(u_latency)), "")
            return None

    def _take_slot(self, site_id: str, now: float, per_second: float) -> float | None:
        """Count one request in `site_id`'s one-second window ending at `now`; None when it fits,
        else the seconds until the window has room (the request is not counted)."""
        window = self._windows.setdefault(site_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        while window and window[-1] > now:  # the clock went back: forget the future
            window.pop()
        if len(window) >= per_second:
            return window[0] + 1.0 - now
        window.append(now)
        return None


def iso_span(outage: Outage) -> str:
    from mock_cio.clock import iso

    def show(seconds: float) -> str:
        try:
            return iso(seconds)
        except (OverflowError, OSError, ValueError):  # past year 9999: as Unix seconds
            return f"{seconds:g}"

    return f"{show(outage.start)}–{show(outage.end)}"


def _kind(value: JSON) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "null"
    return repr(value)


def _number(
    value: JSON, where: str, *, low: float = 0.0, low_open: bool = False, high: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaultError(f"{where} must be a finite number, got {_kind(value)}")
    if value < low or (low_open and value == low):
        raise FaultError(f"{where} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise FaultError(f"{where} must be at most {high:g}, got {value!r}")
    return float(value)


def _share(value: JSON, where: str) -> float:
    share = _number(value, where)
    if share > 1:
        raise FaultError(f"{where} must be a share between 0 and 1, got {value!r}")
    return share


def _status(value: JSON, where: str) -> int:
    """An error status (400–599): a profile's faults are failures, answered before the state."""
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise FaultError(f"{where} must be an HTTP error status between 400 and 599, got {_kind(value)}")
    return value


def _latency(value: JSON, where: str) -> Latency:
    if isinstance(value, bool) or isinstance(value, int | float):
        return Latency("fixed", (_number(value, where, high=MAX_LATENCY),))
    if not isinstance(value, dict):
        raise FaultError(f"{where} must be seconds or {{distribution = ..., ...}}, got {_kind(value)}")
    kind = value.get("distribution")
    if kind not in LATENCY_KINDS:
        raise FaultError(f"{where}.distribution must be one of {', '.join(LATENCY_KINDS)}, got {_kind(kind)}")
    names = LATENCY_KINDS[kind]
    unknown = sorted(set(value) - {"distribution", *names})
    if unknown:
        raise FaultError(f"{where}: unknown key(s) {', '.join(unknown)} for {kind} (use {', '.join(names)})")
    missing = [n for n in names if n not in value]
    if missing:
        raise FaultError(f"{where}: {kind} needs {', '.join(missing)}")
    params = tuple(
        _number(value[n], f"{where}.{n}", high=MAX_SIGMA if n == "sigma" else MAX_LATENCY) for n in names
    )
    if kind == "uniform" and params[1] < params[0]:
        raise FaultError(f"{where}: max must be >= min")
    return Latency(kind, params)


def _outage(value: JSON, where: str) -> Outage:
    from mock_cio.clock import ClockError, parse_time

    if not isinstance(value, dict):
        raise FaultError(f"{where} must be a {{status, start, end}} table, got {_kind(value)}")
    unknown = sorted(set(value) - set(OUTAGE_KEYS))
    if unknown:
        raise FaultError(f"{where}: unknown key(s) {', '.join(unknown)} (use {', '.join(OUTAGE_KEYS)})")
    for key in ("status", "start", "end"):
        if key not in value:
            raise FaultError(f"{where}: missing {key}")
    status = _status(value["status"], f"{where}.status")
    try:
        start = parse_time(_plain_time(value["start"]), f"{where}.start")
        end = parse_time(_plain_time(value["end"]), f"{where}.end")
    except ClockError as exc:
        raise FaultError(str(exc)) from None
    if end <= start:
        raise FaultError(f"{where}: end must be after start")
    workspace = value.get("workspace")
    if workspace is not None and not isinstance(workspace, str):
        raise FaultError(f"{where}.workspace must be a site_id string, got {_kind(workspace)}")
    return Outage(status, start, end, workspace)


def _plain_time(value: JSON) -> JSON:
    """TOML datetimes (`start = 2024-01-01T00:10:00Z`, unquoted) become ISO strings."""
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    return value
