"""Track API v1 handlers: one small function per operation, from a parsed `Call` to a state verb.

Where it sits: the router (routes.py) picks a handler; the handler checks the body's fields with the
documented messages (request_body.py), calls one `WorkspaceState` verb and returns a `Reply` with the
verb's Outcome. Paths are docs/track-api.md §3; choices the reference leaves open are in
docs/decisions.md §2 and in the notes below.

- Path identifiers: `cio_…` → cio_id, email-shaped → email, else id (`Ident.from_path`).
- `type` on events: `page` and `screen` are kept, anything else is `event` (OAS).
- Devices accept `last_used` as a number or numeric string, and custom keys both at device level
  (Python client) and under `device.attributes` (Node client).
- Forms identify the person named by the one `email` or `id` in `data` with the other fields as
  attributes; the reserved `form_*` keys are dropped.
- `/unsubscribe/<delivery_id>` records an `unsubscribed` delivery metric: the mock does not know
  which person a delivery went to.
- Metrics and push events need no credentials; they go to the workspace of the credentials if sent,
  else `CIO_METRICS_SITE_ID`, else the oldest workspace (the app decides, the journal records it).
"""

from __future__ import annotations

import zlib

from mock_cio.auth import HOSTS
from mock_cio.request_body import (
    MAX_SEGMENT_IDS,
    check_attributes,
    event_data,
    event_id,
    event_name,
    identifier_value,
    json_type,
    merge_error,
    optional_string,
    path_identifier,
    required_string,
    v1_error,
)
from mock_cio.routes import JSON, Call, Reply, Route
from mock_cio.state import Ident, Outcome, WorkspaceState
from mock_cio.state.verb_io import _EMAIL_SHAPE

_IDENTIFY_CONTROL = frozenset(("_update", "_timestamp", "cio_relationships"))
_EVENT_TYPES = ("page", "screen")
EMAIL_METRICS = ("bounced", "clicked", "converted", "deferred", "delivered", "dropped", "opened", "spammed")
PUSH_EVENTS = ("opened", "converted", "delivered")
_FORM_RESERVED = frozenset(("form_id", "form_name", "form_type", "form_url", "form_url_param"))
_SEGMENT_ID_TYPES = ("id", "email", "cio_id")
AUTH_OK = {"meta": {"message": "nice credentials."}}


def _ws(call: Call) -> WorkspaceState:
    assert call.ws is not None  # routes with auth="required" always have a workspace
    return call.ws


def _body(call: Call) -> dict[str, JSON]:
    return call.body if isinstance(call.body, dict) else {}


def _person(call: Call) -> Ident:
    return Ident.from_path(path_identifier(call.args["identifier"]))


def _accepted(result: Outcome) -> Reply:
    return Reply(result=result)


# ---------------------------------------------------------------------- people


def identify(call: Call) -> Reply:
    ident = _person(call)
    body = dict(_body(call))
    for name in ("id", "email"):
        if name in body:
            value = identifier_value(body[name], name)
            if value == "" and ident.kind != "cio_id":
                raise v1_error(f"{name} attribute cannot be an empty string")
            body[name] = value
    check_attributes(body, skip=_IDENTIFY_CONTROL)
    relationships = body.get("cio_relationships")
    if relationships is not None and not (
        isinstance(relationships, dict) and isinstance(relationships.get("relationships"), list)
    ):
        raise v1_error("cio_relationships must be an object with an action and a relationships array")
    if "_update" in body and not isinstance(body["_update"], bool):
        raise v1_error(f"_update must be true or false, got {json_type(body['_update'])}")
    return _accepted(_ws(call).identify(ident, body, call.now))


def delete(call: Call) -> Reply:
    return _accepted(_ws(call).delete_person(_person(call), call.now))


def suppress(call: Call) -> Reply:
    return _accepted(_ws(call).suppress(_person(call), call.now))


def unsuppress(call: Call) -> Reply:
    return _accepted(_ws(call).unsuppress(_person(call), call.now))


def merge_customers(call: Call) -> Reply:
    body = _body(call)
    sides = []
    for side in ("primary", "secondary"):
        value = body.get(side)
        if not isinstance(value, dict) or not value:
            raise merge_error(f"{side} must be an object with one of id, email or cio_id")
        if len(value) > 1:
            raise merge_error(
                "You cannot have multiple identifiers (id, email, etc) in the primary or secondary objects"
            )
        ((kind, raw),) = value.items()
        if kind not in ("id", "email", "cio_id"):
            raise merge_error(f"{side}.{kind} is not an identifier: use one of id, email or cio_id")
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str) or not raw:
            raise merge_error(f"{side}.{kind} must be a non-empty string")
        if len(raw.encode()) > 150:
            raise merge_error(f"{side}.{kind} cannot be longer than 150 bytes")
        sides.append(Ident(kind, raw))
    return _accepted(_ws(call).merge(sides[0], sides[1], call.now))


