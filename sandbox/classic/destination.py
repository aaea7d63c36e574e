"""The classic (cloud-mode) Customer.io destination: a Segment event → the v1 Track API requests.

Where it sits: the classic side of `cio-sandbox migrate` (and of the inspector's comparison view).
`classic_plan(event, settings, now)` gives a `ClassicPlan`: the requests in the order the
integration sends them, or the reason it sends none. Rules, each from docs/classic.md:

- every call needs a `userId`; an event without one is dropped (no anonymous traffic, no merge);
- identify → `PUT /api/v1/customers/{userId}` with the mapped traits (mapper.identify);
- group → the same PUT with `Group <trait>` attributes (mapper.group);
- track → `POST /api/v1/customers/{userId}/events`; `Application Installed` / `Application Opened`
  with `context.device.token` first add or update the device (`PUT …/devices`),
  `Application Uninstalled` first deletes it (`DELETE …/devices/{token}`);
- page and screen → `PUT /customers/{userId}` with `_last_visit` (unless `active` is false), then
  the event;
- alias and anything else → nothing: the integration has no handler for them.

Requests go to the Settings' Track API host (US or EU) with the same Basic credentials as the
Actions destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from sandbox.actions.request import JSON_CONTENT_TYPE, CioRequest
from sandbox.actions.settings import Settings
from sandbox.classic import mapper
from sandbox.classic.message import active, device, user_id

DEVICE_ADDED: Final = ("Application Installed", "Application Opened")
DEVICE_REMOVED: Final = ("Application Uninstalled",)
HANDLED: Final = ("identify", "group", "track", "page", "screen")


@dataclass(frozen=True, slots=True)
class ClassicCall:
    """One request the classic destination sends; `kind` names it (identify, group, track, page,
    screen, last_visit, add_device, delete_device)."""

    kind: str
    request: CioRequest

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.request.to_dict()}


@dataclass(frozen=True, slots=True)
class ClassicPlan:
    """What the classic destination does with one event: its calls, or why it sends nothing."""

    calls: tuple[ClassicCall, ...]
    dropped: str | None = None

    @property
    def requests(self) -> tuple[CioRequest, ...]:
        return tuple(call.request for call in self.calls)


def _url_part(text: str) -> str | None:
    """`text` percent-encoded for a URL path, or None where encodeURIComponent throws (a lone
    surrogate, which has no UTF-8)."""
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:
        return None


_MALFORMED = "holds a lone surrogate: encodeURIComponent throws (URIError: URI malformed)"


def classic_plan(event: Mapping[str, Any], settings: Settings, now: float) -> ClassicPlan:
    """The classic destination's requests for `event`; `now` stands in for a missing timestamp."""
    kind = event.get("type")
    if kind not in HANDLED:
        what = "alias" if kind == "alias" else f"type {kind!r}"
        return ClassicPlan((), f"the classic destination has no {what} handler")
    uid = user_id(event)
    if uid is None:
        return ClassicPlan((), "no userId (the classic destination needs one for every call)")
    uid_part = _url_part(uid)
    if uid_part is None:
        return ClassicPlan((), f"the userId {_MALFORMED}")
    person = f"{settings.track_url}/api/v1/customers/{uid_part}"
    auth = settings.authorization

    def call(name: str, method: str, url: str, body: Any) -> ClassicCall:
        headers = {"authorization": auth}
        if body is not None:
            headers["content-type"] = JSON_CONTENT_TYPE
        return ClassicCall(name, CioRequest(method, url, headers, body))

    if kind == "identify":
        return ClassicPlan((call("identify", "PUT", person, mapper.identify(event)),))
    if kind == "group":
        return ClassicPlan((call("group", "PUT", person, mapper.group(event)),))
    calls: list[ClassicCall] = []
    if kind in ("page", "screen"):
        if active(event):
            calls.append(call("last_visit", "PUT", person, mapper.last_visit(event, now)))
        body = mapper.page(event, now) if kind == "page" else mapper.screen(event, now)
        calls.append(call(kind, "POST", f"{person}/events", body))
        return ClassicPlan(tuple(calls))
    token, platform = device(event)
    name = event.get("event")
    if token is not None and name in DEVICE_ADDED:
        body = mapper.device(token, platform, event, now)
        calls.append(call("add_device", "PUT", f"{person}/devices", body))
    elif token is not None and name in DEVICE_REMOVED:
        token_part = _url_part(token)
        if token_part is None:
            return ClassicPlan((), f"the device token {_MALFORMED}")
        calls.append(call("delete_device", "DELETE", f"{person}/devices/{token_part}", None))
    calls.append(call("track", "POST", f"{person}/events", mapper.track(event, now)))
    return ClassicPlan(tuple(calls))
