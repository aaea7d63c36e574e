"""Track API v2 handlers: `/api/v2/entity` and `/api/v2/batch`, dispatched on (`type`, `action`).

Where it sits: the router (routes.py) calls `entity` or `batch`; `apply_operation` validates one
operation (docs/track-api.md §4) and calls the matching `WorkspaceState` verb. `/entity`
answers `400 {"errors": [...]}` for an invalid operation; `/batch` applies every valid item and
answers `207 {"errors": [{"batch_index", ...}]}` when some were invalid (docs/decisions.md §2.1), or
`400` when the envelope itself is wrong.

Accepted beyond the OAS, because Segment's destination sends them: person `identifiers.anonymous_id`
on event/page/screen (an anonymous event), `attributes.anonymous_id` on identified events, and the
person actions `viewed_content` / `clicked_content` (stored as events of that type). Phone
identifiers are answered 400: the mock's workspaces do not enable phone. Root fields an operation
does not define (e.g. the `created_at` Segment puts at an object's root) are ignored with a note.
"""

from __future__ import annotations

from collections.abc import Callable

from mock_cio.request_body import (
    MAX_ENTITY_BYTES,
    MAX_ID_BYTES,
    ApiError,
    V2Invalid,
    V2Problem,
    attribute_problem,
    byte_len,
    event_data,
    event_id,
    event_name,
    json_type,
    value_bytes,
)
from mock_cio.routes import JSON, Call, Reply, Route
from mock_cio.state import Ident, ObjectIdent, Outcome, StateError, WorkspaceState

EVENT_ACTIONS = ("event", "page", "screen", "viewed_content", "clicked_content")
PERSON_ACTIONS = (
    "identify", "delete", *EVENT_ACTIONS, "add_relationships", "delete_relationships",
    "add_device", "delete_device", "merge", "suppress", "unsuppress",
)  # fmt: skip
OBJECT_ACTIONS = ("identify", "identify_anonymous", "delete", "add_relationships", "delete_relationships")
DELIVERY_ACTIONS = ("event",)
DELIVERY_METRICS = ("opened", "converted", "delivered")
TYPES = {"person": PERSON_ACTIONS, "object": OBJECT_ACTIONS, "delivery": DELIVERY_ACTIONS}

_PERSON_KINDS = ("id", "email", "cio_id")
_KNOWN_ROOT: dict[str, dict[str, tuple[str, ...]]] = {
    "person": {
        "identify": ("attributes", "timestamp", "cio_relationships"),
        "event": ("name", "id", "timestamp", "attributes"),
        "add_relationships": ("cio_relationships",),
        "delete_relationships": ("cio_relationships",),
        "add_device": ("device",),
        "delete_device": ("device",),
        "merge": ("primary", "secondary"),
    },
    "object": {
        "identify": ("attributes", "cio_relationships"),
        "identify_anonymous": ("attributes", "cio_relationships", "anonymous_id"),
        "add_relationships": ("cio_relationships",),
        "delete_relationships": ("cio_relationships",),
    },
    "delivery": {"event": ("name", "timestamp", "attributes")},
}


def _problem(reason: str, field: str, message: str) -> V2Invalid:
    return V2Invalid([V2Problem(reason, field, message)])


def _state_problem(exc: StateError) -> V2Invalid:
    """A StateError's message starts with the field it is about, when it names one."""
    text = str(exc)
    head = text.split(" ", 1)[0].rstrip(":,")
    named = head.split(".", 1)[0].split("[", 1)[0] in _FIELDS
    return _problem("invalid", head if named else "", text)


_FIELDS = frozenset(
    ("identifiers", "attributes", "cio_relationships", "name", "primary", "secondary", "device")
)


# ---------------------------------------------------------------------- handlers


