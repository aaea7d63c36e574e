"""Identity-partitioned replay: `run`, `snapshot` and `check` with `--workers N` / `--scheduler`.

Where it sits: beside the in-process replay (sandbox.replay.engine), which stays the `--workers 1`
path. The design is docs/scale.md's; in short:

1. The driver reads the events once: each event's mock time (the event clock, over the whole
   input), the requests it makes (traced as the replay will trace them) and their identity keys
   (sandbox.replay.identities), joined into connected components and packed into partitions.
2. Each partition replays its events in input order, each at its global time, in its own
   in-process mock (on a Dask worker, or in this process). It returns, per event, what the
   summary and the golden file need, plus which event created each person and object and which
   events ran a mock verb.
3. The merge makes the result the sequential one: cio_ids and cio_object_ids are renumbered by the
   global order of the events that created them (the mock numbers them from one per-workspace
   counter), people and objects are listed in that order, anonymous events in receipt order
   then storing order, and the 30-day expiry of anonymous events is replayed over the verbs of all
   partitions (the sequential mock deletes expired events at the next verb of anyone, so a
   partition defers its deletions to the merge).

Partitioning refuses what would make the answer depend on other people: batch mode (a batch
request carries several people), segments and campaigns (they are evaluated across people and
clock moves), a fault profile (one random stream across all requests).
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import json
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sandbox.errors import InputError
from sandbox.js.values import JSON, Event
from sandbox.replay.config import Config
from sandbox.replay.events import Located
from sandbox.replay.identities import FLAG, Components, assign, request_keys

PEOPLE_BASE = 0xA3000000
"""The mock's cio_id of its n-th person is `PEOPLE_BASE + n` in 8 hex digits (mock_cio/state/people.py)."""


def refusal(config: Config, *, batch: bool, flag: str = FLAG) -> str | None:
    """Why this config cannot be replayed by partitions (None when it can); `flag` is what asked
    for them (--workers, or --resume with one worker: then the way out is to drop it)."""
    instead = "drop --resume" if flag == "--resume" else "use --workers 1"
    if batch:
        return f"replays single mode only: a batch request carries several people (drop --batch / batch = true, or {instead})"
    if config.segments or config.campaigns:
        return f"segments and campaigns are evaluated across people: {instead} with [[segments]] or [[campaigns]]"
    if config.faults is not None:
        return f"a [faults] profile draws from one random stream across all requests: {instead}"
    return None


def check(config: Config, *, batch: bool, flag: str = FLAG) -> None:
    """An InputError naming `flag` when the config cannot be replayed by partitions."""
    reason = refusal(config, batch=batch, flag=flag)
    if reason is not None:
        raise InputError(reason, flag)


