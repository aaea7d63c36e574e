"""`plan` on Dask: the input's files as partitions, planned independently, written in input order.

Where it sits: under `cio-sandbox plan --workers N` (a local cluster of N worker processes on
this machine) and `--scheduler ADDRESS` (an existing Dask cluster). Single-mode plan is per event,
so each partition (one input file: an archive's `.gz` part, a JSON-lines file) is planned on its
own with the same settings and subscriptions, and its output lines are encoded on the worker.
The driver then writes partitions strictly in input order, shifting each line's `event_index` by
the events of the partitions before it, so the output is byte for byte what the in-process path
writes. At most `2 × workers` partitions are in flight: memory is bounded by the partition size,
not the input size.

Why Dask (distributed): the same code runs on a local cluster of processes and on a cluster
someone already operates (`dask scheduler` / `dask worker`, Kubernetes, YARN), with its own
scheduling, worker restarts and dashboard.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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
    """Plan one input file (runs on a worker)."""
    from sandbox.commands.plan import LineEncoder
    from sandbox.pipeline import plan
    from sandbox.replay.events import read_file

    counter = [0]

    def events() -> Iterator[Any]:
        for located in read_file(file):
            counter[0] += 1
            yield located.event

    encode = LineEncoder()
    lines: list[str] = []
    try:
        for line in plan(events(), settings, subscriptions, False, now=now):
            lines.append(encode(line))
    except SandboxError as exc:
        return PartitionPlan(counter[0], tuple(lines), str(exc))
    return PartitionPlan(counter[0], tuple(lines))


def shift(line: str, offset: int) -> str:
    """A plan line with its event index moved by `offset` (every line starts with it)."""
    if not offset:
        return line
    end = line.index(",", len(_PREFIX))
    return f"{_PREFIX}{int(line[len(_PREFIX) : end]) + offset}{line[end:]}"


def connect(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A Dask client: on the cluster at `scheduler`, else on a new local cluster of `workers`
    processes (one thread each: the plan is pure Python). Returns (client, cluster or None)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(
            "--workers and --scheduler need dask[distributed] (pip install 'dask[distributed]')"
        ) from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", scheduler) from None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def plan_parallel(
    files: Sequence[str],
    settings: Any,
    subscriptions: Any,
    *,
    now: float | None,
    client: Any,
    in_flight: int,
    progress: Callable[[int], object] | None = None,
) -> Iterator[str]:
    """Every plan line of `files`, in input order, planned on `client`'s workers."""
    pending: deque[Any] = deque()
    upcoming = iter(files)
    offset = 0

    def submit() -> bool:
        file = next(upcoming, None)
        if file is None:
            return False
        pending.append((file, client.submit(plan_partition, file, settings, subscriptions, now, pure=False)))
        return True

    for _ in range(max(1, in_flight)):
        if not submit():
            break
    while pending:
        file, future = pending.popleft()
        result: PartitionPlan = future.result()
        submit()
        for line in result.lines:
            yield shift(line, offset)
        if result.error is not None:
            for _, rest in pending:
                rest.cancel()
            raise InputError(result.error)
        offset += result.events
        if progress is not None:
            progress(result.events)
