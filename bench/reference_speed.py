"""Per-core speed against Segment's published destination: whole-process `plan`, single and batch mode.

    python bench/reference_speed.py                # 15,000 events, 5 runs of each process
    python bench/reference_speed.py --repeat 9 --events 15000

The same generated events (bench/transform.py's identify/track mix, through the 15 automatic
presets) are planned by two fresh processes per run:

- the reference: `node bench/reference_plan.js`, Segment's @segment/action-destinations (the
  version pinned in tests/reference, whose node_modules it uses) through actions-core's
  Destination.onSubscription, the network replaced by a recorder;
- the sandbox: `python -m sandbox plan EVENTS --settings FILE --now T` (`--batch` in batch mode).

Both get the sandbox's mappings and batch sizes, and both write every request (method, URL,
headers, body text) as a JSON line. The outputs are checked to agree, request for request and byte
for byte (the body text, the URL, the method and the events each request carries), before any
figure is printed. Wall and CPU time (user + system of the child process, from getrusage) are
medians of --repeat runs, the two processes alternating; on a shared machine CPU time is the
steadier figure, and the ratios are given for both. The sandbox runs with its bytecode cached,
as an installed package does (see `main`); each process runs once untimed first. Also printed:
the sandbox's in-process cost per event (`sandbox.plan`, output not encoded) in single and batch
mode, and of single mode's lines as `plan` writes them (JSON text, `single_mode_lines`).
Targets (issue 12): whole-process plan >= 10x the reference in single mode and >= 5x in batch
mode.

Needs Node and `npm ci --prefix tests/reference`; without them it says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.transform import generate  # noqa: E402  (the same generated mix as bench/transform.py)
from sandbox import Settings, plan  # noqa: E402
from sandbox.commands.plan_output import single_mode_lines  # noqa: E402
from sandbox.pipeline import compile_subscriptions  # noqa: E402

REFERENCE = ROOT / "bench" / "reference_plan.js"
MODULES = ROOT / "tests" / "reference" / "node_modules"
NOW = 1_709_642_096  # 2024-03-05T12:34:56Z, the clock of both sides
SETTINGS = {"siteId": "12345", "apiKey": "abcde"}
TARGETS = {"single": 10.0, "batch": 5.0}


def missing_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (MODULES / "@segment" / "action-destinations" / "package.json").exists():
        return "the reference packages are not installed (npm ci --prefix tests/reference)"
    return None


def reference_config(mode: str) -> dict:
    """The reference's config: the subscriptions exactly as the sandbox runs them by default."""
    subscriptions = [
        {
            "subscribe": sub.subscription.subscribe,
            "partnerAction": sub.subscription.partnerAction,
            "mapping": sub.mapping,
            "batchSize": sub.batch_size,
        }
        for sub in compile_subscriptions(None)
    ]
    return {"mode": mode, "now": NOW * 1000, "settings": SETTINGS, "subscriptions": subscriptions}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (user + system of the child) and stdout of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.decode()[-800:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def requests_of(output: bytes) -> list[tuple]:
    """(event indexes, method, url, body text) of every request line, in order; error lines skipped."""
    out = []
    for line in output.decode("utf-8").splitlines():
        cut = line.find('"body": ')
        if cut < 0:  # an error line
            continue
        head = json.loads(line[:cut] + '"body": null}')
        index = head["event_index"]
        out.append(
            (
                tuple(index) if isinstance(index, list) else index,
                head["method"],
                head["url"],
                line[cut + 8 : -1],
            )
        )
    return out


def in_process_us(events: list[dict], batch: bool, repeat: int, text: bool = False) -> float:
    """Median CPU µs per event of `sandbox.plan` over `events` (lines built, not encoded), or
    with `text` of single mode's lines as `plan` writes them (plan_output.single_mode_lines)."""
    settings = Settings(SETTINGS["siteId"], SETTINGS["apiKey"])

    def lines(some: list[dict]) -> Any:
        if text:
            return single_mode_lines(some, settings, None, now=NOW)
        return plan(some, settings, batch=batch, now=NOW)

    list(lines(events[:500]))  # warm up (compiled presets, caches)
    cpus = []
    for _ in range(repeat):
        start = time.process_time()
        for _line in lines(events):
            pass
        cpus.append(time.process_time() - start)
    return statistics.median(cpus) / len(events) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each process; medians are reported")
    parser.add_argument("--mode", choices=("single", "batch", "both"), default="both")
    args = parser.parse_args()
    reason = missing_reason()
    if reason is not None:
        print(f"bench/reference_speed.py: cannot run the reference: {reason}", file=sys.stderr)
        raise SystemExit(2)
    events = generate(args.events)
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    env = {**os.environ, "TZ": "UTC", "PYTHONPATH": str(ROOT)}
    modes = ("single", "batch") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory() as tmp:
        # Python as an installed package runs: with its modules' bytecode cached (pip writes it when
        # it installs). An environment with PYTHONDONTWRITEBYTECODE (as this machine's) would have
        # every run compile them again; the cache goes to a scratch prefix, not into the checkout,
        # and an untimed first run of each process fills it (and warms the file cache for both).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        events_path = os.path.join(tmp, "events.jsonl")
        settings_path = os.path.join(tmp, "settings.json")
        with open(events_path, "w", encoding="utf-8") as f:
            for event in events:
                f.write(json.dumps(event) + "\n")
        with open(settings_path, "w", encoding="utf-8") as f:
            json.dump(SETTINGS, f)
        for mode in modes:
            config_path = os.path.join(tmp, f"reference-{mode}.json")
            with open(config_path, "w", encoding="utf-8") as f:
                json.dump(reference_config(mode), f)
            node = ["node", str(REFERENCE), config_path, events_path]
            ours = [sys.executable, "-m", "sandbox", "plan", events_path, "--settings", settings_path]
            ours += ["--now", str(NOW)] + (["--batch"] if mode == "batch" else [])
            runs: dict[str, list[tuple[float, float]]] = {"reference": [], "sandbox": []}
            outputs: dict[str, bytes] = {}
            for command in (node, ours):
                timed(command, env)
            for _ in range(args.repeat):
                for side, command in (("reference", node), ("sandbox", ours)):
                    wall, cpu, stdout = timed(command, env)
                    runs[side].append((wall, cpu))
                    outputs.setdefault(side, stdout)
            theirs, mine = requests_of(outputs["reference"]), requests_of(outputs["sandbox"])
            if theirs != mine:
                first = next(
                    (i for i, (a, b) in enumerate(zip(theirs, mine, strict=False)) if a != b),
                    min(len(theirs), len(mine)),
                )
                raise SystemExit(
                    f"{mode} mode: the outputs differ ({len(theirs)} reference requests, {len(mine)} sandbox);"
                    f" first difference at request {first}:\n  reference {theirs[first : first + 1]}\n"
                    f"  sandbox   {mine[first : first + 1]}"
                )
            figures = {
                side: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
                for side, values in runs.items()
            }
            (rw, rc), (sw, sc) = figures["reference"], figures["sandbox"]
            print(
                f"{mode} mode, {args.events:,} events -> {len(mine):,} requests, identical on both sides"
                f" (bytes); medians of {args.repeat}:"
            )
            print(f"  reference (node, published destination): {rw:.3f} s wall, {rc:.3f} s CPU")
            print(f"  sandbox   (python -m sandbox plan):       {sw:.3f} s wall, {sc:.3f} s CPU")
            met = "met" if rc / sc >= TARGETS[mode] else "NOT met"
            print(
                f"  sandbox is {rc / sc:.1f}x faster by CPU time, {rw / sw:.1f}x by the wall clock"
                f" (target >= {TARGETS[mode]:.0f}x: {met} by CPU time)"
            )
            print(
                f"  runs (wall s): reference {', '.join(f'{w:.2f}' for w, _ in runs['reference'])};"
                f" sandbox {', '.join(f'{w:.2f}' for w, _ in runs['sandbox'])}"
            )
    for mode in modes:
        us = in_process_us(events, mode == "batch", args.repeat)
        print(f"in-process sandbox.plan, {mode} mode: {us:.1f} µs CPU per event")
        if mode == "single":
            us = in_process_us(events, False, args.repeat, text=True)
            print(
                f"in-process, single mode's lines as plan writes them (JSON text): {us:.1f} µs CPU per event"
            )
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
