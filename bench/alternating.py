"""What bench/delivery.py and bench/segments.py share: `run`'s in-process replay timed in a child
process per side, the sides alternating over the same generated events.

Each run is its own process (the in-process mock with its journal in a scratch file, as `run`
does) reading the same JSON-lines file of generated events (bench/replay.py's mix), so every side
pays for the same reader, transform, mock and summary, and meets the same machine load (the
sides take turns). A child prints one JSON line; the parent collects them by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replay import write_events  # noqa: E402  (the same generated mix as bench/replay.py)


def timed_replay(path: str, target: Any, make: Callable[[Any, Any], Any] | None = None) -> dict[str, Any]:
    """Replay the events of `path` into `target` as `run` does (`make(config, target)` builds the
    replayer; `Replayer` by default) and close it: the user CPU and wall seconds of the replay
    and its summary's counting, the summary, and what `target.automation()` holds at the end."""
    from sandbox.replay.config import default_config
    from sandbox.replay.engine import Replayer
    from sandbox.replay.events import read_located
    from sandbox.replay.summary import Summary

    config = default_config()
    replay = (make or (lambda c, t: Replayer(c, t, explain=False)))(config, target)
    summary = Summary()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    started = time.perf_counter()
    for record in replay.run(read_located([path])):
        summary.add(record)
    summary.finish(target)
    wall = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - before
    automation = target.automation()
    target.close()
    return {"cpu": cpu, "wall": wall, "summary": summary, "automation": automation}


def alternate(
    script: str, doc: str, sides: Sequence[str], child: Callable[[str, str], dict[str, Any]]
) -> tuple[argparse.Namespace, dict[str, list[dict[str, Any]]], int]:
    """The benchmark's command line (`--events`, `--runs`): as a child (`--child FILE SIDE`), run
    `child(FILE, SIDE)`, print its JSON line and exit; else write the events, run every side
    `--runs` times in turn, each in its own process of `script`, and return the options, each
    side's results in run order, and the number of requests sent (the same on every side)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("FILE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        raise SystemExit(0)
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "events.jsonl")
        write_events(Path(path), args.events)
        for _ in range(args.runs):  # alternate, so every side meets the same machine load
            for side in sides:
                out = subprocess.run(
                    [sys.executable, script, "--child", path, side],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results[side].append(json.loads(out.strip().splitlines()[-1]))
    sent = {side: {r["sent"] for r in runs} for side, runs in results.items()}
    if len({frozenset(counts) for counts in sent.values()}) != 1:
        raise SystemExit(f"the sides sent different numbers of requests: {sent}")
    return args, results, next(iter(sent[sides[0]]))
