"""Single mode's fast way to `plan`'s lines (plan_output.single_mode_lines, pipeline.plan_bodies)
against the reference way: every PlanLine of `plan` encoded by LineEncoder. The law: for any
events (malformed ones, values that are no event, refusals and mappings that fail to resolve
among them), any subscriptions and settings, the same lines in the same order, and the same
error after the same lines when an event is no object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from strategies import events, json_values, track_events

from sandbox.actions import ACTIONS
from sandbox.actions.presets import AUTOMATIC, PRESETS, Subscription
from sandbox.actions.settings import EU_REGION, Settings
from sandbox.commands.plan_output import LineEncoder, single_mode_lines, single_mode_tails
from sandbox.errors import SandboxError
from sandbox.pipeline import plan
from sandbox.replay.events import read_file_events

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_709_642_096

# A trackEvent whose name is read from a path the event gives: it fails to resolve where that
# path is no string, and is refused where it names nothing.
_INDIRECT = Subscription(
    "Indirect",
    'type = "track"',
    "trackEvent",
    {"name": {"@path": {"@path": "$.properties.name_path"}}, "id": {"@path": "$.userId"}},
)
_tracks = st.builds(
    lambda event, name_path: {**event, "properties": {**event.get("properties", {}), "name_path": name_path}},
    track_events,
    st.sampled_from(["$.event", "$.nowhere"]) | st.integers(0, 3),
)
_subscriptions = st.sampled_from([None, list(PRESETS), [_INDIRECT, *AUTOMATIC]])
_settings = st.sampled_from([Settings("site", "key"), Settings("site", "key", EU_REGION), Settings("", "")])


def _lines(made: Any) -> tuple[list[str], str | None]:
    """The lines, and the error that stopped them."""
    out: list[str] = []
    try:
        for line in made:
            out.append(line)
    except SandboxError as exc:
        return out, f"{type(exc).__name__}: {exc}"
    return out, None


def _reference(
    events: list[Any], settings: Settings, subscriptions: Any, now: float
) -> tuple[list[str], str | None]:
    return _lines(map(LineEncoder(), plan(events, settings, subscriptions, now=now)))


@given(
    st.lists(events | _tracks | json_values, max_size=30),
    _settings,
    _subscriptions,
    st.sampled_from([NOW, 0.5]),
)
@example(
    [{"type": "track", "event": "Report Delivery Event", "properties": {}}, 7], Settings("s", "k"), None, NOW
)
def test_single_mode_lines_are_plan_lines_encoded(
    events: list[Any], settings: Settings, subscriptions: Any, now: float
) -> None:
    fast = _lines(single_mode_lines(events, settings, subscriptions, now=now))
    assert fast == _reference(events, settings, subscriptions, now)


@given(st.lists(events | _tracks, max_size=30), _settings, _subscriptions)
def test_single_mode_tails_are_the_lines_after_their_index(
    events: list[Any], settings: Settings, subscriptions: Any
) -> None:
    """What a partition's task keeps: each line's event index and the text after it."""
    reference, error = _reference(events, settings, subscriptions, NOW)
    tails = list(single_mode_tails(events, settings, subscriptions, now=NOW, encoder=LineEncoder()))
    assert error is None
    assert [f'{{"event_index": {index}{tail}' for index, tail in tails] == reference


def test_the_fixtures_events_through_every_preset() -> None:
    fixture = ROOT / "fixtures" / "events" / "segment-events.jsonl"
    held = list(read_file_events(str(fixture)))
    for settings in (Settings("site", "key"), Settings("", "", EU_REGION)):
        fast = _lines(single_mode_lines(held, settings, list(PRESETS), now=NOW))
        assert fast == _reference(held, settings, list(PRESETS), NOW)
        assert len(fast[0]) > len(held) // 2 and any('"error": ' in line for line in fast[0])


@given(
    st.sampled_from(sorted(ACTIONS)), _settings, st.dictionaries(st.text(max_size=4), json_values, max_size=3)
)
def test_an_action_s_request_is_its_head_and_the_body(slug: str, settings: Settings, body: dict) -> None:
    """perform is request(body(...)): method, URL and headers never depend on the body."""
    action = ACTIONS[slug]
    head = action.request(None, settings)
    made = action.request(body, settings)
    assert (made.method, made.url, made.headers, made.body) == (head.method, head.url, head.headers, body)
