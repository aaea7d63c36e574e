"""Batch mode streamed (pipeline.plan_batch_streamed, plan_output.write_batch_streamed, and `plan
--batch` past BATCH_HELD events) against batch mode over the events held (`plan(..., batch=True)`):
the same lines in the same order, refusals, chunks that fail to resolve and chunks that raise
among them, and nothing written when an event is no object."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from batch_support import BOOM, batch_subscriptions, build_payload_raising, tracks
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import identify_events, json_values, well_formed_events

from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.actions.settings import Settings
from sandbox.cli import main
from sandbox.commands import plan as plan_command
from sandbox.commands.plan_output import LineEncoder, write_batch_streamed, write_lines
from sandbox.errors import SandboxError
from sandbox.pipeline import Stopped, plan, plan_batch_streamed

US = Settings("site", "key")
NOW = 1_709_642_096


def _written(write: Any) -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        write(out)
    except SandboxError as exc:
        return out.getvalue(), f"{type(exc).__name__}: {exc}"
    return out.getvalue(), None


def _held_way(events: list[Any], subscriptions: Any) -> tuple[str, str | None]:
    lines = plan(events, US, subscriptions, batch=True, now=NOW)
    return _written(lambda out: write_lines(map(LineEncoder(), lines), out, 3))


def _streamed_way(events: list[Any], subscriptions: Any) -> tuple[str, str | None]:
    return _written(lambda out: write_batch_streamed(events, US, subscriptions, out, now=NOW))


@given(st.lists(tracks | identify_events | well_formed_events, max_size=40), batch_subscriptions())
def test_streamed_lines_by_position_are_the_held_lines(events: list[dict], subscriptions: Any) -> None:
    streamed = list(plan_batch_streamed(events, US, subscriptions, now=NOW))
    assert not any(isinstance(line, Stopped) for _, line in streamed)
    ordered = [line for _, line in sorted(streamed, key=lambda item: item[0])]
    encode = LineEncoder()
    assert list(map(encode, ordered)) == list(
        map(encode, plan(events, US, subscriptions, batch=True, now=NOW))
    )


_PAGE = {"type": "page", "userId": "u", "messageId": "p", "properties": {"url": "https://example.com/"}}
_TRACK = {"type": "track", "userId": "u", "event": "Signed Up", "messageId": "t", "properties": {}}
_TWO_A_CHUNK = [
    Subscription(s.name, s.subscribe, s.partnerAction, {**s.mapping, "batch_size": 2}) for s in AUTOMATIC
]


@given(
    st.lists(tracks | identify_events | well_formed_events | json_values, max_size=30),
    batch_subscriptions(),
    st.sets(st.integers(0, 29), max_size=3),
)
# a later subscription's chunk (Track Page View's) is full before Track Event's raises
@example([_PAGE, _PAGE, _TRACK, _TRACK, _PAGE, _PAGE], _TWO_A_CHUNK, {2, 3})
def test_written_output_and_error_are_the_held_ones(
    events: list[Any], subscriptions: Any, booms: set[int]
) -> None:
    """Also with buildPayload raising for some events (a chunk that raises: the lines before
    it, then its error; nothing of a later subscription), and with values that are no event
    (nothing written, the same error)."""
    marked = [
        dict(e, messageId=BOOM) if isinstance(e, dict) and i in booms else e for i, e in enumerate(events)
    ]
    with build_payload_raising():
        assert _streamed_way(marked, subscriptions) == _held_way(marked, subscriptions)
        if all(isinstance(event, dict) for event in marked):
            stream = list(plan_batch_streamed(marked, US, subscriptions, now=NOW))
            stops = [k for k, (_, line) in enumerate(stream) if isinstance(line, Stopped)]
            for k in stops:  # nothing more of that subscription or a later one
                assert all(position < stream[k][0] for position, _ in stream[k + 1 :])


def test_plan_batch_past_the_held_bound_streams_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "events" / "segment-events.jsonl"
    settings = Path(__file__).resolve().parent.parent / "fixtures" / "plan" / "settings.json"
    argv = ["plan", str(fixture), "--settings", str(settings), "--batch", "--now", str(NOW)]
    assert main(argv) == 0
    held = capsys.readouterr().out
    calls: list[int] = []
    real = plan_command.write_batch_streamed
    monkeypatch.setattr(plan_command, "BATCH_HELD", 3)
    monkeypatch.setattr(
        plan_command, "write_batch_streamed", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    assert main(argv) == 0
    assert capsys.readouterr().out == held and calls == [1]
    assert len(held.splitlines()) > 5 and all(json.loads(line) for line in held.splitlines())