# ---------------------------------------------------------------------- events


def _event_fields(body: dict[str, JSON]) -> dict[str, JSON]:
    kind = body.get("type")
    return {
        "name": event_name(body.get("name")),
        "event_type": kind if kind in _EVENT_TYPES else "event",
        "event_id": event_id(body.get("id")),
        "timestamp": body.get("timestamp"),
        "data": event_data(body.get("data")),
    }


def track(call: Call) -> Reply:
    body = _body(call)
    fields = _event_fields(body)
    anonymous_id = optional_string(body, "anonymous_id")
    result = _ws(call).track(_person(call), call.now, anonymous_id=anonymous_id or None, **fields)
    return _accepted(result)


def track_anonymous(call: Call) -> Reply:
    body = _body(call)
    fields = _event_fields(body)
    anonymous_id = optional_string(body, "anonymous_id")
    result = _ws(call).track(None, call.now, anonymous_id=anonymous_id or None, **fields)
    if not anonymous_id:
        data = fields["data"] or {}
        why = (
            "an anonymous invite event (data.recipient)" if "recipient" in data else "no person can claim it"
        )
        result = Outcome(("no anonymous_id: " + why,)) + result
    return _accepted(result)


# ---------------------------------------------------------------------- devices


def add_device(call: Call) -> Reply:
    body = _body(call)
    device = body.get("device")
    if not isinstance(device, dict):
        raise v1_error("device must be present (an object with id and platform)")
    token = required_string(device, "id", where="device.")
    platform = device.get("platform")
    if not isinstance(platform, str) or not platform:
        raise v1_error("device.platform must be present (ios or android)")
    last_used = device.get("last_used")
    if last_used is not None and not isinstance(last_used, int | float | str) or isinstance(last_used, bool):
        raise v1_error("device.last_used must be Unix seconds")
    nested = device.get("attributes")
    if nested is not None and not isinstance(nested, dict):
        raise v1_error("device.attributes must be an object")
    attributes = {k: v for k, v in device.items() if k not in ("id", "platform", "last_used", "attributes")}
    attributes.update(nested or {})
    check_attributes(attributes)
    result = _ws(call).add_device(
        _person(call), call.now, token=token, platform=platform, last_used=last_used, attributes=attributes
    )
    if platform not in ("ios", "android"):
        result = Outcome((f"device.platform {platform!r} is not ios or android (kept as sent)",)) + result
    return _accepted(result)


def delete_device(call: Call) -> Reply:
    token = path_identifier(call.args["token"])
    return _accepted(_ws(call).delete_device(_person(call), call.now, token=token))


# ---------------------------------------------------------------------- deliveries


def _no_workspace(what: str) -> Reply:
    return Reply(
        result=Outcome((f"no workspace to record {what} in (send credentials or set CIO_METRICS_SITE_ID)",))
    )


def metrics(call: Call) -> Reply:
    body = _body(call)
    delivery_id = required_string(body, "delivery_id")
    metric = body.get("metric")
    if metric not in EMAIL_METRICS:
        raise v1_error(f"metric must be one of {', '.join(EMAIL_METRICS)}")
    details = {name: body.get(name) for name in ("recipient", "reason", "href")}
    if call.ws is None:
        return _no_workspace("the metric")
    result = call.ws.report_metric(
        call.now,
        delivery_id=delivery_id,
        metric=metric,
        timestamp=body.get("timestamp"),
        source="metrics",
        **details,
    )
    return _accepted(result)


def push_events(call: Call) -> Reply:
    body = _body(call)
    delivery_id = required_string(body, "delivery_id")
    event = body.get("event")
    if event not in PUSH_EVENTS:
        raise v1_error(f"event must be one of {', '.join(PUSH_EVENTS)}")
    device_id = optional_string(body, "device_id")
    if call.ws is None:
        return _no_workspace("the push event")
    result = call.ws.report_metric(
        call.now, delivery_id=delivery_id, metric=event, timestamp=body.get("timestamp"),
        device_id=device_id, source="push",
    )  # fmt: skip
    return _accepted(result)


def unsubscribe(call: Call) -> Reply:
    delivery_id = path_identifier(call.args["delivery_id"])
    body = _body(call)
    value = body.get("unsubscribe")
    if not isinstance(value, bool):
        raise v1_error("unsubscribe must be true or false")
    if call.ws is None:
        return _no_workspace("the unsubscribe")
    if not value:
        return Reply(result=Outcome(("unsubscribe is false: nothing recorded",)))
    result = call.ws.report_metric(
        call.now, delivery_id=delivery_id, metric="unsubscribed", source="unsubscribe"
    )
    note = "the mock does not know the delivery's person: recorded as an 'unsubscribed' delivery metric"
    return _accepted(Outcome((note,)) + result)


# ---------------------------------------------------------------------- forms and segments


