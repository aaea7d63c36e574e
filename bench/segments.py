"""Benchmark of segment evaluation's cost: the replay of `run` with 20 data-driven segments
re-evaluated after every request, against the same replay without segments, on the same events in
the same run (target: less than 20% fewer events/s); and, beside them, the same 20 segments with 2
campaigns (an event-triggered one and a segment-triggered one), for what entering campaigns adds.

    python bench/segments.py                  # 100,000 events, 3 alternating runs of each
    python bench/segments.py --events 20000 --runs 5

Each run is its own process (the in-process mock with its journal in a scratch file, as `run`
does) reading the same JSON-lines file of generated events (bench/replay.py's mix). The 20
segments mix attribute rules (eq, not_eq, contains, gt, exists, is_timestamp), event rules with
counts, data conditions and `within_days` (so every clock move of the replay has people to look
at), page and device rules, and/or/not and segments of segments. Reported: the median user CPU
seconds of each side, the wall seconds, events/s, and the ratios against the replay without.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.replay import write_events  # noqa: E402  (the same generated mix as bench/replay.py)


def _attr(field: str, operator: str, value: object = None) -> dict[str, object]:
    body: dict[str, object] = {"field": field, "operator": operator}
    if value is not None:
        body["value"] = value
    return {"attribute": body}


def _event(name: str, **extra: object) -> dict[str, object]:
    return {"event": {"name": name, **extra}}


CONDITIONS = [
    _attr("plan", "eq", "pro"),
    _attr("plan", "not_eq", "pro"),
    _attr("email", "contains", "@example.com"),
    _attr("created_at", "is_timestamp"),
    _attr("created_at", "timestamp_before", {"days_ago": 30}),
    _attr("anonymous_id", "exists"),
    _event("Order Completed"),
    _event("Order Completed", min_count=3),
    _event("Order Completed", within_days=1),
    _event("Order Completed", data=[{"field": "total", "operator": "gt", "value": 400}]),
    _event("Signed In", within_days=7, min_count=2),
    _event("Product Viewed", max_count=2),
    {"page": {"url": "Home", "within_days": 3}},
    {"device": {}},
    {"and": [{"segment": {"id": 1}}, {"segment": {"id": 7}}]},
    {"or": [{"segment": {"id": 9}}, {"segment": {"id": 11}}]},
    {"not": {"segment": {"id": 4}}},
    {"and": [_attr("plan", "eq", "free"), {"not": _event("Order Completed")}]},
    _attr("unknown", "not_exists"),
    {"and": [_event("Signed In", within_days=1), _attr("plan", "eq", "pro")]},
]
SEGMENTS = [{"id": i, "name": f"segment {i}", "conditions": c} for i, c in enumerate(CONDITIONS, start=1)]
CAMPAIGNS = [
    {"id": 1, "name": "Thanks", "trigger": {"event": {"name": "Order Completed"}}, "frequency": "every_time"},
    {"id": 2, "name": "Pro onboarding", "trigger": {"segment": {"id": 1}}},
]


SIDES = ("none", "segments", "campaigns")


def child(path: str, side: str) -> None:
    """One replay as `run` does it; prints the CPU and wall seconds and the summary's counts."""
    from sandbox.commands._replaying import in_process_target
    from sandbox.replay.config import default_config
    from sandbox.replay.engine import Replayer
    from sandbox.replay.events import read_located
    from sandbox.replay.summary import Summary

    config = default_config()
    extra = {
        "none": {},
        "segments": {"CIO_SEGMENTS": SEGMENTS},
        "campaigns": {"CIO_SEGMENTS": SEGMENTS, "CIO_CAMPAIGNS": CAMPAIGNS},
    }[side]
    target = in_process_target(**extra)
    summary = Summary()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    started = time.perf_counter()
    for record in Replayer(config, target, explain=False).run(read_located([path])):
        summary.add(record)
    summary.finish(target)
    wall = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - before
    found = target.automation()
    target.close()
    members = sum(s["members"] for s in found["segments"].values())
    entries = sum(c["entries"] for c in found["campaigns"].values())
    print(
        json.dumps({"cpu": cpu, "wall": wall, "sent": summary.sent, "members": members, "entries": entries})
    )


def measure(path: str, side: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, side], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("FILE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "events.jsonl")
        write_events(Path(path), args.events)
        results: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        for _ in range(args.runs):  # alternate, so every side meets the same machine load
            for side in SIDES:
                results[side].append(measure(path, side))
    sent = {s: {r["sent"] for r in rs} for s, rs in results.items()}
    assert len({frozenset(v) for v in sent.values()}) == 1, (
        f"the sides sent different numbers of requests: {sent}"
    )
    cpu = {s: statistics.median(r["cpu"] for r in rs) for s, rs in results.items()}
    wall = {s: statistics.median(r["wall"] for r in rs) for s, rs in results.items()}
    print(f"{args.events:,} events, {next(iter(sent['none'])):,} requests, median of {args.runs} runs each")
    members = results["segments"][-1]["members"]
    entries = results["campaigns"][-1]["entries"]
    print(f"  at the end: {members:,} memberships; with the campaigns, {entries:,} campaign entries")
    for s in SIDES:
        rate = args.events / cpu[s]
        print(f"  {s:<9} {cpu[s]:7.2f} s CPU  {wall[s]:7.2f} s wall  {rate:8,.0f} events/s (CPU)")
    for s, what, target in (
        ("segments", "20 segments", " (target: < 20%)"),
        ("campaigns", "20 segments and 2 campaigns", ""),
    ):
        ratio = cpu["none"] / cpu[s]
        pairs = [100 * (1 - n["cpu"] / m["cpu"]) for n, m in zip(results["none"], results[s], strict=True)]
        spread = ", ".join(
            f"{n['cpu']:.2f}/{m['cpu']:.2f}" for n, m in zip(results["none"], results[s], strict=True)
        )
        print(
            f"  {what}: {100 * (1 - ratio):.1f}% fewer events/s by CPU time"
            f" ({100 * (1 - wall['none'] / wall[s]):.1f}% by wall){target}"
        )
        print(f"    each run (none/{s} s CPU): {spread}; per pair {min(pairs):.1f}-{max(pairs):.1f}%")
    print(f"  load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
