"""The inspector's segment and campaign pages, and a person's segments, campaign entries and
timestamp warnings with why, from real sessions through Segment's Tracking API: the seed's case
(Convert Timestamps on and off) and the anonymous-merge journey (claimed 10 minutes and 4 days later)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sandbox.live import create_live_app
from tests.automation_support import SIGNED_UP, live_app

AUTH = {"Authorization": "Basic d2tfdGVzdDo="}
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DAY = 86400
ISO_TIME = "2024-03-05T12:34:56Z"
SEGMENTS = [
    SIGNED_UP,
    {"id": 2, "name": f"Buyers {XSS}", "conditions": {"event": {"name": "Order Completed", "min_count": 1}}},
]  # fmt: skip
CAMPAIGNS = [
    {"id": 5, "name": "Onboarding", "trigger": {"segment": {"id": 1}}},
    {"id": 6, "name": f"Thanks {XSS}", "trigger": {"event": {"name": "Order Completed"}}},
]


def client(convert: bool = True) -> Any:
    app = live_app(SEGMENTS, CAMPAIGNS, convert)
    return app.test_client()


def send(c: Any, *messages: dict[str, Any]) -> None:
    response = c.post("/v1/batch", json={"batch": list(messages)}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)


def html(c: Any, path: str, status: int = 200) -> str:
    response = c.get(path)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:500])
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    return response.get_data(as_text=True)


def text(page: str) -> str:
    """The page's words, tags dropped and whitespace folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def identify(c: Any, created_at: Any) -> None:
    send(
        c,
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com", "created_at": created_at}},
    )


def test_convert_timestamps_on_shows_the_segment_and_the_campaign_entry_with_why() -> None:
    c = client(convert=True)
    identify(c, "2024-03-05T12:34:56Z")
    person = text(html(c, "/people/u1"))
    assert "Segments 1" in person and "created_at is a timestamp" in person
    assert "Campaign entries 1" in person and "entering segment 1" in person
    assert "2024-03-05 12:34:56Z" in person  # the campaign starts at the timestamp's time
    assert "Timestamp rules that do not match" not in person
    segment = text(html(c, "/segments/1"))
    assert "Signed up" in segment and "1 member(s)" in segment and "u1" in segment
    campaign = text(html(c, "/campaigns/5"))
    assert "Onboarding" in campaign and "1 entry" in campaign and "u1" in campaign
    assert "entering segment 1" in campaign


def test_convert_timestamps_off_shows_the_warning_naming_attribute_and_value() -> None:
    c = client(convert=False)
    identify(c, "2024-03-05T12:34:56Z")
    person = text(html(c, "/people/u1"))
    assert "In no data-driven segment." in person and "In no campaign." in person
    assert "Timestamp rules that do not match" in person
    assert "created_at is 2024-03-05T12:34:56Z" in person.replace('"', "")
    assert "is_timestamp rule holds only for Unix timestamps in seconds" in person
    segments = text(html(c, "/segments"))
    assert "created_at" in segments and '"2024-03-05T12:34:56Z"' in segments
    assert "Nobody is in this segment." in html(c, "/segments/1")
    assert "0 entries" in text(html(c, "/campaigns/5"))


def _journey(delay: float) -> Any:
    c = client()
    send(c, {"type": "track", "anonymousId": "anon-1", "event": "Order Completed", "properties": {"total": 10},
             "timestamp": "2024-03-05T12:00:00Z"})  # fmt: skip
    c.post("/_mock/clock", json={"advance": delay}, headers={"X-Mock-Admin": "1"})
    send(
        c,
        {"type": "identify", "userId": "u1", "anonymousId": "anon-1", "traits": {"email": "u1@example.com"}},
    )
    return c


def test_an_anonymous_order_claimed_10_minutes_later_enters_the_campaign_on_the_persons_page() -> None:
    c = _journey(600)
    person = text(html(c, "/people/u1"))
    assert "Campaign entries 1" in person
    assert 'event "Order Completed" (merged from anonymous activity)' in person
    assert "did not trigger" not in person
    assert "1 entry" in text(html(c, "/campaigns/6"))


def test_an_anonymous_order_claimed_4_days_later_is_merged_but_the_page_says_why_it_did_not_trigger() -> None:
    c = _journey(4 * DAY)
    person = text(html(c, "/people/u1"))
    assert "merged from anonymous" in person and "cannot trigger" in person
    assert "Campaign entries 0" in person
    assert "did not trigger campaign 6" in person and "more than 72 hours" in person
    assert "Nobody entered this campaign." in html(c, "/campaigns/6")


