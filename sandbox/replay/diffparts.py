"""`cio-sandbox diff --workers N / --scheduler / --resume` over files and URLs, on the workers' pass.

Where it sits: under `diff` when EVENTS are files the workers can read (standard input takes
sandbox.replay.diffing.compare_partitioned). It is sandbox.replay.keypass's pass with another
partition's work: the key pass joins the identity keys of both configs' requests (guessed, then
checked against the true keys of both configs' requests, else exact), and each partition
(`Comparing`, on a worker that reads its events from the files) replays its events through both
configs into two mocks, comparing the two configs' requests event by event as
sandbox.replay.diffing's Comparer does in one process. A partition sends back a `DiffPart`: its
comparison (counts, and per counter the first few example messageIds with their events' global
indexes) and the two mocks' end states, so what crosses does not grow with the events. The driver
merges the comparisons (sums; the examples are the first by event index, as one pass in input
order gives them), merges each config's end states as `snapshot` merges them, normalises and
compares them: the report equals `compare_configs`'s. A partition keeps neither the mock verbs'
event indexes nor anonymous events expired by its last event (`_end_state`), which the end state
does not need.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sandbox.replay import diffing, keypass, partitioned
from sandbox.replay.config import Config


@dataclass(frozen=True, slots=True)
class DiffPart:
    """One partition's share of a diff: its comparison and each config's replay of it."""

    compared: diffing.Compared
    old: partitioned.PartitionResult
    new: partitioned.PartitionResult

    @property
    def keys(self) -> frozenset[str] | None:
        """The true identity keys of both configs' requests (None when either cannot give them)."""
        if self.old.keys is None or self.new.keys is None:
            return None
        return self.old.keys | self.new.keys


@dataclass(frozen=True, slots=True)
class Comparing(keypass.Work):
    """`diff`'s partition: its events replayed through configs[0] (old) and configs[1] (new),
    each into its own mock, each event's requests compared (runs on a worker)."""

    def gives(self, result: Any) -> bool:
        return isinstance(result, DiffPart)

    def __call__(self, items: Iterator[Any], keys: bool) -> DiffPart:
        old, new = self.configs
        with partitioned.deferred_expiry():
            sides = [partitioned.PartitionReplay(c, lines=False, keys=keys, events=False) for c in (old, new)]
            try:
                comparer = diffing.Comparer(old, new)
                last: float | None = None
                for item in items:
                    comparer.compare(sides[0].replay(item), sides[1].replay(item))
                    last = item.now
                return DiffPart(comparer.compared(), *(_end_state(side.result(), last) for side in sides))
            finally:
                for side in sides:
                    side.close()


def _end_state(result: partitioned.PartitionResult, now: float | None) -> partitioned.PartitionResult:
    """What the diff's merge reads of a partition's replay: its end state, without the verbs and
    the anonymous events already expired at `now` (the partition's last mock time). Their only use
    is deciding which anonymous events the sequential mock deleted, and an event deleted at a verb
    had expired by then, so by the final clock (which never goes back), and the merged listing
    hides it either way; what `run` counts of them (expired, stored at the end), diff does not
    report. So what a partition sends does not grow with its events (only with its people,
    objects and last 30 days of anonymous events)."""
    from mock_cio.state.anonymous import expired

    anonymous = tuple(a for a in result.anonymous if now is None or not expired(a.received_at, now))
    return replace(result, verbs=array("q"), verb_times=array("d"), anonymous=anonymous)


def compare_files(
    files: Sequence[str],
    old: Config,
    new: Config,
    *,
    partitions: int,
    mapper: keypass.Mapper,
    resume: str | None = None,
    report: Callable[[str], object] | None = None,
    source: str = "events",
    names: tuple[str, str] = ("old", "new"),
) -> diffing.ConfigDiff:
    """`compare_configs` over `files`, partitioned by identity through `mapper` (see the module);
    `resume`: each file's keys and each partition's DiffPart kept in that folder."""
    for config in (old, new):
        partitioned.check(config, batch=False)
    parts, end = keypass.partition_results(
        files, Comparing((old, new)), partitions, mapper, resume=resume, report=report
    )
    compared = diffing.merge_compared([part.compared for part in parts])
    sides = [[part.old for part in parts], [part.new for part in parts]]
    del parts
    states = []
    for side in sides:  # one config's end state at a time, its partitions' views let go after
        states.append(diffing.merged_state(partitioned.merge(side, end)))
        side.clear()
    return diffing.report(compared, states, source, names)
