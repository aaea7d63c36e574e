"""`plan` on Dask: the input's files as partitions, planned independently, written in input order.

Where it sits: under `cio-sandbox plan --workers N` (a local cluster of N worker processes on
this machine) and `--scheduler ADDRESS` (an existing Dask cluster). Single-mode plan is per event,
so each partition (one input file: an archive's `.gz` part, a JSON-lines file) is planned on its
own with the same settings and subscriptions, and its output lines are encoded on the worker.
Once the partitions before it are counted, its worker shifts each line's `event_index` by their
events and sends the partition's output as one UTF-8 buffer, which the driver writes as it is, in
input order: the output is byte for byte what the in-process path writes, and the driver does
almost no work per event (it shares the cores with the workers). At most `2 × workers`
partitions are in flight: memory is bounded by the partition size, not the input size.

Why Dask (distributed): the same code runs on a local cluster of processes and on a cluster
someone already operates (`dask scheduler` / `dask worker`, Kubernetes, YARN), with its own
scheduling, worker restarts and dashboard.
"""

from __future__ import annotations

import gc
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sandbox.errors import InputError, SandboxError

_PREFIX = '{"event_index": '


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """One partition's output: how many events it held, its encoded lines (event indexes counted
    from the partition's start), and the error that stopped it (lines before it are kept)."""

    events: int
    lines: tuple[str, ...]
    error: str | None = None


def plan_partition(file: str, settings: Any, subscriptions: Any, now: float | None = None) -> PartitionPlan:
    """Plan one input file (runs on a worker; its result stays there until `encoded` takes it)."""
    from sandbox.commands.plan import LineEncoder
    from sandbox.pipeline import plan
    from sandbox.replay.events import read_file_events

    counter = [0]

    def events() -> Iterator[Any]:
        for event in read_file_events(file):
            counter[0] += 1
            yield event

    encode = LineEncoder()
    lines: list[str] = []
    try:
        for line in plan(events(), settings, subscriptions, False, now=now):
            lines.append(encode(line))
    except SandboxError as exc:
        return PartitionPlan(counter[0], tuple(lines), str(exc))
    return PartitionPlan(counter[0], tuple(lines))


def counted(result: PartitionPlan) -> tuple[int, str | None]:
    """A partition's event count and error: all the driver needs to place the next one."""
    return result.events, result.error


def encoded(result: PartitionPlan, offset: int, path: str | None = None) -> bytes | str:
    """A partition's lines with event indexes counted from the input's start, as the UTF-8 bytes of
    the output (runs on the worker holding the partition: one buffer crosses to the driver, which
    writes it as it is), or, with `path` (a local cluster's workers share the driver's disk), those
    bytes written to `path`, which is returned."""
    data = b""
    if result.lines:
        moved = result.lines if not offset else [shift(line, offset) for line in result.lines]
        data = ("\n".join(moved) + "\n").encode("utf-8")
    if path is None:
        return data
    with open(path, "wb") as out:
        out.write(data)
    return path


def write_chunks(chunks: Iterator[bytes | str], out: IO[str]) -> None:
    """Write plan_parallel's output to `out`: buffers as they are; spooled files copied by the
    kernel (os.sendfile) when `out` is a file or a pipe, then removed."""
    out.flush()
    raw: IO[bytes] | None = getattr(out, "buffer", None)
    for chunk in chunks:
        if isinstance(chunk, str):
            with open(chunk, "rb") as spooled:
                if raw is not None:
                    raw.flush()
                    _copy(spooled, raw)
                else:  # a text stream without bytes underneath (a test's StringIO)
                    out.write(spooled.read().decode("utf-8"))
            os.remove(chunk)
        elif raw is not None:
            raw.write(chunk)
        else:
            out.write(chunk.decode("utf-8"))
    if raw is not None:
        raw.flush()


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    import shutil

    try:
        fd = target.fileno()
    except (AttributeError, OSError, ValueError):
        shutil.copyfileobj(source, target)
        return
    size = os.fstat(source.fileno()).st_size
    sent = 0
    try:
        while sent < size:
            done = os.sendfile(fd, source.fileno(), sent, size - sent)
            if done == 0:
                break
            sent += done
    except OSError:
        if sent:
            raise
        shutil.copyfileobj(source, target)


def shift(line: str, offset: int) -> str:
    """A plan line with its event index moved by `offset` (every line starts with it)."""
    if not offset:
        return line
    end = line.index(",", len(_PREFIX))
    return f"{_PREFIX}{int(line[len(_PREFIX) : end]) + offset}{line[end:]}"


