"""`RemoteMock`: a running mock's admin API (`/_mock/`) as the same Python views `MockCio` gives.

Where it sits: beside a live server (`python -m mock_cio`, `cio-sandbox serve`), in tests and
scripts that talk to it over HTTP. Its methods mirror `MockCio`'s, so the helpers of
mock_cio/assertions.py accept it as a source:

    mock = RemoteMock("https://127.0.0.1:8787", verify="/path/to/ca.pem")
    assert_person(mock, "u1", attributes={"plan": "pro"})

Admin errors (`400/404 {"error": ...}`) are raised as `RemoteMockError` with the server's message;
an unknown person is `None`, as in-process.
"""

from __future__ import annotations

from typing import Any

import requests

from mock_cio.control_plane import ADMIN_HEADER
from mock_cio.errors import MockError, RemoteMockError  # noqa: F401  (defined in mock_cio.errors; importable here too)

JSON = Any


class RemoteClock:
    def __init__(self, remote: RemoteMock) -> None:
        self._remote = remote

    def to_dict(self) -> dict[str, JSON]:
        return self._remote._call("GET", "/clock")

    def now(self) -> float:
        return float(self.to_dict()["now"])

    def set(self, t: JSON, *, running: bool = False) -> dict[str, JSON]:
        return self._remote._call("POST", "/clock", {"now": t, "running": running})

    def advance(self, seconds: float) -> dict[str, JSON]:
        return self._remote._call("POST", "/clock", {"advance": seconds})


class RemoteMock:
    """The admin API of the mock at `base_url` (scheme, host and port; no `/_mock`)."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str = True,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        # Passed with each request: requests lets REQUESTS_CA_BUNDLE override `session.verify`.
        self.verify = verify
        self.timeout = timeout
        self.clock = RemoteClock(self)

    def _call(self, method: str, path: str, body: JSON = None, params: dict[str, JSON] | None = None) -> JSON:
        url = f"{self.base_url}/_mock{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.session.request(
                method,
                url,
                json=body,
                params=query,
                timeout=self.timeout,
                verify=self.verify,
                headers={ADMIN_HEADER: "1"},  # a write without a body passes the cross-site check
            )
        except requests.RequestException as exc:
            raise RemoteMockError(f"{method} {url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise RemoteMockError(f"{method} {url} answered {response.status_code}: {message}")
        return response.json()

    def requests(
        self,
        workspace: str | None = None,
        status: int | str | None = None,
        path: str | None = None,
        since: float | str | None = None,
        limit: int | None = None,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        outcome: str | None = None,
    ) -> list[dict[str, JSON]]:
        params = {"workspace": workspace, "status": status, "path": path, "since": since, "limit": limit,
                  "before_id": before_id, "after_id": after_id, "outcome": outcome}  # fmt: skip
        return self._call("GET", "/requests", params=params)

    def journal_count(self, workspace: str | None = None, status: int | str | None = None,
                      path: str | None = None, since: float | str | None = None, *,
                      outcome: str | None = None) -> int:  # fmt: skip
        params = {"workspace": workspace, "status": status, "path": path, "since": since, "outcome": outcome}
        return int(self._call("GET", "/requests/count", params=params)["count"])

    def request(self, entry_id: int) -> dict[str, JSON] | None:
        try:
            return self._call("GET", f"/requests/{int(entry_id)}")
        except RemoteMockError as exc:
            if " 404:" in str(exc):
                return None
            raise

    def people(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self._call("GET", "/people", params={"site_id": site_id})

    def person(self, identifier: str, site_id: str | None = None) -> dict[str, JSON] | None:
        quoted = requests.utils.quote(identifier, safe="")
        try:
            return self._call("GET", f"/people/{quoted}", params={"site_id": site_id})
        except RemoteMockError as exc:
            if " 404:" in str(exc):
                return None
            raise

    def anonymous_events(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self._call("GET", "/anonymous_events", params={"site_id": site_id})

    def objects(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self._call("GET", "/objects", params={"site_id": site_id})

    def metrics(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self._call("GET", "/metrics", params={"site_id": site_id})

    def workspaces(self) -> list[dict[str, JSON]]:
        return self._call("GET", "/workspaces")

    def snapshot(self) -> dict[str, JSON]:
        return self._call("GET", "/snapshot")

    def reset(self) -> dict[str, JSON]:
        return self._call("POST", "/reset")

    def configure_workspace(self, site_id: str, **settings: JSON) -> dict[str, JSON]:
        return self._call("PUT", f"/workspaces/{requests.utils.quote(site_id, safe='')}", settings)

    def inject_fault(
        self, status: int | None = None, count: int = 1, latency: float | None = None, body: JSON = None
    ) -> dict[str, JSON]:
        fault = {"status": status, "count": count, "latency": latency, "body": body}
        return self._call("POST", "/faults", {k: v for k, v in fault.items() if v is not None})

    def clear_faults(self) -> dict[str, JSON]:
        return self._call("DELETE", "/faults")

    def close(self) -> None:
        self.session.close()
