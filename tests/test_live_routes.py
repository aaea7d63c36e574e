"""The live server's routes: analytics.js's paths, CORS and text/plain bodies, JSON for every unknown
route or method, refused calls kept for the inspector, and route parity with `python -m mock_cio`."""

from __future__ import annotations

import base64
import json

import pytest
from markupsafe import escape

import mock_cio
from sandbox.live import create_live_app
from sandbox.live.segment_api import SHORT_PATHS

NOW = "2024-03-05T12:00:00Z"
TRACK_AUTH = "Basic " + base64.b64encode(b"site1:key1").decode()


@pytest.fixture
def live():
    return create_live_app({"CIO_DB": ":memory:", "CIO_NOW": NOW})


@pytest.fixture
def client(live):
    return live.test_client()


def store(live):
    return live.extensions["sandbox_live"].store


# -- analytics.js -------------------------------------------------------------------------------


@pytest.mark.parametrize(("short", "kind"), sorted(SHORT_PATHS.items()))
def test_one_letter_paths_take_text_plain_bodies_with_the_write_key_inside(client, live, short, kind):
    body = {
        "userId": "u1",
        "event": "E",
        "groupId": "g1",
        "previousId": "p0",
        "name": "N",
        "writeKey": "wk-0123456789",
    }
    response = client.post(f"/v1/{short}", data=json.dumps(body), content_type="text/plain")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"success": True}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    (record,) = store(live).page().items
    assert record["event"]["type"] == kind and "writeKey" not in record["event"]
    assert record["write_key"] == "…6789"  # masked, as every write key the inspector shows


def test_the_batch_path_b(client, live):
    batch = {"writeKey": "wk", "batch": [{"type": "identify", "userId": "u1", "traits": {"email": "a@b.co"}}]}
    response = client.post("/v1/b", data=json.dumps(batch), content_type="text/plain;charset=UTF-8")
    assert response.status_code == 200
    assert live.extensions["sandbox_live"].mock.person("u1")["identifiers"]["email"] == "a@b.co"


@pytest.mark.parametrize("path", ["/v1/t", "/v1/b", "/v1/track", "/v1/nothing"])
def test_preflight_answers_cors(client, path):
    response = client.open(
        path,
        method="OPTIONS",
        headers={"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert response.status_code == (200 if path != "/v1/nothing" else 404)


# -- JSON, never HTML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/nothing", 404),
        ("GET", "/v1/track", 405),
        ("PUT", "/v1/t", 405),
        ("GET", "/no/such/page", 404),
        ("DELETE", "/", 405),
        ("GET", "/_mock/nothing", 404),
        ("POST", "/api/v1/nothing", 404),
        ("GET", "/v2/anything", 404),
    ],
)
def test_every_unknown_route_or_method_answers_json(client, method, path, status):
    response = client.open(path, method=method, data=b"{}", headers={"Authorization": TRACK_AUTH})
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    assert b"<html" not in response.get_data().lower()
    if path.startswith("/v1/"):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.get_json()["success"] is False


# -- refused calls in the inspector ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"),
    [
        ("/v1/track", b'{"userId": "u1", "writeKey": "wk"}', {}, 400, "needs an event name"),
        ("/v1/t", b'{"userId": "u1", "event": ', {}, 400, "not valid JSON"),
        ("/v1/identify", b'{"userId": "u1"}', {}, 401, "no write key"),
        ("/v1/nothing", b'{"x": 1}', {}, 404, "no Tracking API endpoint /v1/nothing"),
    ],
)
def test_refused_calls_are_events_with_the_reason_and_the_raw_body(
    client, live, path, body, headers, status, reason
):
    response = client.post(path, data=body, content_type="text/plain", headers=headers)
    assert response.status_code == status
    (record,) = store(live).page().items
    assert record["status"] == "refused"
    assert reason in record["reason"]
    shown = body.decode().replace('"wk"', '"…"')  # the raw body, its write key masked
    assert record["request"]["body_text"] == shown
    assert record["request"]["path"] == path
    assert record["response"]["status"] == status
    assert store(live).page(status="refused").items == (record,)
    page = client.get("/").get_data(as_text=True)
    assert "refused" in page and path in page
    detail = client.get(f"/events/{record['id']}").get_data(as_text=True)
    assert reason.split(" /")[0] in detail
    assert str(escape(shown)) in detail  # the raw body, as text
    assert '"wk"' not in detail
    assert live.extensions["sandbox_live"].mock.journal_count() == 0  # nothing reached the mock


# -- route parity ---------------------------------------------------------------------------------


def _concrete(pattern: tuple[str, ...]) -> str:
    return "/" + "/".join("x%2Fy" if part.startswith("<") else part for part in pattern)


def _routes():
    mock = mock_cio.create_app({"CIO_NOW": NOW}).extensions["mock_cio"]
    return [(route.method, _concrete(route.pattern), route.name) for route in mock.router.routes]


def _comparable(entry):
    return {k: v for k, v in entry.items() if k not in ("id",)}


@pytest.mark.parametrize(("method", "path", "name"), _routes(), ids=lambda v: str(v))
def test_every_mock_route_is_served_identically_under_serve(method, path, name):
    """Each route of the mock's own table, called the same way on `python -m mock_cio`'s app and on
    `cio-sandbox serve`'s: the same status, body and journal entry."""
    alone = mock_cio.create_app({"CIO_NOW": NOW})
    live = create_live_app({"CIO_NOW": NOW})
    answers = []
    for app, mock in ((alone, alone.extensions["mock_cio"]), (live, live.extensions["sandbox_live"].mock)):
        response = app.test_client().open(
            path,
            method=method,
            data=b"{}",
            headers={"Authorization": TRACK_AUTH, "Content-Type": "application/json"},
        )
        assert response.is_json or response.status_code == 204, (name, response.get_data()[:200])
        (entry,) = mock.requests()
        answers.append((response.status_code, response.get_data(), _comparable(entry)))
    assert answers[0] == answers[1]
    assert answers[0][2]["path"] == path  # journaled, by the mock
