"""The mock's notion of "now": every request's receipt time comes from here.

Where it sits: the HTTP layer asks the clock once per request and hands that time to the state
verbs and the journal; the admin API (`/_mock/clock`) sets or advances it so that the 30-day,
5-minute and 72-hour rules can be tested without waiting.

Two modes: *running* (real time plus an offset; the default, and what `set(t, running=True)`
gives) and *frozen* (time stands still until it is set or advanced; what `CIO_NOW` and `set(t)`
give, because tests want receipt times they can predict).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from mock_cio.errors import ClockError  # noqa: F401  (defined in mock_cio.errors; importable here too)


def parse_time(value: object, where: str = "now") -> float:
    """Unix seconds from a number or an ISO-8601 string (zone-less = UTC).

    >>> parse_time("2024-01-01T00:00:00Z")
    1704067200.0
    """
    if isinstance(value, bool) or value is None:
        raise ClockError(f"{where} must be Unix seconds or an ISO-8601 string, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ClockError(f"{where} must be a finite, non-negative number of Unix seconds, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.replace(".", "", 1).isdigit():
                return parse_time(float(text), where)
            return _iso(text)
        except (ValueError, OverflowError) as exc:
            raise ClockError(
                f"{where} {value!r} is neither Unix seconds nor an ISO-8601 time ({exc})"
            ) from None
    raise ClockError(f"{where} must be Unix seconds or an ISO-8601 string, got {type(value).__name__}")


def _iso(text: str) -> float:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith(("Z", "z")) else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso(seconds: float) -> str:
    """`seconds` as an ISO-8601 UTC string with millisecond precision; a time past 9999-12-31,
    which ISO-8601 cannot write, as its Unix seconds (`"1.2e+42"`), so no view of it ever fails."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g}"


class Clock:
    """The mock clock. Thread-safe enough: each method reads or replaces two floats."""

    def __init__(self, start: float | None = None, *, real: Callable[[], float] = time.time) -> None:
        self._real = real
        self._frozen: float | None = start
        self._offset = 0.0

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now(self) -> float:
        """The current mock time in Unix seconds."""
        frozen = self._frozen
        return frozen if frozen is not None else self._real() + self._offset

    def set(self, t: object, *, running: bool = False) -> float:
        """Jump to `t` (Unix seconds or ISO-8601); frozen there unless `running`."""
        target = parse_time(t)
        if running:
            self._frozen = None
            self._offset = target - self._real()
        else:
            self._frozen = target
        return target

    def advance(self, seconds: object) -> float:
        """Move the clock forward (or back, with a negative number) by `seconds`."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ClockError(f"advance must be a finite number of seconds, got {seconds!r}")
        target = self.now() + seconds
        if target < 0:
            raise ClockError(f"advance {seconds!r} would move the clock before 1970")
        if not math.isfinite(target):
            raise ClockError(f"advance {seconds!r} would move the clock past any finite time")
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds
        return self.now()

    def to_dict(self) -> dict[str, object]:
        """The admin API's view: `{"now", "iso", "frozen", "offset"}`."""
        now = self.now()
        return {
            "now": now,
            "iso": iso(now),
            "frozen": self.frozen,
            "offset": 0.0 if self.frozen else self._offset,
        }

    def state(self) -> dict[str, float | None]:
        """What the journal persists to restore this clock after a restart."""
        return {"frozen": self._frozen, "offset": self._offset}

    def restore(self, saved: dict[str, float | None]) -> None:
        self._frozen = saved.get("frozen")
        self._offset = float(saved.get("offset") or 0.0)
