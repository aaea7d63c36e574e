"""The Customer.io source, closing the loop (mock_cio/source.py): each campaign entry adds the
"Email Sent" track call Customer.io's Segment source would send, to the journal and, with
--source-to, posted to a Segment HTTP API: the sandbox's own Tracking API on 127.0.0.1 here."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from mock_cio import create_app
from mock_cio.journal import Control
from mock_cio.source import SourceError, parse_target, source_event
from sandbox.live import create_live_app
from tests.mock_support import T0, Track, make

SIGNED_UP = {"id": 1, "name": "Signed up",
             "conditions": {"attribute": {"field": "created_at", "operator": "is_timestamp"}}}  # fmt: skip
ONBOARDING = {"id": 5, "name": "Onboarding", "trigger": {"segment": {"id": 1}}}
ORDERS = {"id": 6, "name": "Thanks for ordering", "trigger": {"event": {"name": "Order Completed"}}}
AUTOMATION = {"CIO_SEGMENTS": [SIGNED_UP], "CIO_CAMPAIGNS": [ONBOARDING, ORDERS]}


def sources(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [c["event"] for c in entry["changes"] if c["kind"] == "source_event"]


def test_a_campaign_entry_journals_the_email_sent_event_the_source_would_send() -> None:
    track = make({**AUTOMATION, "CIO_SOURCE_EVENTS": True})
    track.put("/api/v1/customers/u1", {"email": "u1@example.com", "created_at": int(T0) - 60})
    entry = track.last()
    kinds = [c["kind"] for c in entry["changes"]]
    assert kinds[-3:] == ["segment_entered", "campaign_entered", "source_event"]
    (event,) = sources(entry)
    assert event["type"] == "track" and event["event"] == "Email Sent" and event["userId"] == "u1"
    assert event["properties"]["campaign_id"] == 5 and event["properties"]["campaign_name"] == "Onboarding"
    assert event["properties"]["recipient"] == "u1@example.com"
    assert event["context"] == {"traits": {"email": "u1@example.com"}}
    assert event["timestamp"] == "2023-11-14T22:13:20.000Z"  # T0: the message goes out at once
    assert event["messageId"] == "cio-source-" + event["properties"]["email_id"]
    again = make({**AUTOMATION, "CIO_SOURCE_EVENTS": True})
    again.put("/api/v1/customers/u1", {"email": "u1@example.com", "created_at": int(T0) - 60})
    assert sources(again.last()) == [event]  # deterministic: a replay of the same traffic matches
    track.mock.clock.advance(60)
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed"})
    (order,) = sources(track.last())
    assert order["properties"]["campaign_id"] == 6 and order["timestamp"] == "2023-11-14T22:14:20.000Z"
    assert order["properties"]["email_id"] != event["properties"]["email_id"]


def test_no_source_events_unless_asked_and_a_person_with_only_an_email_is_anonymous() -> None:
    track = make(AUTOMATION)
    track.put("/api/v1/customers/u1", {"created_at": int(T0)})
    assert "campaign_entered" in [c["kind"] for c in track.last()["changes"]] and not sources(track.last())
    assert track.mock.source is None and track.mock.source_events is False
    entry = {"campaign": 5, "person": "a1", "at": T0, "starts_at": T0 + 86400}
    event = source_event("site1", entry, {"email": "e@example.com"}, "Onboarding")
    assert event is not None and event["anonymousId"] == "e@example.com" and "userId" not in event
    assert event["timestamp"] == "2023-11-15T22:13:20.000Z"  # a future is_timestamp: when it would go out
    assert source_event("site1", entry, {"cio_id": "a1"}, "Onboarding") is None


@pytest.mark.parametrize(
    ("text", "url", "key"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/batch", "customerio-source"),
        ("http://wk_1@localhost:9/", "http://localhost:9/v1/batch", "wk_1"),
        ("https://api.segment.io/v1/batch", "https://api.segment.io/v1/batch", "customerio-source"),
        ("http://[::1]:8080/custom", "http://[::1]:8080/custom", "customerio-source"),
    ],
)
def test_source_to_urls(text: str, url: str, key: str) -> None:
    assert parse_target(text) == (url, key)


@pytest.mark.parametrize("bad", ["ftp://x", "127.0.0.1:8080", "http://h:99999", "http://h/v1/batch?x=1", 5])
def test_a_bad_source_to_is_one_line_naming_the_option(bad: Any) -> None:
    with pytest.raises(SourceError, match=r"^CIO_SOURCE_TO: ") as caught:
        create_app({"CIO_DB": ":memory:", "CIO_SOURCE_TO": bad})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("main_name", ["mock_cio", "sandbox"])
def test_a_bad_source_to_on_the_command_line_is_one_line(
    main_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if main_name == "mock_cio":
        from mock_cio.__main__ import main

        argv = ["--source-to", "ftp://x"]
    else:
        from sandbox.cli import main  # type: ignore[assignment]

        argv = ["serve", "--source-to", "ftp://x"]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert ("argument --source-to: must be an http(s) URL with a host, like "
            "http://127.0.0.1:8080, got 'ftp://x'") in err[-1]  # fmt: skip
    assert "Traceback" not in "\n".join(err)
    assert len(err) == 1  # a usage error is one line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)


def test_a_mock_posts_the_source_events_to_the_sandboxs_tracking_api() -> None:
    sandbox = create_live_app({"CIO_DB": ":memory:"})
    with serving(sandbox) as segment:
        track = Track(
            create_app({"CIO_NOW": T0, **AUTOMATION, "CIO_SOURCE_TO": f"http://wk_src@{segment[7:]}"})
        )
        mock = track.mock
        response = track.put("/api/v1/customers/u1", {"email": "u1@example.com", "created_at": int(T0)})
        assert response.status_code == 200
        assert mock.source is not None and mock.source.flush(10)
        assert mock.source.view()["sent"] == 1 and mock.source.failures == []
        traced = requests.get(f"{segment}/", timeout=10).text
        assert "Email Sent" in traced
        person = sandbox.extensions["sandbox_live"].mock.person("u1")
        assert [e["name"] for e in person["events"]] == ["Email Sent"]
        assert person["events"][0]["data"]["campaign_name"] == "Onboarding"
        mock.close()


def test_serve_closes_the_loop_into_itself_and_the_inspector_shows_it() -> None:
    port = free_port()
    app = create_live_app({"CIO_DB": ":memory:", **AUTOMATION, "CIO_SOURCE_TO": f"http://127.0.0.1:{port}"})
    live = app.extensions["sandbox_live"]
    with serving(app, port) as base:
        batch = [{"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}},
                 {"type": "track", "userId": "u1", "event": "Order Completed"}]  # fmt: skip
        sent = requests.post(f"{base}/v1/batch", json={"batch": batch}, auth=("wk", ""), timeout=10)
        assert sent.status_code == 200
        assert live.mock.source.flush(10) and live.mock.source.view()["sent"] == 1
        names = [e["name"] for e in live.mock.person("u1")["events"]]
        assert names == ["Order Completed", "Email Sent"]
        assert "Email Sent" in requests.get(f"{base}/", timeout=10).text
        outbox = requests.get(f"{base}/_mock/source", timeout=10).json()
        assert outbox == {
            "events": True,
            "to": f"http://127.0.0.1:{port}/v1/batch",
            "sent": 1,
            "failures": [],
        }
    live.close()


def test_a_failed_post_is_journaled_and_never_breaks_the_mock() -> None:
    dead = free_port()  # nothing listens there
    track = make({**AUTOMATION, "CIO_SOURCE_TO": f"http://127.0.0.1:{dead}"})
    track.put("/api/v1/customers/u1", {"email": "u1@example.com", "created_at": int(T0)})
    assert track.last()["status"] == 200 and len(sources(track.last())) == 1
    assert track.mock.source.flush(10)
    (failure,) = track.mock.source.failures
    assert failure["url"] == f"http://127.0.0.1:{dead}/v1/batch" and "Connection" in failure["error"]
    assert failure["message_ids"] == [sources(track.last())[0]["messageId"]]
    rows = [r for r in track.mock.journal.history() if isinstance(r, Control) and r.action == "source"]
    assert [r.args["failed"]["error"] for r in rows] == [failure["error"]]
    view = track.client.get("/_mock/source", headers={"X-Mock-Admin": "1"}).get_json()
    assert view["sent"] == 0 and view["failures"] == [failure]
    track.put("/api/v1/customers/u2", {"created_at": int(T0)})  # the mock goes on
    assert track.last()["status"] == 200


def _source_rows(track: Track) -> list[dict[str, Any]]:
    """The journaled source events no request caused (not the posting failures)."""
    rows = [r.args for r in track.mock.journal.history() if isinstance(r, Control) and r.action == "source"]
    return [r for r in rows if "events" in r]


def test_entries_a_clock_move_or_a_new_campaign_causes_are_journaled_and_posted_too() -> None:
    later = {"id": 2, "name": "Old hands",
             "conditions": {"attribute": {"field": "signed", "operator": "timestamp_before", "value": {"days_ago": 5}}}}  # fmt: skip
    dead = free_port()
    track = make({"CIO_SEGMENTS": [later], "CIO_CAMPAIGNS": [{"id": 7, "name": "Anniversary", "trigger": {"segment": {"id": 2}}}],
                  "CIO_SOURCE_TO": f"http://127.0.0.1:{dead}"})  # fmt: skip
    track.put("/api/v1/customers/u1", {"email": "u1@example.com", "signed": int(T0)})
    assert not sources(track.last()) and _source_rows(track) == []
    track.mock.clock.advance(6 * 86400)  # u1 joins segment 2 as time passes: campaign 7 enters them
    (row,) = _source_rows(track)
    (event,) = row["events"]
    assert event["userId"] == "u1" and event["properties"]["campaign_id"] == 7
    admin = {"X-Mock-Admin": "1"}
    response = track.client.put(
        "/_mock/campaigns/8", json={"name": "Late", "trigger": {"segment": {"id": 2}}}, headers=admin
    )
    assert response.status_code == 200  # defined while u1 is in segment 2: they enter it now
    assert [r["events"][0]["properties"]["campaign_id"] for r in _source_rows(track)] == [7, 8]
    assert track.mock.source is not None and track.mock.source.flush(10)
    assert len(track.mock.source.failures) == 2  # both were posted (nothing listens there)


def serve_args(tmp_path: Any, config_text: str, *flags: str) -> Any:
    from sandbox.cli import build_parser

    config = tmp_path / "cio-sandbox.toml"
    config.write_text(config_text, encoding="utf-8")
    return build_parser().parse_args(["serve", "--db", ":memory:", "--config", str(config), *flags])


def test_the_config_files_source_table_sets_where_serve_posts_and_the_flag_wins(tmp_path: Any) -> None:
    from sandbox.commands.serve import build_app

    text = '[source]\nto = "http://wk_cfg@127.0.0.1:9/"\n'
    app, close = build_app(serve_args(tmp_path, text))
    try:
        assert app.test_client().get("/_mock/source").get_json()["to"] == "http://127.0.0.1:9/v1/batch"
        auth = app.extensions["sandbox_live"].mock.source._auth
        assert base64.b64decode(auth.removeprefix("Basic ")) == b"wk_cfg:"
    finally:
        close()
    app, close = build_app(serve_args(tmp_path, text, "--source-to", "http://127.0.0.1:10/in"))
    try:
        assert app.test_client().get("/_mock/source").get_json()["to"] == "http://127.0.0.1:10/in"
    finally:
        close()
    app, close = build_app(serve_args(tmp_path, ""))
    try:
        assert app.test_client().get("/_mock/source").get_json()["to"] is None
    finally:
        close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('source = "http://127.0.0.1:9"\n', "source: must be a table ([source]), got a string"),
        ("[source]\n", "source/to: is required: the Segment HTTP API URL to post to"),
        ('[source]\nto = "http://127.0.0.1:9"\nkey = "k"\n', "source/key: unknown key (expected to)"),
        ('[source]\nto = "ftp://x"\n', "source/to: must be an http(s) URL with a host"),
        ("[source]\nto = 7\n", "source/to: must be an http(s) URL, got 7"),
    ],
)
def test_a_bad_source_table_is_one_line_naming_the_key(tmp_path: Any, text: str, message: str) -> None:
    from sandbox.errors import ConfigError
    from sandbox.replay.config import parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.toml")
    assert str(caught.value).startswith(f"cfg.toml: {message}") and "\n" not in str(caught.value)
