"""The issue's end-to-end story, over a real socket, with Segment's own Python client, unmodified.

An app using `segment-analytics-python` points its host at the live sandbox. An anonymous visitor
browses, then signs up (identify carrying the anonymous id) and buys. The mock Customer.io ends up
with one person who owns the anonymous events (marked merged) and whose timestamps are Unix
seconds. Another visitor never signs up: advancing the mock's clock past 30 days expires their
anonymous events. Everything is checked through the mock's admin API and the inspector, as a user
would see it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
import requests
import segment.analytics as analytics
from segment.analytics.request import APIError
from werkzeug.serving import make_server

from sandbox.live import create_live_app

WRITE_KEY = "wk_e2e"
DAY = 86400


@pytest.fixture
def server(tmp_path) -> Iterator[str]:
    app = create_live_app({"CIO_DB": str(tmp_path / "session.db")})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)


@pytest.fixture
def segment_client(server: str) -> Iterator[None]:
    """The module-level client, configured as an app would: sync mode, so each call is one POST
    to /v1/batch and a failure raises at once instead of retrying with backoff in a thread."""
    errors: list[Exception] = []
    saved = (
        analytics.write_key,
        analytics.host,
        analytics.sync_mode,
        analytics.on_error,
        analytics.max_retries,
    )
    analytics.default_client = None
    analytics.write_key = WRITE_KEY
    analytics.host = server
    analytics.sync_mode = True
    analytics.max_retries = 0
    analytics.on_error = lambda exc, batch: errors.append(exc)
    try:
        yield
    finally:
        analytics.default_client = None
        (
            analytics.write_key,
            analytics.host,
            analytics.sync_mode,
            analytics.on_error,
            analytics.max_retries,
        ) = saved
    assert errors == []


def admin(server: str, path: str, **kw) -> object:
    response = requests.request(kw.pop("method", "GET"), f"{server}/_mock{path}", timeout=10, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def test_anonymous_session_merges_into_one_person_and_unclaimed_sessions_expire(server, segment_client):
    # An anonymous visitor browses.
    analytics.page(
        anonymous_id="anon-visitor", name="Home", properties={"path": "/", "url": "https://shop.example/"}
    )
    analytics.page(
        anonymous_id="anon-visitor",
        name="Pricing",
        properties={"path": "/pricing", "url": "https://shop.example/pricing"},
    )
    analytics.track(
        anonymous_id="anon-visitor",
        event="Product Viewed",
        properties={"product_id": "sku-1", "price": 49.5, "viewed_at": "2024-03-01T09:30:00Z"},
    )
    # Someone else browses and never comes back.
    analytics.page(
        anonymous_id="anon-drifter", name="Home", properties={"path": "/", "url": "https://shop.example/"}
    )
    analytics.track(anonymous_id="anon-drifter", event="Product Viewed", properties={"product_id": "sku-9"})

    # The first visitor signs up: identify carries both ids.
    analytics.identify(
        user_id="u-42",
        anonymous_id="anon-visitor",
        traits={
            "email": "ada@example.com",
            "name": "Ada",
            "created_at": "2024-03-01T10:00:00Z",
            "plan": "pro",
        },
    )
    # ... and buys, twice.
    for order, total in (("o-1", 99.0), ("o-2", 12.5)):
        analytics.track(
            user_id="u-42",
            anonymous_id="anon-visitor",
            event="Order Completed",
            properties={
                "order_id": order,
                "total": total,
                "placed_at": "2024-03-01T10:05:00Z",
                "delivery": {"expected_on": "2024-03-04T00:00:00+01:00"},
                "phone": "+1 555 0100",
            },
        )

    people = admin(server, "/people")
    assert [p["identifiers"]["id"] for p in people] == ["u-42"], "exactly one person"
    person = admin(server, "/people/u-42")
    assert person["identifiers"]["email"] == "ada@example.com"
    assert person["attributes"]["created_at"] == 1709287200  # 2024-03-01T10:00:00Z in Unix seconds
    assert person["attributes"]["plan"] == "pro"

    events = person["events"]
    merged = [e for e in events if e["merged_from_anonymous"]]
    # Customer.io names a page view after its URL (trackPageView sends `name: url`).
    assert sorted(e["name"] for e in merged) == [
        "Product Viewed",
        "https://shop.example/",
        "https://shop.example/pricing",
    ]
    viewed = next(e for e in merged if e["name"] == "Product Viewed")
    assert viewed["data"]["viewed_at"] == 1709285400  # nested ISO date converted
    orders = [e for e in events if e["name"] == "Order Completed"]
    assert len(orders) == 2 and not any(e["merged_from_anonymous"] for e in orders)
    for order in orders:
        assert order["data"]["placed_at"] == 1709287500
        assert order["data"]["delivery"]["expected_on"] == 1709506800  # the +01:00 offset honoured
        assert order["data"]["phone"] == "+1 555 0100"  # not a date: untouched
        assert isinstance(order["timestamp"], int)
    assert all(isinstance(e["timestamp"], int) for e in events)

    # The drifter's events wait anonymously, about 30 days from expiry.
    now = admin(server, "/clock")["now"]
    waiting = admin(server, "/anonymous_events")
    assert {e["anonymous_id"] for e in waiting} == {"anon-drifter"}
    assert len(waiting) == 2
    for item in waiting:
        assert 29 * DAY < item["expires_at"] - now <= 30 * DAY

    # Thirty days and a second later, they are gone; the merged person keeps what was claimed.
    admin(server, "/clock", method="POST", json={"advance": 30 * DAY + 1})
    assert admin(server, "/anonymous_events") == []
    again = admin(server, "/people/u-42")
    assert sorted(e["name"] for e in again["events"] if e["merged_from_anonymous"]) == sorted(
        e["name"] for e in merged
    )

    # The inspector tells the same story.
    home = requests.get(f"{server}/", timeout=10)
    assert home.status_code == 200
    assert home.text.count("Order Completed") >= 2
    page = requests.get(f"{server}/people/u-42", timeout=10).text
    assert "merged from anonymous" in page and "ada@example.com" in page


def test_the_client_gzip_option_works_end_to_end(server, segment_client):
    analytics.gzip = True
    try:
        analytics.default_client = None
        analytics.identify(user_id="gz-1", traits={"email": "gz@example.com"})
    finally:
        analytics.gzip = False
        analytics.default_client = None
    assert admin(server, "/people/gz-1")["identifiers"]["email"] == "gz@example.com"


def test_a_refused_call_surfaces_as_an_api_error_in_the_client(server, segment_client):
    """A call the client lets through but the sandbox refuses (a track with an empty event name)
    raises the client's own APIError in sync mode, with the sandbox's code and message."""
    client = analytics.Client(WRITE_KEY, host=server, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as info:
        client.track(user_id="u", event="", properties={})
    assert info.value.status == 400
    assert info.value.code == "invalid_request"
    assert info.value.message == "batch[0] (track) needs an event name in 'event'"
    assert admin(server, "/people") == []  # nothing of the refused request reached the mock


def test_the_trace_shows_what_segment_added_and_what_the_mock_answered(server, segment_client):
    analytics.track(user_id="u-9", event="Signed Up", properties={"source": "e2e"})
    listing = requests.get(f"{server}/?user=u-9", timeout=10).text
    link = re.search(r'href="/events/(\d+)"', listing)
    assert link, listing
    trace = requests.get(f"{server}/events/{link.group(1)}", timeout=10).text
    for needle in (
        "receivedAt",
        "messageId",
        "analytics-python",
        "Track Event",
        "trackEvent",
        "/api/v2/entity",
    ):
        assert needle in trace, needle


def test_concurrent_clients_lose_nothing(server):
    """8 threads × 20 calls on the threaded server: every event traced once, every request journaled."""
    from concurrent.futures import ThreadPoolExecutor

    def worker(n: int) -> None:
        with requests.Session() as http:
            for i in range(20):
                body = {"userId": f"t{n}", "event": f"E{i}", "properties": {"i": i}}
                response = http.post(f"{server}/v1/track", json=body, auth=(WRITE_KEY, ""), timeout=10)
                assert response.status_code == 200, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    journal = admin(server, "/requests", params={"limit": 1000})
    assert len(journal) == 160
    people = admin(server, "/people")
    assert sorted(p["identifiers"]["id"] for p in people) == [f"t{n}" for n in range(8)]
    assert all(len(p["events"]) == 20 for p in people)
    listing = requests.get(f"{server}/?status=delivered", timeout=10).text
    assert len(set(re.findall(r'href="/events/(\d+)"', listing))) == 50  # a full first page


def test_serve_builds_the_live_app_from_its_options(tmp_path):
    """`cio-sandbox serve --config FILE --db FILE`: the Tracking API uses the config's settings
    (its siteId is the mock workspace) and the inspector answers at /."""
    from sandbox.cli import build_parser
    from sandbox.commands.serve import build_app

    config = tmp_path / "cio-sandbox.toml"
    config.write_text('[settings]\nsiteId = "site-from-config"\napiKey = "key"\n', encoding="utf-8")
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "s.db"),
            "--config",
            str(config),
            "--now",
            "2024-03-05T12:00:00Z",
        ]
    )
    app, close = build_app(args)
    try:
        client = app.test_client()
        sent = client.post(
            "/v1/identify", json={"userId": "cfg-1", "traits": {"plan": "pro"}}, auth=(WRITE_KEY, "")
        )
        assert sent.status_code == 200
        person = client.get("/_mock/people/cfg-1").get_json()
        assert person["workspace"] == "site-from-config"
        assert client.get("/").status_code == 200
    finally:
        close()
