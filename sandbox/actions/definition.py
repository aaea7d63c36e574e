"""`ActionDefinition`: one destination action as data (fields, default subscription) plus its mapPayload.

The pipeline calls `validate` (field schema), then `perform` or `perform_batch`, which run the
action's mapPayload and buildPayload and return the `CioRequest`s the destination would send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sandbox.actions.build import Entity, batch_request, build_payload, entity_request
from sandbox.actions.fields import Field
from sandbox.actions.request import CioRequest, make_headers
from sandbox.actions.settings import Settings
from sandbox.actions.validation import PayloadSchema
from sandbox.errors import UnsupportedBatchError
from sandbox.js.values import JSON, Payload

MapPayload = Callable[[Payload], Entity]
MetricsBody = Callable[[Payload, float], dict[str, JSON]]


@dataclass(frozen=True, slots=True)
class ActionDefinition:
    """A Customer.io action, keyed by its TypeScript slug (`trackEvent`).

    Entity actions give `map_payload` (their mapPayload, returning the v2 type/action/payload);
    reportDeliveryEvent gives `metrics_body` instead and has no batch form. `batch_actions` lists
    the v2 actions performBatch sends separately, in order (createUpdateObject); empty means one
    batch request for everything.
    """

    slug: str
    title: str
    description: str
    default_subscription: str
    fields: Mapping[str, Field]
    map_payload: MapPayload | None = None
    metrics_body: MetricsBody | None = None
    batch_actions: tuple[str, ...] = ()
    schema: PayloadSchema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.map_payload is None) == (self.metrics_body is None):
            raise ValueError(f"{self.slug}: give exactly one of map_payload and metrics_body")
        object.__setattr__(self, "schema", PayloadSchema(self.fields, self.slug))

    @property
    def has_batch(self) -> bool:
        """Whether the action has performBatch (every action but reportDeliveryEvent)."""
        return self.map_payload is not None

    def validate(self, payload: Payload, *, batch: bool = False) -> Payload:
        """Clean, coerce and check a resolved payload; raises PayloadValidationError."""
        return self.schema.validate(payload, batch=batch)

    def body(self, payload: Payload, *, now: float | None = None) -> dict[str, JSON]:
        """The JSON body `perform` sends for a validated payload."""
        if self.map_payload is not None:
            return build_payload(self.map_payload(payload))
        assert self.metrics_body is not None
        return self.metrics_body(payload, time.time() if now is None else now)

    def perform(self, payload: Payload, settings: Settings, *, now: float | None = None) -> CioRequest:
        """The request `perform` makes for one validated payload. `now` (unix seconds) is the
        clock reportDeliveryEvent falls back on."""
        return self.request(self.body(payload, now=now), settings)

    def request(self, body: dict[str, JSON] | None, settings: Settings) -> CioRequest:
        """The request `perform` sends with `body`: its method, URL and headers are the same for
        every payload of this action (an entity action's sendSingle, `/api/v2/entity`;
        reportDeliveryEvent's `/api/v1/metrics`)."""
        if self.map_payload is not None:
            return entity_request(body, settings)
        return CioRequest(
            "POST", settings.track_url + "/api/v1/metrics", make_headers(settings.authorization), body
        )

    def perform_batch(
        self, payloads: Sequence[Payload], settings: Settings
    ) -> list[tuple[CioRequest, tuple[int, ...]]]:
        """The requests performBatch makes for validated payloads, each with the positions (in
        `payloads`) of the items it carries. An empty list, or an empty group, sends nothing."""
        map_payload = self.map_payload
        if map_payload is None:
            raise UnsupportedBatchError("This action does not support batched requests.")
        entities = [map_payload(payload) for payload in payloads]
        out: list[tuple[CioRequest, tuple[int, ...]]] = []
        for group in self.batch_groups([entity.action for entity in entities]):
            req = batch_request([build_payload(entities[i]) for i in group], settings)
            if req is not None:
                out.append((req, tuple(group)))
        return out

    def batch_groups(self, actions: Sequence[str | None]) -> list[list[int]]:
        """Which entities (by position; `actions` are their v2 actions) each batch request
        carries: one request per action of `batch_actions`, in that order (an entity of any other
        action is not sent), or all of them in one."""
        if self.batch_actions:
            return [[i for i, name in enumerate(actions) if name == wanted] for wanted in self.batch_actions]
        return [list(range(len(actions)))]
