"""The speeds the test suite used to assert, measured here instead (the suite times nothing).

    python bench/suite_budgets.py

Each figure is printed with a peer measured in the same run, as a ratio:
- a mock reset after a request, against creating a new app (a reset should be far cheaper);
- a Track API round trip in-process, against the admin API's `GET /_mock/clock` (no state, no journal);
- `import mock_cio` + `create_app()` in a fresh interpreter, against a bare interpreter;
- 20 keyset pages of a 100,000-entry journal, against the same pages of a 1,000-entry one;
- three pages (first, deep, filtered) of a 100,000-row trace store, against a 1,000-row one.
A page over 100x the rows that costs about the same (ratio near 1) is what keyset paging promises.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mock_cio  # noqa: E402
from mock_cio.journal import Entry, Journal, Query  # noqa: E402
from sandbox.live.traces import STATUSES, TraceStore  # noqa: E402

AUTH = ("bench-site", "bench-key")


def median_seconds(run: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def line(label: str, value: float, peer_label: str, peer: float) -> None:
    print(
        f"{label:<44} {value * 1000:9.2f} ms   {peer_label:<34} {peer * 1000:9.2f} ms   ratio {value / peer:6.2f}"
    )


def reset_and_round_trip() -> None:
    app = mock_cio.create_app({"CIO_NOW": 1_700_000_000})
    client = app.test_client()
    headers = {"Host": "track.customer.io"}

    def put() -> object:
        return client.put("/api/v1/customers/u1", json={"a": 1}, headers=headers, auth=AUTH)

    def reset() -> None:
        put()
        app.extensions["mock_cio"].reset()

    line(
        "reset after a request",
        median_seconds(reset, 50),
        "create_app()",
        median_seconds(mock_cio.create_app, 20),
    )
    track = median_seconds(
        lambda: client.post("/api/v1/customers/u1/events", json={"name": "A"}, headers=headers, auth=AUTH),
        300,
    )
    clock = median_seconds(lambda: client.get("/_mock/clock"), 300)
    line("Track API round trip (in-process)", track, "GET /_mock/clock", clock)


def startup() -> None:
    def fresh(code: str) -> float:
        return median_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True), 5)

    line("import mock_cio + create_app (new process)", fresh("import mock_cio; mock_cio.create_app()"),
         "bare interpreter", fresh("pass"))  # fmt: skip


def _entry(i: int) -> Entry:
    return Entry(
        received_at=1_700_000_000.0 + i,
        method="POST",
        host="track.customer.io",
        path="/api/v1/customers/u/events",
        workspace="a" if i % 10 else "b",
        body={"name": "E", "i": i},
        status=200,
        response={},
        outcome="accepted",
    )


def journal_pages() -> None:
    def pages_of(size: int) -> float:
        journal = Journal()
        for i in range(size):
            journal.append(_entry(i))

        def twenty() -> None:
            before = None
            for _ in range(20):
                page = journal.requests(Query(limit=50, before_id=before, workspace="a"))
                if not page:
                    break
                before = page[-1]["id"]
            journal.count(Query(workspace="b"))

        return median_seconds(twenty, 5)

    line("20 journal pages, 100k entries", pages_of(100_000), "the same, 1k entries", pages_of(1_000))


def trace_pages() -> None:
    def pages_of(size: int) -> float:
        store = TraceStore()
        store.add_many(
            [
                {"event": {"type": "track", "event": "E", "messageId": f"m{i}", "userId": "u1"},
                 "status": STATUSES[i % len(STATUSES)], "received_at": 1_700_000_000.0 + i, "subscriptions": []}
                for i in range(size)
            ]
        )  # fmt: skip

        def three() -> None:
            store.page(limit=50)
            store.page(before=size // 100, limit=50)
            store.page(status="rejected", before=size // 2, limit=50)

        return median_seconds(three, 5)

    line("3 trace pages, 100k rows", pages_of(100_000), "the same, 1k rows", pages_of(1_000))


def main() -> None:
    reset_and_round_trip()
    startup()
    journal_pages()
    trace_pages()


if __name__ == "__main__":
    main()
