"""reportDeliveryEvent: a message delivery metric, `POST {host}/api/v1/metrics` (no batch form)."""

from __future__ import annotations

import math

from sandbox.actions.build import truthy
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import BATCH_FIELDS, path
from sandbox.actions.timestamps import convert_valid_timestamp
from sandbox.js.numbers import as_json_number, to_number
from sandbox.js.values import JSON, MISSING, Payload

METRICS = (
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("converted", "Converted"),
    ("spammed", "Marked as Spam"),
    ("bounced", "Bounced"),
    ("dropped", "Suppressed"),
    ("deferred", "Deferred"),
)


def _text(label: str, default: str, description: str, *, required: bool = False) -> Field:
    return Field(
        label=label, type="string", description=description, required=required, default=path(default)
    )


FIELDS = {
    "delivery_id": _text(
        "Delivery ID", "$.properties.deliveryId", "The message's CIO-Delivery-ID.", required=True
    ),
    "metric": Field(
        label="Metric",
        type="string",
        description="The metric to report.",
        required=True,
        default=path("$.properties.metric"),
        choices=METRICS,
    ),
    "recipient": _text(
        "Recipient", "$.properties.recipient", "Who the message went to (email, phone or token)."
    ),
    "reason": _text("Reason", "$.properties.reason", "Why a failure metric happened."),
    "href": _text("Href", "$.properties.href", "The clicked link, for clicks."),
    "action_name": _text("Action Name", "$.properties.actionName", "The clicked in-app action's name."),
    "action_value": _text("Action Value", "$.properties.actionValue", "The clicked in-app action's value."),
    "timestamp": Field(
        label="Timestamp",
        type="datetime",
        description="When the metric happened.",
        default=path("$.timestamp"),
    ),
    **BATCH_FIELDS,
}


def _js_number_of(value: JSON) -> float | None:
    """JavaScript Number(value) for what convertValidTimestamp returns; None is NaN."""
    if value is MISSING:
        return None
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if type(value) is int or type(value) is float:
        return None if math.isnan(value) else value
    if type(value) is str:
        return to_number(value)
    return None


def metrics_body(payload: Payload, now: float) -> dict[str, JSON]:
    """Mirrors reportDeliveryEvent's perform: delivery_id, metric, timestamp, then the optional keys."""
    get = payload.get
    body: dict[str, JSON] = {"delivery_id": get("delivery_id", MISSING), "metric": get("metric", MISSING)}
    body["timestamp"] = math.floor(now)
    number = _js_number_of(convert_valid_timestamp(get("timestamp", MISSING)))
    if number is not None:
        body["timestamp"] = as_json_number(number) if type(number) is float else number
    for key in ("recipient", "reason", "href"):
        if truthy(get(key, MISSING)):
            body[key] = payload[key]
    metadata = {key: payload[key] for key in ("action_name", "action_value") if truthy(get(key, MISSING))}
    if metadata:
        body["metadata"] = metadata
    return {key: value for key, value in body.items() if value is not MISSING}


REPORT_DELIVERY_EVENT = ActionDefinition(
    slug="reportDeliveryEvent",
    title="Report Delivery Event",
    description="Report a delivery metric for a message sent from Customer.io Journeys.",
    default_subscription='event = "Report Delivery Event"',
    fields=FIELDS,
    metrics_body=metrics_body,
)
