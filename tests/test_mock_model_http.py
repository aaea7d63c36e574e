"""A Hypothesis state machine: the mock over HTTP (intercept + requests) against a dict model.

Where the state-level machine (test_mock_state_model.py) calls `WorkspaceState` verbs, this one
goes through everything a user touches: the Track API v1 routes (identify, events, anonymous
events, delete, suppress, unsuppress, merge_customers), the admin API over HTTP for the clock and
every view (`RemoteMock` pointed at the intercepted host, which serves `/_mock/` too), and the
journal. The model is the one of test_mock_state_model.py (tests/cio_model.py), written
independently of the mock from docs/decisions.md.

After every step: each answer was 200 and journaled as accepted with the answer's entry id, and
the people and anonymous events equal the model. At the end, a restart on the same SQLite file
gives the same snapshot.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import requests
from cio_model import CioModel, anonymous_ids, attributes, event_ids, ids, people_of, steps
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import mock_cio
from mock_cio.remote import RemoteMock

T0 = 1_700_000_000
US = "https://track.customer.io"
AUTH = ("site", "key")


class HttpVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="mock-model-"))
        self.app = mock_cio.create_app({"CIO_NOW": T0, "CIO_DB": str(self.folder / "journal.db")})
        self.cio = mock_cio.intercept(self.app).start()
        # trust_env off: requests otherwise scans the environment for proxies on every call,
        # which costs more than the mock's answer.
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = AUTH
        admin_session = requests.Session()
        admin_session.trust_env = False
        self.admin = RemoteMock(US, session=admin_session)  # the admin API, through the interceptor
        self.sent = 0
        self.model = CioModel(T0)

    # ------------------------------------------------------------------ plumbing

    def send(self, method: str, path: str, body: dict[str, Any]) -> None:
        response = self.session.request(method, US + path, json=body)
        self.sent += 1
        assert response.status_code == 200, (method, path, body, response.text)
        assert response.text == "{}\n"
        entry = self.cio.request(int(response.headers["X-Mock-Request-Id"]))
        assert entry is not None
        assert (entry["method"], entry["path"], entry["body"]) == (method, path, body)
        assert (entry["status"], entry["outcome"], entry["received_at"]) == (200, "accepted", self.model.now)

    # ------------------------------------------------------------------ rules

    @rule(seconds=steps)
    def advance(self, seconds: int) -> None:
        clock = self.admin.clock.advance(seconds)
        self.model.advance(seconds)
        assert clock["now"] == self.model.now

    @rule(uid=ids, attrs=attributes)
    def identify(self, uid: str, attrs: dict[str, Any]) -> None:
        self._identify(uid, dict(attrs))

    @rule(uid=ids, attrs=attributes, anonymous_id=anonymous_ids)
    def claim(self, uid: str, attrs: dict[str, Any], anonymous_id: str) -> None:
        self._identify(uid, {**attrs, "anonymous_id": anonymous_id})

    def _identify(self, uid: str, body: dict[str, Any]) -> None:
        self.send("PUT", f"/api/v1/customers/{uid}", body)
        self.model.identify(uid, body)

    @rule(uid=ids, event_id=event_ids)
    def track(self, uid: str, event_id: str | None) -> None:
        name = self.model.name()
        body: dict[str, Any] = {"name": name} if event_id is None else {"name": name, "id": event_id}
        self.send("POST", f"/api/v1/customers/{uid}/events", body)
        self.model.track(uid, name, event_id)

    @rule(anonymous_id=anonymous_ids, event_id=event_ids)
    def track_anonymous(self, anonymous_id: str, event_id: str | None) -> None:
        name = self.model.name()
        body: dict[str, Any] = {"name": name, "anonymous_id": anonymous_id}
        if event_id is not None:
            body["id"] = event_id
        self.send("POST", "/api/v1/events", body)
        self.model.track_anonymous(anonymous_id, name, event_id)

    @rule(uid=ids)
    def delete(self, uid: str) -> None:
        self.send("DELETE", f"/api/v1/customers/{uid}", {})
        self.model.delete(uid)

    @rule(uid=ids)
    def suppress(self, uid: str) -> None:
        self.send("POST", f"/api/v1/customers/{uid}/suppress", {})
        self.model.suppress(uid)

    @rule(uid=ids)
    def unsuppress(self, uid: str) -> None:
        self.send("POST", f"/api/v1/customers/{uid}/unsuppress", {})
        self.model.unsuppress(uid)

    @precondition(lambda self: len(self.model.people) >= 1)
    @rule(primary=ids, secondary=ids)
    def merge(self, primary: str, secondary: str) -> None:
        body = {"primary": {"id": primary}, "secondary": {"id": secondary}}
        self.send("POST", "/api/v1/merge_customers", body)
        self.model.merge(primary, secondary)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def views_match_the_model(self) -> None:
        assert people_of(self.admin.people()) == self.model.people_view()
        # One lookup by path per step, in turn, so each id is looked up both present and absent.
        uid = f"u{self.sent % 3}"
        found = self.admin.person(uid)
        assert (found is None) == (uid not in self.model.people)
        actual_anonymous = [(e["anonymous_id"], e["name"]) for e in self.admin.anonymous_events()]
        assert actual_anonymous == self.model.anonymous_view()
        assert self.cio.mock.journal_count() == self.sent

    def teardown(self) -> None:
        try:
            assert self.admin.journal_count(outcome="accepted") == self.sent
            before = self.cio.snapshot()
            self.cio.stop()
            self.cio.mock.close()
            # The same config: CIO_NOW is the clock's start; what the admin API set is in the file.
            restarted = mock_cio.create_app({"CIO_NOW": T0, "CIO_DB": str(self.folder / "journal.db")})
            mock = restarted.extensions["mock_cio"]
            try:
                assert json.dumps(mock.snapshot(), sort_keys=True) == json.dumps(before, sort_keys=True)
                assert mock.clock.now() == self.model.now
            finally:
                mock.close()
        finally:
            self.cio.stop()
            self.session.close()
            shutil.rmtree(self.folder, ignore_errors=True)


TestHttpVersusModel = HttpVersusModel.TestCase
# Each step costs about five HTTP round trips through the interceptor; 25 steps (not 50) keep the
# ci profile near half a minute. Runs still reach every edge (steps include 30-day jumps), and the
# state-level machine (test_mock_state_model.py) explores long runs of the same rules.
TestHttpVersusModel.settings = settings(TestHttpVersusModel.settings, stateful_step_count=25)
