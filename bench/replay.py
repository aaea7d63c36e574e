"""Benchmark of `cio-sandbox run`'s engine: events/second replaying generated events end to end
in-process (reader → transform → mock pipeline via `MockCio.serve` → journal → summary), and peak
memory.

    python bench/replay.py                 # 10,000 and 100,000 events (target: >= 5,000 events/s)
    python bench/replay.py --sizes 20000   # other sizes
    python bench/replay.py --runs 5        # median of 5 runs per size (default 3)

Each run of each size is its own process, reading a JSON-lines file from disk as `run` does, with
the journal in a scratch temporary file as `run` does. Reported (medians over the runs):
- events/s end to end by the wall clock, and by user CPU time (less noisy on a shared machine),
  and where the time goes (transform alone, the mock alone);
- peak RSS of the whole process (resource.getrusage). The mock keeps every person and event, as
  Customer.io does, and its journal (SQLite) goes to a temporary file here, as `run` does;
- the engine's own peak (tracemalloc, with a target that answers 200 {} and keeps nothing): the
  reader, the replay loop and the summary, which must not grow with the input.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = 1709251200  # 2024-03-01T00:00:00Z


def generate(count: int, seed: int = 11):
    """A realistic mix: identify 25%, track 50%, page 20% (anonymous), screen/group/alias 5%."""
    rng = random.Random(seed)
    for i in range(count):
        user = f"user-{rng.randrange(max(count // 20, 10))}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(START + i * 2))
        base = {
            "messageId": f"msg-{i}",
            "timestamp": stamp,
            "context": {"ip": "203.0.113.9", "library": {"name": "analytics.js", "version": "4.1.0"}},
        }
        roll = rng.random()
        if roll < 0.25:
            yield {**base, "type": "identify", "userId": user, "anonymousId": f"anon-{rng.randrange(count)}",
                   "traits": {"email": f"{user}@example.com", "plan": rng.choice(["free", "pro"]), "created_at": "2023-11-02T08:00:00Z"}}  # fmt: skip
        elif roll < 0.75:
            yield {**base, "type": "track", "userId": user, "event": rng.choice(["Order Completed", "Product Viewed", "Signed In"]),
                   "properties": {"total": rng.randrange(500), "sku": f"sku-{rng.randrange(100)}", "at": stamp}}  # fmt: skip
        elif roll < 0.95:
            yield {**base, "type": "page", "anonymousId": f"anon-{rng.randrange(count)}", "name": "Home",
                   "properties": {"url": "https://shop.example/", "path": "/"}}  # fmt: skip
        elif roll < 0.97:
            yield {**base, "type": "screen", "userId": user, "name": "Cart", "properties": {"items": 2}}
        elif roll < 0.99:
            yield {**base, "type": "group", "userId": user, "groupId": f"acct-{rng.randrange(50)}",
                   "traits": {"objectTypeId": "1", "objectAttributes": {"name": "Acme"}}}  # fmt: skip
        else:
            yield {**base, "type": "alias", "userId": user, "previousId": f"old-{user}"}


def write_events(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for event in generate(count):
            out.write(json.dumps(event) + "\n")


class NullTarget:
    """Answers every request 200 {} and keeps nothing: the engine's own memory, without the mock's."""

    name = "null"

    def __init__(self) -> None:
        from sandbox.replay.engine import Answer

        self._answer = Answer(200, {}, {}, {"outcome": "accepted", "reasons": [], "notes": [], "changes": []})
        self._now = 0.0

    def send(self, request):  # noqa: ANN001, ANN201
        return self._answer

    def now(self) -> float:
        return self._now

    def set_clock(self, t: float) -> None:
        self._now = t

    def views(self) -> dict:
        return {"people": [], "objects": [], "anonymous_events": [], "metrics": []}

    def workspaces(self) -> list:
        return []

    def close(self) -> None:
        pass


def child(path: str, mode: str) -> dict:
    """One measurement in this (fresh) process."""
    from sandbox.replay.config import default_config
    from sandbox.replay.engine import InProcessTarget, Replayer
    from sandbox.replay.events import read_located
    from sandbox.replay.summary import Summary

    config = default_config()
    summary = Summary()
    if mode == "engine":
        tracemalloc.start()
        started = time.perf_counter()
        for record in Replayer(config, NullTarget(), explain=False).run(read_located(path)):
            summary.add(record)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"events": summary.events, "seconds": elapsed, "traced_peak_kb": peak // 1024}
    target = InProcessTarget(journal_on_disk=True)  # as `run` does
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    for record in Replayer(config, target, explain=False).run(read_located(path)):
        summary.add(record)
    elapsed = time.perf_counter() - started
    user = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    summary.finish(target)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    target.close()
    return {
        "events": summary.events,
        "requests": summary.sent,
        "accepted": summary.outcomes["accepted"],
        "people": summary.end["people"] if summary.end else None,
        "seconds": elapsed,
        "user_seconds": user,
        "max_rss_kb": rss,
    }


def parts(count: int) -> dict:
    """Where the time goes: the transform alone, and the mock alone (`MockCio.serve`, journal in
    memory, clock untouched), per event and per request."""
    from sandbox.pipeline import transform
    from sandbox.replay.config import default_config
    from sandbox.replay.engine import InProcessTarget

    config = default_config()
    events = list(generate(count))
    started = time.perf_counter()
    requests = [
        r.request for e in events for r in transform(e, config.settings, config.subscriptions) if r.request
    ]
    transform_s = time.perf_counter() - started
    target = InProcessTarget()
    started = time.perf_counter()
    for request in requests:
        target.send(request)
    mock_s = time.perf_counter() - started
    return {"transform_us": 1e6 * transform_s / count, "mock_us_per_request": 1e6 * mock_s / len(requests)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per size; medians are reported")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    split = parts(5000)
    print(
        f"per event: transform {split['transform_us']:.0f} µs; the mock (serve, journal) "
        f"{split['mock_us_per_request']:.0f} µs per request"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"events-{size}.jsonl"
            write_events(path, size)
            mb = path.stat().st_size / 2**20
            runs: dict[str, list[dict]] = {"e2e": [], "engine": []}
            for _ in range(max(1, args.runs)):
                for mode in runs:
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", str(path), mode],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    runs[mode].append(json.loads(out.stdout))
            e2e, engine = runs["e2e"], runs["engine"]
            wall = statistics.median(r["events"] / r["seconds"] for r in e2e)
            user = statistics.median(r["events"] / r["user_seconds"] for r in e2e)
            first = e2e[0]
            print(
                f"{size:>9,} events ({mb:.1f} MB): end to end {wall:>7,.0f} events/s wall, {user:>7,.0f} "
                f"by user CPU (median of {len(e2e)}; "
                f"{first['requests']:,} requests, {first['accepted']:,} accepted, {first['people']:,} people); "
                f"peak RSS {max(r['max_rss_kb'] for r in e2e) / 1024:,.0f} MB | engine alone "
                f"{statistics.median(r['events'] / r['seconds'] for r in engine):>7,.0f} events/s "
                f"(under tracemalloc), traced peak {max(r['traced_peak_kb'] for r in engine):,} KB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