def entity(call: Call) -> Reply:
    assert call.ws is not None
    try:
        result = apply_operation(call.ws, call.body, call.now)
    except V2Invalid as exc:
        raise ApiError(400, {"errors": [p.to_dict() for p in exc.problems]}, _reasons(exc.problems)) from None
    return Reply(result=result)


def batch(call: Call) -> Reply:
    assert call.ws is not None
    body = call.body if isinstance(call.body, dict) else {}
    items = body.get("batch")
    if not isinstance(items, list):
        problem = V2Problem(
            "required", "batch", f"batch must be an array of operations, got {json_type(items)}"
        )
        raise ApiError(400, {"errors": [problem.to_dict()]}, _reasons([problem]))
    if not items:
        problem = V2Problem("required", "batch", "batch must hold at least one operation")
        raise ApiError(400, {"errors": [problem.to_dict()]}, _reasons([problem]))
    errors: list[dict[str, JSON]] = []
    reasons: list[str] = []
    result = Outcome()
    for index, item in enumerate(items):
        try:
            size = value_bytes(item)
            if size > MAX_ENTITY_BYTES:
                raise _problem(
                    "too_large", "", f"each batch item must be smaller than 32kb (got {size} bytes)"
                )
            result = result + apply_operation(call.ws, item, call.now)
        except V2Invalid as exc:
            errors.extend(p.to_dict(index) for p in exc.problems)
            reasons.extend(f"batch[{index}] {r}" for r in _reasons(exc.problems))
    if not errors:
        return Reply(result=result)
    outcome = "partial" if len({e["batch_index"] for e in errors}) < len(items) else "rejected"
    return Reply(status=207, body={"errors": errors}, outcome=outcome, reasons=reasons, result=result)


def _reasons(problems: list[V2Problem]) -> list[str]:
    return [f"{p.field}: {p.message}" if p.field else p.message for p in problems]


# ---------------------------------------------------------------------- one operation


def apply_operation(ws: WorkspaceState, op: JSON, now: float) -> Outcome:
    """Validate one v2 operation and apply it; raise V2Invalid with every problem found first."""
    if not isinstance(op, dict):
        raise _problem("invalid", "", f"an operation must be a JSON object, got {json_type(op)}")
    kind = op.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise _problem("invalid", "type", f"type must be one of person, object, delivery, got {kind!r}")
    action = op.get("action")
    if not isinstance(action, str) or action not in TYPES[kind]:
        raise _problem(
            "invalid",
            "action",
            f"action {action!r} is not valid for type {kind} (one of {', '.join(TYPES[kind])})",
        )
    apply = _APPLY[kind]
    try:
        result = apply(ws, op, action, now)
    except StateError as exc:
        raise _state_problem(exc) from None
    except ApiError as exc:  # a shared check (request_body) in the v2 flavour
        raise V2Invalid(
            [V2Problem(e["reason"], e["field"], e["message"]) for e in exc.body["errors"]]
        ) from None
    unknown = _unknown_root(op, kind, action)
    return Outcome(tuple(unknown)) + result if unknown else result


def _unknown_root(op: dict[str, JSON], kind: str, action: str) -> list[str]:
    known = _KNOWN_ROOT[kind].get("event" if action in EVENT_ACTIONS else action, ())
    base = ("type", "action") if (kind, action) == ("person", "merge") else ("type", "action", "identifiers")
    return [
        f"root field {name!r} is not part of a v2 {kind} {action}: ignored"
        for name in op
        if name not in base and name not in known
    ]


def _person_ident(op: dict[str, JSON], action: str) -> Ident:
    identifiers = op.get("identifiers")
    if not isinstance(identifiers, dict) or not identifiers:
        raise _problem(
            "required", "identifiers", "identifiers must be an object with one of id, email or cio_id"
        )
    if len(identifiers) > 1:
        raise _problem("invalid", "identifiers", "You cannot pass multiple identifiers: send exactly one")
    ((name, value),) = identifiers.items()
    where = f"identifiers.{name}"
    if name == "phone":
        raise _problem("invalid", where, "phone is not an enabled identifier in this workspace")
    allowed = _PERSON_KINDS + (("anonymous_id",) if action in EVENT_ACTIONS else ())
    if name not in allowed:
        raise _problem(
            "invalid", where, f"{name} is not an identifier for person {action} (one of {', '.join(allowed)})"
        )
    return Ident(name, _identifier_string(value, where))


