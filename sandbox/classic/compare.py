"""Replaying events through both destinations, each into its own fresh mock Customer.io.

Where it sits: under `cio-sandbox migrate` and the inspector's comparison view. `Comparison`
holds two in-process mocks on the same clock (each event is received at its `receivedAt`, else
its `timestamp`, as `run` does): the Actions side goes through `sandbox.replay.engine.Replayer`
with the config's subscriptions, the classic side through `classic_plan`. `step(event)` gives an
`EventPair`: both sides' requests, answers and state changes for that event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.actions.request import CioRequest
from sandbox.classic.destination import ClassicPlan, classic_plan
from sandbox.replay.config import Config
from sandbox.replay.engine import Answer, EventClock, EventRecord, InProcessTarget, Replayer

JSON = Any


@dataclass(frozen=True, slots=True)
class ClassicDelivery:
    """One classic request and the mock's answer."""

    kind: str
    request: CioRequest
    answer: Answer

    @property
    def changes(self) -> tuple[Mapping[str, JSON], ...]:
        journal = self.answer.journal
        return tuple(journal.get("changes") or ()) if journal is not None else ()

    @property
    def notes(self) -> tuple[str, ...]:
        journal = self.answer.journal
        return tuple(str(n) for n in journal.get("notes") or ()) if journal is not None else ()

    @property
    def outcome(self) -> str:
        journal = self.answer.journal
        if journal is not None and isinstance(journal.get("outcome"), str):
            return str(journal["outcome"])
        return "accepted" if 200 <= self.answer.status < 300 else "rejected"


@dataclass(frozen=True, slots=True)
class EventPair:
    """One event's two stories: the classic plan and deliveries, and the Actions record."""

    index: int
    event: Mapping[str, JSON]
    received_at: float
    classic: ClassicPlan
    classic_deliveries: tuple[ClassicDelivery, ...]
    actions: EventRecord
    where: str | None = None

    @property
    def message_id(self) -> str | None:
        value = self.event.get("messageId")
        return value if isinstance(value, str) else None


class Comparison:
    """Two fresh in-process mocks, one per destination, fed the same events on the same clock."""

    def __init__(self, config: Config, *, journal_on_disk: bool = False) -> None:
        self.config = config
        self.classic_target = InProcessTarget(journal_on_disk=journal_on_disk)
        self.actions_target = InProcessTarget(journal_on_disk=journal_on_disk)
        self.actions = Replayer(config, self.actions_target, clock="mock", explain=False)
        self.clock = EventClock()
        self._last: float | None = None

    def step(self, event: Mapping[str, JSON], index: int, where: str | None = None) -> EventPair:
        at = self.clock.time_for(event)
        if at != self._last:
            self.classic_target.set_clock(at)
            self.actions_target.set_clock(at)
            self._last = at
        plan = classic_plan(event, self.config.settings, at)
        deliveries = tuple(
            ClassicDelivery(call.kind, call.request, self.classic_target.send(call.request))
            for call in plan.calls
        )
        record = self.actions.replay(dict(event), index=index, now=at, where=where)
        return EventPair(index, event, at, plan, deliveries, record, where)

    def person(self, side: str, identifier: str) -> dict[str, JSON] | None:
        """A person's view in one mock (`side` is classic or actions), by id, email or cio_id."""
        target = self.classic_target if side == "classic" else self.actions_target
        found = target.mock.person(identifier)
        return dict(found) if isinstance(found, dict) else None

    def snapshots(self) -> tuple[dict[str, JSON], dict[str, JSON]]:
        return self.classic_target.mock.snapshot(), self.actions_target.mock.snapshot()

    def close(self) -> None:
        self.classic_target.close()
        self.actions_target.close()
