"""The App API's segment and campaign reads (mock_cio/app_api_reads.py) over the mock's segments."""

from __future__ import annotations

from typing import Any

from tests.mock_support import Track, make

BEARER = {"Authorization": "Bearer app-key"}
SEGMENTS = [
    {
        "id": 3,
        "name": "Pros",
        "conditions": {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
    }
]
CAMPAIGNS = [
    {"id": 8, "name": "Welcome pros", "trigger": {"segment": {"id": 3}}},
    {
        "id": 9,
        "name": "Thanks",
        "trigger": {"event": {"name": "Order Completed"}},
        "filter": {"segment": {"id": 3}},
    },
]


def app(track: Track, method: str, path: str, body: Any = None, **query: Any) -> Any:
    return track.client.open(
        path, method=method, json=body, query_string=query, headers=BEARER, base_url="https://api.customer.io"
    )


def people() -> Track:
    track = make({"CIO_SEGMENTS": SEGMENTS, "CIO_CAMPAIGNS": CAMPAIGNS})
    track.put("/api/v1/customers/u1", {"plan": "pro", "email": "u1@x.io"})
    track.put("/api/v1/customers/u2", {"plan": "free"})
    track.put("/api/v1/customers/u3", {"plan": "pro"})
    track.post("/api/v1/segments/7/add_customers", {"ids": ["u2"]})
    return track


def test_segments_list_get_and_membership() -> None:
    track = people()
    r = app(track, "GET", "/v1/segments")
    assert r.status_code == 200
    assert [(s["id"], s["name"], s["type"]) for s in r.json["segments"]] == [
        (3, "Pros", "dynamic"), (7, "Manual segment 7", "manual")
    ]  # fmt: skip
    assert app(track, "GET", "/v1/segments/3").json["segment"]["name"] == "Pros"
    assert app(track, "GET", "/v1/segments/99").status_code == 404
    r = app(track, "GET", "/v1/segments/3/membership")
    assert r.json == {
        "identifiers": [
            {"email": "u1@x.io", "id": "u1", "cio_id": "a3000001"},
            {"email": None, "id": "u3", "cio_id": "a3000003"},
        ],
        "ids": ["u1", "u3"],
        "next": "",
    }
    first = app(track, "GET", "/v1/segments/3/membership", limit=1).json
    assert first["ids"] == ["u1"] and first["next"] == "1"
    assert app(track, "GET", "/v1/segments/3/membership", start=first["next"]).json["ids"] == ["u3"]
    assert app(track, "GET", "/v1/segments/7/membership").json["ids"] == ["u2"]


def test_a_customers_segments_and_search() -> None:
    track = people()
    assert [s["id"] for s in app(track, "GET", "/v1/customers/u1/segments").json["segments"]] == [3]
    assert [
        s["id"]
        for s in app(track, "GET", "/v1/customers/a3000002/segments", id_type="cio_id").json["segments"]
    ] == [7]
    assert app(track, "GET", "/v1/customers/nobody/segments").status_code == 404
    r = app(
        track,
        "POST",
        "/v1/customers",
        {
            "filter": {
                "and": [{"segment": {"id": 3}}, {"attribute": {"field": "email", "operator": "exists"}}]
            }
        },
    )
    assert r.status_code == 200 and r.json["ids"] == ["u1"]
    r = app(track, "POST", "/v1/customers", {"filter": {"attribute": {"field": "plan", "operator": "is"}}})
    assert r.status_code == 400 and "filter.attribute.operator" in r.json["meta"]["error"]
    assert track.client.get("/v1/segments", base_url="https://api.customer.io").status_code == 401


def test_campaigns_list() -> None:
    r = app(people(), "GET", "/v1/campaigns")
    assert [(c["id"], c["type"], c["trigger_segment_ids"], c["filter_segment_ids"], c["event_name"]) for c in r.json["campaigns"]] == [
        (8, "segment", [3], [], None),
        (9, "event", [], [3], "Order Completed"),
    ]  # fmt: skip