def _identifier_string(value: JSON, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise _problem("invalid", where, f"{where} must be a non-empty string")
    if byte_len(value) > MAX_ID_BYTES:
        raise _problem("too_long", where, f"{where} cannot be longer than {MAX_ID_BYTES} bytes")
    return value


def _attributes(op: dict[str, JSON], field: str = "attributes") -> dict[str, JSON] | None:
    value = op.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _problem("invalid", field, f"{field} must be an object, got {json_type(value)}")
    problem = attribute_problem(value, field)
    if problem is not None:
        raise V2Invalid([problem])
    return value


def _relationships(op: dict[str, JSON], *, required: bool) -> list[JSON]:
    value = op.get("cio_relationships")
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise _problem("required", "cio_relationships", "cio_relationships must be a non-empty array")
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("identifiers"), dict):
            raise _problem(
                "invalid",
                f"cio_relationships[{index}]",
                "each relationship must be an object with identifiers",
            )
    return value


def _person(ws: WorkspaceState, op: dict[str, JSON], action: str, now: float) -> Outcome:
    if action == "merge":
        return ws.merge(_merge_side(op, "primary"), _merge_side(op, "secondary"), now)
    ident = _person_ident(op, action)
    if action == "identify":
        attributes = _attributes(op)
        if attributes is not None and "_update" in attributes and not isinstance(attributes["_update"], bool):
            raise _problem("invalid", "attributes._update", "_update must be true or false")
        relationships = _relationships(op, required=False)
        return ws.identify(ident, attributes, now, timestamp=op.get("timestamp"), relationships=relationships)
    if action in EVENT_ACTIONS:
        name = event_name(op.get("name"), "v2")
        data = event_data(op.get("attributes"), "v2", "attributes")
        anonymous_id = None
        if ident.kind != "anonymous_id" and data is not None and isinstance(data.get("anonymous_id"), str):
            anonymous_id = data["anonymous_id"] or None
        return ws.track(
            ident, now, name=name, event_type=action, event_id=event_id(op.get("id"), "v2"),
            timestamp=op.get("timestamp"), data=data, anonymous_id=anonymous_id,
        )  # fmt: skip
    if action in ("add_relationships", "delete_relationships"):
        verb = ws.add_relationships if action == "add_relationships" else ws.delete_relationships
        return verb(ident, _relationships(op, required=True), now)
    if action in ("add_device", "delete_device"):
        return _device(ws, ident, op, action, now)
    person_verb = {"delete": ws.delete_person, "suppress": ws.suppress, "unsuppress": ws.unsuppress}[action]
    return person_verb(ident, now)


def _merge_side(op: dict[str, JSON], side: str) -> Ident:
    value = op.get(side)
    if not isinstance(value, dict) or not value:
        raise _problem("required", side, f"{side} must be an object with one of id, email or cio_id")
    if len(value) > 1:
        raise _problem("invalid", side, f"{side} must hold exactly one identifier")
    ((name, raw),) = value.items()
    if name not in _PERSON_KINDS:
        raise _problem("invalid", f"{side}.{name}", f"{name} is not an identifier (one of id, email, cio_id)")
    return Ident(name, _identifier_string(raw, f"{side}.{name}"))


