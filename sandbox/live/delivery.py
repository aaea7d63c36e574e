"""From a Segment event to a trace record: the live server's use of part A's replay engine.

Matching, mapping and validation are `sandbox.pipeline.trace`; sending each request to the mock
and pairing it with its journal entry is `sandbox.replay.engine` (`Replayer.replay` into an
`InProcessTarget` on the very app the server mounts); this module only turns the `EventRecord`
into the JSON the trace store keeps, adding each subscription's FQL text and a status.

With `serve --delivery segment` each event goes through Segment's delivery model instead
(`sandbox.delivery.loop`): retryable failures are retried in virtual time from the moment the
event arrived, and the mock's clock moves on to each attempt (a running clock keeps running from
there), so the trace shows every attempt and the mock's time rules see when each one arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sandbox.live.session import summarize
from sandbox.replay.config import Config, default_config
from sandbox.replay.engine import EventRecord, InProcessTarget, Replayer

Deliverer = Callable[[dict[str, Any], float], dict[str, Any]]


def make_deliverer(mock_app: Any, config: Config | None, delivery: str = "once", seed: int = 0) -> Deliverer:
    """The function the live session calls for each event: replay it into `mock_app` at the mock's
    current time, and return its trace record. `delivery="once"` sends each request once and never
    moves the clock; `"segment"` plays Segment's retries (see the module's docstring)."""
    if delivery == "segment":
        return _segment_deliverer(mock_app, config if config is not None else default_config(), seed)
    replayer = Replayer(
        config if config is not None else default_config(), InProcessTarget(mock_app), clock="mock"
    )

    def deliver(event: dict[str, Any], received_at: float) -> dict[str, Any]:
        return trace_record(replayer.replay(event, now=received_at))

    return deliver


def trace_record(record: EventRecord) -> dict[str, Any]:
    """The trace store's JSON for one replayed event: `EventRecord.to_dict()` plus each
    subscription's FQL (`subscribe`), the event's `status` and counts (`summary`)."""
    data = record.to_dict()
    subscriptions: Sequence[dict[str, Any]] = data["subscriptions"]
    for sub_json, sub_trace in zip(subscriptions, record.trace.subscriptions, strict=True):
        sub_json["subscribe"] = sub_trace.subscription.subscribe
    status, counts = summarize(subscriptions)
    data["status"] = status
    data["summary"] = counts
    data.pop("index", None)
    return data


class _ClockKeepingTarget(InProcessTarget):
    """The live mock, whose clock moves forward to each attempt and keeps its mode (running or frozen)."""

    def set_clock(self, t: float) -> None:
        clock = self.mock.clock
        if t > clock.now():
            clock.move(t, running=not clock.to_dict()["frozen"])


def _segment_deliverer(mock_app: Any, config: Config, seed: int = 0) -> Deliverer:
    import random

    from sandbox.delivery.loop import DeliveryLoop

    target = _ClockKeepingTarget(mock_app)
    rng = random.Random(seed)  # one generator for the session: same seed, same events, same attempts

    def deliver(event: dict[str, Any], received_at: float) -> dict[str, Any]:
        loop = DeliveryLoop(config, target, clock="mock", rng=rng)
        (record,) = list(loop.run([event]))
        assert isinstance(record, EventRecord)
        return trace_record(record)

    return deliver