def submit_form(call: Call) -> Reply:
    form_id = path_identifier(call.args["form_id"])
    data = _body(call).get("data")
    if not isinstance(data, dict):
        raise v1_error("data must be present (an object of form fields)")
    for name, value in data.items():
        if not isinstance(value, str):
            raise v1_error(f"form value '{name}' must be a string, got {json_type(value)}")
    named = [name for name in ("email", "id") if data.get(name)]
    if len(named) != 1:
        raise v1_error("form data must contain exactly one identifier: email or id")
    ident = Ident(named[0], identifier_value(data[named[0]], named[0]) or "")  # type: ignore[arg-type]
    attributes = {k: v for k, v in data.items() if k not in _FORM_RESERVED and k != named[0]}
    check_attributes(attributes)
    result = _ws(call).identify(ident, attributes, call.now)
    return Reply(status=204, body=None, result=Outcome((f"form {form_id!r} submitted",)) + result)


def _segment_ids(call: Call) -> tuple[str, list[Ident], list[str]]:
    segment_id = path_identifier(call.args["segment_id"])
    id_type = call.query.get("id_type", "id")
    if id_type not in _SEGMENT_ID_TYPES:
        raise v1_error(f"id_type must be one of {', '.join(_SEGMENT_ID_TYPES)}, got {id_type!r}")
    ids = _body(call).get("ids")
    if not isinstance(ids, list) or not ids:
        raise v1_error("ids must be a non-empty array")
    if len(ids) > MAX_SEGMENT_IDS:
        raise v1_error(f"ids cannot hold more than {MAX_SEGMENT_IDS} entries")
    idents: list[Ident] = []
    skipped: list[str] = []
    for index, value in enumerate(ids):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise v1_error(f"ids[{index}] must be a non-empty string")
        if id_type == "email" and not _EMAIL_SHAPE.match(value):
            skipped.append(f"ids[{index}] {value!r} is not an email (id_type=email): ignored")
            continue
        idents.append(Ident(id_type, value))  # type: ignore[arg-type]
    return segment_id, idents, skipped


def _segment(call: Call, verb: str) -> Reply:
    segment_id, idents, skipped = _segment_ids(call)
    method = getattr(_ws(call), verb, None)
    if method is None:  # the state has no manual segments yet (docs/contracts.md lists the verbs)
        note = f"manual segments are not modelled by this state: {verb} of {len(idents)} people not stored"
        return Reply(result=Outcome((*skipped, note)))
    return _accepted(Outcome(tuple(skipped)) + method(segment_id, idents, call.now))


def add_to_segment(call: Call) -> Reply:
    return _segment(call, "add_to_segment")


def remove_from_segment(call: Call) -> Reply:
    return _segment(call, "remove_from_segment")


# ---------------------------------------------------------------------- credentials


def auth(call: Call) -> Reply:
    return Reply(body=AUTH_OK)


def region(call: Call) -> Reply:
    ws = _ws(call)
    code = ws.settings.region
    environment_id = zlib.crc32(ws.site_id.encode()) % 1_000_000 + 1
    return Reply(body={"url": HOSTS[code], "region": code, "environment_id": environment_id})


C = "customers"
ROUTES = [
    Route("PUT", ("api", "v1", C, "<identifier>"), "identify", identify),
    Route("DELETE", ("api", "v1", C, "<identifier>"), "delete", delete),
    Route("POST", ("api", "v1", C, "<identifier>", "events"), "track", track),
    Route("POST", ("api", "v1", "events"), "trackAnonymous", track_anonymous),
    Route("PUT", ("api", "v1", C, "<identifier>", "devices"), "add_device", add_device),
    Route("DELETE", ("api", "v1", C, "<identifier>", "devices", "<token>"), "delete_device", delete_device),
    Route("POST", ("api", "v1", C, "<identifier>", "suppress"), "suppress", suppress),
    Route("POST", ("api", "v1", C, "<identifier>", "unsuppress"), "unsuppress", unsuppress),
    Route("POST", ("api", "v1", "merge_customers"), "merge", merge_customers, flavour="merge"),
    Route("POST", ("api", "v1", "metrics"), "metrics", metrics, auth="optional"),
    Route("POST", ("api", "v1", "push", "events"), "pushMetrics", push_events, auth="optional"),
    Route("POST", ("push", "events"), "pushMetrics", push_events, auth="optional"),
    Route("POST", ("unsubscribe", "<delivery_id>"), "unsubscribe", unsubscribe, auth="optional"),
    Route("POST", ("api", "v1", "forms", "<form_id>", "submit"), "submitForm", submit_form),
    Route(
        "POST", ("api", "v1", "segments", "<segment_id>", "add_customers"), "add_to_segment", add_to_segment
    ),
    Route(
        "POST",
        ("api", "v1", "segments", "<segment_id>", "remove_customers"),
        "remove_from_segment",
        remove_from_segment,
    ),
    Route("GET", ("auth",), "auth", auth),
    Route("GET", ("api", "v1", "accounts", "region"), "getRegion", region),
]
