"""Identity partitioning of files (local, or URLs each worker opens) on Dask: the partitioning
pass runs on the workers, and the driver never holds the events.

Where it sits: under `run` / `snapshot` / `check --workers N` (and `--scheduler`) when EVENTS are
files the workers can read, and under `diff` (sandbox.replay.diffparts): what a partition does is
a `Work` (`Replaying` here; diff's `Comparing` replays both configs and compares them), and the
keys are those of every config of the work. It does what sandbox.replay.partitioned.partition
does in the driver (docs/scale.md sections 1 and 2), split so that the costly part, tracing every
event, is parallel:

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

import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sandbox.errors import InputError
from sandbox.replay.config import Config
from sandbox.replay.events import is_plain_event
from sandbox.replay.identities import pack

Mapper = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Iterator[Any]]
"""Runs a function over argument tuples (on workers, or in this process), results in order."""


@dataclass(frozen=True, slots=True)
class FileKeys:
    """One file's share of the partitioning pass (computed on a worker)."""

    events: int
    times: bytes
    """array('d'): per event, its own time (`event_time`; NaN when it has none)."""
    plain: bool
    """Event k is the JSON value on line k + 1, for every k (JSON lines: no blank lines, no
    batches, no value over several lines), so a worker can find an event by its line."""
    keys: tuple[str, ...]
    """The distinct identity keys of the file's requests."""
    ends: bytes
    """array('l'): per event, where its keys end in `picks`."""
    picks: bytes
    """array('l'): the events' keys, as indexes into `keys`."""
    error: str | None = None
    """The one-line error that stopped the file (the run stops there)."""


def file_keys(file: str, configs: Sequence[Config], guess: bool = False) -> FileKeys:
    """Trace every event of `file` under each of `configs` and take its requests' identity keys
    (runs on a worker); `guess`: the keys `identities.guessed_keys` reads off the events instead,
    without tracing (a plain file line by line, as replay_files reads it; any other as read_file
    reads it)."""
    from sandbox.replay.events import read_file

    if guess:
        try:
            return _guessed_plain(file, configs)
        except (_NotPlain, OSError, EOFError, zlib.error):
            pass  # read_file reads it, and says what is wrong with it in one line
    return _keys_of(read_file(file), configs, guess)


def _guessed_plain(file: str, configs: Sequence[Config]) -> FileKeys:
    """file_keys(guess=True) of a plain file, each line read as one event (_NotPlain otherwise)."""
    return _keys_of(_plain_entries(file), configs, guess=True)


def _plain_entries(file: str) -> Iterator[Any]:
    """A plain file's events, line by line as replay_files reads them, as read_file's Located;
    each line read by orjson first (see _guessing_event)."""
    from sandbox.replay.events import Located

    number = 0
    for block in _line_blocks(file):
        for raw in block:
            number += 1
            yield Located(_guessing_event(raw, number, file), file, number)


def _guessing_event(raw: bytes, number: int, file: str) -> Any:
    """_line_event for the guessed keys: orjson's value when it reads the line as one plain
    event, else _line_event's. orjson reads what JSON.parse reads, and refuses what it refuses
    (NaN, invalid UTF-8, lone surrogates, a byte order mark: those take _line_event), but keeps
    integers beyond 2^53 exact and integral floats as floats. That can only change a guessed
    key spelled from a number, and a guess is checked against the true keys afterwards; an
    event's time (read from strings), whether the file is plain and how many events it holds
    are the same as _line_event's."""
    try:
        event = _orjson_loads(raw)
    except ValueError:  # orjson.JSONDecodeError
        event = None
    if is_plain_event(event):
        return event
    return _line_event(raw, number, file)


