"""The inspector with Flask's test client: every page renders from a real session, every value from
an event is escaped, lists page by cursor, and a journal of 100,000 entries renders fast."""

from __future__ import annotations

import re

import pytest

from sandbox.live import create_live_app

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
AUTH = {"Authorization": "Basic d2tfdGVzdDo="}  # base64("wk_test:")


@pytest.fixture
def app():
    return create_live_app({"CIO_DB": ":memory:", "CIO_NOW": "2024-03-05T12:00:00Z"})


@pytest.fixture
def client(app):
    return app.test_client()


def send(client, *messages):
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def session(client):
    send(
        client,
        {"type": "page", "anonymousId": "anon-1", "name": "Home", "properties": {"url": "https://shop.example/"}},
        {"type": "track", "anonymousId": "anon-1", "event": "Product Viewed", "properties": {"sku": XSS}},
        {"type": "identify", "userId": "u1", "anonymousId": "anon-1",
         "traits": {"email": "u1@example.com", "nickname": XSS, "created_at": "2024-03-01T00:00:00Z"}},
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"coupon": XSS, "total": 10}},
        {"type": "page", "anonymousId": "anon-2", "name": "Blog", "properties": {"url": "https://shop.example/blog"}},
    )  # fmt: skip


def html(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


def trace_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/events/(\d+)"', page)]


def test_every_page_renders(client):
    session(client)
    events = html(client, "/")
    ids = sorted(set(trace_ids(events)))
    assert len(ids) == 5
    for trace_id in ids:
        assert "The Segment event" in html(client, f"/events/{trace_id}")
    assert "u1@example.com" in html(client, "/people")
    person = html(client, "/people/u1")
    assert "merged from anonymous" in person and "Product Viewed" in person
    anonymous = html(client, "/anonymous")
    assert "anon-2" in anonymous and "30d 0h" in anonymous  # the clock is frozen: a full 30 days left
    journal = html(client, "/journal")
    entry = re.search(r'href="/journal/(\d+)"', journal)
    assert entry
    assert "/api/v2/entity" in html(client, f"/journal/{entry.group(1)}")


def test_event_values_are_escaped_everywhere(client):
    session(client)
    pages = [html(client, "/"), html(client, "/people/u1"), html(client, "/journal")]
    pages += [html(client, f"/events/{i}") for i in set(trace_ids(pages[0]))]
    entries = set(re.findall(r'href="/journal/(\d+)"', pages[2]))
    pages += [html(client, f"/journal/{i}") for i in entries]
    shown = [p for p in pages if ESCAPED in p]
    assert len(shown) >= 4, "the hostile value should appear (escaped) on the event, person and journal pages"
    for page in pages:
        assert XSS not in page
        assert "<script" not in page.lower()


def test_pages_forbid_scripts_and_use_no_external_assets(client):
    response = client.get("/")
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' covers it
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    css = client.get("/_inspector/static/inspector.css")
    assert css.status_code == 200 and b"@import" not in css.data and b"url(http" not in css.data


def test_missing_things_are_404_and_bad_cursors_400(client):
    assert "no event #999" in html(client, "/events/999", 404)
    assert "no person" in html(client, "/people/nobody", 404)
    assert "no entry #999" in html(client, "/journal/999", 404)
    assert "before must be a whole number" in html(client, "/?before=abc", 400)
    assert "status must be one of" in html(client, "/?status=nope", 400)


def test_event_list_pages_by_cursor_without_gaps_or_repeats(client):
    send(client, *({"type": "track", "userId": f"u{i % 3}", "event": f"E{i}"} for i in range(120)))
    seen: list[int] = []
    url = "/"
    pages = 0
    while url:
        page = html(client, url)
        pages += 1
        seen.extend(dict.fromkeys(trace_ids(page)))
        more = re.search(r'<a class="next" href="([^"]+)"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert pages == 3
    assert seen == sorted(set(seen), reverse=True) and len(seen) == 120
    only_u1 = html(client, "/?user=u1")
    assert len(set(trace_ids(only_u1))) == 40


def test_a_repeated_message_id_is_marked_duplicate_and_not_sent(client, app):
    message = {"type": "track", "userId": "u1", "event": "Once", "messageId": "m-1"}
    send(client, message)
    send(client, message)
    send(client, dict(message, messageId="m-2"), dict(message, messageId="m-2"))  # twice in one batch
    page = html(client, "/?status=duplicate")
    assert len(set(trace_ids(page))) == 2
    mock = app.extensions["sandbox_live"].mock
    person = mock.person("u1")
    assert [e["name"] for e in person["events"]].count("Once") == 2  # m-1 and m-2, once each


def test_journal_shows_rejected_first_and_filters(client, app):
    session(client)
    # a request the mock rejects: bad credentials format straight to the Track API
    bad = client.post(
        "/api/v2/entity",
        data="{not json",
        headers={"Authorization": "Basic c2l0ZTprZXk=", "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    page = html(client, "/journal")
    rejected_at = page.index('<h2 class="section">Rejected</h2>')
    accepted_at = page.index('<h2 class="section">Accepted and partial</h2>')
    assert rejected_at < accepted_at
    only = html(client, "/journal?outcome=rejected")
    assert "Accepted and partial" not in only and only.count('href="/journal/') == 1
    assert "<code>POST /api/v2/entity</code>" in only
    assert html(client, "/journal?path=/api/v1/").count('href="/journal/') == 0
    assert html(client, "/journal?path=/api/v2/").count('href="/journal/') == 6


def test_journal_of_100k_entries_renders_every_kind_of_page(app, client):
    """Keyset pages over 100k entries: the first page, a deep page and filtered pages (how fast:
    bench/suite_budgets.py; the suite times nothing).

    The entries go straight into the mock's journal (the HTTP path would take minutes);
    a few are rejected, so the rejected section has to be found among them.
    """
    from mock_cio.journal import Entry

    journal = app.extensions["sandbox_live"].mock.journal
    for i in range(100_000):
        rejected = i % 997 == 0
        journal.append(
            Entry(
                received_at=1709640000.0 + i,
                method="POST",
                host="track.customer.io",
                path="/api/v2/entity",
                workspace="site-1",
                body={"type": "person", "action": "event", "identifiers": {"id": f"u{i % 500}"}, "name": "E"},
                status=400 if rejected else 200,
                response={"errors": [{"reason": "bad"}]} if rejected else {},
                outcome="rejected" if rejected else "accepted",
                reasons=["bad"] if rejected else [],
            )
        )
    for url in (
        "/journal",
        "/journal?section=rest&before=20000",
        "/journal?outcome=rejected",
        "/journal?path=/api/v2/",
    ):
        assert html(client, url).count('href="/journal/') >= 50, url


def test_reset_clears_the_traces_with_the_mock(client, app):
    session(client)
    assert trace_ids(html(client, "/"))
    assert client.post("/_mock/reset", headers={"X-Mock-Admin": "1"}).status_code == 200
    assert trace_ids(html(client, "/")) == []
    assert app.extensions["sandbox_live"].mock.people() == []


def test_a_session_survives_a_restart_on_the_same_file(tmp_path):
    db = str(tmp_path / "session.db")
    first = create_live_app({"CIO_DB": db, "CIO_NOW": "2024-03-05T12:00:00Z"})
    session(first.test_client())
    before = html(first.test_client(), "/")
    first.extensions["sandbox_live"].store.close()
    second = create_live_app({"CIO_DB": db})
    again = second.test_client()
    assert trace_ids(html(again, "/")) == trace_ids(before)
    assert "merged from anonymous" in html(again, "/people/u1")