def _device(ws: WorkspaceState, ident: Ident, op: dict[str, JSON], action: str, now: float) -> Outcome:
    device = op.get("device")
    if not isinstance(device, dict):
        raise _problem("required", "device", "device must be an object with a token")
    token = device.get("token")
    if not isinstance(token, str) or not token:
        raise _problem("required", "device.token", "device.token must be a non-empty string")
    if action == "delete_device":
        return ws.delete_device(ident, now, token=token)
    platform = device.get("platform")
    if not isinstance(platform, str) or not platform:
        raise _problem("required", "device.platform", "device.platform must be present (ios or android)")
    last_used = device.get("last_used")
    if last_used is not None and (
        isinstance(last_used, bool) or not isinstance(last_used, int | float | str)
    ):
        raise _problem("invalid", "device.last_used", "device.last_used must be Unix seconds")
    attributes = _attributes(device, "attributes")
    result = ws.add_device(
        ident, now, token=token, platform=platform, last_used=last_used, attributes=attributes
    )
    if platform not in ("ios", "android"):
        result = Outcome((f"device.platform {platform!r} is not ios or android (kept as sent)",)) + result
    return result


def _object(ws: WorkspaceState, op: dict[str, JSON], action: str, now: float) -> Outcome:
    try:
        obj = ObjectIdent.from_identifiers(op.get("identifiers"))
    except StateError as exc:
        raise _problem("invalid", "identifiers", str(exc)) from None
    for name in ("object_type_id", "object_id", "cio_object_id"):
        value = getattr(obj, name)
        if value is not None and byte_len(value) > MAX_ID_BYTES:
            raise _problem(
                "too_long", f"identifiers.{name}", f"{name} cannot be longer than {MAX_ID_BYTES} bytes"
            )
    if action == "delete":
        return ws.delete_object(obj, now)
    if action in ("add_relationships", "delete_relationships"):
        verb = (
            ws.add_object_relationships if action == "add_relationships" else ws.delete_object_relationships
        )
        return verb(obj, _relationships(op, required=True), now)
    attributes = _attributes(op)
    if action == "identify_anonymous":
        relationships = _relationships(op, required=False)
        top = op.get("anonymous_id")
        if top is not None:  # the OAS example's form: a root anonymous_id
            relationships = [
                *relationships,
                {"identifiers": {"anonymous_id": _identifier_string(top, "anonymous_id")}},
            ]
        if not relationships:
            raise _problem(
                "required", "cio_relationships", "identify_anonymous needs an anonymous_id to relate"
            )
        return ws.identify_object(
            obj, now, attributes=attributes, relationships=relationships, anonymous=True
        )
    return ws.identify_object(
        obj, now, attributes=attributes, relationships=_relationships(op, required=False)
    )


def _delivery(ws: WorkspaceState, op: dict[str, JSON], action: str, now: float) -> Outcome:
    identifiers = op.get("identifiers")
    if not isinstance(identifiers, dict) or set(identifiers) != {"id"}:
        raise _problem("required", "identifiers", 'identifiers must be {"id": <delivery_id>}')
    delivery_id = _identifier_string(identifiers["id"], "identifiers.id")
    name = op.get("name")
    if name not in DELIVERY_METRICS:
        raise _problem("invalid", "name", f"name must be one of {', '.join(DELIVERY_METRICS)}, got {name!r}")
    attributes = op.get("attributes")
    if not isinstance(attributes, dict) or not isinstance(attributes.get("device_token"), str):
        raise _problem("required", "attributes.device_token", "attributes.device_token must be a string")
    return ws.report_metric(
        now, delivery_id=delivery_id, metric=name, timestamp=op.get("timestamp"),
        device_token=attributes["device_token"], source="v2",
    )  # fmt: skip


_APPLY: dict[str, Callable[[WorkspaceState, dict[str, JSON], str, float], Outcome]] = {
    "person": _person,
    "object": _object,
    "delivery": _delivery,
}

ROUTES = [
    Route("POST", ("api", "v2", "entity"), "entity", entity, flavour="v2", limit=MAX_ENTITY_BYTES),
    Route("POST", ("api", "v2", "batch"), "batch", batch, flavour="v2", limit=500 * 1024),
]
