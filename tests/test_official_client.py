"""The official `customerio` client from PyPI, unmodified, through every call it has.

The same scenario runs twice: in-process (`mock_cio.intercept()`, the client's own session with
its urllib3 Retry adapter is intercepted by `responses`) and over the live TLS server
(`python -m mock_cio --tls` in a subprocess; the client is pointed at it with its `host`/`port`
options and trusts the printed CA through REQUESTS_CA_BUNDLE). Both assert the resulting state
through the same views: people, attributes, events, devices, merges, suppression, objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import pytest
from customerio import CustomerIO, CustomerIOException
from customerio.constants import EMAIL, ID
from live_support import start_server

import mock_cio
from mock_cio.assertions import ABSENT, assert_event, assert_no_person, assert_person, assert_requests
from mock_cio.remote import RemoteMock

T0 = 1_700_000_000
DAY = 86_400
SITE, KEY = "site-official", "key-official"


def scenario(client: CustomerIO, mock: Any) -> None:
    """Every call of the client, then the state each one must have left."""
    created = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    client.identify("u1", email="u1@example.com", plan="pro", created_at=created, nan=float("nan"))
    client.track("u1", "purchase", {"total": 42, "at": created}, id="01HZEVENT000000000000000001",
                 timestamp=T0 - 60)  # fmt: skip
    client.track("u1", "purchase", {"total": 42}, id="01HZEVENT000000000000000001")  # a duplicate id
    client.pageview("u1", "/pricing", referrer="https://example.com/")
    client.backfill("u1", "signed_up", T0 - 2 * DAY, plan="free")
    client.add_device("u1", "tok-ios", "ios", last_used=T0 - 10)
    client.add_device("u1", "tok-android", "android")
    client.delete_device("u1", "tok-android")

    client.track_anonymous("anon-1", "viewed_page", {"url": "/"})
    client.track_anonymous("anon-2", "viewed_page", {"url": "/later"})
    client.identify("u2", email="u2@example.com", plan="free", city="Oslo", anonymous_id="anon-1")

    client.identify("u3", plan="x")
    client.suppress("u3")
    client.identify("u3", plan="y")  # ignored: u3 is suppressed
    client.identify("u4", plan="z")
    client.delete("u4")
    client.identify("u5", plan="before")
    client.suppress("u5")
    client.unsuppress("u5")
    client.identify("u5", plan="after")

    client.merge_customers(ID, "u1", EMAIL, "u2@example.com")

    client.batch(
        [
            {"type": "person", "action": "identify", "identifiers": {"id": "u6"}, "attributes": {"plan": "team"},
             "cio_relationships": [{"identifiers": {"object_type_id": "1", "object_id": "acme"},
                                    "relationship_attributes": {"role": "admin"}}]},
            {"type": "person", "action": "event", "identifiers": {"id": "u6"}, "name": "batched",
             "attributes": {"n": 1}},
            {"type": "object", "action": "identify", "identifiers": {"object_type_id": "1", "object_id": "acme"},
             "attributes": {"name": "Acme"}},
        ]
    )  # fmt: skip

    # ---- the resulting state
    u1 = assert_person(
        mock,
        "u1",
        identifiers={"id": "u1", "email": "u1@example.com"},
        # The client sends datetimes as Unix seconds and NaN as null (removed); u1 keeps its own
        # plan and gains u2's city in the merge.
        attributes={"plan": "pro", "created_at": int(created.timestamp()), "city": "Oslo", "nan": ABSENT},
        devices=[{"token": "tok-ios", "platform": "ios", "last_used": T0 - 10}],
        events=[
            {"name": "purchase", "type": "event", "timestamp": T0 - 60,
             "data": {"total": 42, "at": int(created.timestamp())}, "merged_from_anonymous": False},
            {"name": "/pricing", "type": "page", "data": {"referrer": "https://example.com/"}},
            {"name": "signed_up", "timestamp": T0 - 2 * DAY, "data": {"plan": "free"}},
            # anon-1's event: claimed by u2's identify, then moved to u1 by the merge, where
            # merged events cannot trigger campaigns.
            {"name": "viewed_page", "data": {"url": "/"}, "merged_from_anonymous": True, "can_trigger": False},
        ],
        exact_events=True,
    )  # fmt: skip
    assert len(u1["devices"]) == 1
    assert_no_person(mock, "u2")
    assert_no_person(mock, "u2@example.com")
    assert_no_person(mock, "u3")
    assert_no_person(mock, "u4")
    assert_person(mock, "u5", attributes={"plan": "after"})
    assert_event(mock, None, "viewed_page", anonymous_id="anon-2", data={"url": "/later"})
    assert [e["anonymous_id"] for e in mock.anonymous_events()] == ["anon-2"]
    assert_person(
        mock,
        "u6",
        attributes={"plan": "team"},
        events=[{"name": "batched", "data": {"n": 1}}],
        relationships=[
            {"object_type_id": "1", "object_id": "acme", "relationship_attributes": {"role": "admin"}}
        ],
    )
    [acme] = mock.objects()
    assert (acme["object_id"], acme["attributes"]) == ("acme", {"name": "Acme"})
    assert [r["identifiers"]["id"] for r in acme["relationships"]] == ["u6"]
    [workspace] = [w for w in mock.workspaces() if w["site_id"] == SITE]
    assert "u3" in str(workspace["suppressed"])
    assert "u5" not in str(workspace["suppressed"])

    # ---- the journal: every call accepted, as the client sent it
    entries = assert_requests(mock, count=22, workspace=SITE, status=200)
    agent = f"Customer.io Python Client/{version('customerio')}"
    assert {_header(e, "user-agent") for e in entries} == {agent}
    assert all(SITE in _header(e, "authorization") and KEY not in str(e) for e in entries)
    assert [(e["method"], e["path"]) for e in entries[:8]] == [
        ("PUT", "/api/v1/customers/u1"),
        ("POST", "/api/v1/customers/u1/events"),
        ("POST", "/api/v1/customers/u1/events"),
        ("POST", "/api/v1/customers/u1/events"),
        ("POST", "/api/v1/customers/u1/events"),
        ("PUT", "/api/v1/customers/u1/devices"),
        ("PUT", "/api/v1/customers/u1/devices"),
        ("DELETE", "/api/v1/customers/u1/devices/tok-android"),
    ]
    duplicate = entries[2]
    assert any("already seen" in n for n in duplicate["notes"]), duplicate
    ignored = [e for e in entries if e["path"] == "/api/v1/customers/u3" and e["body"] == {"plan": "y"}]
    assert len(ignored) == 1 and ignored[0]["notes"], ignored
    assert_requests(mock, count=1, method="POST", path="/api/v1/merge_customers",
                    body={"primary": {"id": "u1"}, "secondary": {"email": "u2@example.com"}})  # fmt: skip
    assert_requests(mock, count=1, method="POST", path="/api/v2/batch")
    for entry in entries:
        if entry["method"] == "DELETE":
            assert entry["body"] == {}  # the client sends a JSON {} even on DELETE


def _header(entry: dict[str, Any], name: str) -> str:
    return next(v for k, v in entry["headers"].items() if k.lower() == name)


def client_errors(client: CustomerIO, mock: Any) -> None:
    """What the client raises when the mock refuses, and that it retries 5xx answers."""
    mock.inject_fault(status=503, count=2)
    client.identify("r1", plan="retried")  # two 503s, then the third try lands
    assert_person(mock, "r1", attributes={"plan": "retried"})
    assert [e["status"] for e in mock.requests(limit=3)] == [200, 503, 503]
    with pytest.raises(CustomerIOException, match="400"):
        client.track("r1", "")  # "event name must not be blank"
    assert mock.requests(limit=1)[0]["outcome"] == "rejected"


# ---------------------------------------------------------------------- in-process


@pytest.fixture
def cio() -> Iterator[mock_cio.Intercept]:
    with mock_cio.intercept(CIO_NOW=T0) as handle:
        yield handle


def test_every_call_in_process(cio):
    scenario(CustomerIO(SITE, KEY), cio)


def test_eu_region_in_process(cio):
    from customerio import Regions

    client = CustomerIO(SITE, KEY, region=Regions.EU)
    client.identify("eu1", plan="pro")
    assert_person(cio, "eu1", attributes={"plan": "pro"})
    assert cio.requests()[0]["host"] == "track-eu.customer.io"
    assert cio.workspaces()[0]["settings"]["region"] == "eu"


def test_refusals_and_retries_in_process(cio):
    client_errors(CustomerIO(SITE, KEY, backoff_factor=0), cio)


def test_without_connection_pooling_in_process(cio):
    client = CustomerIO(SITE, KEY, use_connection_pooling=False)
    client.identify("p1", plan="pro")
    assert_person(cio, "p1", attributes={"plan": "pro"})


# ---------------------------------------------------------------------- live TLS server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("official-tls")
    with start_server(folder, "--tls", "--now", str(T0)) as server:
        yield server


@pytest.fixture
def remote(tls_server, monkeypatch) -> Iterator[RemoteMock]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_server.ca))
    mock = RemoteMock(tls_server.url, verify=str(tls_server.ca))
    mock.reset()
    yield mock
    mock.close()


def live_client(server: Any, **options: Any) -> CustomerIO:
    return CustomerIO(SITE, KEY, host="127.0.0.1", port=server.port, **options)


def test_every_call_over_live_tls(tls_server, remote):
    scenario(live_client(tls_server), remote)


def test_refusals_and_retries_over_live_tls(tls_server, remote):
    client_errors(live_client(tls_server, backoff_factor=0), remote)


def test_the_client_refuses_an_untrusted_certificate(tls_server, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(CustomerIOException, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        live_client(tls_server, retries=0).identify("u1")