def _line_blocks(file: str) -> Iterator[list[bytes]]:
    """The lines of `file` opened by _binary (those iterating it gives, without their newline), a
    block of whole lines at a time: read _BLOCK bytes at once and split by bytes.split, instead
    of a Python call into the (gzip) reader per line. Memory: a block, not the file."""
    with _binary(file) as handle:
        rest = b""
        while True:
            piece = handle.read(_BLOCK)
            if not piece:
                break
            lines = (rest + piece).split(b"\n") if rest else piece.split(b"\n")
            rest = lines.pop()  # the part after the last newline: the start of a line
            if lines:
                yield lines
        if rest:
            yield [rest]


_BLOCK = 1 << 22
"""Bytes of a file read at once by _line_blocks (4 MiB: a few thousand events)."""


def _keys_of(entries: Iterable[Any], configs: Sequence[Config], guess: bool) -> FileKeys:
    """The FileKeys of a file's events (read_file's Located, in order), every config's keys of an
    event joined; a one-line error in it stops the file (under the first config that meets it)."""
    from sandbox.pipeline import trace
    from sandbox.replay.engine import EventClock, event_time
    from sandbox.replay.identities import guessed_keys, request_keys

    tracers = [(config.settings, config.compiled) for config in configs]
    table: dict[str, int] = {}
    ends = array("l")
    picks = array("l")
    times = array("d")
    plain = True
    clock = EventClock()
    count = 0
    try:
        for entry in entries:
            event = entry.event
            at = event_time(event)
            times.append(_NONE if at is None else at)
            count += 1
            plain = plain and entry.line == count
            where = entry.where
            now = None if guess else clock.advance(at)
            for settings, compiled in tracers:
                if guess:
                    keys: Iterable[str] = guessed_keys(event, compiled)
                else:
                    try:
                        traced = trace(event, settings, compiled, now=now, explain=False)
                    except InputError as exc:
                        raise InputError(exc.message, where) from None
                    keys = [
                        key
                        for sub in traced.subscriptions
                        for request in sub.requests
                        for key in request_keys(request, where)
                    ]
                for key in keys:
                    picks.append(table.setdefault(key, len(table)))
            ends.append(len(picks))
    except InputError as exc:
        return FileKeys(count, b"", False, (), b"", b"", str(exc))
    return FileKeys(count, times.tobytes(), plain, tuple(table), ends.tobytes(), picks.tobytes())


_orjson_loads = orjson.loads

_NONE = float("nan")
"""An event without a time of its own, in FileKeys.times."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The partitions of the input's files: each partition's global event indexes (array('q')
    bytes, ascending) and their mock times (array('d') bytes), and per file its event count and
    whether it is plain JSON lines (FileKeys.plain)."""

    groups: tuple[bytes, ...]
    times: tuple[bytes, ...]
    counts: tuple[int, ...]
    plain: tuple[bool, ...]
    end: float | None


def layout(
    files: Sequence[str], configs: tuple[Config, ...], partitions: int, mapper: Mapper, guess: bool = False
) -> Layout:
    """Trace the files through `mapper` under every config, join identity keys into components
    and pack them (`guess`: the guessed keys, see file_keys)."""
    traced = mapper(file_keys, [(file, configs, guess) for file in files])  # on Dask: submitted now
    from sandbox.replay.engine import EventClock  # so the workers trace while this imports

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
    plain: list[bool] = []
    clock = EventClock()
    now = array("d")
    for part in traced:
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
        plain.append(part.plain)
        own = array("d")
        own.frombytes(part.times)
        now.extend(clock.advance(None if at != at else at) for at in own)  # NaN: no time
    groups = _pack(array("q", (find(key) if key >= 0 else -1 for key in first_keys)), partitions)
    del first_keys
    times = [array("d", (now[i] for i in group)) for group in groups]
    return Layout(
        tuple(g.tobytes() for g in groups),
        tuple(t.tobytes() for t in times),
        tuple(counts),
        tuple(plain),
        clock.current,
    )


def _pack(roots: Sequence[int], partitions: int) -> list[array[int]]:
    """Each partition's event indexes, as `identities.pack` places the events (a root of -1: the
    event has no key)."""
    groups = [array("q") for _ in range(partitions)]
    appends = [group.append for group in groups]
    for index, target in enumerate(pack([root if root >= 0 else None for root in roots], partitions)):
        appends[target](index)
    return groups


