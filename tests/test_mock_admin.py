"""The admin API under /_mock/: every route, its filters, and clear 4xx errors for bad input."""

from __future__ import annotations

import pytest

from tests.mock_support import T0, Track, make


@pytest.fixture
def track() -> Track:
    t = make()
    t.put("/api/v1/customers/u1", {"email": "u1@example.com"})
    t.post("/api/v1/customers/u1/events", {"name": "A"})
    t.put("/api/v1/customers/u1", {}, headers={"Authorization": "Basic bad"})
    return t


def admin(track: Track, method: str, route: str, body=None, **query):
    headers = {"X-Mock-Admin": "1"}  # a write without a body passes the cross-site check
    return track.client.open(f"/_mock{route}", method=method, json=body, query_string=query, headers=headers)


def test_admin_requests_are_never_journaled(track: Track) -> None:
    before = track.mock.journal_count()
    admin(track, "GET", "/requests")
    admin(track, "GET", "/people")
    admin(track, "GET", "/nope")
    assert track.mock.journal_count() == before == 3


def test_requests_list_and_filters(track: Track) -> None:
    r = admin(track, "GET", "/requests")
    assert r.status_code == 200 and [e["status"] for e in r.json] == [401, 200, 200]
    assert r.json == track.mock.requests()
    assert [e["status"] for e in admin(track, "GET", "/requests", status="4xx").json] == [401]
    assert len(admin(track, "GET", "/requests", workspace="site1").json) == 2
    assert len(admin(track, "GET", "/requests", site_id="site1").json) == 2
    assert len(admin(track, "GET", "/requests", path="/api/v1/customers/u1/").json) == 1
    assert len(admin(track, "GET", "/requests", limit=1).json) == 1
    assert len(admin(track, "GET", "/requests", since=T0 + 1).json) == 0
    assert len(admin(track, "GET", "/requests", since="2023-11-14T22:13:20Z").json) == 3
    assert len(admin(track, "GET", "/requests", outcome="rejected").json) == 1
    newest = r.json[0]["id"]
    assert [e["id"] for e in admin(track, "GET", "/requests", before_id=newest).json] == [
        e["id"] for e in r.json[1:]
    ]
    assert admin(track, "GET", "/requests/count", status="200").json == {"count": 2}
    assert admin(track, "GET", f"/requests/{newest}").json == r.json[0]
    assert admin(track, "GET", "/requests/999999").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "x"},
        {"limit": "0"},
        {"limit": "100001"},
        {"before_id": "-1"},
        {"status": "4"},
        {"since": "yesterday"},
    ],
)
def test_bad_request_filters_are_400(track: Track, query: dict) -> None:
    r = admin(track, "GET", "/requests", **query)
    assert r.status_code == 400 and r.json["error"]


def test_people_and_person(track: Track) -> None:
    assert [p["identifiers"]["id"] for p in admin(track, "GET", "/people").json] == ["u1"]
    p = admin(track, "GET", "/people/u1").json
    assert p["events"][0]["name"] == "A" and set(p["events"][0]) >= {"merged_from_anonymous", "can_trigger"}
    assert admin(track, "GET", "/people/U1@EXAMPLE.COM").json["cio_id"] == p["cio_id"]
    assert admin(track, "GET", f"/people/cio_{p['cio_id']}").json["cio_id"] == p["cio_id"]
    assert admin(track, "GET", "/people/u1", site_id="other").status_code == 404
    missing = admin(track, "GET", "/people/ghost")
    assert missing.status_code == 404 and "ghost" in missing.json["error"]


def test_person_lookup_without_site_id_finds_the_first_workspace_that_has_them(track: Track) -> None:
    track.put("/api/v1/customers/only2", {}, headers={"Authorization": "Basic " + "c2l0ZTI6aw=="})  # site2:k
    assert admin(track, "GET", "/people/only2").json["workspace"] == "site2"
    assert len(admin(track, "GET", "/people").json) == 2
    assert len(admin(track, "GET", "/people", site_id="site2").json) == 1


def test_anonymous_events_objects_metrics(track: Track) -> None:
    track.post("/api/v1/events", {"name": "V", "anonymous_id": "a1"})
    track.post(
        "/api/v2/entity",
        {"type": "object", "action": "identify", "identifiers": {"object_type_id": "1", "object_id": "o"}},
    )
    track.post("/api/v1/metrics", {"delivery_id": "d", "metric": "opened"})
    assert [e["anonymous_id"] for e in admin(track, "GET", "/anonymous_events").json] == ["a1"]
    assert [o["object_id"] for o in admin(track, "GET", "/objects").json] == ["o"]
    assert [m["metric"] for m in admin(track, "GET", "/metrics").json] == ["opened"]
    assert admin(track, "GET", "/anonymous_events", site_id="nobody").json == []
    track.mock.clock.advance(31 * 86400)
    assert admin(track, "GET", "/anonymous_events").json == []  # expired views hide them


