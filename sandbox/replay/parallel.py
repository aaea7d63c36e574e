"""`plan` on Dask: the input's files as partitions, planned independently, written in input order.

Where it sits: under `cio-sandbox plan --workers N` (a local cluster of N worker processes on
this machine) and `--scheduler ADDRESS` (an existing Dask cluster). Single-mode plan is per event,
so each partition (one input file: an archive's `.gz` part, a JSON-lines file) is planned on its
own with the same settings and subscriptions, in one task: its worker encodes each output line
once, without its `event_index` (the index is kept as a number). The driver takes the partitions
in input order and writes each one's lines with their indexes moved by the events before it, in
one join per partition (no Python code per line): the output is byte for byte what the
in-process path writes. One task a partition, not three (plan, count, then shift once the
partitions before it are counted): a Dask task costs about 5 ms of CPU across the processes on
this machine's local cluster. On a local cluster the workers pass their plans through spool files
(the driver's disk), not Dask's connections. At most `2 × workers` partitions are in flight:
memory is bounded by the partition size, not the input size.

Batch mode (`plan --batch --workers N`) cuts each subscription's chunks across the whole input,
so a partition cannot be planned alone; what each event becomes on its own can. A task prepares
a partition (Compiled.prepared: per subscription, each matched event's mapping, validation,
mapPayload and buildPayload, or the stage that stopped it), and the driver takes the partitions
in input order and cuts each subscription's chunks as they fill (Compiled.chunk_lines_or_stop),
as the in-process batch mode does: the same lines, byte for byte. The driver holds a chunk and a
partition's results per subscription; the lines are spooled by subscription and written at the
end (plan_output.write_by_subscription).

Why Dask (distributed): the same code runs on a local cluster of processes and on a cluster
someone already operates (`dask scheduler` / `dask worker`, Kubernetes, YARN), with its own
scheduling, worker restarts and dashboard.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from sandbox.commands.plan_output import INDEX_PREFIX
from sandbox.errors import InputError, SandboxError
from sandbox.replay.keypass import cancel_pending

if TYPE_CHECKING:  # pragma: no cover
    from urllib.parse import SplitResult


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """One partition's output: how many events it held, its lines (each is `{"event_index": `, the
    event index counted from the partition's start, then its tail: `indexes[k]` and line k of
    `tails`, the tails' UTF-8 joined by newlines, which a JSON text never holds), and the error
    that stopped it (lines before it are kept). The tails are bytes: encoded once, on the worker,
    they cross to the driver and are written with no decoding or encoding there."""

    events: int
    indexes: array[int]
    tails: bytes
    error: str | None = None

    def output(self, offset: int) -> bytes:
        """The lines with their event indexes moved by `offset` (the events of the partitions
        before), as the UTF-8 bytes of the output: one join of the pieces (the numbers made by
        map, no Python code per line)."""
        if not self.indexes:
            return b""
        tails = self.tails.split(b"\n")
        pieces = [_NEXT] * (3 * len(tails))
        pieces[0] = _PREFIX_BYTES
        pieces[1::3] = map(b"%d".__mod__, map(offset.__add__, self.indexes))
        pieces[2::3] = tails
        pieces.append(b"\n")
        return b"".join(pieces)


_PREFIX_BYTES = INDEX_PREFIX.encode("ascii")
_NEXT = b"\n" + _PREFIX_BYTES


def plan_partition(
    file: str, settings: Any, subscriptions: Any, now: float | None = None, path: str | None = None
) -> PartitionPlan | tuple[int, str | None, str]:
    """Plan one input file (runs on a worker), encoding each line once, without its event index
    (plan_output.single_mode_tails). Returns the PartitionPlan, or with `path` (a local
    cluster's workers share the driver's disk) writes it there, pickled, and returns its event
    count, error and `path`."""
    from sandbox.commands.plan_output import LineEncoder, single_mode_tails
    from sandbox.replay.events import read_file_events

    counter = [0]

    def events() -> Iterator[Any]:
        for event in read_file_events(file):
            counter[0] += 1
            yield event

    indexes = array("q")
    tails: list[str] = []
    error = None
    try:
        for index, tail in single_mode_tails(
            events(), settings, subscriptions, now=now, encoder=LineEncoder()
        ):
            indexes.append(index)
            tails.append(tail)
    except SandboxError as exc:
        error = str(exc)
    text = "\n".join(tails)
    if text.count("\n") != len(tails) - (1 if tails else 0):  # pragma: no cover - JSON text has none
        raise AssertionError("a plan line holds a newline")
    return _spooled(PartitionPlan(counter[0], indexes, text.encode("utf-8"), error), path)


@dataclass(frozen=True, slots=True)
class PartitionBatch:
    """One partition's part of batch mode: how many events it held and, for each subscription in
    order, the indexes of the events it matched (counted from the partition's start) with what
    each became on its own (Compiled.prepared); or the error that stopped its reading."""

    events: int
    subscriptions: tuple[tuple[array[int], list[Any]], ...]
    error: str | None = None


def prepare_partition(
    file: str, settings: Any, subscriptions: Any, now: float | None = None, path: str | None = None
) -> PartitionBatch | tuple[int, str | None, str]:
    """Prepare one input file for batch mode (runs on a worker): its events read whole (as the
    in-process batch mode holds them, `_held`), matched, and prepared per subscription. Returns
    the PartitionBatch, or with `path` writes it there, pickled (see plan_partition)."""
    from sandbox.commands.plan import _held
    from sandbox.pipeline import compile_subscriptions
    from sandbox.replay.events import read_file_events

    compiled = compile_subscriptions(subscriptions)
    try:
        events = _held(read_file_events(file))
    except SandboxError as exc:
        result = PartitionBatch(0, (), str(exc))
    else:
        result = PartitionBatch(
            len(events),
            tuple(
                (array("q", matched), sub.prepared(events, matched, settings, now))
                for sub, matched in zip(compiled, compiled.matching(events), strict=True)
            ),
        )
    return _spooled(result, path)


def _spooled(result: Any, path: str | None) -> Any:
    """`result` itself, or with `path` (a local cluster's shared disk) pickled there, with its
    event count, error and path returned instead."""
    if path is None:
        return result
    with open(path, "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    return result.events, result.error, path


def _load(done: Any) -> Any:
    """A partition's result on the driver: as returned, or read from its spool file (then removed)."""
    if isinstance(done, (PartitionPlan, PartitionBatch)):
        return done
    path = done[2]
    with open(path, "rb") as spooled:
        result = pickle.load(spooled)
    os.remove(path)
    if not isinstance(result, (PartitionPlan, PartitionBatch)):  # pragma: no cover - written by a task
        raise TypeError(f"not a partition's result: {path}")
    return result


def write_chunks(chunks: Iterator[bytes], out: IO[str]) -> None:
    """Write plan_parallel's output buffers to `out`, as they are."""
    out.flush()
    raw: IO[bytes] | None = getattr(out, "buffer", None)
    for chunk in chunks:
        if raw is not None:
            raw.write(chunk)
        else:  # a text stream without bytes underneath (a test's StringIO)
            out.write(chunk.decode("utf-8"))
    if raw is not None:
        raw.flush()


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
    if scheduler is not None and workers != 1:
        raise InputError(
            "starts a local cluster, and --scheduler uses an existing one: give one of them", "--workers"
        )
    if scheduler is None:
        _start_fork_server()
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(
            "--workers and --scheduler need dask[distributed] (pip install 'dask[distributed]')"
        ) from None
    if scheduler is not None:
        _check_listening(scheduler, _address(scheduler))
        _check_answers(scheduler)
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", scheduler) from None
        _wait_for_a_worker(client, scheduler)
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
            # the scheduler's HTTP server (health and metrics routes) starts without a dashboard
            # too, on port 8787 by default: Dask warns on stderr when that port is taken
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.run(gc.freeze)
        return client, cluster


CONNECT_TIMEOUT = 10.0
"""Seconds `--scheduler ADDRESS` has to accept a connection and answer it."""

WORKERS_TIMEOUT = 10.0
"""Seconds `--scheduler ADDRESS` has to have a worker (a job on a cluster without any waits forever)."""


def _address(scheduler: str) -> SplitResult:
    """The address's parts (no scheme means tcp://); an InputError for one no connection can
    have, a port beyond 65535 say (Dask would retry it for the whole CONNECT_TIMEOUT)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
        parts.port  # noqa: B018 - read to check it: urlsplit leaves it to the attribute
    except ValueError as exc:
        raise InputError(f"not a scheduler address: {exc}", scheduler) from None
    return parts


_TCP_SCHEMES = frozenset(("tcp", "tls", "ws", "wss"))
DEFAULT_SCHEDULER_PORT = 8786
"""Dask's: an address without a port means this one."""


def _check_listening(scheduler: str, parts: SplitResult) -> None:
    """An InputError at once when nothing listens at a TCP address (a refused connection, an
    unknown host): Dask's connect retries those for the whole CONNECT_TIMEOUT. Other protocols
    (ucx, inproc) are left to Dask."""
    import socket

    if parts.scheme not in _TCP_SCHEMES or not parts.hostname:
        return
    port = parts.port or DEFAULT_SCHEDULER_PORT
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT):
            pass
    except ConnectionRefusedError:
        raise InputError(
            f"cannot reach the Dask scheduler: nothing listens on port {port} (connection refused)", scheduler
        ) from None
    except socket.gaierror as exc:
        raise InputError(
            f"cannot reach the Dask scheduler: unknown host {parts.hostname!r} ({exc.strerror})", scheduler
        ) from None
    except TimeoutError:
        raise InputError(
            f"cannot reach the Dask scheduler: no answer within {CONNECT_TIMEOUT:g} s", scheduler
        ) from None
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler: {exc.strerror or exc}", scheduler) from None


def _check_answers(scheduler: str) -> None:
    """An InputError unless a Dask server at `scheduler` answers a connection (its handshake)
    within CONNECT_TIMEOUT. The Client's own timeout bounds the TCP connection only: after it,
    Dask waits for the handshake with no bound, so a port that accepts and never answers would
    hang the job."""
    import asyncio

    from distributed.comm import connect as open_comm
    from distributed.security import Security

    async def probe() -> None:
        arguments = Security().get_connection_args("client")
        comm = await asyncio.wait_for(
            open_comm(scheduler, timeout=CONNECT_TIMEOUT, **arguments), CONNECT_TIMEOUT
        )
        await comm.close()

    try:
        asyncio.run(probe())
    except TimeoutError:
        raise InputError(
            f"cannot reach the Dask scheduler: no answer within {CONNECT_TIMEOUT:g} s", scheduler
        ) from None
    except Exception as exc:  # whatever answered is no Dask scheduler, or nothing did
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot reach the Dask scheduler: {text}", scheduler) from None


def _wait_for_a_worker(client: Any, scheduler: str) -> None:
    """An InputError (the client closed) unless the cluster has a worker within WORKERS_TIMEOUT."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        client.close()
        raise InputError(
            f"the Dask scheduler has no workers (none joined within {WORKERS_TIMEOUT:g} s)", scheduler
        ) from None


def _start_fork_server() -> None:
    """Start the local cluster's fork server now, before this process imports Dask: the server
    imports Dask and PRELOAD (about 0.45 s of CPU) on one core while this process imports Dask
    (about 0.4 s) on the other, instead of one after the other. Its modules are then those of
    Dask's own list (distributed, which imports the rest of it) and PRELOAD."""
    import multiprocessing
    from importlib.util import find_spec
    from multiprocessing import forkserver

    if find_spec("distributed") is None:  # pragma: no cover - a dependency; connect reports it
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", *PRELOAD])
    forkserver.ensure_running()


def _preload_fork_server() -> None:
    """Add PRELOAD to the modules Dask's fork server imports (before it starts)."""
    from distributed.utils import get_mp_context

    context = get_mp_context()  # sets Dask's own preload list the first time
    from multiprocessing import forkserver

    current = list(getattr(forkserver._forkserver, "_preload_modules", ()))
    wanted = current + [name for name in PRELOAD if name not in current]
    if wanted != current:
        context.set_forkserver_preload(wanted)


@dataclass(frozen=True, slots=True)
class Partitions:
    """Where a plan's partitions run: the input files (one partition each, in input order), the
    Dask client of the workers, how many partitions may be planned ahead of the one the driver
    takes, and the spool: a directory the workers and the driver share (a local cluster), through
    which each partition's result comes instead of Dask's connections (None: through them)."""

    files: Sequence[str]
    client: Any
    in_flight: int
    spool: str | None = None

    def results(self, task: Callable[..., Any], args: tuple[Any, ...]) -> Iterator[Any]:
        """`task(file, *args, path)` for each file on the workers, the results in input order
        (read from the spool file `path` when there is a spool), at most `in_flight` ahead of
        the one given; after a result with an error nothing more is submitted."""
        pending: deque[Any] = deque()
        upcoming = iter(enumerate(self.files))

        def submit() -> None:
            number, file = next(upcoming, (0, None))
            if file is None:
                return
            path = None if self.spool is None else os.path.join(self.spool, f"part-{number}")
            pending.append(self.client.submit(task, file, *args, path, pure=False))

        try:
            for _ in range(max(1, self.in_flight)):
                submit()
            while pending:
                part = _load(pending.popleft().result())
                if part.error is None:
                    submit()
                yield part
        finally:
            cancel_pending(pending)


def plan_parallel(
    partitions: Partitions,
    settings: Any,
    subscriptions: Any,
    *,
    now: float | None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """The output of the partitions' files, in input order, planned on their workers: one UTF-8
    buffer per partition (write_chunks writes them).

    One task a partition: plan it and encode its lines without their event indexes. The driver
    takes the partitions in order and writes each one's lines with their indexes moved by the
    events before it (PartitionPlan.output)."""
    offset = 0
    for part in partitions.results(plan_partition, (settings, subscriptions, now)):
        yield part.output(offset)
        offset += part.events
        if part.error is not None:
            raise InputError(part.error)
        if progress is not None:
            progress(part.events)


def plan_parallel_batch(
    partitions: Partitions,
    settings: Any,
    subscriptions: Any,
    *,
    now: float | None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Batch mode for the partitions' files (read in input order as one stream of events),
    prepared on their workers, as `pipeline.plan_batch_streamed` gives it: (subscription
    position, PlanLine or Stopped), each chunk's lines as soon as it fills
    (`plan_output.write_by_subscription` writes them). Each partition's events go through each
    subscription's mapping, validation, mapPayload and buildPayload on their own
    (prepare_partition); the driver takes the partitions in input order, moves their indexes by
    the events before them, and cuts each subscription's chunks across the whole input
    (Compiled.chunk_lines_or_stop), as the in-process batch mode does. It holds a chunk and a
    partition's results per subscription, not the input's. A partition that cannot be read
    raises (nothing is written: the lines are written once all are in)."""
    from sandbox.pipeline import BatchChunks, compile_subscriptions

    compiled = compile_subscriptions(subscriptions)
    chunks = BatchChunks(compiled, settings, lambda sub, prepared: prepared)
    offset = 0
    for part in partitions.results(prepare_partition, (settings, subscriptions, now)):
        if part.error is not None:
            raise InputError(part.error)
        for position, (local, items) in enumerate(part.subscriptions):
            yield from chunks.add(position, map(offset.__add__, local), items)
        offset += part.events
        if progress is not None:
            progress(part.events)
    yield from chunks.finish()