@dataclass(frozen=True, slots=True)
class Work:
    """What a partition does with its events (runs on a worker): `configs` are the configs whose
    requests' keys partition the input; a subclass's call gives the partition's result, whose
    `keys` are the true keys of its requests when asked for (None when it cannot give them)."""

    configs: tuple[Config, ...]

    def __call__(self, items: Iterator[Any], keys: bool) -> Any:
        raise NotImplementedError

    def gives(self, result: Any) -> bool:
        """Whether `result` (a checkpoint loaded) is one of this work's results."""
        raise NotImplementedError

    def identity(self) -> tuple[Any, ...]:
        """What the result depends on besides the events (a checkpoint's name): the kind of work,
        each config's settings and subscriptions, and the other fields."""
        from dataclasses import fields

        return tuple(
            [(c.settings, c.subscriptions) for c in self.configs]
            if f.name == "configs"
            else getattr(self, f.name)
            for f in fields(self)
        ) + (type(self).__name__,)


@dataclass(frozen=True, slots=True)
class Replaying(Work):
    """`run` / `snapshot` / `check`: the partition replayed into its mock under its one config, a
    PartitionResult (`lines`, `summary`: as sandbox.replay.partitioned.replay_partition)."""

    lines: bool = True
    summary: bool = False

    def gives(self, result: Any) -> bool:
        from sandbox.replay.partitioned import is_partition_result

        return is_partition_result(result)

    def __call__(self, items: Iterator[Any], keys: bool) -> Any:
        from sandbox.replay.partitioned import replay_partition

        return replay_partition(items, self.configs[0], self.lines, self.summary, keys)


def replay_files(
    files: Sequence[str],
    counts: Sequence[int],
    plain: Sequence[bool],
    indexes: bytes,
    times: bytes,
    work: Work,
    keys: bool = False,
) -> Any:
    """Do `work` with the events at global `indexes` (array('q') bytes, ascending) of `files` at
    mock `times` (array('d') bytes), reading them from the files (runs on a worker): the
    partition's result; `keys`: with its requests' true keys."""
    wanted, at = array("q"), array("d")
    wanted.frombytes(indexes)
    at.frombytes(times)
    return work(_items(files, counts, plain, wanted, at), keys)


class _NotPlain(Exception):
    """A line that does not hold exactly one event after all: read the file the slow way."""


def _items(
    files: Sequence[str],
    counts: Sequence[int],
    plain: Sequence[bool],
    wanted: array[int],
    times: array[float],
) -> Iterator[Any]:
    """The wanted events as partition Items, in order. A file with none of them is not opened;
    in a plain file only the wanted lines are decoded (the others are only split off), else the
    file is read as read_file reads it."""
    from sandbox.replay.events import read_file

    state = [0]  # the next position in `wanted`
    base = 0
    for file, count, simple in zip(files, counts, plain, strict=True):
        if state[0] >= len(wanted):
            return
        if wanted[state[0]] < base + count:
            done = False
            if simple:
                try:
                    yield from _plain_items(file, base, count, wanted, times, state)
                    done = True
                except _NotPlain:
                    pass
            if not done:
                index = base
                for entry in read_file(file):
                    if state[0] < len(wanted) and wanted[state[0]] == index:
                        yield _item(index, entry.event, times[state[0]], entry.where)
                        state[0] += 1
                    index += 1
                    if index >= base + count:
                        break
            if state[0] < len(wanted) and wanted[state[0]] < base + count:
                raise InputError("the input changed while it was replayed (fewer events than before)", file)
        base += count