QUIET = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""A local cluster's periodic housekeeping, slower than Dask's defaults (20 ms, 500 ms, 100 ms):
the event loop's tick (which only measures how late the loop runs, for warnings), the system
monitor (CPU, memory and network figures for the dashboard, which is off) and the memory monitor
(spilling and pausing at the memory limits, which a 1 s look still catches for partitions of a
file each). With Dask's defaults an idle local cluster of 2 workers took about 0.1 s of CPU a
second across its processes, on the cores the workers need; with these, about 0.015."""

PRELOAD = ("sandbox.pipeline", "sandbox.commands.plan", "sandbox.replay.engine", "sandbox.replay.partitioned")
"""Imported once by the local cluster's fork server, so each worker process starts with them."""


def connect(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A Dask client: on the cluster at `scheduler`, else on a new local cluster of `workers`
    processes (one thread each: the plan is pure Python). Returns (client, cluster or None).

    The local workers are forked from a fork server that has imported Dask and the sandbox once
    (Dask's default, spawn, starts each worker as a new interpreter that imports everything again:
    about 0.6 s of CPU a worker, on the cores the job needs), and Dask's statistical profiler,
    which samples the task thread's stack every 10 ms, is off, and its housekeeping is slower
    (QUIET). Each worker's objects so far (Dask's
    and the imported modules') are frozen out of the garbage collector's reach: its collections
    then only look at what the tasks make (4-10% less worker CPU for plan)."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(
            "--workers and --scheduler need dask[distributed] (pip install 'dask[distributed]')"
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", scheduler) from None
        client.run(gc.freeze)
        return client, None
    settings = {
        "distributed.worker.multiprocessing-method": "forkserver",
        "distributed.worker.profile.enabled": False,
        **QUIET,
    }
    with dask.config.set(settings):
        _preload_fork_server()
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.run(gc.freeze)
        return client, cluster


def _preload_fork_server() -> None:
    """Add PRELOAD to the modules Dask's fork server imports (before it starts)."""
    from distributed.utils import get_mp_context

    context = get_mp_context()  # sets Dask's own preload list the first time
    from multiprocessing import forkserver

    current = list(getattr(forkserver._forkserver, "_preload_modules", ()))
    wanted = current + [name for name in PRELOAD if name not in current]
    if wanted != current:
        context.set_forkserver_preload(wanted)


def plan_parallel(
    files: Sequence[str],
    settings: Any,
    subscriptions: Any,
    *,
    now: float | None,
    client: Any,
    in_flight: int,
    progress: Callable[[int], object] | None = None,
    spool: str | None = None,
) -> Iterator[bytes | str]:
    """The output of `files`, in input order, planned on `client`'s workers: one UTF-8 buffer per
    partition, or with `spool` (a directory the workers and the driver share) the path of a file
    in it holding that partition's output (write_chunks writes either).

    Three tasks a partition: plan it (the lines stay on its worker), count it (two numbers cross
    to the driver), then, once the partitions before it are counted, encode it with its indexes
    shifted (on the same worker) and send the bytes. The driver only writes buffers in order. At
    most `in_flight` partitions are planned ahead of the one being written."""
    planned: deque[tuple[Any, Any]] = deque()
    upcoming = iter(files)
    outputs: deque[tuple[Any, int, str | None]] = deque()
    offset = 0
    stopped = False  # a partition failed: place nothing after it
    placed = 0

    def submit() -> bool:
        file = next(upcoming, None)
        if file is None:
            return False
        result = client.submit(plan_partition, file, settings, subscriptions, now, pure=False)
        planned.append((result, client.submit(counted, result, pure=False, priority=1)))
        return True

    try:
        for _ in range(max(1, in_flight)):
            if not submit():
                break
        while outputs or (planned and not stopped):
            # place every partition already counted (cheap), then write the oldest buffer
            while planned and not stopped and (not outputs or planned[0][1].done()):
                result, count = planned.popleft()
                events, error = count.result()
                placed += 1
                path = None if spool is None else os.path.join(spool, f"part-{placed}")
                future = client.submit(encoded, result, offset, path, pure=False, priority=2)
                outputs.append((future, events, error))
                offset += events
                stopped = error is not None
                if not stopped:
                    submit()
            future, events, error = outputs.popleft()
            yield future.result()
            if error is not None:
                raise InputError(error)
            if progress is not None:
                progress(events)
    finally:
        for result, count in planned:
            count.cancel()
            result.cancel()
        for future, _, _ in outputs:
            future.cancel()
