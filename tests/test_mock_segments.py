"""Manual segments through HTTP: the v1 add_customers and remove_customers routes reach the state's
add_to_segment and remove_from_segment (tests/test_mock_state.py tests the verbs themselves)."""

from __future__ import annotations

import json

from tests.mock_support import Track


def test_add_customers_and_remove_customers_change_the_people(track: Track) -> None:
    track.put("/api/v1/customers/u1", {})
    track.put("/api/v1/customers/a%40x.io", {})
    r = track.post("/api/v1/segments/7/add_customers", {"ids": ["u1", "ghost"]})
    assert r.status_code == 200
    assert r.json == {}
    entry = track.last()
    assert entry["changes"] == [{"kind": "added_to_segment", "person": "a3000001", "segment": 7}]
    assert entry["notes"] == ["no person matches id 'ghost': ignored, not added to segment 7"]
    r = track.post("/api/v1/segments/7/add_customers?id_type=email", {"ids": ["A@x.io", "not-an-email"]})
    assert r.status_code == 200
    assert track.mock.person("a@x.io")["segments"] == [7]
    assert any("is not an email" in n for n in track.last()["notes"])
    track.post("/api/v1/segments/7/remove_customers", {"ids": ["u1"]})
    assert "segments" not in track.mock.person("u1")
    track.post("/api/v1/segments/7/remove_customers?id_type=email", {"ids": ["a@x.io"]})
    assert track.mock.person("a@x.io")["segments"] == [7]
    assert "has no id" in track.last()["notes"][0]


def test_a_segment_id_that_is_not_a_number_is_refused(track: Track) -> None:
    r = track.post("/api/v1/segments/abc/add_customers", {"ids": ["u1"]})
    assert r.status_code == 400
    assert "segment_id must be a whole number" in json.dumps(r.json)