def _plain_items(
    file: str, base: int, count: int, wanted: array[int], times: array[float], state: list[int]
) -> Iterator[Any]:
    """The wanted events of a plain file. Each line's bytes go to msgspec as they are
    (`read_fast`, which refuses what is not UTF-8, a byte order mark and encoded surrogates);
    a line it leaves, or that is no plain event, and the first line (which may start with a byte
    order mark) are read by `_line_event`, as read_file reads them."""
    from sandbox.js.json import NOT_READ, read_fast
    from sandbox.replay.partitioned import Item

    end = base + count
    first = base  # the index of the block's first line
    for block in _line_blocks(file):
        stop = min(first + len(block), end)
        while state[0] < len(wanted) and wanted[state[0]] < stop:
            index = wanted[state[0]]
            number = index - base + 1
            raw = block[index - first]
            event = read_fast(raw) if number != 1 else NOT_READ
            if type(event) is not dict or not is_plain_event(event):
                event = _line_event(raw, number, file)
            yield Item(index, event, times[state[0]], f"{file}:{number}")
            state[0] += 1
        first += len(block)
        if first >= end or state[0] >= len(wanted):
            return


def _binary(file: str) -> Any:
    """`file` opened for reading bytes: a URL through fsspec, gunzipped when it ends in .gz."""
    import gzip

    from sandbox.replay import archive

    if archive.is_url(file):
        return archive.open_binary(file)
    return gzip.open(file, "rb") if file.endswith(".gz") else open(file, "rb")  # noqa: SIM115


def _line_event(raw: bytes, number: int, file: str) -> Any:
    """The one event on line `number` of a plain file, as read_file reads it; _NotPlain when the
    line holds anything else (no event, several, part of one) or cannot be read."""
    from sandbox.js.json import loads
    from sandbox.replay.events import is_plain_event, parse_text

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotPlain from None
    if number == 1:
        text = text.removeprefix("\ufeff")
    if text.startswith("\ufeff"):
        raise _NotPlain  # a byte order mark past the file's start, which read_file refuses
    try:
        event = loads(text)
    except (ValueError, RecursionError):
        event = None
    # the common line, one event as it is (what parse_text gives for it); any other
    # (a batch, a body without its type, a writeKey, an error) as parse_text reads it
    if not is_plain_event(event):
        try:
            found = parse_text(text, file)
        except InputError:
            raise _NotPlain from None
        if len(found) != 1:
            raise _NotPlain
        event = found[0].event
    return event


def _item(index: int, event: Any, now: float, where: str) -> Any:
    from sandbox.replay.partitioned import Item

    return Item(index, event, now, where)


def replay(
    files: Sequence[str],
    config: Config,
    partitions: int,
    mapper: Mapper,
    *,
    lines: bool = True,
    summary: bool = False,
    resume: str | None = None,
    report: Callable[[str], object] | None = None,
) -> Any:
    """Partition `files` by identity and replay each partition through `mapper`: the merged
    result (sandbox.replay.partitioned.Merged), equal to the sequential replay's. `summary`:
    only what `run` prints (see replay_partition). `resume`, `report`: as `partition_results`."""
    from sandbox.replay.partitioned import merge

    work = Replaying((config,), lines, summary)
    return merge(*partition_results(files, work, partitions, mapper, resume=resume, report=report))


def partition_results(
    files: Sequence[str],
    work: Work,
    partitions: int,
    mapper: Mapper,
    *,
    resume: str | None = None,
    report: Callable[[str], object] | None = None,
) -> tuple[list[Any], float | None]:
    """Partition `files` by identity (the keys of every config of `work`) and do `work` with each
    partition through `mapper`: the partitions' results in order, and the mock's time after the
    last event. `resume`: each file's keys and each partition's result are kept in that folder as
    they arrive, and a rerun loads what is there (`_checkpointing`; `report` is told how many).

    With more than one partition the keys are first guessed (`identities.guessed_keys`, no
    tracing) and the partitions' work done noting their requests' true keys; when no true key is
    in two partitions, that is the result. Otherwise, or when a partition stopped on an error (the
    exact pass reports the first one in input order), the exact pass: every event traced for its
    keys, then the work."""
    from sandbox.replay.partitioned import UnwritableCheckpoint

    exact = [False]  # whether the exact pass runs (after the guessed one): its notes say so

    def told(text: str) -> None:
        if report is not None:
            report(
                f"the guessed partitions did not hold, partitioned again by traced keys: {text}"
                if exact[0]
                else text
            )

    replayer, tracer = mapper, mapper
    if resume is not None:
        replayer, tracer = _checkpointing(mapper, resume, files, work, told, report)
    if partitions > 1:
        try:
            guessed = layout(files, work.configs, partitions, tracer, guess=True)
            results = list(replayer(replay_files, _calls(files, guessed, work, keys=True)))
        except UnwritableCheckpoint:
            raise
        except InputError:  # the exact pass reports the input's first error
            results = []
        if results and _apart(results):
            return results, guessed.end
        exact[0] = True
    plan = layout(files, work.configs, partitions, tracer)
    return list(replayer(replay_files, _calls(files, plan, work))), plan.end


