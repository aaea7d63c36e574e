"""Segment's HTTP Tracking API, played by the live server: where an app's Segment SDK sends events.

The flow: `POST /v1/<type>` (or `/v1/batch`; analytics.js's one-letter `/v1/t`, `/v1/p`, `/v1/i`,
`/v1/g`, `/v1/a`, `/v1/s` and `/v1/b`, with `text/plain` JSON bodies and `writeKey` in the body) → `read_body` (auth, gzip, size limits, JSON) →
`check_message` (what Segment's API insists on) → `enrich` (messageId, receivedAt, timestamp as
Segment adds them) → the live sandbox's `ingest`, which runs each event through the transform core
into the mock and stores its trace. The parsing half is pure and tested without Flask.

Segment itself answers `200` to nearly everything and drops bad events silently (its debugger
shows them). The sandbox is stricter on purpose: a message without `userId`/`anonymousId`, a
track without `event`, bad JSON and oversized payloads are `400` with a reason that names the
message, so the mistake shows up in the app under test. Every refused call is also kept for the
inspector (status `refused`, with the reason and the raw body as text).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from mock_cio.request_body import MAX_DEPTH, has_lone_surrogate, nested_too_deep, without_lone_surrogates
from mock_cio.wsgi_body import read_body
from sandbox.errors import InputError
from sandbox.js import json as js_json
from sandbox.js.values import JSON, json_kind
from sandbox.replay.events import with_batch_context

MAX_MESSAGE_BYTES = 32 * 1024  # "32KB per call", and per event inside a batch
MAX_BATCH_BYTES = 500 * 1024  # "the batch endpoint accepts a maximum of 500KB per request"
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

bp = Blueprint("segment_api", __name__)


class TrackingApiError(InputError):
    """A request the Tracking API refuses. `status` is the HTTP status, `code` Segment-style."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class TrackingCall:
    """One accepted request: the write key and its messages, enriched and ready for the pipeline."""

    write_key: str
    events: tuple[dict[str, JSON], ...]


