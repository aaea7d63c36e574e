"""What batch mode's tests share: generated track events whose mapping fails to resolve or is
refused, subscriptions with generated batch sizes, and a buildPayload that raises for the events
with messageId "boom", for a chunk that raises (no real payload makes buildPayload raise once
validation let it through)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from hypothesis import strategies as st
from strategies import track_events

import sandbox.pipeline as pipeline
from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.errors import InputError

BOOM = "boom"
"""The messageId (a track event's v2 `id`) whose buildPayload raises `buildPayload: boom`."""


@contextmanager
def build_payload_raising() -> Iterator[None]:
    real = pipeline.build_payload

    def build(entity: Any) -> Any:
        if entity.payload.get("id") == BOOM:
            raise InputError(BOOM, "buildPayload")
        return real(entity)

    with mock.patch.object(pipeline, "build_payload", build):
        yield


# A trackEvent whose name is read from a path the event gives: it fails to resolve (and fails its
# chunk) where that path is no string, and is refused where it names nothing.
INDIRECT = {"name": {"@path": {"@path": "$.properties.name_path"}}, "id": {"@path": "$.userId"}}
_name_paths = st.sampled_from(["$.event", "$.properties.label", "$.nowhere"]) | st.integers(0, 3)
tracks = st.builds(
    lambda event, name_path, label: {
        **event,
        "properties": {**event.get("properties", {}), "name_path": name_path, "label": label},
    },
    track_events,
    _name_paths,
    st.text(max_size=4),
)


@st.composite
def batch_subscriptions(draw: st.DrawFn) -> list[Subscription]:
    sizes = draw(st.lists(st.integers(2, 5), min_size=2, max_size=2))
    return [
        Subscription("Indirect", 'type = "track"', "trackEvent", {**INDIRECT, "batch_size": sizes[0]}),
        *(
            Subscription(s.name, s.subscribe, s.partnerAction, {**s.mapping, "batch_size": sizes[1]})
            for s in AUTOMATIC
        ),
    ]