CHECKPOINT_FORMAT = "cio-sandbox files partition 2"


def _checkpointing(
    mapper: Mapper,
    folder: str,
    files: Sequence[str],
    work: Work,
    report: Callable[[str], object] | None,
    note: Callable[[str], object] | None = None,
) -> tuple[Mapper, Mapper]:
    """`--resume DIR` over files: (a mapper for replay_files calls, one for file_keys calls) that
    keep each result in `folder` (`report` is told how many partitions were resumed, `note` which
    checkpoint could not be used). A partition's checkpoint is named by a hash of its call (its
    events' places and times, the work and whether it notes keys) and of the input as it stands:
    every file's name, size and modification time (a URL's as fsspec reports them); a file's keys
    by the file's and the configs' settings and subscriptions. The driver never holds the events."""
    import pickle

    from sandbox.replay import archive
    from sandbox.replay.partitioned import make_checkpoint_folder

    make_checkpoint_folder(folder)
    rules = (CHECKPOINT_FORMAT, [(c.settings, c.subscriptions) for c in work.configs])
    identities = {file: archive.file_identity(file) for file in files}
    everything = pickle.dumps((CHECKPOINT_FORMAT, [identities[file] for file in files]))

    def partition_name(call: tuple[Any, ...]) -> bytes:
        _files, counts, plain, group, times, call_work, keys = call
        return everything + pickle.dumps((counts, plain, group, times, call_work.identity(), keys))

    def keys_name(call: tuple[Any, ...]) -> bytes:
        file, _configs, guess = call
        return pickle.dumps((rules, identities[file], guess))

    def resumed(kept: int, total: int) -> None:
        if report is not None:
            names = ", ".join(c.file for c in work.configs)
            report(f"resumed {kept} of {total} partition(s) from {folder} ({names})")

    return (
        checkpointed(mapper, folder, partition_name, "partition-{}.pickle", resumed, work.gives, note),
        checkpointed(mapper, folder, keys_name, "keys-{}.keys", usable=_is_file_keys, note=note),
    )


def _is_file_keys(value: Any) -> bool:
    return isinstance(value, FileKeys)


def checkpointed(
    mapper: Mapper,
    folder: str,
    name: Callable[[tuple[Any, ...]], bytes],
    pattern: str,
    resumed: Callable[[int, int], None] | None = None,
    usable: Callable[[Any], bool] = lambda result: True,
    note: Callable[[str], object] | None = None,
) -> Mapper:
    """`mapper` with each call's result kept in `folder`, in a file `pattern` names with a hash
    of `name(call)`: a call whose file is there is not run again, the others run and their
    results are written (to a temporary name, then renamed: whole or absent) as they arrive, in
    order. `resumed(kept, calls)` is told how many were loaded. A file that cannot be read, or
    whose result is not `usable`, counts as absent (`note` is told its name)."""
    import hashlib
    import os

    from sandbox.replay.partitioned import load_checkpoint, save_checkpoint

    def run(fn: Callable[..., Any], calls: list[tuple[Any, ...]]) -> Iterator[Any]:
        paths = [
            os.path.join(folder, pattern.format(hashlib.sha256(name(call)).hexdigest()[:24]))
            for call in calls
        ]
        kept: dict[int, Any] = {}
        for position, path in enumerate(paths):
            found, result = load_checkpoint(path, usable, note)
            if found:
                kept[position] = result
        if resumed is not None:
            resumed(len(kept), len(calls))
        fresh = mapper(fn, [call for position, call in enumerate(calls) if position not in kept])
        for position, path in enumerate(paths):
            if position in kept:
                yield kept.pop(position)
                continue
            result = next(fresh)
            save_checkpoint(path, result)
            yield result

    return run


