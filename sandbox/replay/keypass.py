"""Identity partitioning of local files on Dask: the partitioning pass runs on the workers, and
the driver never holds the events.

Where it sits: under `run` / `snapshot` / `check --workers N` (and `--scheduler`) when EVENTS are
files the workers can read. It does what sandbox.replay.partitioned.partition does in the driver
(docs/scale.md sections 1 and 2), split so that the costly part, tracing every event, is
parallel:

1. Each input file is traced on a worker (`file_keys`): per event, the identity keys of the
   requests it makes, as indexes into the file's table of distinct keys, and the file's part of
   the event clock (its first event's time, its latest time). Tracing uses a clock started at the
   file: an event's time only changes timestamps in its requests, never the identifiers the keys
   are read from.
2. The driver joins the keys of each event (union-find over key numbers), keeping one number per
   event (memory: a machine word per event and one entry per distinct identity, not the events),
   and works out the event clock where each file starts. Components are packed onto partitions
   as before; events that send nothing (no keys) fill the least loaded partition.
3. Each partition replays on a worker that reads its events from the files itself
   (`replay_files`), skipping files without any of them and computing each event's global time
   from the file's clock start, exactly as one sequential pass would (sandbox.replay.engine's
   EventClock).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.errors import InputError
from sandbox.replay.config import Config

Mapper = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Iterator[Any]]
"""Runs a function over argument tuples (on workers, or in this process), results in order."""


@dataclass(frozen=True, slots=True)
class FileKeys:
    """One file's share of the partitioning pass (computed on a worker)."""

    events: int
    first: float | None
    """The first event's own time (None: it has none, or the file has no events)."""
    latest: float | None
    """The latest time of an event that has one."""
    keys: tuple[str, ...]
    """The distinct identity keys of the file's requests."""
    ends: bytes
    """array('l'): per event, where its keys end in `picks`."""
    picks: bytes
    """array('l'): the events' keys, as indexes into `keys`."""
    error: str | None = None
    """The one-line error that stopped the file (the run stops there)."""


def file_keys(file: str, config: Config) -> FileKeys:
    """Trace every event of `file` and take its requests' identity keys (runs on a worker)."""
    from sandbox.pipeline import trace
    from sandbox.replay.engine import EventClock, event_time
    from sandbox.replay.events import read_file
    from sandbox.replay.identities import request_keys

    settings, compiled = config.settings, config.compiled
    table: dict[str, int] = {}
    ends = array("l")
    picks = array("l")
    first: float | None = None
    latest: float | None = None
    clock = EventClock()
    count = 0
    try:
        for entry in read_file(file):
            event = entry.event
            at = event_time(event)
            if count == 0:
                first = at
            if at is not None and (latest is None or at > latest):
                latest = at
            count += 1
            where = entry.where
            try:
                traced = trace(event, settings, compiled, now=clock.time_for(event), explain=False)
            except InputError as exc:
                raise InputError(exc.message, where) from None
            for sub in traced.subscriptions:
                for request in sub.requests:
                    for key in request_keys(request, where):
                        picks.append(table.setdefault(key, len(table)))
            ends.append(len(picks))
    except InputError as exc:
        return FileKeys(count, first, latest, (), b"", b"", str(exc))
    return FileKeys(count, first, latest, tuple(table), ends.tobytes(), picks.tobytes())


def clock_after(start: float | None, part: FileKeys) -> float | None:
    """The event clock after a file whose events start at clock `start` (EventClock.time_for
    over the file's events, from its first event's time and its latest)."""
    from sandbox.replay.engine import DEFAULT_START

    if not part.events:
        return start
    if start is None:
        start = part.first if part.first is not None else DEFAULT_START
    return start if part.latest is None or part.latest <= start else part.latest


@dataclass(frozen=True, slots=True)
class Layout:
    """The partitions of the input's files: each partition's global event indexes (array('q')
    bytes, ascending), and per file its event count and the clock where it starts."""

    groups: tuple[bytes, ...]
    counts: tuple[int, ...]
    starts: tuple[float | None, ...]
    end: float | None


