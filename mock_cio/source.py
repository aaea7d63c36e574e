"""The Customer.io source, closing the loop: for each campaign entry, the event Customer.io's
Segment source would send for the campaign's message, journaled and (with `--source-to URL`)
posted to a Segment HTTP API's `/v1/batch` (the sandbox's own Tracking API included).

What is sent, and why (README "How the mock decides"): the source sends message metrics as
Segment `track` calls (Customer.io's "Segment: Customer.io as a data source"; Segment's
"Customer.io Source"), with the person's id as `userId`, or their email as `anonymousId` when
they have no id. A campaign's message is not rendered or delivered here, so a campaign entry
emits one event: `Email Sent`, the first metric of the message that would go out, timestamped
when it would go out (the entry's `starts_at`, else its time), with properties from Segment's
email spec (`email_id`, `campaign_id`, `campaign_name`) and the recipient. A person with neither
id nor email gets no event (a note says so).

Posting runs on one background thread in entry order, so a slow or dead endpoint never slows
or breaks the mock: each failure is kept (`failures`) and journaled as a `source` control row
(replays ignore it), and the event stays in its request's journal entry either way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from mock_cio.clock import iso
from mock_cio.errors import SourceError  # noqa: F401  (defined in mock_cio.errors; importable here too)

JSON = Any
EVENT = "Email Sent"
DEFAULT_WRITE_KEY = "customerio-source"
TIMEOUT = 10.0
KEPT_FAILURES = 100


def parse_target(text: JSON, where: str = "--source-to") -> tuple[str, str]:
    """`(batch URL, write key)` from `http(s)://[WRITE_KEY@]host[:port][/path]`: a URL without a
    path posts to `/v1/batch`; the write key (default `customerio-source`) is the Basic user."""
    if not isinstance(text, str) or not text.strip():
        raise SourceError(f"{where}: must be an http(s) URL, got {text!r}")
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise SourceError(f"{where}: {text!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(
            f"{where}: must be an http(s) URL with a host, like http://127.0.0.1:8080, got {text!r}"
        )
    if parts.query or parts.fragment:
        raise SourceError(f"{where}: takes no query or fragment, got {text!r}")
    key = urllib.parse.unquote(parts.username or "") or DEFAULT_WRITE_KEY
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/") or "/v1/batch"
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", "")), key


def source_event(
    site_id: str, entry: Mapping[str, JSON], identifiers: Mapping[str, JSON], campaign_name: str
) -> dict[str, JSON] | None:
    """The Segment `track` call the source sends for one campaign entry (`campaign_entered`
    change), or None when the person has neither id nor email."""
    user_id, email = identifiers.get("id"), identifiers.get("email")
    if not user_id and not email:
        return None
    at = float(entry.get("starts_at") or entry["at"])
    seed = f"{site_id}\x00{entry['campaign']}\x00{entry['person']}\x00{float(entry['at']):.6f}"
    delivery = hashlib.sha256(seed.encode()).hexdigest()[:24]
    event: dict[str, JSON] = {"type": "track", "event": EVENT}
    if user_id:
        event["userId"] = str(user_id)
    else:
        event["anonymousId"] = str(email)
    properties: dict[str, JSON] = {
        "email_id": delivery,
        "campaign_id": entry["campaign"],
        "campaign_name": campaign_name,
    }
    if email:
        properties["recipient"] = email
    event["properties"] = properties
    if email:
        event["context"] = {"traits": {"email": email}}
    event["messageId"] = f"cio-source-{delivery}"
    event["timestamp"] = iso(at)
    return event


class Outbox:
    """Posts batches of source events to one `/v1/batch` URL on a background thread."""

    def __init__(self, url: str, write_key: str, on_failure: Callable[[dict[str, JSON]], None]) -> None:
        self.url = url
        self._auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode("ascii")
        self._on_failure = on_failure
        self._queue: queue.Queue[list[dict[str, JSON]] | None] = queue.Queue()
        self.sent = 0
        self.failures: list[dict[str, JSON]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def post(self, events: list[dict[str, JSON]]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cio-source", daemon=True)
                self._thread.start()
        self._queue.put(list(events))

    def flush(self, timeout: float = TIMEOUT) -> bool:
        """Wait until everything queued was posted (or failed); False when `timeout` ran out."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            self.flush(timeout)
            self._queue.put(None)
            self._thread.join(timeout)

    def view(self) -> dict[str, JSON]:
        return {"to": self.url, "sent": self.sent, "failures": list(self.failures)}

    def _run(self) -> None:
        while True:
            events = self._queue.get()
            try:
                if events is None:
                    return
                self._send(events)
            finally:
                self._queue.task_done()

    def _send(self, events: list[dict[str, JSON]]) -> None:
        # imported here, in the poster's thread: urllib.request (and http.client, email, ...) costs
        # every process that builds a mock about 15 ms, and most never post
        import urllib.error
        import urllib.request

        body = json.dumps({"batch": events}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": self._auth},
        )
        error: str | None = None
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) checked
                status = response.status
                if status >= 300:
                    error = f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}: {exc.read(300).decode('utf-8', 'replace')}"
        except (OSError, ValueError) as exc:  # refused, timed out, DNS, TLS
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.sent += len(events)
            return
        failure = {
            "url": self.url,
            "error": error,
            "message_ids": [e.get("messageId") for e in events],
        }
        self.failures = [*self.failures, failure][-KEPT_FAILURES:]
        try:
            self._on_failure(failure)
        except Exception:  # noqa: BLE001 - journaling the failure must not kill the poster
            pass
