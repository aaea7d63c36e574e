"""Benchmark of the transform core: events per second through `sandbox.transform`, and `cio-sandbox plan`.

    python bench/transform.py            # 10,000 generated events in-process (target: >= 20,000/s)
    python bench/transform.py --cli      # also: whole-process `cio-sandbox plan` on 15,000 events
                                         # (target: > 10,000/s, i.e. < 1.5 s with interpreter start-up)

Events are an identify/track mix run through the 15 automatic presets in single mode; no I/O.
Each measurement runs --repeat times (default 5) and the median is reported. Besides wall-clock
time the CPU time (user + system) is given: on a machine shared with other work, wall-clock time
includes waiting for a core and CPU time is the steadier figure.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox import Settings, transform  # noqa: E402

SETTINGS = Settings("12345", "abcde")


def generate(count: int, seed: int = 7) -> list[dict]:
    """An identify/track mix with realistic traits and properties (nested ISO dates included)."""
    rng = random.Random(seed)
    events: list[dict] = []
    for i in range(count):
        user = f"user_{rng.randrange(5000)}"
        common = {
            "messageId": f"msg-{i}",
            "anonymousId": f"anon-{rng.randrange(10**6)}",
            "timestamp": f"2024-03-{1 + i % 28:02d}T12:{i % 60:02d}:56.789Z",
            "context": {"ip": "8.8.8.8", "library": {"name": "analytics.js", "version": "2.11.1"}},
        }
        if rng.random() < 0.5:
            events.append(
                {
                    **common,
                    "type": "identify",
                    "userId": user,
                    "traits": {
                        "email": f"{user}@example.com",
                        "name": "Ada Lovelace",
                        "plan": rng.choice(["free", "pro", "enterprise"]),
                        "created_at": "2023-11-02T08:00:00Z",
                        "logins": rng.randrange(100),
                        "address": {"city": "London", "since": "2019-02-01"},
                    },
                }
            )
        else:
            events.append(
                {
                    **common,
                    "type": "track",
                    "userId": user if rng.random() < 0.8 else None,
                    "event": rng.choice(
                        ["Order Completed", "Product Viewed", "Signed Up", "Application Opened"]
                    ),
                    "properties": {
                        "order_id": f"o-{i}",
                        "total": round(rng.random() * 100, 2),
                        "currency": "USD",
                        "shipped_at": "2024-03-05T10:00:00+01:00",
                        "items": [{"sku": "a", "added_at": "2024-03-05T09:00:00Z"}],
                    },
                }
            )
    return events


def bench_in_process(count: int, repeat: int) -> float:
    """Median events/s (wall clock) of `transform` over `count` events, `repeat` runs."""
    events = generate(count)
    for event in events[:200]:  # warm up caches (FQL parse, compiled presets)
        transform(event, SETTINGS)
    walls: list[float] = []
    cpus: list[float] = []
    requests = 0
    for _ in range(repeat):
        requests = 0
        cpu_start, start = time.process_time(), time.perf_counter()
        for event in events:
            requests += len(transform(event, SETTINGS))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"in-process transform: {count} events, {requests} results; median of {repeat}: "
        f"{wall:.3f} s wall = {count / wall:,.0f} events/s, {cpu:.3f} s CPU = {count / cpu:,.0f} events/s "
        f"(runs: {', '.join(f'{count / w:,.0f}' for w in walls)} events/s wall)"
    )
    return count / wall


def bench_cli(count: int, repeat: int) -> float:
    """Median events/s (wall clock) of a whole `python -m sandbox plan` process, `repeat` runs."""
    events = generate(count)
    walls: list[float] = []
    cpus: list[float] = []
    lines = 0
    with tempfile.TemporaryDirectory() as tmp:
        events_path = os.path.join(tmp, "events.jsonl")
        settings_path = os.path.join(tmp, "settings.json")
        with open(events_path, "w", encoding="utf-8") as f:
            for event in events:
                f.write(json.dumps(event) + "\n")
        with open(settings_path, "w", encoding="utf-8") as f:
            json.dump({"siteId": "12345", "apiKey": "abcde"}, f)
        command = [sys.executable, "-m", "sandbox", "plan", events_path, "--settings", settings_path]
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if done.returncode != 0:
                raise SystemExit(f"plan failed ({done.returncode}): {done.stderr.decode()[:500]}")
            lines = done.stdout.count(b"\n")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"whole-process plan: {count} events, {lines} lines; median of {repeat}: "
        f"{wall:.3f} s wall = {count / wall:,.0f} events/s, {cpu:.3f} s CPU = {count / cpu:,.0f} events/s "
        f"(runs: {', '.join(f'{w:.3f}' for w in walls)} s wall)"
    )
    return count / wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--cli", action="store_true", help="also time whole-process `plan` on --cli-events events"
    )
    parser.add_argument("--cli-events", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    args = parser.parse_args()
    bench_in_process(args.events, args.repeat)
    if args.cli:
        bench_cli(args.cli_events, args.repeat)


if __name__ == "__main__":
    main()