# -- what crosses from a partition to the merge ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One event for a partition: its index in the input, its mock time, where it was read."""

    index: int
    event: Event
    now: float
    where: str | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What the summary reads of one delivered request (sandbox.replay.engine.Delivery's fields)."""

    subscription: str
    action: str
    status: int
    outcome: str
    reasons: tuple[str, ...]
    changes: tuple[Mapping[str, JSON], ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """A payload the destination refused (the summary's view of an `Invalid`)."""

    subscription: str
    action: str
    message: str
    event_index: int


@dataclass(frozen=True, slots=True)
class EventResult:
    index: int
    matched: tuple[str, ...]
    sent: tuple[Sent, ...]
    refused: tuple[Refused, ...]
    entries: tuple[JSON, ...]
    """The event's lines of a golden file's `requests`."""


@dataclass(frozen=True, slots=True)
class Anonymous:
    """An anonymous event still stored when the partition ended (expiry deferred to the merge)."""

    stored_at: int
    seq: int
    anonymous_id: str | None
    received_at: float
    view: JSON


@dataclass(frozen=True, slots=True)
class PartitionResult:
    events: tuple[EventResult, ...]
    people_created: tuple[int, ...]
    """The event index that created the partition's k-th person (cio_id counter k+1)."""
    objects_created: tuple[int, ...]
    verbs: Sequence[int]
    """The event indexes at which a mock verb ran, ascending (an array('q'): 8 bytes each)."""
    verb_times: Sequence[float]
    """The mock time of each of `verbs` (an array('d'))."""
    people: tuple[JSON, ...]
    objects: tuple[JSON, ...]
    anonymous: tuple[Anonymous, ...]
    metrics: tuple[JSON, ...]
    suppressed: tuple[str, ...]
    workspaces: tuple[str, ...]
    counts: tuple[int, int] = (0, 0)
    """How many people and objects the partition's mock holds at the end."""
    summary: Any = None
    """With `replay_partition(summary=True)`: the partition's PartSummary, and `events`, `people`,
    `objects` and `metrics` are empty."""
    keys: frozenset[str] | None = None
    """With `replay_partition(keys=True)`: the identity keys of every request the partition sent
    (sandbox.replay.identities.request_keys); None when a request has none it can give (a cio_id,
    a shape the destination does not send)."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled with the events as one JSON text and the anonymous events as columns: a
        worker's result crosses to the driver (and into a checkpoint) several times faster than
        as one object per event, request and anonymous event (a frozen dataclass is pickled
        through its fields, about 3 µs each way; an unclaimed anonymous id per page view makes
        tens of thousands of them)."""
        fields = tuple(
            _anonymous_columns(self.anonymous) if name == "anonymous" else getattr(self, name)
            for name in self.__slots__
            if name != "events"
        )
        return (_rebuilt, (_encode_events(self.events), *fields))


def _encode_events(events: Sequence[EventResult]) -> str:
    return json.dumps(
        [
            [
                e.index,
                e.matched,
                [[s.subscription, s.action, s.status, s.outcome, s.reasons, s.changes] for s in e.sent],
                [[r.subscription, r.action, r.message, r.event_index] for r in e.refused],
                e.entries,
            ]
            for e in events
        ]
    )


def _anonymous_columns(anonymous: Sequence[Anonymous]) -> tuple[tuple[Any, ...], ...]:
    """The anonymous events as one tuple per field (`map(Anonymous, *columns)` gives them back)."""
    rows = [(a.stored_at, a.seq, a.anonymous_id, a.received_at, a.view) for a in anonymous]
    return tuple(zip(*rows, strict=True)) if rows else ((),) * 5


def _rebuilt(events: str, *fields: Any) -> PartitionResult:
    at = PartitionResult.__slots__.index("anonymous") - 1  # fields has no `events`
    fields = (*fields[:at], tuple(map(Anonymous, *fields[at])), *fields[at + 1 :])
    decoded = tuple(
        EventResult(
            index,
            tuple(matched),
            tuple(Sent(a, b, c, d, tuple(reasons), tuple(changes)) for a, b, c, d, reasons, changes in sent),
            tuple(Refused(*r) for r in refused),
            tuple(entries),
        )
        for index, matched, sent, refused, entries in json.loads(events)
    )
    return PartitionResult(decoded, *fields)


# -- one partition ---------------------------------------------------------------------------------

_LOCK = threading.Lock()
_VERBS: list[float] = []


def _deferred_expire(self: Any, now: float) -> dict[str | None, int]:
    """AnonymousStore.expire while a partition replays: note that a verb ran, delete nothing."""
    _VERBS.append(now)
    return {}


def replay_partition(
    items: Iterable[Item], config: Config, lines: bool = True, summary: bool = False, keys: bool = False
) -> PartitionResult:
    """Replay one partition's events in their own in-process mock (runs on a worker); `lines`: keep
    each event's golden-file lines (snapshot and check need them, run and diff do not); `summary`:
    keep only the partition's run summary and counts (`run`: no per-event results, no views of
    people and objects, so what crosses to the driver does not grow with the events). Partitions
    in one process run one at a time (the mock's expiry is deferred for the whole class)."""
    with deferred_expiry():
        replay = PartitionReplay(config, lines=lines and not summary, summary=summary, keys=keys)
        try:
            for item in items:
                replay.replay(item)
            return replay.result()
        finally:
            replay.close()


@contextlib.contextmanager
def deferred_expiry() -> Iterator[None]:
    """While partitions replay in this process (one at a time, each in one or more mocks): the
    mock's expiry of anonymous events only notes that a verb ran (see PartitionReplay)."""
    from mock_cio.state.anonymous import AnonymousStore

    with _LOCK:
        original = AnonymousStore.expire
        AnonymousStore.expire = _deferred_expire  # type: ignore[method-assign]
        try:
            yield
        finally:
            AnonymousStore.expire = original  # type: ignore[method-assign]
            _VERBS.clear()


class PartitionReplay:
    """One partition's events replayed, one by one, into a fresh in-process mock (inside
    `deferred_expiry`), noting what the merge needs; `result()` at the end. `lines`, `summary`,
    `keys`: as replay_partition; `events=False`: no per-event results either, but the views of
    people and objects (diff compares the end states, not the events)."""

    def __init__(
        self,
        config: Config,
        *,
        lines: bool = True,
        summary: bool = False,
        keys: bool = False,
        events: bool = True,
    ) -> None:
        from sandbox.replay.engine import DEFAULT_START, InProcessTarget, Replayer
        from sandbox.replay.summary import PartSummary

        self._lines = lines
        self._events = events
        self._tally = PartSummary() if summary else None
        self._keys: set[str] | None = set() if keys else None
        self._target = InProcessTarget(config={"CIO_NOW": DEFAULT_START}, journal_on_disk=True)
        self._state = self._target.mock.state
        self._replayer = Replayer(config, self._target, clock="events", explain=False)
        self._results: list[EventResult] = []
        self._people: list[int] = []
        self._objects: list[int] = []
        self._verbs = array("q")
        self._verb_times = array("d")
        self._stored: dict[int, int] = {}  # anonymous seq -> event index
        self._last: float | None = None

    def replay(self, item: Item) -> Any:
        """Replay one event (its EventRecord)."""
        if item.now != self._last:
            self._target.set_clock(item.now)
            self._last = item.now
        _VERBS.clear()
        record = self._replayer.replay(item.event, index=item.index, now=item.now, where=item.where)
        if self._keys is not None:
            try:
                for delivery in record.deliveries:
                    self._keys.update(request_keys(delivery.request, item.where or ""))
            except InputError:
                self._keys = None
        if _VERBS:
            self._verbs.append(item.index)
            self._verb_times.append(item.now)
        for ws in self._state.workspaces.values():  # who and what this event created
            people, objects, stored = self._people, self._objects, self._stored
            if ws.people.created != len(people):
                people.extend([item.index] * (ws.people.created - len(people)))
            if ws.objects.created != len(objects):
                objects.extend([item.index] * (ws.objects.created - len(objects)))
            if ws.anonymous.next_seq != len(stored):
                for seq in range(len(stored) + 1, ws.anonymous.next_seq + 1):
                    stored[seq] = item.index
        if self._tally is None and not self._events:
            return record  # diff's partitions: the end state is all they give
        matched = [s.subscription.name for s in record.trace.subscriptions if s.matched]
        if self._tally is not None:
            self._tally.add_indexed(item.index, matched, record.deliveries, record.invalid)
        else:
            from sandbox.replay import golden

            self._results.append(
                EventResult(
                    item.index,
                    tuple(matched),
                    tuple(
                        Sent(d.subscription, d.action, d.status, d.outcome, d.reasons, d.changes)
                        for d in record.deliveries
                    ),
                    tuple(
                        Refused(i.subscription, i.action, i.message, i.event_index) for i in record.invalid
                    ),
                    tuple(golden.entries(record)) if self._lines else (),
                )
            )
        return record

    def result(self) -> PartitionResult:
        """What the partition's replay gives the merge."""
        from mock_cio.state import views

        state = self._state
        if len(state.workspaces) > 1:
            raise InputError("the requests reached more than one workspace: use --workers 1", FLAG)
        anonymous: list[Anonymous] = []
        person_views: list[JSON] = []
        object_views: list[JSON] = []
        metrics: list[JSON] = []
        suppressed: list[str] = []
        counts = (0, 0)
        tally = self._tally
        for ws in state.workspaces.values():
            counts = (len(ws.people), len(ws.objects))
            suppressed = list(views.workspace_view(ws)["suppressed"])
            anonymous = [
                Anonymous(
                    self._stored[e.seq],
                    e.seq,
                    e.anonymous_id,
                    e.received_at,
                    views.anonymous_event_view(ws, e) if tally is None else None,
                )
                for e in ws.anonymous
            ]
            if tally is None:
                person_views = list(views.people_view(ws))
                object_views = list(views.objects_view(ws))
                metrics = list(views.metrics_view(ws))
        return PartitionResult(
            tuple(self._results),
            tuple(self._people),
            tuple(self._objects),
            self._verbs,
            self._verb_times,
            tuple(person_views),
            tuple(object_views),
            tuple(anonymous),
            tuple(metrics),
            tuple(suppressed),
            tuple(state.workspaces),
            counts,
            tally,
            frozenset(self._keys) if self._keys is not None else None,
        )

    def close(self) -> None:
        self._target.close()


# -- the driver ------------------------------------------------------------------------------------


Done = Callable[[int, PartitionResult], None]
Runner = Callable[[list[list[Item]], Config, Done, bool], None]
"""Replays every group (with golden lines or not), calling `done(position, result)` as each
partition finishes."""


def in_process(groups: list[list[Item]], config: Config, done: Done, lines: bool = True) -> None:
    """Every partition in this process, one after the other (the tests' path)."""
    for position, group in enumerate(groups):
        done(position, replay_partition(group, config, lines))


def replay_from_files(
    files: Sequence[str], indexes: Sequence[int], times: Sequence[float], config: Config, lines: bool = True
) -> PartitionResult:
    """Read a partition's events from the input files themselves (runs on a worker: the events
    never cross from the driver), then replay them. `indexes` (ascending) are the events' places in
    the files read in order, `times` their mock times."""
    from sandbox.replay.events import read_file

    wanted = dict(zip(indexes, times, strict=True))
    last = indexes[-1] if indexes else -1
    items: list[Item] = []
    index = -1
    for file in files:
        if index >= last:
            break
        for entry in read_file(file):
            index += 1
            now = wanted.get(index)
            if now is not None:
                items.append(Item(index, entry.event, now, entry.where))
            if index >= last:
                break
    if len(items) != len(indexes):
        raise InputError("the input changed while it was replayed (fewer events than before)", files[-1])
    return replay_partition(items, config, lines)


def on_dask(client: Any, files: Sequence[str] | None = None) -> Runner:
    """Every partition as a task on `client`'s cluster. With `files` (the input's files, local
    paths the workers can read, in the order they were read), each worker reads its partition's
    events from them; else the events are shipped with the tasks."""

    def run(groups: list[list[Item]], config: Config, done: Done, lines: bool = True) -> None:
        from dask.distributed import as_completed

        shipped = replace(config, _compiled=None)  # compiled again on the worker
        if files is not None:
            # Shipping the events inside the task graph cost more than replaying them (they are
            # pickled, unpickled by the scheduler, pickled again for the worker): the worker
            # reads them again instead, which costs it ~1 s per 100,000 events.
            futures = {
                client.submit(
                    replay_from_files,
                    list(files),
                    [item.index for item in group],
                    [item.now for item in group],
                    shipped,
                    lines,
                    pure=False,
                ): position
                for position, group in enumerate(groups)
            }
        else:
            futures = {
                client.submit(replay_partition, group, shipped, lines, pure=False): position
                for position, group in enumerate(groups)
            }
        for future in as_completed(list(futures)):
            done(futures[future], future.result())

    return run


CHECKPOINT_FORMAT = "cio-sandbox partition 2"


def resumable(runner: Runner, folder: str, report: Callable[[str], object] | None = None) -> Runner:
    """`runner` with each partition's result kept in `folder` when it finishes (`--resume DIR`):
    a rerun loads the partitions whose events and config are unchanged and replays the rest."""
    import hashlib
    import os
    import pickle

    def run(groups: list[list[Item]], config: Config, done: Done, lines: bool = True) -> None:
        make_checkpoint_folder(folder)
        settings = (config.settings, config.subscriptions)
        paths = []
        for group in groups:
            content = pickle.dumps(
                (CHECKPOINT_FORMAT, lines, settings, [(i.index, i.now, i.event) for i in group])
            )
            paths.append(os.path.join(folder, f"partition-{hashlib.sha256(content).hexdigest()[:24]}.pickle"))
        missing = []
        for position, path in enumerate(paths):
            found, result = load_checkpoint(path, is_partition_result, report)
            if found:
                done(position, result)
            else:
                missing.append(position)
        if report is not None:
            resumed = len(groups) - len(missing)
            report(f"resumed {resumed} of {len(groups)} partition(s) from {folder} ({config.file})")

        def save(position: int, result: PartitionResult) -> None:
            save_checkpoint(paths[missing[position]], result)
            done(missing[position], result)

        runner([groups[p] for p in missing], config, save, lines)

    return run


def is_partition_result(value: Any) -> bool:
    """Whether a checkpoint loaded holds a partition's result (`resumable`, keypass.Replaying)."""
    return isinstance(value, PartitionResult)


def make_checkpoint_folder(folder: str) -> None:
    """`--resume DIR`'s folder, created if missing and checked writable (a probe file made and
    removed): an InputError naming it otherwise."""
    import os
    import tempfile

    from sandbox.replay.archive import is_url

    if not folder:
        raise InputError("needs a directory to keep its checkpoints in, got ''", "--resume")
    if is_url(folder):
        raise InputError("--resume keeps its checkpoints in a local directory, not a URL", folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError("not a directory (--resume keeps its checkpoints in a directory)", folder)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create: {exc.strerror or exc}", folder) from None
    try:
        probe, name = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(probe)
        os.remove(name)
    except OSError as exc:
        raise _unwritable(folder, exc) from None


class UnwritableCheckpoint(InputError):
    """--resume DIR's folder refused a checkpoint (the job stops: it is not the input's fault)."""


def _unwritable(folder: str, exc: OSError) -> InputError:
    return UnwritableCheckpoint(f"cannot write checkpoints in it (--resume): {exc.strerror or exc}", folder)


def load_checkpoint(
    path: str, usable: Callable[[Any], bool], note: Callable[[str], object] | None = None
) -> tuple[bool, Any]:
    """(True, the result kept at `path`), or (False, None) when there is none, or when it cannot be
    read or is not a result (`usable` says which are): it is then replayed again and rewritten,
    and `note` is told which file was unreadable."""
    import pickle

    try:
        with open(path, "rb") as handle:
            result = pickle.load(handle)
    except FileNotFoundError:
        return False, None
    except Exception as exc:  # unpickling a damaged file can raise anything
        return _unusable(path, f"{type(exc).__name__}: {exc}", note)
    if not usable(result):
        return _unusable(path, f"holds a {type(result).__name__}, not a result", note)
    return True, result


def _unusable(path: str, why: str, note: Callable[[str], object] | None) -> tuple[bool, Any]:
    if note is not None:
        text = " ".join(why.split())
        note(f"{path}: an unreadable checkpoint ({text[:200]}), computed again and rewritten")
    return False, None


def save_checkpoint(path: str, result: Any) -> None:
    """Keep `result` at `path`: written to a temporary name, then renamed, so a checkpoint is
    whole or absent (an InputError naming the folder when it cannot be written)."""
    import os
    import pickle

    temp = f"{path}.tmp"
    try:
        with open(temp, "wb") as handle:
            pickle.dump(result, handle)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise _unwritable(os.path.dirname(path) or ".", exc) from None


Observer = Callable[[int, Event, list[Any]], None]
"""Told each event's index, the event and its trace under each config, in input order."""


def partition(
    located: Iterable[Located],
    config: Config,
    partitions: int,
    *,
    others: Sequence[Config] = (),
    observe: Observer | None = None,
) -> tuple[list[list[Item]], float | None]:
    """The events grouped by partition (each in input order), and the mock's time after the last.
    With `others`, the keys of every config's requests join (so each config can replay the same
    partitions)."""
    from sandbox.pipeline import trace
    from sandbox.replay.engine import EventClock

    clock = EventClock()
    components = Components()
    tracers = [(c.settings, c.compiled) for c in (config, *others)]
    items: list[Item] = []
    keys: list[str | None] = []
    for index, entry in enumerate(located):
        event = entry.event
        where = entry.where or f"event {index}"
        now = clock.time_for(event)
        traces = []
        found: list[str] = []
        for settings, compiled in tracers:
            try:
                traced = trace(event, settings, compiled, now=now, explain=False)
            except InputError as exc:
                raise InputError(exc.message, where) from None
            traces.append(traced)
            found.extend(
                key
                for sub in traced.subscriptions
                for req in sub.requests
                for key in request_keys(req, where)
            )
        if observe is not None:
            observe(index, event, traces)
        keys.append(components.join(found))
        items.append(Item(index, event, now, entry.where))
    groups: list[list[Item]] = [[] for _ in range(partitions)]
    for item, target in zip(items, assign(components, keys, partitions), strict=True):
        groups[target].append(item)
    return groups, clock.current


@dataclass(frozen=True, slots=True)
class Merged:
    """The partitions' results as the sequential replay would have given them."""

    events: tuple[EventResult, ...]
    state: dict[str, JSON]
    workspaces: tuple[dict[str, JSON], ...]
    expired: int
    expired_changes: int
    parts: tuple[Any, ...] = ()
    """The partitions' PartSummaries (partitions replayed with `summary=True`; `events` is empty)."""
    renames: tuple[Mapping[str, str], ...] = ()

    @property
    def requests(self) -> list[JSON]:
        return [entry for event in self.events for entry in event.entries]


def replay(
    located: Iterable[Located],
    config: Config,
    partitions: int,
    runner: Runner = in_process,
    *,
    lines: bool = True,
) -> Merged:
    """Partition, replay each partition with `runner`, merge (`lines=False`: no golden lines)."""
    return replay_each(located, (config,), partitions, runner, lines=lines)[0]


def replay_each(
    located: Iterable[Located],
    configs: Sequence[Config],
    partitions: int,
    runner: Runner = in_process,
    observe: Observer | None = None,
    *,
    lines: bool = True,
) -> list[Merged]:
    """The same partitions (joined over every config's requests) replayed with each config."""
    groups, end = partition(located, configs[0], partitions, others=configs[1:], observe=observe)
    groups = [group for group in groups if group] or [[]]
    out = []
    for config in configs:
        found: dict[int, PartitionResult] = {}
        runner(groups, config, found.__setitem__, lines)
        out.append(merge([found[position] for position in range(len(groups))], end))
    return out


def snapshot_of(merged: Merged) -> dict[str, JSON]:
    """The merged end state in the shape of `MockCio.snapshot()` as far as people, objects and
    suppressed identifiers go (what sandbox.classic.endstate.normalise reads)."""
    out: dict[str, JSON] = {}
    for workspace in merged.workspaces:
        suppressed = [str(s).split(":", 1) for s in workspace["suppressed"]]
        out[str(workspace["site_id"])] = {
            "people": merged.state["people"],
            "objects": merged.state["objects"],
            "suppressed": [{"kind": kind, "value": value} for kind, value in suppressed],
        }
    return out


def merge(results: Sequence[PartitionResult], end: float | None) -> Merged:
    from mock_cio.state.anonymous import expired, oldest_kept

    renames = _renames(results)
    events = tuple(
        _renamed_event(event, renames[part])
        for part, event in heapq.merge(
            *([(p, e) for e in r.events] for p, r in enumerate(results)), key=lambda pe: pe[1].index
        )
    )
    people = sorted(
        (_renamed(view, renames[p]) for p, r in enumerate(results) for view in r.people),
        key=lambda v: int(str(v["cio_id"]), 16),
    )
    objects = sorted(
        (_renamed(view, renames[p]) for p, r in enumerate(results) for view in r.objects),
        key=lambda v: int(str(v["cio_object_id"])[2:], 16),
    )
    verbs, verb_times = array("q"), array("d")
    for index, at in heapq.merge(*(zip(r.verbs, r.verb_times, strict=True) for r in results)):
        verbs.append(index)
        verb_times.append(at)
    # The first verb that expires an event received at R is the first whose `oldest_kept` is
    # above R: verb times ascend (the event clock), so do their oldest_kept, and one bisection
    # finds it (the first verb time at which `expired(R, now)` holds; tested against that search).
    kept_from = array("d", map(oldest_kept, verb_times))
    remaining: list[Anonymous] = []
    gone = 0
    groups: set[tuple[int, str | None]] = set()
    for r in results:
        for stored in r.anonymous:
            at = _first_verb_after(verbs, stored.stored_at)
            at = max(at, _first_expiring(kept_from, stored.received_at))
            if at < len(verbs):
                gone += 1
                groups.add((verbs[at], stored.anonymous_id))
            else:
                remaining.append(stored)
    remaining.sort(key=lambda a: (a.received_at, a.stored_at, a.seq))
    now = end
    anonymous = [a.view for a in remaining if now is None or not expired(a.received_at, now)]
    metrics = [m for r in results for m in r.metrics]
    state: dict[str, JSON] = {
        "people": people,
        "objects": objects,
        "anonymous_events": anonymous,
        "metrics": metrics,
    }
    sites = sorted({site for r in results for site in r.workspaces})
    workspaces = tuple(
        {
            "site_id": site,
            "people": sum(r.counts[0] for r in results),
            "objects": sum(r.counts[1] for r in results),
            "anonymous_events": len(remaining),
            "suppressed": sorted(s for r in results for s in r.suppressed),
            "metrics": len(metrics),
        }
        for site in sites
    )
    parts = tuple(r.summary for r in results if r.summary is not None)
    return Merged(events, state, workspaces, gone, len(groups), parts, tuple(renames))


def _first_expiring(kept_from: Sequence[float], received_at: float) -> int:
    """The first verb that expires an event received at `received_at`, from the verbs'
    oldest_kept (ascending): the first above it."""
    return bisect.bisect_right(kept_from, received_at)


def _first_verb_after(verbs: Sequence[int], index: int) -> int:
    return bisect.bisect_right(verbs, index)


def _renames(results: Sequence[PartitionResult]) -> list[dict[str, str]]:
    """Per partition: its local cio_ids / cio_object_ids -> the sequential mock's."""
    renames: list[dict[str, str]] = [{} for _ in results]
    people = sorted((index, p, k) for p, r in enumerate(results) for k, index in enumerate(r.people_created))
    for rank, (_, p, k) in enumerate(people, 1):
        renames[p][f"{PEOPLE_BASE + k + 1:08x}"] = f"{PEOPLE_BASE + rank:08x}"
    objects = sorted(
        (index, p, k) for p, r in enumerate(results) for k, index in enumerate(r.objects_created)
    )
    for rank, (_, p, k) in enumerate(objects, 1):
        renames[p][f"ob{k + 1:06x}"] = f"ob{rank:06x}"
    return renames


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(a3[0-9a-f]{6}|ob[0-9a-f]{6,})(?![0-9A-Za-z])")
_ID_KEYS = frozenset(("cio_id", "cio_object_id"))


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """A view with its cio_ids and cio_object_ids renamed."""
    if isinstance(value, dict):
        return {
            k: (names.get(v, v) if k in _ID_KEYS and isinstance(v, str) else _renamed(v, names))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def _renamed_text(value: Any, names: Mapping[str, str]) -> Any:
    """A journal sentence or a response with the ids it mentions renamed."""
    if isinstance(value, str):
        return _ID_IN_TEXT.sub(lambda m: names.get(m.group(1), m.group(1)), value) if names else value
    if isinstance(value, dict):
        return {k: _renamed_text(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed_text(v, names) for v in value]
    return value


def _renamed_event(event: EventResult, names: Mapping[str, str]) -> EventResult:
    if not names:
        return event
    entries = []
    for entry in event.entries:
        if isinstance(entry, dict) and "response" in entry:
            entry = dict(entry)
            for key in ("response", "reasons", "notes"):
                entry[key] = _renamed_text(entry[key], names)
        entries.append(entry)
    sent = tuple(replace(s, reasons=tuple(_renamed_text(list(s.reasons), names))) for s in event.sent)
    return replace(event, sent=sent, entries=tuple(entries))


def _text_renamer(names: Mapping[str, str]) -> Callable[[str], str]:
    return lambda text: _renamed_text(text, names)


class Finished:
    """The merged end state as `Summary.finish` reads a target."""

    name = "in-process mock"

    def __init__(self, merged: Merged) -> None:
        self._merged = merged

    def workspaces(self) -> list[dict[str, JSON]]:
        return [dict(w) for w in self._merged.workspaces]

    def views(self) -> dict[str, JSON]:
        return dict(self._merged.state)


def summarise(merged: Merged, summary: Any) -> None:
    """Add the merged replay to a `Summary` as the sequential run adds its records."""
    if merged.parts:
        summary.add_parts(list(merged.parts), [_text_renamer(names) for names in merged.renames])
    for event in merged.events:
        summary.add_event(list(event.matched), event.sent, event.refused)
    if merged.expired_changes:
        summary.changes["anonymous_events_expired"] += merged.expired_changes
        summary.expired += merged.expired
    summary.finish(Finished(merged))
