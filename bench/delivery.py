"""Benchmark of the delivery model's overhead: `run --delivery segment` with no faults against
`run --delivery once`, on the same events in the same run (target: less than 10% slower).

    python bench/delivery.py                  # 100,000 events, 3 alternating runs of each
    python bench/delivery.py --events 20000 --runs 5

Each run is its own process (the in-process mock with its journal in a scratch file, as `run`
does) reading the same JSON-lines file of generated events (bench/replay.py's mix), so both
sides pay for the same reader, transform, mock and summary; they differ only in the delivery
loop (the capturing trace, the decision, the virtual clock, the attempt records). Reported:
the median user CPU seconds of each side (less noisy than the wall clock on a shared machine),
the wall seconds, and the ratio segment / once.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.replay import write_events  # noqa: E402  (the same generated mix as bench/replay.py)


def child(path: str, delivery: str) -> None:
    """One replay as `run` does it; prints the CPU and wall seconds and the summary's counts."""
    from sandbox.commands._replaying import in_process_target
    from sandbox.replay.config import default_config
    from sandbox.replay.engine import Replayer
    from sandbox.replay.events import read_located
    from sandbox.replay.summary import Summary

    config = default_config()
    target = in_process_target()
    summary = Summary()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    started = time.perf_counter()
    if delivery == "segment":
        from sandbox.delivery.loop import DeliveryLoop

        replay: object = DeliveryLoop(config, target, explain=False)
    else:
        replay = Replayer(config, target, explain=False)
    for record in replay.run(read_located([path])):  # type: ignore[attr-defined]
        summary.add(record)
    summary.finish(target)
    wall = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - before
    target.close()
    print(json.dumps({"cpu": cpu, "wall": wall, "sent": summary.sent, "events": summary.events}))


def measure(path: str, delivery: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, delivery], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("FILE", "DELIVERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "events.jsonl")
        write_events(Path(path), args.events)
        results: dict[str, list[dict[str, float]]] = {"once": [], "segment": []}
        for _ in range(args.runs):  # alternate, so both sides meet the same machine load
            for delivery in ("once", "segment"):
                results[delivery].append(measure(path, delivery))
    sent = {d: {r["sent"] for r in rs} for d, rs in results.items()}
    assert sent["once"] == sent["segment"], f"the two sides sent different numbers of requests: {sent}"
    cpu = {d: statistics.median(r["cpu"] for r in rs) for d, rs in results.items()}
    wall = {d: statistics.median(r["wall"] for r in rs) for d, rs in results.items()}
    print(f"{args.events:,} events, {next(iter(sent['once'])):,} requests, median of {args.runs} runs each")
    for d in ("once", "segment"):
        print(
            f"  --delivery {d:<8} {cpu[d]:7.2f} s CPU  {wall[d]:7.2f} s wall  {args.events / cpu[d]:8,.0f} events/s (CPU)"
        )
    ratio = cpu["segment"] / cpu["once"]
    print(f"  segment / once: {ratio:.3f} by CPU time ({wall['segment'] / wall['once']:.3f} by wall clock)")
    print(f"  overhead: {100 * (ratio - 1):+.1f}% (target: < +10%)")


if __name__ == "__main__":
    main()