# -- the pure half -------------------------------------------------------------------------------


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo `Content-Encoding: gzip` (analytics-python's `gzip=True`), refusing more than `limit`
    bytes once inflated, so a small compressed bomb cannot fill memory."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        data = raw
    elif encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise TrackingApiError(f"the body is not valid gzip: {exc}") from None
        if not inflater.eof and len(data) <= limit:
            raise TrackingApiError("the body is not valid gzip: it ends before the gzip stream does")
    else:
        raise TrackingApiError(f"unsupported Content-Encoding {content_encoding!r}; send gzip or nothing")
    if len(data) > limit:
        raise TrackingApiError(
            f"the request body is larger than {limit // 1024}KB, the Tracking API's limit for this endpoint",
            code="payload_too_large",
        )
    return data


def parse_json_object(data: bytes) -> dict[str, JSON]:
    """The body as a JSON object, or a TrackingApiError saying what is wrong with it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrackingApiError(f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        body = js_json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrackingApiError(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise TrackingApiError("the body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN and Infinity, which JSON (and Segment) does not have
        raise TrackingApiError(f"the body is not valid JSON: {exc}") from None
    deep = nested_too_deep(body, MAX_DEPTH)
    if deep is not None:
        raise TrackingApiError(f"the body nests deeper than {MAX_DEPTH} levels (at {deep})")
    if has_lone_surrogate(body):  # read as U+FFFD, as Segment's (Go) decoder reads them
        body = without_lone_surrogates(body)
    if not isinstance(body, dict):
        raise TrackingApiError(f"the body must be a JSON object, got {json_kind(body)}")
    return body


def write_key_from(authorization: str | None, body: Mapping[str, JSON]) -> str:
    """The write key: the Basic auth username (password empty), else `writeKey` in the body."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "basic" and token:
            try:
                decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise TrackingApiError(
                    "the Authorization header is not valid Basic auth (base64 of 'writeKey:')",
                    status=401,
                    code="unauthorized",
                ) from None
            key = decoded.partition(":")[0]
            if key:
                return key
    in_body = body.get("writeKey")
    if isinstance(in_body, str) and in_body:
        return in_body
    raise TrackingApiError(
        "no write key: send it as the Basic auth username or as writeKey in the body",
        status=401,
        code="unauthorized",
    )


def check_message(message: JSON, where: str) -> dict[str, JSON]:
    """Enforce what Segment's API requires of a message; `where` names it in the error."""
    if not isinstance(message, dict):
        raise TrackingApiError(f"{where} must be a JSON object, got {json_kind(message)}")
    kind = message.get("type")
    if kind not in EVENT_TYPES:
        raise TrackingApiError(f"{where} has type {kind!r}; expected one of {', '.join(EVENT_TYPES)}")
    if kind == "alias":
        for key in ("userId", "previousId"):
            if not _present_id(message.get(key)):
                raise TrackingApiError(f"{where} (alias) needs a non-empty {key}")
    elif not (_present_id(message.get("userId")) or _present_id(message.get("anonymousId"))):
        raise TrackingApiError(f"{where} ({kind}) needs a userId or an anonymousId")
    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name:
            raise TrackingApiError(f"{where} (track) needs an event name in 'event'")
    if kind == "group" and not _present_id(message.get("groupId")):
        raise TrackingApiError(f"{where} (group) needs a groupId")
    size = len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise TrackingApiError(
            f"{where} is {size} bytes; the Tracking API accepts at most 32KB per event",
            code="payload_too_large",
        )
    return message


def enrich(
    message: Mapping[str, JSON], received_at: datetime, *, new_id: Callable[[], str] | None = None
) -> dict[str, JSON]:
    """Add the fields Segment's API adds on receipt; never overwrite what the sender set.

    - `messageId`: generated when absent (Segment dedupes on it);
    - `receivedAt`: the receipt time;
    - `timestamp`: kept when sent; else corrected for the device clock the way Segment documents
      (`receivedAt - (sentAt - originalTimestamp)`) when both are present; else `receivedAt`.
    """
    event = dict(message)
    received = _iso(received_at)
    if not _present_id(event.get("messageId")):
        event["messageId"] = (new_id or _new_message_id)()
    event["receivedAt"] = received
    if event.get("timestamp") in (None, ""):
        sent = _parse_iso(event.get("sentAt"))
        original = _parse_iso(event.get("originalTimestamp"))
        if sent is not None and original is not None:
            try:
                event["timestamp"] = _iso(received_at - (sent - original))
            except OverflowError:
                raise TrackingApiError(
                    f"sentAt {event.get('sentAt')!r} and originalTimestamp {event.get('originalTimestamp')!r} "
                    "put the corrected timestamp (receivedAt - (sentAt - originalTimestamp)) outside years 1-9999"
                ) from None
        else:
            event["timestamp"] = received
    return event


def read_call(
    kind: str | None,
    raw: bytes,
    *,
    authorization: str | None,
    content_encoding: str | None,
    received_at: datetime,
) -> TrackingCall:
    """Turn one HTTP request into a TrackingCall. `kind` is the endpoint's event type, or None
    for `/v1/batch`. Raises TrackingApiError for anything the API would refuse."""
    limit = MAX_BATCH_BYTES if kind is None else MAX_MESSAGE_BYTES
    body = parse_json_object(decode_body(raw, content_encoding, limit))
    key = write_key_from(authorization, body)
    if kind is None:
        batch = body.get("batch")
        if not isinstance(batch, list):
            raise TrackingApiError(f"'batch' must be a list of messages, got {json_kind(batch)}")
        shared = {k: body[k] for k in ("context", "integrations") if isinstance(body.get(k), dict)}
        sent_at = body.get("sentAt")
        messages = []
        for index, item in enumerate(batch):
            if isinstance(item, dict):
                item = _with_batch_defaults(item, shared, sent_at)
            messages.append(check_message(item, f"batch[{index}]"))
    else:
        message = {k: v for k, v in body.items() if k != "writeKey"}
        message["type"] = kind  # the endpoint decides the type, as Segment's does
        messages = [check_message(message, f"the {kind} call")]
    events = tuple(enrich({k: v for k, v in m.items() if k != "writeKey"}, received_at) for m in messages)
    return TrackingCall(key, events)


def _with_batch_defaults(item: dict[str, JSON], shared: Mapping[str, JSON], sent_at: JSON) -> dict[str, JSON]:
    """A batch's top-level context/integrations (and sentAt) apply to each message; its own keys win."""
    out = with_batch_context(item, shared)
    if sent_at is not None and "sentAt" not in out:
        out = {**out, "sentAt": sent_at}
    return out


def _present_id(value: JSON) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value != ""
    return isinstance(value, (int, float))


def _new_message_id() -> str:
    return f"api-{uuid.uuid4()}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(value: JSON) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# -- the HTTP half -------------------------------------------------------------------------------

SHORT_PATHS = {"t": "track", "p": "page", "i": "identify", "g": "group", "a": "alias", "s": "screen"}
"""analytics.js (`@segment/analytics-next`) posts to `/v1/t`, `/v1/p`, ... and batches to `/v1/b`."""
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, Content-Encoding",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
"""Segment's API allows any origin, and so does the sandbox, so a local web app can point at it.
analytics.js posts as text/plain to avoid a preflight; a preflight (OPTIONS) is answered anyway."""
RAW_BODY_SHOWN = 64 * 1024
"""How much of a refused call's body the inspector keeps (as text)."""


def _handle(kind: str | None) -> Response | tuple[Response, int]:
    live = current_app.extensions["sandbox_live"]
    limit = MAX_BATCH_BYTES if kind is None else MAX_MESSAGE_BYTES
    read = read_body(request.environ, limit)  # streamed: never more than the limit is held
    raw = read.data
    try:
        if read.error is not None:
            raise TrackingApiError(read.error)
        if read.oversized is not None:
            raise TrackingApiError(
                f"the request body is larger than {limit // 1024}KB, the Tracking API's limit for this endpoint",
                code="payload_too_large",
            )
        call = read_call(
            kind,
            raw,
            authorization=request.headers.get("Authorization"),
            content_encoding=request.headers.get("Content-Encoding"),
            received_at=live.received_at(),
        )
        live.check_write_key(call.write_key)
    except TrackingApiError as exc:
        return refuse(exc, kind, raw)
    live.ingest(call)
    return jsonify({"success": True})


def refuse(exc: TrackingApiError, kind: str | None, raw: bytes) -> tuple[Response, int]:
    """Answer a refused call as Segment-style JSON and keep it for the inspector (status `refused`)."""
    live = current_app.extensions["sandbox_live"]
    live.refused(
        refused_record(exc, kind, raw, request.method, request.path, dict(request.headers), live.now())
    )
    body = {"success": False, "code": exc.code, "message": exc.message}
    return jsonify(body), exc.status


def refused_record(
    exc: TrackingApiError,
    kind: str | None,
    raw: bytes,
    method: str,
    path: str,
    headers: Mapping[str, str],
    received_at: float,
) -> dict[str, JSON]:
    """The trace record of a refused call: the reason, the raw body as text, and as much of the
    event as could be read (its type, ids and name), so the events page can show and filter it."""
    event: dict[str, JSON] = {"type": kind or "batch"}
    try:
        body = parse_json_object(decode_body(raw, headers.get("Content-Encoding"), MAX_BATCH_BYTES))
    except TrackingApiError:
        body = None
    if body is not None and kind is not None:
        event = {
            k: v for k, v in body.items() if k in ("userId", "anonymousId", "event", "name", "messageId")
        }
        event["type"] = kind
    text = raw[:RAW_BODY_SHOWN].decode("utf-8", errors="replace")
    key = body.get("writeKey") if body is not None else None
    if isinstance(key, str) and key:
        from sandbox.live.session import masked_key  # noqa: PLC0415 - session imports this module

        text = text.replace(key, masked_key(key))  # the raw body, but never the write key itself
    return {
        "received_at": received_at,
        "event": event,
        "status": "refused",
        "reason": exc.message,
        "response": {"status": exc.status, "code": exc.code},
        "request": {
            "method": method,
            "path": path,
            "content_type": headers.get("Content-Type"),
            "content_length": len(raw),
            "body_text": text,
            "body_truncated": len(raw) > RAW_BODY_SHOWN,
        },
        "subscriptions": [],
        "summary": {"matched": 0, "requests": 0, "rejected": 0, "errors": 0},
    }


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


@bp.post("/v1/batch")
@bp.post("/v1/import")
@bp.post("/v1/b")
def batch() -> Response | tuple[Response, int]:
    return _handle(None)


def _single(kind: str) -> Callable[[], Response | tuple[Response, int]]:
    def view() -> Response | tuple[Response, int]:
        return _handle(kind)

    view.__name__ = kind
    return view


for _kind_name in EVENT_TYPES:
    bp.add_url_rule(f"/v1/{_kind_name}", view_func=_single(_kind_name), methods=["POST"])
for _short, _kind_name in SHORT_PATHS.items():
    bp.add_url_rule(
        f"/v1/{_short}", endpoint=f"{_kind_name}_short", view_func=_single(_kind_name), methods=["POST"]
    )
