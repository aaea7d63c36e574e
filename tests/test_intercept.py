"""mock_cio.intercept: requests to Customer.io answered in-process; the handle's views and errors."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

import mock_cio
from mock_cio.intercept import Intercept, InterceptError

T0 = 1_700_000_000
US = "https://track.customer.io"
EU = "https://track-eu.customer.io"
AUTH = ("site1", "key1")


def identify(uid: str, body: dict, base: str = US, auth: tuple[str, str] = AUTH) -> requests.Response:
    return requests.put(f"{base}/api/v1/customers/{requests.utils.quote(uid, safe='')}", json=body, auth=auth)


def test_context_manager_serves_both_hosts_and_records_state():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        us = identify("u1", {"plan": "pro"})
        eu = requests.post(f"{EU}/api/v1/customers/u2/events", json={"name": "opened"}, auth=("site2", "k"))
        assert (us.status_code, us.text, us.headers["content-type"]) == (
            200,
            "{}\n",
            "application/json; charset=utf-8",
        )
        assert eu.status_code == 200
        assert cio.person("u1")["attributes"] == {"plan": "pro"}
        assert [e["name"] for e in cio.person("u2", site_id="site2")["events"]] == ["opened"]
        assert [w["settings"]["region"] for w in cio.workspaces()] == ["us", "eu"]
        entries = cio.requests()
        assert [e["path"] for e in entries] == ["/api/v1/customers/u2/events", "/api/v1/customers/u1"]
        assert entries[1]["host"] == "track.customer.io"
        assert "key1" not in json.dumps(entries)  # credentials redacted


def test_responses_name_their_journal_entry():
    # docs/contracts.md: every journaled Track API response carries X-Mock-Request-Id.
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        r = identify("u1", {})
        bad = requests.put(f"{US}/api/v1/customers/u1", json=[], auth=AUTH)
        assert r.headers["X-Mock-Request-Id"] == str(cio.requests()[1]["id"])
        assert bad.headers["X-Mock-Request-Id"] == str(cio.requests()[0]["id"])


def test_raw_path_reaches_the_mock_percent_encoded():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        assert identify("a/b c@d", {"x": 1}).status_code == 200
        assert cio.requests()[0]["path"] == "/api/v1/customers/a%2Fb%20c%40d"
        # An @-shaped path identifier is an email (Ident.from_path), so the person is found by email.
        assert cio.person("a/b c@d") is not None


def test_query_string_and_method_are_forwarded():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        r = requests.get(f"{US}/api/v1/accounts/region?x=1", auth=AUTH)
        assert r.status_code == 200
        assert r.json()["region"] == "us"
        entry = cio.requests()[0]
        assert (entry["method"], entry["query"]) == ("GET", "x=1")


def test_bad_input_comes_back_as_the_mock_answers_it():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        r = requests.put(f"{US}/api/v1/customers/u1", data=b"{not json", auth=AUTH,
                         headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 400
        assert "meta" in r.json()
        assert cio.requests()[0]["outcome"] == "rejected"
        assert requests.put(f"{US}/api/v1/customers/u1", json={}).status_code == 401


def test_other_hosts_are_refused_clearly():
    with mock_cio.intercept(), pytest.raises(requests.ConnectionError, match="example.com"):
        requests.get("https://example.com/")


def test_passthrough_prefixes_let_other_hosts_through(monkeypatch):
    sent = []

    def fake_send(adapter, request, **kwargs):
        sent.append(request.url)
        raise requests.ConnectionError("reached the real adapter")

    with mock_cio.intercept(passthrough=("http://localhost:1",)) as cio:
        # responses keeps the original send to call for passthrough; replace what it holds.
        monkeypatch.setattr(cio._mocker, "_real_send", fake_send)
        with pytest.raises(requests.ConnectionError, match="real adapter"):
            requests.get("http://localhost:1/x")
        with pytest.raises(requests.ConnectionError, match="Connection refused by Responses"):
            requests.get("http://localhost:2/x")
        # Customer.io hosts still go to the mock.
        assert identify("u1", {}).status_code == 200
    assert sent == ["http://localhost:1/x"]


def test_custom_hosts():
    with mock_cio.intercept(hosts=["localhost:8443"], CIO_NOW=T0) as cio:
        assert identify("u1", {"a": 1}, base="https://localhost:8443").status_code == 200
        assert cio.person("u1") is not None
        with pytest.raises(requests.ConnectionError):
            identify("u1", {"a": 1})
    with pytest.raises(InterceptError, match="not a host name"):
        mock_cio.intercept(hosts=["https://track.customer.io"])


def test_interception_ends_with_the_block():
    with mock_cio.intercept() as cio:
        assert cio.active
    assert not cio.active
    # After the block the state stays readable.
    assert cio.people() == []


def test_an_existing_app_is_used_and_kept(tmp_path):
    app = mock_cio.create_app({"CIO_NOW": T0})
    with mock_cio.intercept(app) as cio:
        identify("u1", {"a": 1})
    assert cio.app is app
    assert app.extensions["mock_cio"].person("u1")["attributes"] == {"a": 1}
    with pytest.raises(InterceptError, match="either an app or config"):
        mock_cio.intercept(app, CIO_NOW=T0)


def test_starting_twice_is_an_error():
    cio = mock_cio.intercept()
    with cio, pytest.raises(InterceptError, match="already active"):
        cio.start()
    with pytest.raises(InterceptError, match="not started"):
        _ = mock_cio.intercept().app


@mock_cio.intercept(CIO_NOW=T0)
def test_decorator_passes_the_handle(cio: Intercept):
    identify("u1", {"a": 1})
    assert cio.person("u1")["attributes"] == {"a": 1}


def test_decorator_gives_each_call_a_fresh_app():
    seen = []

    @mock_cio.intercept(CIO_NOW=T0)
    def call(cio):
        identify("u1", {"n": len(seen)})
        seen.append(len(cio.requests()))

    call()
    call()
    assert seen == [1, 1]


def test_decorator_without_handle_parameter():
    @mock_cio.intercept()
    def call():
        return identify("u1", {}).status_code

    assert call() == 200


def test_clock_reset_workspace_and_faults():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        assert cio.clock.now() == T0
        cio.clock.advance(60)
        assert cio.clock.now() == T0 + 60
        cio.clock.set("2024-01-01T00:00:00Z")
        identify("u1", {})
        assert cio.requests()[0]["received_at"] == 1_704_067_200.0

        cio.configure_workspace("site1", api_key="key1")
        assert identify("u1", {}, auth=("site1", "wrong")).status_code == 401

        cio.inject_fault(status=503, count=1)
        assert identify("u1", {}).status_code == 503
        assert identify("u1", {}).status_code == 200

        cio.reset()
        assert cio.requests() == [] and cio.people() == []
        # Settings survive a reset.
        assert identify("u1", {}, auth=("site1", "wrong")).status_code == 401


def test_anonymous_events_and_objects_views():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        requests.post(f"{US}/api/v1/events", json={"name": "viewed", "anonymous_id": "a1"}, auth=AUTH)
        assert [(e["anonymous_id"], e["name"]) for e in cio.anonymous_events()] == [("a1", "viewed")]
        body = {"type": "object", "action": "identify",
                "identifiers": {"object_type_id": "1", "object_id": "acme"}, "attributes": {"n": 1}}  # fmt: skip
        assert requests.post(f"{US}/api/v2/entity", json=body, auth=AUTH).status_code == 200
        assert [(o["object_id"], o["attributes"]) for o in cio.objects()] == [("acme", {"n": 1})]


def test_official_client_retries_are_applied_to_mock_answers():
    from customerio import CustomerIO, CustomerIOException

    with mock_cio.intercept(CIO_NOW=T0) as cio:
        client = CustomerIO("site1", "key1", backoff_factor=0)
        cio.inject_fault(status=502, count=2)
        client.identify("u1", plan="pro")
        assert [e["status"] for e in reversed(cio.requests())] == [502, 502, 200]
        cio.inject_fault(status=500, count=4)
        with pytest.raises(CustomerIOException):
            client.identify("u1", plan="pro")


def test_sessions_with_their_own_adapters_are_intercepted():
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(max_retries=0))
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        assert session.put(f"{US}/api/v1/customers/u1", json={}, auth=AUTH).status_code == 200
        assert len(cio.requests()) == 1


def test_streamed_and_text_bodies_are_read():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        headers = {"Content-Type": "application/json"}
        requests.put(f"{US}/api/v1/customers/u1", data='{"a": "é"}', headers=headers, auth=AUTH)
        requests.put(f"{US}/api/v1/customers/u2", data=iter([b'{"b":', b" 2}"]), headers=headers, auth=AUTH)
        assert cio.person("u1")["attributes"] == {"a": "é"}
        assert cio.person("u2")["attributes"] == {"b": 2}


# Blank ids are rejected (the Track API's "id attribute cannot be an empty string"); an @ makes an
# email and a cio_ prefix a cio_id (Ident.from_path), tested elsewhere. Line breaks are left out:
# Flask's catch-all route does not match a PATH_INFO with "\n" (werkzeug's path converter), so
# such a request gets a JSON 404 instead of reaching the Track API handlers (reported to the app).
# "." and ".." are dot segments: the client's URL normalisation removes them before sending.
path_ids = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    min_size=1,
    max_size=20,
)
SHARED_APP = mock_cio.create_app({"CIO_NOW": T0})  # one app, reset per example: create_app is the slow part


@given(
    uid=path_ids.filter(
        lambda s: s.strip() and s not in (".", "..") and "@" not in s and not s.startswith("cio_")
    )
)
def test_any_id_round_trips_through_the_path(uid):
    with mock_cio.intercept(SHARED_APP) as cio:
        cio.reset()
        r = identify(uid, {"k": "v"})
        assert r.status_code == 200, r.text
        person = cio.person(uid)
        assert person is not None and person["identifiers"]["id"] == uid
        assert cio.people() == [person]