def _calls(files: Sequence[str], plan: Layout, work: Work, keys: bool = False) -> list[tuple[Any, ...]]:
    """replay_files' arguments for each partition of `plan` (one, empty, when there are no events)."""
    return [
        (list(files), plan.counts, plan.plain, group, times, work, keys)
        for group, times in zip(plan.groups, plan.times, strict=True)
        if group
    ] or [(list(files), plan.counts, plan.plain, b"", b"", work, keys)]


def _apart(results: Sequence[Any]) -> bool:
    """Whether no true identity key is in two partitions' results (each noted its keys)."""
    seen: set[str] = set()
    for result in results:
        if result.keys is None or not seen.isdisjoint(result.keys):
            return False
        seen.update(result.keys)
    return True


def in_process(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> Iterator[Any]:
    """A Mapper in this process (the tests' path)."""
    return (fn(*a) for a in args)


def on_dask(client: Any, here: bool = True) -> Mapper:
    """A Mapper on `client`'s cluster: every call a task, all submitted when the mapper is called
    (the workers start while the caller prepares to take the results), results in order. `here`:
    the workers run in this process's working directory (a local cluster); else the files of
    file_keys and replay_files calls go to them as absolute paths (absolute_paths)."""

    def run(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> Iterator[Any]:
        shipped = [tuple(_shipped(a) for a in _located(fn, call, here)) for call in args]
        return _in_order(deque(client.submit(fn, *call, pure=False) for call in shipped))

    return run


def _located(fn: Callable[..., Any], call: tuple[Any, ...], here: bool) -> tuple[Any, ...]:
    """A file_keys or replay_files call with its file(s) as absolute paths, unless `here`."""
    if here:
        return call
    if fn is file_keys:
        return (absolute_paths([call[0]])[0], *call[1:])
    if fn is replay_files:
        return (absolute_paths(call[0]), *call[1:])
    return call


def _in_order(futures: deque[Any]) -> Iterator[Any]:
    """The futures' results in order, each released once taken (the worker drops it); those not
    taken are cancelled when the iteration stops."""
    try:
        while futures:
            yield futures[0].result()
            futures.popleft()
    finally:
        cancel_pending(futures)


def absolute_paths(files: Sequence[str]) -> list[str]:
    """`files` as a cluster's workers find them from their own working directory: local paths made
    absolute (a relative path was read from the worker's directory, not the user's), URLs and `-`
    as they are."""
    import os

    from sandbox.replay import archive

    return [file if file == "-" or archive.is_url(file) else os.path.abspath(file) for file in files]


def cancel_pending(futures: Iterable[Any]) -> None:
    """Cancel the futures not taken, through their client while it is open. A closed client's
    futures went with it, and cancelling through it raises `IOLoop is closed`: a generator that
    holds futures is often closed only after its client (an error's traceback keeps it until the
    command has closed its cluster), and Python would print that as an ignored exception."""
    for future in futures:
        if future.client.status == "running":
            future.cancel()


def _shipped(value: Any) -> Any:
    """A task's argument as it crosses to a worker: configs without their compiled subscriptions
    (compiled again on the worker), also inside a Work or a tuple."""
    from dataclasses import replace

    if isinstance(value, Config):
        return replace(value, _compiled=None)
    if isinstance(value, Work):
        return replace(value, configs=_shipped(value.configs))
    if isinstance(value, tuple) and value and isinstance(value[0], Config):
        return tuple(_shipped(v) for v in value)
    return value