def test_lists_are_linked_from_the_nav_and_values_are_escaped() -> None:
    c = client()
    send(c, {"type": "identify", "userId": XSS, "traits": {"created_at": "2024-03-05T12:34:56Z"}},
         {"type": "track", "userId": XSS, "event": "Order Completed"})  # fmt: skip
    home = html(c, "/")
    assert 'href="/segments"' in home and 'href="/campaigns"' in home
    pages = [
        html(c, p)
        for p in ("/segments", "/segments/1", "/segments/2", "/campaigns", "/campaigns/5", "/campaigns/6")
    ]
    assert all(XSS not in p for p in pages)
    assert sum(ESCAPED in p for p in pages) >= 5  # names and members are shown, as text
    listing = text(pages[0])
    assert "performed event" in listing and "at least 1 time(s)" in listing
    assert "event" in text(pages[3]) and "Thanks" in text(pages[3])
    link = re.search(r'href="(/people/[^"]+)"', pages[1])
    assert link and ESCAPED in html(c, link.group(1).replace("&amp;", "&"))


def test_unknown_segments_and_campaigns_are_404_and_nothing_defined_says_so() -> None:
    c = client()
    assert "no such segment" in html(c, "/segments/99", 404)
    assert "no such campaign" in html(c, "/campaigns/99", 404)
    bare = create_live_app({"CIO_DB": ":memory:"}).test_client()
    assert "No segments defined." in html(bare, "/segments")
    assert "No campaigns defined." in html(bare, "/campaigns")
    send(bare, {"type": "identify", "userId": "u1", "traits": {}})
    assert "Campaign entries" not in html(bare, "/people/u1")


def test_members_page_by_cursor() -> None:
    count = 55
    c = client()
    send(
        c,
        *[
            {"type": "identify", "userId": f"u{i:03d}", "traits": {"created_at": 1709600000 + i}}
            for i in range(count)
        ],
    )
    first = html(c, "/segments/1")
    assert f"{count} member(s)" in first
    shown = set(re.findall(r">(u\d{3})<", first))
    more = re.search(r'rel="next" href="([^"]+)"', first)
    assert len(shown) == 50 and more
    rest = set(re.findall(r">(u\d{3})<", html(c, more.group(1).replace("&amp;", "&"))))
    assert len(rest) == count - 50 and not shown & rest


def test_campaign_entries_page_by_cursor_newest_first() -> None:
    c = client()
    send(c, *[{"type": "track", "userId": f"u{i:03d}", "event": "Order Completed"} for i in range(53)])
    first = html(c, "/campaigns/6")
    shown = re.findall(r">(u\d{3})<", first)
    assert len(shown) == 50 and shown[0] == "u052"
    more = re.search(r'rel="next" href="([^"]+)"', first)
    assert more
    rest = re.findall(r">(u\d{3})<", html(c, more.group(1).replace("&amp;", "&")))
    assert rest == ["u002", "u001", "u000"]


def test_many_warnings_show_the_first_page_and_the_count() -> None:
    c = client(convert=False)
    send(
        c,
        *[{"type": "identify", "userId": f"u{i:03d}", "traits": {"created_at": ISO_TIME}} for i in range(60)],
    )
    for path in ("/segments", "/segments/1"):
        page = text(html(c, path))
        assert "Timestamp rules that do not match 60" in page
        assert "The first 50 of 60" in page


def test_an_untriggered_event_is_shown_beside_a_segment_triggered_entry() -> None:
    c = client()
    send(c, {"type": "track", "anonymousId": "anon-1", "event": "Order Completed",
             "timestamp": "2024-03-05T12:00:00Z"})  # fmt: skip
    c.post("/_mock/clock", json={"advance": 4 * DAY}, headers={"X-Mock-Admin": "1"})
    send(c, {"type": "identify", "userId": "u1", "anonymousId": "anon-1", "traits": {"created_at": ISO_TIME}})
    person = text(html(c, "/people/u1"))
    assert "Campaign entries 1" in person and "entering segment 1" in person
    assert "did not trigger campaign 6" in person


def test_an_event_whose_data_does_not_meet_the_trigger_is_listed_with_that_reason() -> None:
    c = client()
    trigger = {
        "event": {"name": "Order Completed", "data": [{"field": "total", "operator": "gt", "value": 400}]}
    }
    response = c.put(
        "/_mock/campaigns/7",
        json={"name": "Big spenders", "trigger": trigger, "frequency": "every_time"},
        headers={"X-Mock-Admin": "1"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    send(
        c,
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 100}},
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 500}},
    )
    person = text(html(c, "/people/u1"))
    assert person.count("did not trigger campaign 7") == 1  # the 500 one entered it
    assert "its data does not meet the trigger's data conditions (total gt 400)" in person
    assert "did not trigger campaign 6" not in person  # no data conditions: both entered
