"""The App API's transactional sends, captured: `POST /v1/send/{email,push,sms,whatsapp,inbox_message,in_app}`.

Where it sits: routes in the mock's one route table (mock.py), so the same pipeline authenticates,
parses, journals and answers them, on any host (Customer.io serves them on `api.customer.io` and
`api-eu.customer.io`; the Track API lives on other paths, so paths never collide). A send changes
no state: the mock checks the request as Customer.io documents it and answers
`{"delivery_id", "queued_at"}`; the journal entry IS the message that would have been sent (the
inspector lists them). Templates are not rendered: the mock has no templates, so
`transactional_message_id` is kept as sent and `message_data` is not applied to anything.

What is checked (Customer.io's transactional API reference and the official clients' request
objects: customerio-python's `SendEmailRequest` ..., customerio-node's `SendEmailRequest` ...):

- `Authorization: Bearer <App API key>` (401 without it; the App API key is not the Track API's
  site id and key, and the mock cannot know the real one, so any non-empty key is accepted);
- `identifiers`: an object with exactly one of `id`, `email`, `cio_id`;
- `transactional_message_id`: a template id (number) or trigger name (string); an email may
  instead carry its own `from`, `subject` and `body`;
- email: `to` (the recipient address); push/sms/whatsapp: `to` optional (a device token or
  phone number); booleans, `send_at` (Unix seconds), `message_data` and `attachments` (name →
  base64) have their documented types.

Errors are `400 {"meta": {"error": "..."}}` naming the field, as the App API answers.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from mock_cio.request_body import ApiError
from mock_cio.routes import Call, Reply, Route
from mock_cio.state import Outcome

JSON = Any
KINDS = ("email", "push", "sms", "whatsapp", "inbox_message", "in_app")
IDENTIFIER_KEYS = ("id", "email", "cio_id")
BOOLEANS = ("disable_message_retention", "send_to_unsubscribed", "queue_draft", "tracked", "fake_bcc",
            "disable_css_preprocessing")  # fmt: skip
OBJECTS = ("message_data", "headers", "custom_data", "custom_payload", "custom_device", "attachments")
STRINGS = ("to", "from", "reply_to", "cc", "bcc", "subject", "preheader", "body", "body_plain", "body_amp",
           "language", "title", "message", "image_url", "link", "sound")  # fmt: skip
UNAUTHORIZED = {
    "meta": {"error": "Unauthorized request: send your App API key as 'Authorization: Bearer KEY'"}
}


def app_error(message: str, status: int = 400) -> ApiError:
    return ApiError(status, {"meta": {"error": message}}, [message])


def check_bearer(header: str | None) -> str:
    """The App API key from `Authorization: Bearer KEY`; ApiError(401) otherwise."""
    scheme, _, token = (header or "").strip().partition(" ")
    if not header:
        raise ApiError(
            401, UNAUTHORIZED, ["no Authorization header (the App API takes 'Bearer <App API key>')"]
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, UNAUTHORIZED, [f"the App API takes 'Authorization: Bearer <App API key>', got a "
                                           f"{scheme or 'malformed'} header"])  # fmt: skip
    return token.strip()


def check_send(kind: str, body: JSON) -> list[str]:
    """Check one send request as Customer.io documents it; return notes for the journal."""
    if not isinstance(body, dict):
        raise app_error("the request body must be a JSON object")
    notes: list[str] = []
    identifiers = body.get("identifiers")
    if not isinstance(identifiers, dict):
        raise app_error("identifiers is required: an object with one of id, email or cio_id")
    given = [key for key in IDENTIFIER_KEYS if identifiers.get(key) not in (None, "")]
    unknown = sorted(set(identifiers) - set(IDENTIFIER_KEYS))
    if unknown:
        raise app_error(f"identifiers takes one of id, email or cio_id, not {', '.join(unknown)}")
    if len(given) != 1:
        raise app_error(f"identifiers must hold exactly one of id, email or cio_id (got {len(given)})")
    value = identifiers[given[0]]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise app_error(f"identifiers.{given[0]} must be a string")
    template = body.get("transactional_message_id")
    if template is None or template == "":
        if kind != "email" or not all(
            isinstance(body.get(k), str) and body[k] for k in ("from", "subject", "body")
        ):
            extra = " (or, for an email, from, subject and body)" if kind == "email" else ""
            raise app_error(f"transactional_message_id is required{extra}")
        notes.append("no template: the email's own from, subject and body would be sent")
    elif isinstance(template, bool) or not isinstance(template, str | int):
        raise app_error("transactional_message_id must be a template id (number) or trigger name (string)")
    if kind == "email" and not (isinstance(body.get("to"), str) and body["to"].strip()):
        raise app_error("to is required for an email: the recipient's address")
    for key in STRINGS:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise app_error(f"{key} must be a string")
    for key in BOOLEANS:
        if key in body and body[key] is not None and not isinstance(body[key], bool):
            raise app_error(f"{key} must be true or false")
    for key in OBJECTS:
        if key in body and body[key] is not None and not isinstance(body[key], dict):
            raise app_error(f"{key} must be an object")
    send_at = body.get("send_at")
    if send_at is not None and (isinstance(send_at, bool) or not isinstance(send_at, int) or send_at < 0):
        raise app_error("send_at must be a Unix timestamp in seconds")
    for name, content in (body.get("attachments") or {}).items():
        if not isinstance(content, str):
            raise app_error(f"attachments.{name} must be base64 text")
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise app_error(f"attachments.{name} is not valid base64") from None
    if template is not None and template != "":
        notes.append(f"template {template!r} not rendered: the mock captures the send, it has no templates")
    if send_at is not None:
        notes.append(f"scheduled for send_at {send_at}")
    return notes


def _sender(kind: str) -> Any:
    def send(call: Call) -> Reply:
        notes = check_send(kind, call.body)
        delivery_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        reply = {"delivery_id": delivery_id, "queued_at": int(call.now)}
        return Reply(200, reply, result=Outcome((f"transactional {kind} captured (not sent)", *notes)))

    send.__name__ = f"send_{kind}"
    return send


# flavour "merge": the App API's error body, {"meta": {"error": "..."}}, is the merge endpoint's shape.
ROUTES = [
    Route("POST", ("v1", "send", kind), f"send_{kind}", _sender(kind), flavour="merge", auth="bearer")
    for kind in KINDS
]
