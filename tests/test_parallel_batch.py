"""Batch mode over partitions (`plan --batch --workers N`): each partition's events are prepared on
their own (mapping, validation, mapPayload, buildPayload per event) and the driver cuts the chunks
across the whole input. The law: for any events, any cut into partitions and any batch sizes, the
lines are those of the in-process batch mode, byte for byte, errors included.

The driver is run here with an inline client (each task runs when submitted), so the law is
checked on many generated inputs without a cluster; tests/test_parallel.py runs it on a local
cluster and on a real `dask scheduler`."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from batch_support import batch_subscriptions, tracks
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import identify_events, well_formed_events

from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.actions.settings import Settings
from sandbox.commands.plan_output import LineEncoder, write_by_subscription
from sandbox.errors import SandboxError
from sandbox.pipeline import compile_subscriptions, plan
from sandbox.replay.events import read_file_events
from sandbox.replay.parallel import Partitions, plan_parallel_batch

US = Settings("site", "key")


class _Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value

    def cancel(self) -> None:
        pass


class _InlineClient:
    """Dask's `client.submit` and `future.result()`, run in this process."""

    def submit(self, task: Any, *args: Any, pure: bool = True) -> _Done:
        return _Done(task(*args))


def _encoded(lines: Any) -> tuple[list[str], str | None]:
    """The output lines as `plan` writes them, and the error that stopped them."""
    encode = LineEncoder()
    out: list[str] = []
    try:
        for line in lines:
            out.append(encode(line))
    except SandboxError as exc:
        return out, str(exc)
    return out, None


def _both(events: list[dict], cuts: list[int], subscriptions: Any, spool: bool) -> tuple[Any, Any]:
    """(in-process batch mode over the partitions' files read one after another, as `plan --batch`
    reads them; the same files prepared apart and joined)."""
    with tempfile.TemporaryDirectory() as folder:
        bounds = [0, *sorted({min(cut, len(events)) for cut in cuts}), len(events)]
        files = []
        for number, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
            path = Path(folder) / f"part-{number:03d}.jsonl"
            path.write_text("".join(json.dumps(event) + "\n" for event in events[start:end]))
            files.append(str(path))
        spooled = None
        if spool:
            spooled = Path(folder) / "spool"
            spooled.mkdir()
        try:
            held = [event for file in files for event in read_file_events(file)]
        except SandboxError as exc:
            expected: Any = ([], str(exc))  # nothing is planned before every event is read
        else:
            expected = _encoded(plan(held, US, subscriptions, batch=True, now=1_709_642_096))
        partitions = Partitions(files, _InlineClient(), 2, None if spooled is None else str(spooled))
        positioned = plan_parallel_batch(partitions, US, subscriptions, now=1_709_642_096)
        out = io.StringIO()
        error = None
        try:
            write_by_subscription(positioned, out)
        except SandboxError as exc:
            error = str(exc)
        written = out.getvalue().split("\n")  # (not splitlines: a line may hold U+0085 or U+2028)
        assert written[-1] == ""
        return expected, (written[:-1], error)


@given(
    st.lists(tracks | identify_events | well_formed_events, max_size=40),
    st.lists(st.integers(0, 40), max_size=4),
    batch_subscriptions(),
    st.booleans(),
)
@example([], [], None, False)
def test_batch_mode_over_partitions_is_the_in_process_batch_mode(
    events: list[dict], cuts: list[int], subscriptions: Any, spool: bool
) -> None:
    expected, partitioned = _both(events, cuts, subscriptions, spool)
    assert partitioned == expected


def _comparable(prepared: list[Any]) -> list[Any]:
    return [
        (stage, (type(value).__name__, str(value)) if isinstance(value, Exception) else value, action)
        for stage, value, action in prepared
    ]


@given(st.lists(tracks | identify_events | well_formed_events, max_size=40), batch_subscriptions())
@example([{"type": "track", "event": "x", "properties": {"name_path": 1}}], None)
def test_the_staged_preparation_is_the_one_by_one_preparation(events: list[dict], subscriptions: Any) -> None:
    """Compiled.prepare (stage by stage, comprehensions) against Compiled.prepare_each (each event
    through all four stages): the same stage, error text and body for every event."""
    compiled = compile_subscriptions(subscriptions)
    for sub, matched in zip(compiled, compiled.matching(events), strict=True):
        if sub.action.has_batch:
            assert _comparable(sub.prepare(events, matched)) == _comparable(sub.prepare_each(events, matched))


def test_a_chunk_that_raises_stops_the_partitioned_batch_mode_where_it_stops_in_process() -> None:
    """buildPayload raising for two track events (a Track Event chunk that raises), with a later
    subscription's chunk (Track Page View's) full before it and another after: the lines before
    the stop, then its error, as in process, however the events are cut into partitions."""
    from batch_support import BOOM, build_payload_raising

    page = {"type": "page", "userId": "u", "properties": {"url": "https://example.com/"}}
    track = {"type": "track", "userId": "u", "event": "Signed Up", "messageId": BOOM, "properties": {}}
    identify = {"type": "identify", "userId": "u", "traits": {"email": "u@example.com"}}
    events = [identify, page, page, track, track, page, page, identify]
    subscriptions = [
        Subscription(s.name, s.subscribe, s.partnerAction, {**s.mapping, "batch_size": 2}) for s in AUTOMATIC
    ]
    with build_payload_raising():
        for cuts in ([], [1], [3, 5], [2, 4, 6]):
            expected, partitioned = _both(events, cuts, subscriptions, False)
            assert partitioned == expected
            assert expected[1] == "buildPayload: boom" and len(expected[0]) == 1  # the identify chunk
