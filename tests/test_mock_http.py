"""The mock's HTTP layer: hosts, credentials, regions, 404/405, rate limit, faults, bugs as JSON."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio import auth
from mock_cio.auth import AuthError, credentials, redact
from tests.mock_support import EU, US, Track, basic, make


def test_two_apps_never_share_state() -> None:
    a, b = make(), make()
    a.put("/api/v1/customers/u1", {"x": 1})
    assert b.mock.person("u1") is None and b.mock.requests() == []


@pytest.mark.parametrize("urlsafe", [False, True])
def test_basic_auth_standard_and_urlsafe_base64(urlsafe: bool) -> None:
    # "?>?" encodes to "Pz4/" (standard) or "Pz4_" (URL-safe): both must name the same workspace.
    track = make()
    r = track.put("/api/v1/customers/u1", {}, headers={"Authorization": basic("s?>?", "k", urlsafe=urlsafe)})
    assert r.status_code == 200 and track.last()["workspace"] == "s?>?"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no Authorization header"),
        ("Bearer abc", "is not Basic"),
        ("Basic !!!", "not valid base64"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), "no ':'"),
        ("Basic " + base64.b64encode(b":key").decode(), "empty site_id"),
        ("Basic " + base64.b64encode(b"site:").decode(), "empty api_key"),
        ("Basic " + base64.b64encode(b"\xff\xfe:k").decode(), "not UTF-8"),
    ],
)
def test_bad_credentials_are_401_and_journaled(header: str | None, reason: str) -> None:
    track = make()
    track.headers = {} if header is None else {"Authorization": header}
    r = track.put("/api/v1/customers/u1", {})
    assert (r.status_code, r.json) == (401, {"meta": {"error": "Unauthorized request"}})
    entry = track.last()
    assert entry["outcome"] == "rejected" and reason in entry["reasons"][0]
    assert track.mock.people() == []


def test_declared_credentials_reject_a_wrong_key() -> None:
    track = make({"CIO_WORKSPACES": {"site1": {"api_key": "right"}}}, api_key="wrong")
    assert track.put("/api/v1/customers/u1", {}).status_code == 401
    assert "does not match" in track.last()["reasons"][0]
    track.headers = {"Authorization": basic("site1", "right")}
    assert track.put("/api/v1/customers/u1", {}).status_code == 200
    # another site_id is its own workspace and still accepted
    track.headers = {"Authorization": basic("other", "anything")}
    assert track.put("/api/v1/customers/u1", {}).status_code == 200


def test_only_declared_rejects_unknown_site_ids() -> None:
    track = make({"CIO_WORKSPACES": [{"site_id": "site1", "api_key": "key1"}], "CIO_ONLY_DECLARED": True})
    assert track.put("/api/v1/customers/u1", {}).status_code == 200
    track.headers = {"Authorization": basic("stranger", "k")}
    assert track.put("/api/v1/customers/u1", {}).status_code == 401


def test_us_workspace_on_eu_host_is_401() -> None:
    track = make({"CIO_WORKSPACES": {"site1": {"region": "us"}}}, base_url=EU)
    assert track.put("/api/v1/customers/u1", {}).status_code == 401
    assert "US workspace" in track.last()["reasons"][0]


def test_eu_workspace_on_us_host_is_accepted_with_a_redirect_note() -> None:
    track = make({"CIO_WORKSPACES": {"site1": {"region": "eu"}}}, base_url=US)
    assert track.put("/api/v1/customers/u1", {}).status_code == 200
    assert any("redirects" in n for n in track.last()["notes"])


def test_a_new_workspace_takes_the_region_of_its_first_host() -> None:
    track = make(base_url=EU)
    track.put("/api/v1/customers/u1", {})
    assert track.mock.workspace("site1")["settings"]["region"] == "eu"
    assert track.put("/api/v1/customers/u1", {}, base_url=US).status_code == 200  # EU on US: redirect


@pytest.mark.parametrize(
    ("host", "header", "region"),
    [
        ("track.customer.io", None, "us"),
        ("track-eu.customer.io", None, "eu"),
        ("track-eu.customer.io:443", "us", "eu"),
        ("127.0.0.1:8080", None, "us"),
        ("127.0.0.1:8080", "eu", "eu"),
        ("localhost", "EU", "eu"),
        ("localhost", "mars", "us"),
    ],
)
def test_host_region(host: str, header: str | None, region: str) -> None:
    assert auth.host_region(host, header) == region


def test_region_header_on_a_local_host() -> None:
    track = make(base_url="http://127.0.0.1:5000")
    track.put("/api/v1/customers/u1", {}, headers={"X-Mock-Region": "eu"})
    assert track.mock.workspace("site1")["settings"]["region"] == "eu"


def test_authorization_is_redacted_but_the_site_id_stays_visible() -> None:
    track = make(api_key="s3cret-key")
    track.put("/api/v1/customers/u1", {}, headers={"X-Api-Key": "s3cret-other"})
    entry = track.last()
    assert entry["headers"]["Authorization"] == "Basic site_id=site1 api_key=[redacted]"
    assert entry["headers"]["X-Api-Key"] == "[redacted]"
    assert "s3cret" not in str(entry)


@given(site_id=st.text(min_size=1).filter(lambda s: ":" not in s), api_key=st.text(min_size=1))
def test_redaction_never_leaks_the_api_key(site_id: str, api_key: str) -> None:
    header = "Basic " + base64.b64encode(f"{site_id}:{api_key}".encode()).decode()
    assert credentials(header) == auth.Credentials(site_id, api_key)
    shown = redact({"authorization": header})["authorization"]
    assert base64.b64encode(f"{site_id}:{api_key}".encode()).decode() not in shown
    assert "[redacted]" in shown


def test_credentials_error_messages_say_what_is_wrong() -> None:
    with pytest.raises(AuthError, match="not Basic"):
        credentials("Digest x")


def test_unknown_route_is_404_json_and_journaled() -> None:
    track = make()
    r = track.get("/api/v1/nothing")
    assert r.status_code == 404 and "no Track API route" in r.json["meta"]["error"]
    assert track.last()["status"] == 404 and track.last()["workspace"] is None


def test_wrong_method_is_405_json() -> None:
    track = make()
    r = track.get("/api/v1/customers/u1")
    assert r.status_code == 405 and r.is_json
    assert "allowed: DELETE, PUT" in track.last()["reasons"][0]


def test_root_path_is_404_json() -> None:
    assert make().get("/").status_code == 404


def test_rate_limit_answers_429_json() -> None:
    track = make({"CIO_WORKSPACES": {"site1": {"rate_limit": 2}}})
    codes = [track.put("/api/v1/customers/u1", {}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert track.last()["outcome"] == "rejected" and "rate limit" in track.last()["reasons"][0]
    assert (
        track.client.put("/api/v1/customers/u1", headers={"Authorization": basic("other", "k")}).status_code
        == 200
    )


def test_fault_injection_status_then_back_to_normal() -> None:
    track = make()
    track.mock.inject_fault(status=503, count=2)
    codes = [track.put("/api/v1/customers/u1", {"a": 1}).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    entries = track.mock.requests()
    assert [e["outcome"] for e in entries] == ["accepted", "rejected", "rejected"]
    assert entries[-1]["response"]["meta"]["error"].startswith("Service Unavailable")


def test_fault_injection_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("mock_cio.mock.time.sleep", slept.append)
    track = make()
    track.mock.inject_fault(latency=0.5)
    assert track.put("/api/v1/customers/u1", {}).status_code == 200
    assert slept == [0.5] and "fault injected: 0.5 s latency" in track.last()["notes"]


def test_a_bug_in_a_handler_answers_json_500_and_is_journaled(monkeypatch: pytest.MonkeyPatch) -> None:
    track = make()

    def boom(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(track.mock.state.workspace("site1"), "identify", boom)
    r = track.put("/api/v1/customers/u1", {})
    assert r.status_code == 500 and "ZeroDivisionError: boom" in r.json["meta"]["error"]
    assert track.last()["outcome"] == "error"


def test_an_error_outside_the_pipeline_is_still_json(monkeypatch: pytest.MonkeyPatch) -> None:
    track = make()
    monkeypatch.setattr(track.mock, "handle", lambda inc: 1 / 0)
    r = track.put("/api/v1/customers/u1", {})
    assert r.status_code == 500 and r.is_json
    assert track.last()["outcome"] == "error"


def test_success_headers_match_the_recorded_live_headers() -> None:
    r = make().put("/api/v1/customers/u1", {})
    assert r.headers["Cache-Control"] == "no-cache, no-store, must-revalidate, max-age=0"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Content-Length"] == "3"


def test_a_fresh_interpreter_imports_the_mock_and_creates_an_app() -> None:
    """How long that takes: bench/mock.py and bench/suite_budgets.py (the suite times nothing)."""
    import subprocess
    import sys

    code = "import mock_cio; mock_cio.create_app(); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok"


def test_many_track_round_trips_each_journaled() -> None:
    track = make()
    for i in range(300):
        assert track.post("/api/v1/customers/u1/events", {"name": "A", "data": {"i": i}}).status_code == 200
    assert track.mock.journal_count() == 300


def test_track_alias_through_auth_module_constants() -> None:
    assert auth.HOSTS == {"us": US, "eu": EU}


def test_make_sets_frozen_clock() -> None:
    track: Track = make()
    track.put("/api/v1/customers/u1", {})
    assert track.last()["received_at"] == 1_700_000_000.0


def test_every_track_response_names_its_journal_entry() -> None:
    track = make()
    for r in (track.put("/api/v1/customers/u1", {}), track.get("/nowhere"), track.post("/api/v2/entity", {})):
        entry = track.mock.request(int(r.headers["X-Mock-Request-Id"]))
        assert entry is not None and entry["status"] == r.status_code
