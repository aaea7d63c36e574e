"""Segment's side of delivery: what happens to a request after the destination built it.

`rules` holds the decisions (deliver, retry after T, drop with a reason) and the send-rate rule;
`loop` replays events with them in virtual time (the mock's clock moves to each attempt);
`report` adds up what happened to each event. The transform core (`sandbox.pipeline`) knows
nothing of this: it builds the requests, this package plays Segment's delivery system.
"""

from sandbox.delivery.rules import Decision, decide, is_retryable

__all__ = ["Decision", "decide", "is_retryable"]