def test_reset_forgets_data_but_keeps_workspace_settings(track: Track) -> None:
    admin(track, "PUT", "/workspaces/site1", {"anonymous_merge": False})
    r = admin(track, "POST", "/reset")
    assert r.json == {"reset": True, "workspaces": ["site1"]}
    assert admin(track, "GET", "/people").json == [] and admin(track, "GET", "/requests").json == []
    assert admin(track, "GET", "/workspaces/site1").json["settings"]["anonymous_merge"] is False


def test_reset_forgets_each_time(track: Track) -> None:
    """Reset after reset (its cost: bench/suite_budgets.py)."""
    for _ in range(20):
        track.put("/api/v1/customers/u1", {"a": 1})
        track.mock.reset()
        assert track.mock.people() == [] and track.mock.requests() == []


def test_clock_get_set_advance(track: Track) -> None:
    assert admin(track, "GET", "/clock").json == {
        "now": T0,
        "iso": "2023-11-14T22:13:20.000Z",
        "frozen": True,
        "offset": 0.0,
    }
    assert admin(track, "POST", "/clock", {"advance": 60}).json["now"] == T0 + 60
    assert admin(track, "POST", "/clock", {"now": "2024-01-01T00:00:00Z"}).json["now"] == 1704067200.0
    assert admin(track, "POST", "/clock", {"now": 1704067300}).json["iso"] == "2024-01-01T00:01:40.000Z"
    running = admin(track, "POST", "/clock", {"now": T0, "running": True}).json
    assert running["frozen"] is False and abs(running["now"] - T0) < 5
    track.put("/api/v1/customers/u1", {})
    assert abs(track.last()["received_at"] - T0) < 5


@pytest.mark.parametrize(
    "body",
    [{}, {"now": 1, "advance": 1}, {"now": "tomorrow"}, {"now": -5}, {"advance": "x"}, {"advance": 1, "running": True},
     {"now": 1, "running": "yes"}, {"speed": 2}, {"now": True}],
)  # fmt: skip
def test_bad_clock_input_is_400(track: Track, body: dict) -> None:
    r = admin(track, "POST", "/clock", body)
    assert r.status_code == 400 and r.json["error"]


def test_clock_rejects_non_object_bodies(track: Track) -> None:
    r = track.client.post("/_mock/clock", data=b"[1]", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.json["error"]
    r = track.client.post("/_mock/clock", data=b"{", content_type="application/json")
    assert r.status_code == 400 and "not valid JSON" in r.json["error"]


def test_workspace_configuration(track: Track) -> None:
    assert admin(track, "GET", "/workspaces/site1").json["people"] == 1
    assert admin(track, "GET", "/workspaces/none").status_code == 404
    r = admin(track, "PUT", "/workspaces/new", {"api_key": "k2", "region": "eu", "rate_limit": 5})
    assert r.status_code == 200
    assert r.json["settings"] == {
        "region": "eu", "anonymous_merge": True, "api_key": "<declared>", "rate_limit": 5, "email_updates_by_id": True
    }  # fmt: skip
    assert [w["site_id"] for w in admin(track, "GET", "/workspaces").json] == ["site1", "new"]
    # declared credentials now reject a wrong key on the EU host
    bad = track.put(
        "/api/v1/customers/x",
        {},
        headers={"Authorization": "Basic " + "bmV3Ondyb25n"},
        base_url="https://track-eu.customer.io",
    )
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"region": "mars"}, {"anonymous_merge": "yes"}, {"rate_limit": 0}, {"rate_limit": "fast"}, {"api_key": ""},
     {"colour": "red"}],
)  # fmt: skip
def test_bad_workspace_settings_are_400(track: Track, body: dict) -> None:
    r = admin(track, "PUT", "/workspaces/site1", body)
    assert r.status_code == 400 and r.json["error"]


def test_faults(track: Track) -> None:
    r = admin(track, "POST", "/faults", {"status": 503, "count": 2})
    assert r.json["faults"][0]["remaining"] == 2
    assert track.put("/api/v1/customers/u1", {}).status_code == 503
    assert admin(track, "GET", "/faults").json["faults"][0]["remaining"] == 1
    assert admin(track, "DELETE", "/faults").json == {"faults": []}
    assert track.put("/api/v1/customers/u1", {}).status_code == 200
    admin(track, "POST", "/faults", {"status": 429, "body": {"custom": True}})
    r = track.put("/api/v1/customers/u1", {})
    assert (r.status_code, r.json) == (429, {"custom": True})


@pytest.mark.parametrize(
    "body",
    [{}, {"status": 99}, {"status": "503"}, {"status": 503, "count": 0}, {"latency": -1}, {"latency": 61},
     {"body": {}}, {"status": 500, "colour": 1}],
)  # fmt: skip
def test_bad_faults_are_400(track: Track, body: dict) -> None:
    r = admin(track, "POST", "/faults", body)
    assert r.status_code == 400 and r.json["error"]


def test_snapshot_and_unknown_admin_route(track: Track) -> None:
    assert admin(track, "GET", "/snapshot").json == track.mock.snapshot()
    r = admin(track, "GET", "/does/not/exist")
    assert r.status_code == 404 and "/_mock/does/not/exist" in r.json["error"]
