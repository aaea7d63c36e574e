"""Outgoing requests: the last stage of the transform, and the only place that touches the network.

`CioRequest` is what the pipeline produces for each call the destination would make. `send()`
delivers one with `requests` (imported lazily, so planning never pays for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.js.json import dumps
from sandbox.js.values import JSON

if TYPE_CHECKING:  # pragma: no cover
    import requests

USER_AGENT = "Segment (Actions)"
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class CioRequest:
    """One HTTP request as the destination sends it. `body` is the JSON object, or None (no body)."""

    method: str
    url: str
    headers: dict[str, str]
    body: JSON

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": dict(self.headers), "body": self.body}

    def body_bytes(self) -> bytes | None:
        """The body exactly as Node sends it: `JSON.stringify`'s text (sandbox.js.json), in UTF-8."""
        if self.body is None:
            return None
        return dumps(self.body).encode("utf-8")

    def body_text(self) -> str | None:
        """`body_bytes()` as text."""
        return None if self.body is None else dumps(self.body)


def make_headers(authorization: str, *, with_body: bool = True) -> dict[str, str]:
    """The headers actions-core puts on every request: Basic auth (none for an empty siteId and
    apiKey), user agent, JSON content type."""
    headers = {"authorization": authorization} if authorization else {}
    if with_body:
        headers["content-type"] = JSON_CONTENT_TYPE
    headers["user-agent"] = USER_AGENT
    return headers


def send(
    req: CioRequest, session: requests.Session | None = None, timeout: float = 30.0
) -> requests.Response:
    """Send `req` with requests (so `responses` and the mock's interceptor can catch it)."""
    import requests as _requests

    client = session if session is not None else _requests
    return client.request(req.method, req.url, headers=req.headers, data=req.body_bytes(), timeout=timeout)
