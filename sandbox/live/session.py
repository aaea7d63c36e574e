"""The live session: what happens between Segment's Tracking API and the trace store.

`LiveSandbox.ingest` takes the events of one accepted Tracking API call and, for each, plays
Segment: drop a repeated messageId (Segment dedupes), run the transform core, send the requests to
the mock (in-process, the same app the server mounts), and keep the whole story as a trace record.
It is also the inspector's door to the mock: the clock, people, anonymous events and the journal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sandbox.js.values import JSON
from sandbox.live.segment_api import TrackingApiError, TrackingCall
from sandbox.live.traces import TraceStore

DEDUP_WINDOW = 24 * 3600  # Segment drops a messageId it has seen in roughly the last day


def masked_key(key: str) -> str:
    """A write key as the inspector and every export show it: its last 4 characters only."""
    return f"…{key[-4:]}" if len(key) > 8 else "…"


class LiveSandbox:
    """The live server's state: the mock it feeds, the trace store, and how events are delivered."""

    def __init__(
        self,
        *,
        mock_app: Any,
        store: TraceStore,
        deliver: Any,
        write_keys: Iterable[str] = (),
    ) -> None:
        self.mock_app = mock_app
        self.mock = mock_app.extensions["mock_cio"]
        self.store = store
        self._deliver = deliver
        self.write_keys = frozenset(write_keys)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the trace store and the mock (its journal); the server calls this when it stops."""
        self.store.close()
        closer = getattr(self.mock, "close", None)
        if closer is not None:
            closer()

    # -- time ------------------------------------------------------------------------------------

    def now(self) -> float:
        """The mock's clock: the sandbox receives events at the time the mock believes it is, so
        that advancing the clock moves both together."""
        return float(self.mock.clock.now())

    def received_at(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    # -- the Tracking API side -----------------------------------------------------------------

    def check_write_key(self, key: str) -> None:
        """With declared write keys (config), refuse others; without, accept any, as a new source would."""
        if self.write_keys and key not in self.write_keys:
            raise TrackingApiError(
                f"unknown write key {key!r}; this sandbox accepts {len(self.write_keys)} declared key(s)",
                status=401,
                code="unauthorized",
            )

    def refused(self, record: Mapping[str, Any]) -> int:
        """Keep a refused Tracking API call (segment_api.refused_record) for the inspector."""
        return self.store.add(record)

    def ingest(self, call: TrackingCall) -> list[int]:
        """Deliver each event of one call, in order, and store its trace; return the trace ids.

        One call at a time: the events of a batch reach the mock in the order they were sent, as
        they would from one Segment source, and concurrent calls cannot interleave inside a batch.
        """
        records: list[dict[str, Any]] = []
        seen_here: set[str] = set()  # a messageId repeated inside this very call
        with self._lock:
            for event in call.events:
                received = self.now()
                message_id = event.get("messageId")
                if isinstance(message_id, str) and (
                    message_id in seen_here or self.store.seen_message_id(message_id, received - DEDUP_WINDOW)
                ):
                    record: dict[str, Any] = {
                        "received_at": received,
                        "event": event,
                        "status": "duplicate",
                        "note": "Segment drops an event whose messageId it has already seen; nothing was sent.",
                        "subscriptions": [],
                        "summary": {"matched": 0, "requests": 0, "rejected": 0, "errors": 0},
                    }
                else:
                    record = dict(self._deliver(event, received))
                    if isinstance(message_id, str):
                        seen_here.add(message_id)
                record["write_key"] = masked_key(call.write_key)  # never the secret itself
                records.append(record)
            # One transaction for the call's traces, in arrival order.
            return self.store.add_many(records)

    # -- the inspector's views of the mock ------------------------------------------------------

    def journal(
        self,
        *,
        workspace: str | None = None,
        path: str | None = None,
        outcomes: Sequence[str] | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, JSON]]:
        """Journal entries newest first with id < `before`, of any of `outcomes` (all when None).

        Several outcomes: one keyset query each, merged by id; each query is an indexed range scan,
        so the cost does not grow with the journal.
        """
        wanted: Sequence[str | None] = list(outcomes) if outcomes else [None]
        rows: list[dict[str, JSON]] = []
        for outcome in wanted:
            rows.extend(
                self.mock.requests(
                    workspace=workspace, path=path, outcome=outcome, before_id=before, limit=limit
                )
            )
        if len(wanted) > 1:
            rows.sort(key=lambda entry: int(entry["id"]), reverse=True)
        return rows[:limit]

    def journal_entry(self, entry_id: int) -> dict[str, JSON] | None:
        return self.mock.request(entry_id)


def summarize(subscriptions: Sequence[Mapping[str, Any]]) -> tuple[str, dict[str, int]]:
    """A record's status and counts from its subscription traces (see traces.STATUSES)."""
    matched = [s for s in subscriptions if s.get("matched")]
    deliveries = [d for s in matched for d in s.get("deliveries") or []]
    rejected = sum(1 for d in deliveries if _rejected(d))
    errors = sum(1 for s in matched if s.get("error"))
    counts = {"matched": len(matched), "requests": len(deliveries), "rejected": rejected, "errors": errors}
    if rejected:
        return "rejected", counts
    if errors:
        return "error", counts
    if deliveries:
        return "delivered", counts
    return "unmatched", counts


def _rejected(delivery: Mapping[str, Any]) -> bool:
    response = delivery.get("response") or {}
    status = response.get("status")
    return delivery.get("outcome") == "rejected" or not isinstance(status, int) or status >= 400