def layout(files: Sequence[str], config: Config, partitions: int, mapper: Mapper) -> Layout:
    """Trace the files through `mapper`, join identity keys into components and pack them."""
    ids: dict[str, int] = {}
    parent: list[int] = []

    def find(key: int) -> int:
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:  # path compression
            parent[key], key = root, parent[key]
        return root

    first_keys = array("q")
    counts: list[int] = []
    starts: list[float | None] = []
    clock: float | None = None
    for part in mapper(file_keys, [(file, config) for file in files]):
        if part.error is not None:
            raise InputError(part.error)
        local = [ids.setdefault(key, len(ids)) for key in part.keys]
        parent.extend(range(len(parent), len(ids)))
        ends, picks = array("l"), array("l")
        ends.frombytes(part.ends)
        picks.frombytes(part.picks)
        begin = 0
        for end in ends:
            if end == begin:
                first_keys.append(-1)
                continue
            root = find(local[picks[begin]])
            for position in range(begin + 1, end):
                other = find(local[picks[position]])
                if other != root:
                    if other < root:
                        root, other = other, root
                    parent[other] = root
            first_keys.append(local[picks[begin]])
            begin = end
        counts.append(part.events)
        starts.append(clock)
        clock = clock_after(clock, part)
    groups = _pack([find(key) if key >= 0 else -1 for key in first_keys], partitions)
    return Layout(tuple(g.tobytes() for g in groups), tuple(counts), tuple(starts), clock)


def _pack(roots: list[int], partitions: int) -> list[array[int]]:
    """Each event's partition: components largest first onto the least loaded partition (ties:
    the lowest number), then each event with no keys onto the least loaded one."""
    sizes: dict[int, int] = {}
    for root in roots:
        if root >= 0:
            sizes[root] = sizes.get(root, 0) + 1
    load = [0] * partitions
    where: dict[int, int] = {}
    for root, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(partitions), key=lambda p: (load[p], p))
        where[root] = target
        load[target] += size
    groups = [array("q") for _ in range(partitions)]
    for index, root in enumerate(roots):
        if root >= 0:
            groups[where[root]].append(index)
        else:
            target = min(range(partitions), key=lambda p: (load[p], p))
            load[target] += 1
            groups[target].append(index)
    return groups


def replay_files(
    files: Sequence[str],
    counts: Sequence[int],
    starts: Sequence[float | None],
    indexes: bytes,
    config: Config,
    lines: bool = True,
    summary: bool = False,
) -> Any:
    """Replay the events at global `indexes` (array('q') bytes, ascending) of `files`, reading
    them from the files (runs on a worker): a partition's PartitionResult (`lines`, `summary`: as
    sandbox.replay.partitioned.replay_partition)."""
    from sandbox.replay.partitioned import replay_partition

    wanted = array("q")
    wanted.frombytes(indexes)
    return replay_partition(_items(files, counts, starts, wanted), config, lines, summary)


def _items(
    files: Sequence[str], counts: Sequence[int], starts: Sequence[float | None], wanted: array[int]
) -> Iterator[Any]:
    from sandbox.replay.engine import EventClock
    from sandbox.replay.events import read_file
    from sandbox.replay.partitioned import Item

    pointer, total = 0, len(wanted)
    base = 0
    for file, count, start in zip(files, counts, starts, strict=True):
        if pointer >= total:
            return
        if wanted[pointer] >= base + count:
            base += count
            continue
        clock = EventClock(start)
        index = base
        for entry in read_file(file):
            now = clock.time_for(entry.event)
            if pointer < total and wanted[pointer] == index:
                yield Item(index, entry.event, now, entry.where)
                pointer += 1
            index += 1
        if index != base + count:
            raise InputError("the input changed while it was replayed (not the events read before)", file)
        base += count


def replay(
    files: Sequence[str],
    config: Config,
    partitions: int,
    mapper: Mapper,
    *,
    lines: bool = True,
    summary: bool = False,
) -> Any:
    """Partition `files` by identity and replay each partition through `mapper`: the merged
    result (sandbox.replay.partitioned.Merged), equal to the sequential replay's. `summary`:
    only what `run` prints (see replay_partition)."""
    from sandbox.replay.partitioned import merge

    plan = layout(files, config, partitions, mapper)
    groups = [g for g in plan.groups if g] or [b""]
    args = [(list(files), plan.counts, plan.starts, group, config, lines, summary) for group in groups]
    return merge(list(mapper(replay_files, args)), plan.end)


def in_process(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> Iterator[Any]:
    """A Mapper in this process (the tests' path)."""
    return (fn(*a) for a in args)


def on_dask(client: Any) -> Mapper:
    """A Mapper on `client`'s cluster: every call a task, results in order."""
    from dataclasses import replace

    def run(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> Iterator[Any]:
        shipped = [
            tuple(replace(a, _compiled=None) if isinstance(a, Config) else a for a in call) for call in args
        ]
        futures = [client.submit(fn, *call, pure=False) for call in shipped]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    return run
