"""From a Segment event to a trace record: the transform core's trace, the deliveries to the mock
(part A's replay engine does the sending), and the JSON the trace store keeps.

This module only translates. Matching, mapping and validation are `sandbox.pipeline.trace`;
sending to the mock and reading its answers is `sandbox.replay`; storing is `traces`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandbox._types import JSON
from sandbox.live.session import summarize
from sandbox.outgoing import CioRequest
from sandbox.pipeline import SubscriptionTrace, error_dict

REDACTED = "Basic <redacted>"


def request_dict(request: CioRequest) -> dict[str, JSON]:
    """A request as the inspector shows it: credentials redacted, as the mock's journal does."""
    headers = {k: (REDACTED if k.lower() == "authorization" else v) for k, v in request.headers.items()}
    return {"method": request.method, "url": request.url, "headers": headers, "body": request.body}


def subscription_dict(
    trace: SubscriptionTrace, deliveries: Sequence[Mapping[str, Any]] = ()
) -> dict[str, JSON]:
    """One subscription's part of a trace record: match and why, payload, error, deliveries."""
    sub = trace.subscription
    return {
        "name": sub.name,
        "action": trace.action,
        "subscribe": sub.subscribe,
        "matched": trace.matched,
        "checks": [{"text": c.text, "passed": c.passed, "actual": _jsonable(c.actual)} for c in trace.checks],
        "payload": _jsonable(trace.payload),
        "error": error_dict(trace.error) if trace.error is not None else None,
        "deliveries": [dict(d) for d in deliveries],
    }


def trace_record(
    event: Mapping[str, Any],
    received_at: float,
    subscriptions: Sequence[dict[str, JSON]],
) -> dict[str, Any]:
    """The record the trace store keeps for one event."""
    status, counts = summarize(subscriptions)
    return {
        "received_at": received_at,
        "event": dict(event),
        "status": status,
        "summary": counts,
        "subscriptions": list(subscriptions),
    }


def make_deliverer(mock_app: Any, sandbox_config: Any) -> Callable[[dict[str, Any], float], dict[str, Any]]:
    """The function the live session calls for each event: trace it, send it, record it."""
    raise NotImplementedError("waiting for sandbox.replay (part A) to land")


def _jsonable(value: Any) -> JSON:
    """Trace values as JSON: MISSING (JS undefined) becomes absent/None."""
    from sandbox._types import MISSING  # noqa: PLC0415

    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
