"""Benchmark of the transform core: events per second through `sandbox.transform`, and `cio-sandbox plan`.

    python bench/transform.py            # 10,000 generated events in-process (target: >= 20,000/s)
    python bench/transform.py --cli      # also: whole-process `cio-sandbox plan` on 15,000 events

Events are an identify/track mix run through the 15 automatic presets in single mode; no I/O.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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


def bench_in_process(count: int) -> float:
    events = generate(count)
    for event in events[:200]:  # warm up caches (FQL parse, compiled presets)
        transform(event, SETTINGS)
    start = time.perf_counter()
    requests = 0
    for event in events:
        requests += len(transform(event, SETTINGS))
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    print(f"in-process transform: {count} events, {requests} results, {elapsed:.3f} s, {rate:,.0f} events/s")
    return rate


def bench_cli(count: int) -> float:
    events = generate(count)
    with tempfile.TemporaryDirectory() as tmp:
        events_path = os.path.join(tmp, "events.jsonl")
        settings_path = os.path.join(tmp, "settings.json")
        with open(events_path, "w", encoding="utf-8") as f:
            for event in events:
                f.write(json.dumps(event) + "\n")
        with open(settings_path, "w", encoding="utf-8") as f:
            json.dump({"siteId": "12345", "apiKey": "abcde"}, f)
        command = [sys.executable, "-m", "sandbox", "plan", events_path, "--settings", settings_path]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"plan failed ({done.returncode}): {done.stderr.decode()[:500]}")
    lines = done.stdout.count(b"\n")
    rate = count / elapsed
    print(f"whole-process plan: {count} events, {lines} lines, {elapsed:.3f} s, {rate:,.0f} events/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--cli", action="store_true", help="also time whole-process `plan` on --cli-events events"
    )
    parser.add_argument("--cli-events", type=int, default=15_000)
    args = parser.parse_args()
    bench_in_process(args.events)
    if args.cli:
        bench_cli(args.cli_events)


if __name__ == "__main__":
    main()
