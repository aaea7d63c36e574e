"""Benchmark of `plan` over a gzipped Segment archive, in one process and on Dask workers.

    python bench/scale.py                      # 1,000,000 events (the issue's size; minutes)
    python bench/scale.py --events 100000      # a smaller run for a busy machine
    python bench/scale.py --no-cluster         # skip the real `dask scheduler` + 2 `dask worker`
    python bench/scale.py --no-ceiling         # skip the two half-size processes side by side

Generates events (bench/replay.py's mix) into a `segment-logs/<source>/<received-day>/*.gz`
archive (2 sources, 10,000 events a file; each user has one anonymous id and one account, see
write_archive), then times, each in its own process:
- `plan --workers 1` (the in-process path) and `plan --workers 2` (a local Dask cluster);
- unless --no-batch, the same in batch mode (`plan --batch`), checking the outputs are identical;
- `run --workers 1` (in-process replay into the mock) and `run --workers 2` (the events
  partitioned by identity, replayed on a local Dask cluster), checking their summaries are equal;
- unless --no-ceiling, after each pair: the machine's ceiling for that speed-up, two
  `--workers 1` processes started together, one per source (half the events each), against
  `--workers 1` over the whole archive (no Dask, no driver: what 2 cores give this work here);
- unless --no-cluster: `plan --scheduler` on a real `dask scheduler` + two `dask worker`
  processes on 127.0.0.1, checking its output is byte-identical to `--workers 2`'s.
Prints the load average (the machine may be shared), per command events/s by the wall clock, CPU
seconds (user + system of all its processes) and the peak RSS of the driver and of the largest
worker (every process sampled every 0.1 s), the speed-up of 2 workers against 1 (the peer,
measured in the same run; target >= 1.7x on 2 cores), and a linear extrapolation to 300 M events
on 64 cores (32x this machine's 2-worker rate; linear scaling assumed, not measured).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.replay import generate  # noqa: E402
from sandbox.replay.archive import day_name  # noqa: E402

PER_FILE = 10_000
SETTINGS = {"siteId": "bench-site", "apiKey": "bench-key", "accountRegion": "US"}


def write_archive(root: Path, count: int, random_ids: bool = False) -> int:
    """`count` events as gzipped JSON lines, PER_FILE a file, alternating sources, a day per 4 files.

    bench/replay.py's mix gives every identify a new random anonymous id, drawn from the range
    the anonymous page views use, and every group call a random one of 50 accounts: users share
    anonymous ids and accounts with each other at random, and past about 100,000 events most of
    the events are one identity component (a random graph past its percolation threshold: 60% at
    200,000), which one worker replays alone. On a real site an anonymous id is one browser or
    device. Unless `random_ids`, each user keeps one anonymous id (still in the page views' range,
    so some earlier page views are claimed) and one account (its company, as in a B2B product)."""
    files = 0
    out: Any = None
    for index, event in enumerate(generate(count)):
        if not random_ids and "userId" in event:
            tag = zlib.crc32(event["userId"].encode())
            if event["type"] == "identify":
                event["anonymousId"] = f"anon-{tag % count}"
            elif event["type"] == "group":
                event["groupId"] = f"acct-{tag % 50}"
        if index % PER_FILE == 0:
            if out is not None:
                out.close()
            folder = root / "segment-logs" / f"src{files % 2}" / day_name(dt.date(2024, 3, 1 + files // 4))
            folder.mkdir(parents=True, exist_ok=True)
            out = gzip.open(folder / f"part-{files:04d}.gz", "wt", compresslevel=5, encoding="utf-8")
            files += 1
        out.write(json.dumps(event) + "\n")
    if out is not None:
        out.close()
    return files


@dataclass(frozen=True)
class Measured:
    """One command's wall seconds, CPU seconds (user + system, every process of it) and peak RSS
    (MiB) of its driver and of its largest other process (a worker)."""

    seconds: float
    cpu: float
    driver_rss: float
    worker_rss: float


def _peak_rss(pid: int) -> float:
    """VmHWM (the peak resident set so far) of a live process, in MiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(args: list[str], out: Path, env: dict[str, str]) -> Measured:
    """Run `cio-sandbox ARGS` (stdout to `out`): see measure_together."""
    return measure_together([(args, out)], env)


