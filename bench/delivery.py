"""Benchmark of the delivery model's overhead: `run --delivery segment` with no faults against
`run --delivery once`, on the same events in the same run (target: less than 10% slower).

    python bench/delivery.py                  # 100,000 events, 3 alternating runs of each
    python bench/delivery.py --events 20000 --runs 5

Each run is its own process reading the same generated events (bench/alternating.py), so both
sides pay for the same reader, transform, mock and summary; they differ only in the delivery
loop (the capturing trace, the decision, the virtual clock, the attempt records). Reported:
the median user CPU seconds of each side (less noisy than the wall clock on a shared machine),
the wall seconds, and the ratio segment / once.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alternating import alternate, timed_replay  # noqa: E402

SIDES = ("once", "segment")


def child(path: str, delivery: str) -> dict[str, Any]:
    """One replay as `run` does it, with `--delivery DELIVERY`: its CPU and wall seconds and counts."""
    from sandbox.commands._replaying import in_process_target

    make = None
    if delivery == "segment":
        from sandbox.delivery.loop import DeliveryLoop

        def make(config: Any, target: Any) -> Any:
            return DeliveryLoop(config, target, explain=False)

    done = timed_replay(path, in_process_target(), make)
    summary = done["summary"]
    return {"cpu": done["cpu"], "wall": done["wall"], "sent": summary.sent, "events": summary.events}


def main() -> None:
    args, results, sent = alternate(__file__, __doc__ or "", SIDES, child)
    cpu = {d: statistics.median(r["cpu"] for r in rs) for d, rs in results.items()}
    wall = {d: statistics.median(r["wall"] for r in rs) for d, rs in results.items()}
    print(f"{args.events:,} events, {sent:,} requests, median of {args.runs} runs each")
    for d in SIDES:
        print(
            f"  --delivery {d:<8} {cpu[d]:7.2f} s CPU  {wall[d]:7.2f} s wall  {args.events / cpu[d]:8,.0f} events/s (CPU)"
        )
    ratio = cpu["segment"] / cpu["once"]
    print(f"  segment / once: {ratio:.3f} by CPU time ({wall['segment'] / wall['once']:.3f} by wall clock)")
    print(f"  overhead: {100 * (ratio - 1):+.1f}% (target: < +10%)")


if __name__ == "__main__":
    main()
