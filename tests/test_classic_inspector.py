"""The inspector's classic vs Actions view (`serve --compare-classic`): one event's two stories
side by side, the difference class or none, the person in each mock afterwards; escaped; replayed
again from the start for an older event and after a reset."""

from __future__ import annotations

import argparse
import re

import pytest

from sandbox.classic.live import enable
from sandbox.live import create_live_app
from sandbox.replay.config import default_config

AUTH = {"Authorization": "Basic d2tfdGVzdDo="}
XSS = "<script>alert(1)</script>"


@pytest.fixture
def client():
    app = create_live_app({"CIO_DB": ":memory:", "CIO_NOW": "2024-03-05T12:00:00Z"})
    enable(app, default_config())
    return app.test_client()


def send(client, *messages):
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)


def ids(client) -> list[int]:
    return sorted(
        {int(x) for x in re.findall(r'href="/events/(\d+)"', client.get("/").get_data(as_text=True))}
    )


def page(client, trace_id: int) -> str:
    response = client.get(f"/events/{trace_id}/classic")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_two_stories_side_by_side(client):
    send(
        client,
        {"type": "track", "anonymousId": "anon-1", "event": "Viewed", "properties": {"sku": XSS}},
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}},
        {"type": "screen", "userId": "u1", "name": "Home"},
    )
    first, second, third = ids(client)
    anonymous = page(client, first)
    assert "Difference: anonymous events" in anonymous and "Nothing sent: no userId" in anonymous
    assert "/api/v2/entity" in anonymous and XSS not in anonymous and "&lt;script&gt;" in anonymous
    assert "No difference" in page(client, second)
    screen = page(client, third)
    assert "Difference: page and screen naming" in screen
    assert "Viewed Home Screen" in screen and "_last_visit" in screen and "id:u1 afterwards" in screen
    # an older event again (replayed from the start), and the link from the event's page
    assert "Difference: anonymous events" in page(client, first)
    assert f'href="/events/{third}/classic"' in client.get(f"/events/{third}").get_data(as_text=True)


def test_after_a_reset_the_view_starts_again(client):
    send(client, {"type": "identify", "userId": "u1", "traits": {"plan": "a"}})
    (first,) = ids(client)
    assert "No difference" in page(client, first)
    assert client.post("/_mock/reset", json={}).status_code == 200
    send(client, {"type": "alias", "userId": "u2", "previousId": "u1"})
    (after,) = ids(client)
    assert after > first
    assert "Nothing sent: the classic destination has no alias handler" in page(client, after)
    assert client.get("/events/999999/classic").status_code == 404


def test_without_the_flag_there_is_no_view():
    app = create_live_app({"CIO_DB": ":memory:"})
    client = app.test_client()
    send(client, {"type": "identify", "userId": "u1"})
    (trace_id,) = ids(client)
    assert client.get(f"/events/{trace_id}/classic").status_code == 404
    assert "/classic" not in client.get(f"/events/{trace_id}").get_data(as_text=True)


def test_serve_flag_enables_it():
    from sandbox.commands.serve import build_app, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--compare-classic", "--db", ":memory:"])
    app, close = build_app(args)
    try:
        assert "sandbox_classic" in app.extensions
    finally:
        close()