def measure_together(commands: list[tuple[list[str], Path]], env: dict[str, str]) -> Measured:
    """Start every `cio-sandbox ARGS` (stdout to its path) at once and wait for all of them,
    sampling every process of each every 0.1 s: Dask's workers are forked by a fork server, not
    waited for by the driver, so getrusage cannot see them. The seconds are until the last one
    ends, the CPU is all of theirs, the driver's RSS the largest of the commands' own processes."""
    import psutil  # type: ignore[import-untyped]

    cpu: dict[int, float] = {}
    rss: dict[int, float] = {}
    children: list[tuple[subprocess.Popen[bytes], list[str], Path]] = []
    started = time.perf_counter()
    sinks = []
    for args, out in commands:
        errors = out.with_suffix(".stderr")
        sink, err = open(out, "wb"), open(errors, "wb")  # noqa: SIM115 - closed below
        sinks += [sink, err]
        cmd = [sys.executable, "-m", "sandbox", *args]
        children.append((subprocess.Popen(cmd, stdout=sink, stderr=err, env=env, cwd=ROOT), args, errors))
    roots = [psutil.Process(child.pid) for child, _, _ in children]
    try:
        while any(child.poll() is None for child, _, _ in children):
            for root in roots:
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in tree:
                    try:
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    cpu[process.pid] = times.user + times.system
                    rss[process.pid] = max(rss.get(process.pid, 0.0), _peak_rss(process.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        for sink in sinks:
            sink.close()
    for child, args, errors in children:
        if child.returncode != 0:
            raise SystemExit(f"failed: cio-sandbox {' '.join(args)}\n{errors.read_text()}")
    driver = max((rss.pop(child.pid, 0.0) for child, _, _ in children), default=0.0)
    return Measured(seconds, sum(cpu.values()), driver, max(rss.values(), default=0.0))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def real_cluster(archive: Path, settings: Path, out: Path, env: dict[str, str]) -> tuple[float, str]:
    dask = shutil.which("dask")
    if dask is None:
        raise SystemExit("the dask command is not on PATH (pip install 'dask[distributed]')")
    info = out.with_suffix(".scheduler.json")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen(
        [
            dask,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        ],
        **quiet,  # type: ignore[call-overload]
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        while not info.exists():
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(2):
            workers.append(
                subprocess.Popen(  # type: ignore[call-overload]
                    [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                    **quiet,
                )
            )
        done = measure(["plan", str(archive), "--settings", str(settings), "--scheduler", address], out, env)
        return done.seconds, digest(out)
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-cluster", action="store_true", help="skip the real dask scheduler + workers")
    parser.add_argument("--no-run", action="store_true", help="skip the run figures")
    parser.add_argument("--no-batch", action="store_true", help="skip the plan --batch figures")
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip the two half-size --workers 1 processes side by side"
    )
    parser.add_argument(
        "--random-ids",
        action="store_true",
        help="bench/replay.py's mix as it is: a random anonymous id per identify, a random account per group call",
    )
    options = parser.parse_args()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    try:
        _bench(options, env)
    finally:
        print(f"load average after: {_load()}")


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def line(what: str, events: int, done: Measured) -> None:
    """One figure: events/s by the wall clock, CPU seconds of all processes, peak RSS."""
    worker = f", largest worker {done.worker_rss:.0f} MiB" if done.worker_rss else ""
    print(
        f"{what:<18} {events / done.seconds:>10,.0f} events/s   {done.seconds:7.1f} s wall   "
        f"{done.cpu:7.1f} s CPU   peak RSS driver {done.driver_rss:.0f} MiB{worker}"
    )


def ceiling(base: list[str], one: Measured, work: Path, env: dict[str, str]) -> None:
    """What this machine's two cores give the command's work without Dask or a driver: two
    `--workers 1` processes started together, one per source of the archive (each half the
    events, every user in both: write_archive alternates the sources file by file), against the
    whole archive in one process (`one`, measured in the same run). A 2-worker speed-up above
    this ratio would mean the halves are cheaper than the whole for another reason."""
    halves = [([*base, "--workers", "1", "--source", f"src{k}"], work / f"half{k}.out") for k in (0, 1)]
    both = measure_together(halves, env)
    print(
        f"{base[0] + ' ceiling':<19}{one.seconds / both.seconds:10.2f}x  (two --workers 1 processes, one per source,"
        f" side by side: {both.seconds:.1f} s wall, {both.cpu:.1f} s CPU between them)"
    )


def _bench(options: argparse.Namespace, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="cio-scale-") as temp:
        work = Path(temp)
        archive = work / "archive"
        started = time.perf_counter()
        files = write_archive(archive, options.events, options.random_ids)
        size = sum(p.stat().st_size for p in archive.rglob("*.gz")) / 2**20
        print(f"archive: {options.events:,} events in {files} gzipped files ({size:.1f} MiB), "
              f"written in {time.perf_counter() - started:.1f} s")  # fmt: skip
        settings = work / "settings.json"
        settings.write_text(json.dumps(SETTINGS))
        base = ["plan", str(archive), "--settings", str(settings)]
        n = options.events
        print(f"load average before: {_load()}")
        one = measure([*base, "--workers", "1"], work / "w1.jsonl", env)
        line("plan --workers 1", n, one)
        two = measure([*base, "--workers", "2"], work / "w2.jsonl", env)
        line("plan --workers 2", n, two)
        same = digest(work / "w1.jsonl") == digest(work / "w2.jsonl")
        rate2 = n / two.seconds
        print(
            f"plan speed-up      {one.seconds / two.seconds:10.2f}x  (target >= 1.7x; output byte-identical: {same})"
        )
        print(
            f"plan target        {'met' if rate2 >= 80_000 else 'NOT met'}: >= 80,000 events/s with 2 workers"
        )
        if not options.no_ceiling:
            ceiling(base, one, work, env)
        hours = 300e6 / (rate2 * 32) / 3600
        print(f"300 M events, 64 cores (linear extrapolation of the 2-worker rate): {hours:.2f} h")
        if not options.no_batch:
            batch1 = measure([*base, "--batch"], work / "b1.jsonl", env)
            line("plan --batch, w1", n, batch1)
            batch2 = measure([*base, "--batch", "--workers", "2"], work / "b2.jsonl", env)
            line("plan --batch, w2", n, batch2)
            same = digest(work / "b1.jsonl") == digest(work / "b2.jsonl")
            print(
                f"batch speed-up     {batch1.seconds / batch2.seconds:10.2f}x  (output byte-identical: {same})"
            )
        if not options.no_run:
            run1 = measure(["run", str(archive), "--json", "--no-progress"], work / "run.json", env)
            line("run --workers 1", n, run1)
            args = ["run", str(archive), "--json", "--no-progress", "--workers", "2"]
            run2 = measure(args, work / "run2.json", env)
            line("run --workers 2", n, run2)
            equal = json.loads((work / "run.json").read_text()) == json.loads(
                (work / "run2.json").read_text()
            )
            print(
                f"run speed-up       {run1.seconds / run2.seconds:10.2f}x  (summary equal to --workers 1: {equal})"
            )
            if not options.no_ceiling:
                ceiling(["run", str(archive), "--json", "--no-progress"], run1, work, env)
            print(
                f"run target         {'met' if n / run2.seconds >= 10_000 else 'NOT met'}: >= 10,000 events/s with 2 workers"
            )
            hours = 300e6 / (n / run2.seconds * 32) / 3600
            print(f"300 M events, 64 cores (linear extrapolation of the 2-worker run rate): {hours:.2f} h")
        if not options.no_cluster:
            seconds, cluster_digest = real_cluster(archive, settings, work / "cluster.jsonl", env)
            print(f"dask scheduler + 2 dask workers: {n / seconds:,.0f} events/s; output identical to --workers 2: "
                  f"{cluster_digest == digest(work / 'w2.jsonl')}")  # fmt: skip


if __name__ == "__main__":
    main()
