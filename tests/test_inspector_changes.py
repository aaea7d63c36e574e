"""The inspector shows state changes as sentences (times as dates, not raw dicts with floats), and
a person merged away points to whom they were merged into instead of a bare 404."""

from __future__ import annotations

import re

import pytest

from sandbox.live.changes import describe

AUTH = {"Authorization": "Basic d2tfdGVzdDo="}  # base64("wk_test:")


@pytest.fixture
def client(live_client):
    return live_client


def send(client, *messages):
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"kind": "attribute_set", "person": "a1", "name": "plan", "old": "free", "new": "pro"},
         'plan: "free" → "pro" (person a1)'),
        ({"kind": "attribute_set", "person": "a1", "name": "created_at", "old": None, "new": 1709640000},
         "created_at: nothing → 2024-03-05 12:00:00Z (person a1)"),
        ({"kind": "anonymous_id_claimed", "person": "a1", "anonymous_id": "anon-1", "at": 1709640000.25},
         "anonymous id anon-1 claimed (person a1) at 2024-03-05 12:00:00Z"),
        ({"kind": "person_created", "person": "a1", "identifiers": {"id": "u1", "email": None, "cio_id": "a1"}},
         'person a1 created: id "u1", cio_id "a1"'),
        ({"kind": "people_merged", "primary": "a2", "secondary": "a1", "events": 3},
         "person a1 merged into a2: 3 event(s) moved"),
        ({"kind": "source_event", "person": "a1", "campaign": 5, "event": {"type": "track", "event": "Email Sent"}},
         'Customer.io source: "Email Sent" for campaign 5 (person a1), as a Segment track call'),
        ({"kind": "something_new", "x": 1, "seen_at": 1709640000}, "something_new: x=1, seen_at=2024-03-05 12:00:00Z"),
    ],
)  # fmt: skip
def test_changes_read_as_sentences(change: dict, text: str) -> None:
    assert describe(change) == text


def test_event_and_journal_pages_show_sentences_not_dicts(client) -> None:
    send(client, {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}})
    page = client.get("/").get_data(as_text=True)
    (trace,) = set(re.findall(r'href="/events/(\d+)"', page))
    event = client.get(f"/events/{trace}").get_data(as_text=True)
    assert "plan: nothing → &#34;pro&#34;" in event or "plan: nothing → &quot;pro&quot;" in event, event
    assert "{&#34;kind&#34;: &#34;attribute_set&#34;" not in event.split("<li title=")[0]
    journal = client.get("/journal").get_data(as_text=True)
    entry = re.search(r'href="/journal/(\d+)"', journal)
    assert entry
    text = client.get(f"/journal/{entry.group(1)}").get_data(as_text=True)
    assert re.search(r"<li title=\"[^\"]*\">person \w+ created: id &#34;u1&#34;", text), text


def test_a_merged_away_person_points_to_whom_they_merged_into(client) -> None:
    send(
        client,
        {"type": "identify", "userId": "legacy-1", "traits": {"plan": "free"}},
        {"type": "identify", "userId": "new-1", "traits": {"plan": "pro"}},
        {"type": "alias", "userId": "new-1", "previousId": "legacy-1"},
    )
    response = client.get("/people/legacy-1")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Merged away" in text
    assert "&#39;legacy-1&#39; was merged into &#39;new-1&#39; (journal entry #" in text, text
    assert 'href="/people/new-1"' in text
    assert client.get("/people/nobody").status_code == 404
    assert "Merged away" not in client.get("/people/nobody").get_data(as_text=True)
