"""Issue 10's "What it must show", end to end on a real socket: Segment events into the live
server's Tracking API (`cio-sandbox serve`'s app on 127.0.0.1), through the destination's
actions into the mock, checked with the assertion helpers over the admin API (`RemoteMock`).

- The seed's case: the same identify with `created_at: "2024-03-05T12:34:56Z"`, Convert
  Timestamps on (the person joins `created_at is_timestamp` and the segment-triggered campaign
  enters them) and off (they do not; the warning names the attribute and the value).
- The anonymous-merge journey: an anonymous "Order Completed" claimed 10 minutes later triggers
  the event-triggered campaign; claimed 4 days later it is merged but does not trigger.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from mock_cio.assertions import (
    assert_campaign_entered,
    assert_campaign_not_entered,
    assert_in_segment,
    assert_not_in_segment,
)
from mock_cio.remote import RemoteMock
from tests.automation_support import SIGNED_UP, live_app

SEGMENTS = [SIGNED_UP]
CAMPAIGNS = [
    {"id": 5, "name": "Onboarding", "trigger": {"segment": {"id": 1}}},
    {"id": 6, "name": "Thanks for ordering", "trigger": {"event": {"name": "Order Completed"}}},
]
ISO = "2024-03-05T12:34:56Z"


@contextmanager
def sandbox(convert: bool = True) -> Iterator[tuple[str, RemoteMock]]:
    app = live_app(SEGMENTS, CAMPAIGNS, convert)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        yield base, RemoteMock(base)
    finally:
        httpd.shutdown()
        thread.join(5)
        app.extensions["sandbox_live"].close()


def send(base: str, *messages: dict[str, Any]) -> None:
    response = requests.post(f"{base}/v1/batch", json={"batch": list(messages)}, auth=("wk", ""), timeout=10)
    assert response.status_code == 200, response.text


IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com", "created_at": ISO}}


def test_the_seeds_case_with_convert_timestamps_on_joins_and_enters() -> None:
    with sandbox(convert=True) as (base, remote):
        send(base, IDENTIFY)
        assert remote.person("u1")["attributes"]["created_at"] == 1709642096
        assert_in_segment(remote, "u1", 1)
        (entry,) = assert_campaign_entered(remote, "u1", 5, count=1)
        assert entry["trigger"] == {"segment": 1} and entry["starts_at"] == 1709642096
        assert requests.get(f"{base}/_mock/automation/warnings", timeout=10).json() == []


def test_the_seeds_case_with_convert_timestamps_off_does_not_and_says_why() -> None:
    with sandbox(convert=False) as (base, remote):
        send(base, IDENTIFY)
        assert remote.person("u1")["attributes"]["created_at"] == ISO
        assert_not_in_segment(remote, "u1", 1)
        assert_campaign_not_entered(remote, "u1", 5)
        with pytest.raises(AssertionError, match=rf"(?s)not in segment 1.*created_at.*{ISO}"):
            assert_in_segment(remote, "u1", 1)
        (warning,) = requests.get(f"{base}/_mock/automation/warnings", timeout=10).json()
        assert warning["attribute"] == "created_at" and warning["value"] == ISO
        assert warning["operator"] == "is_timestamp" and "Unix" in warning["message"]


def journey(base: str, remote: RemoteMock, delay: float) -> None:
    order = {"type": "track", "anonymousId": "anon-1", "event": "Order Completed",
             "properties": {"total": 10}, "timestamp": "2024-03-05T12:00:00Z"}  # fmt: skip
    send(base, order)
    remote.clock.advance(delay)
    send(
        base,
        {"type": "identify", "userId": "u1", "anonymousId": "anon-1", "traits": {"email": "u1@example.com"}},
    )


def test_an_anonymous_order_claimed_10_minutes_later_triggers_the_campaign() -> None:
    with sandbox() as (base, remote):
        journey(base, remote, 600)
        (entry,) = assert_campaign_entered(remote, "u1", 6, count=1)
        assert entry["trigger"]["event"] == "Order Completed" and entry["trigger"]["merged_from_anonymous"]
        (event,) = remote.person("u1")["events"]
        assert event["merged_from_anonymous"] and event["can_trigger"]


def test_an_anonymous_order_claimed_4_days_later_is_merged_but_does_not_trigger() -> None:
    with sandbox() as (base, remote):
        journey(base, remote, 4 * 86400)
        assert_campaign_not_entered(remote, "u1", 6)
        with pytest.raises(AssertionError, match="entered campaign 6 0 time"):
            assert_campaign_entered(remote, "u1", 6)
        (event,) = remote.person("u1")["events"]
        assert event["name"] == "Order Completed" and event["merged_from_anonymous"]
        assert event["can_trigger"] is False
