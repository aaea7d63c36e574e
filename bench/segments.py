"""Benchmark of segment evaluation's cost: the replay of `run` with 20 data-driven segments
re-evaluated after every request, against the same replay without segments, on the same events in
the same run (target: less than 20% fewer events/s); and, beside them, the same 20 segments with 2
campaigns (an event-triggered one and a segment-triggered one), for what entering campaigns adds.

    python bench/segments.py                  # 100,000 events, 3 alternating runs of each
    python bench/segments.py --events 20000 --runs 5

Each run is its own process reading the same generated events (bench/alternating.py). The 20
segments mix attribute rules (eq, not_eq, contains, gt, exists, is_timestamp), event rules with
counts, data conditions and `within_days` (so every clock move of the replay has people to look
at), page and device rules, and/or/not and segments of segments. Reported: the median user CPU
seconds of each side, the wall seconds, events/s, and the ratios against the replay without.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alternating import alternate, timed_replay  # noqa: E402


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


def child(path: str, side: str) -> dict[str, Any]:
    """One replay as `run` does it, with this side's definitions: its CPU and wall seconds and counts."""
    from sandbox.commands._replaying import in_process_target

    extra = {
        "none": {},
        "segments": {"CIO_SEGMENTS": SEGMENTS},
        "campaigns": {"CIO_SEGMENTS": SEGMENTS, "CIO_CAMPAIGNS": CAMPAIGNS},
    }[side]
    done = timed_replay(path, in_process_target(**extra))
    found = done["automation"]
    members = sum(s["members"] for s in found["segments"].values())
    entries = sum(c["entries"] for c in found["campaigns"].values())
    return {
        "cpu": done["cpu"],
        "wall": done["wall"],
        "sent": done["summary"].sent,
        "members": members,
        "entries": entries,
    }


def main() -> None:
    args, results, sent = alternate(__file__, __doc__ or "", SIDES, child)
    cpu = {s: statistics.median(r["cpu"] for r in rs) for s, rs in results.items()}
    wall = {s: statistics.median(r["wall"] for r in rs) for s, rs in results.items()}
    print(f"{args.events:,} events, {sent:,} requests, median of {args.runs} runs each")
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
