"""`cio-sandbox run`: the summary, exit statuses, input forms, --records, --batch, --target, and the
replay engine's streaming (records are produced as events arrive, nothing is read ahead)."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.cli import main
from sandbox.replay.config import default_config
from sandbox.replay.engine import DEFAULT_START, EventClock, InProcessTarget, Replayer, event_time
from sandbox.replay.summary import Summary
from tests.strategies import well_formed_events

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"

IDENTIFY = {
    "type": "identify",
    "userId": "u1",
    "traits": {"email": "u1@example.com"},
    "timestamp": "2024-05-01T10:00:00Z",
}
TRACK = {
    "type": "track",
    "userId": "u1",
    "event": "Signed Up",
    "messageId": "m1",
    "timestamp": "2024-05-01T10:01:00Z",
}
TOO_LONG = {
    "type": "identify",
    "userId": "u2",
    "traits": {"bio": "x" * 1200},
    "timestamp": "2024-05-01T10:02:00Z",
}
NO_NAME = {"type": "track", "userId": "u1", "event": "", "timestamp": "2024-05-01T10:03:00Z"}


def write_lines(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status = main(["run", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


# -- the summary -----------------------------------------------------------------------------------


def test_scenarios_summary_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SCENARIOS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"38 events from {SCENARIOS} → in-process mock (single mode)\n")
    assert "38 sent: 38 accepted · 0 rejected" in out
    assert "people     10 created (6 now) · 1 deleted · 1 merged away · 2 suppressed" in out
    assert "anonymous  6 stored · 4 merged · 0 pending · 2 expired" in out
    assert "objects    2 created (1 now) · 2 relationships added" in out


def test_scenarios_summary_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, summary = run_json(capsys, str(SCENARIOS))
    assert status == 0
    assert summary["events"] == {"read": 38, "matched": 38, "unmatched": 0}
    assert summary["requests"]["sent"] == 38 and summary["requests"]["accepted"] == 38
    assert summary["requests"]["by_action"]["createUpdatePerson"] == 11
    assert summary["requests"]["by_action"]["createUpdateDevice"] == 4
    mock = summary["mock"]
    assert mock["people_created"] == 10 and mock["objects_created"] == 2
    assert mock["anonymous_events_merged"] == 4 and mock["anonymous_events_expired"] == 2
    assert mock["end"] == {"people": 6, "objects": 1, "anonymous_events": 0, "suppressed": 2}
    assert summary["failed"] is False


def test_unmatched_events_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(
        tmp_path / "e.jsonl",
        [IDENTIFY, {"type": "track", "userId": "u1", "event": "User Deleted!"}, {"type": "weird"}],
    )
    _, summary = run_json(capsys, str(path))
    assert summary["events"] == {"read": 3, "matched": 2, "unmatched": 1}


# -- exit statuses ---------------------------------------------------------------------------------


def test_rejections_fail_only_with_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "e.jsonl", [IDENTIFY, TOO_LONG, TRACK])
    status, summary = run_json(capsys, str(path))
    assert status == 0
    assert summary["requests"]["rejected"] == 1 and summary["failed"] is True
    (rejection,) = summary["requests"]["rejections"]
    assert rejection["count"] == 1
    assert rejection["reason"].startswith("createUpdatePerson: 400: ")
    assert "cannot be longer than 1000 bytes" in rejection["reason"]
    assert main(["run", str(path), "--fail-on-rejection"]) == 1
    out = capsys.readouterr().out
    assert "rejected   by the mock:" in out and "1× createUpdatePerson: 400:" in out


def test_validation_failures_count_as_rejections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A payload the destination refuses never reaches the mock; Segment drops the event, so CI
    should hear about it: --fail-on-rejection fails on it too."""
    path = write_lines(tmp_path / "e.jsonl", [IDENTIFY, NO_NAME])
    assert main(["run", str(path), "--fail-on-rejection"]) == 1
    out = capsys.readouterr().out
    assert "refused    1 payload(s) failed the destination's validation:" in out
    assert "1× Track Event: The root value is missing the required field 'name'." in out


def test_a_clean_run_passes_with_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", str(write_lines(tmp_path / "e.jsonl", [IDENTIFY, TRACK])), "--fail-on-rejection"]) == 0
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"type": "identify", "userId": "u1"}\n{"type": "track", oops}\n',
            "e.jsonl: line 2, column 19: Expecting property name",
        ),
        ("[3]", "e.jsonl: line 1: expected a Segment event (a JSON object), got a number"),
    ],
)
def test_unusable_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cio-sandbox run: ") and message in err
    assert err.count("\n") == 1


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[[subscriptions]]\nname = 'X'\npartnerAction = 'trackEvent'\nmapping = { name = { '@path' = 1 } }\n",
        encoding="utf-8",
    )
    assert main(["run", str(write_lines(tmp_path / "e.jsonl", [TRACK])), "--config", str(config)]) == 2
    assert f"{config}: subscription 'X': mapping/name/@path: should be a string" in capsys.readouterr().err


def test_missing_events_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl: no such file or directory" in capsys.readouterr().err


# -- inputs and outputs ----------------------------------------------------------------------------


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.dumps({"batch": [IDENTIFY, TRACK]}).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    status, summary = run_json(capsys, "-")
    assert status == 0 and summary["source"] == "<stdin>"
    assert summary["requests"]["by_action"] == {"createUpdatePerson": 1, "trackEvent": 1}


def test_records_tell_each_events_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "records.jsonl"
    path = write_lines(tmp_path / "e.jsonl", [IDENTIFY, TOO_LONG])
    assert main(["run", str(path), "--records", str(records), "--json"]) == 0
    first, second = (json.loads(line) for line in records.read_text(encoding="utf-8").splitlines())
    assert first["where"] == f"{path}:1" and first["event"] == IDENTIFY
    person = next(s for s in first["subscriptions"] if s["name"] == "Create or Update Person")
    assert person["matched"] is True and person["checks"][0]["passed"] is True
    (delivery,) = person["deliveries"]
    assert delivery["request"]["headers"]["authorization"] == "Basic <redacted>"
    assert delivery["response"] == {"status": 200, "body": {}}
    assert delivery["outcome"] == "accepted" and delivery["changes"][0]["kind"] == "person_created"
    assert isinstance(delivery["journal_id"], int)
    unmatched = next(s for s in first["subscriptions"] if s["name"] == "Track Event")
    assert unmatched["matched"] is False and unmatched["deliveries"] == []
    (rejected,) = next(s for s in second["subscriptions"] if s["name"] == "Create or Update Person")[
        "deliveries"
    ]
    assert rejected["outcome"] == "rejected" and rejected["response"]["status"] == 400


def test_batch_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = [{**TRACK, "messageId": f"m{i}", "userId": f"u{i % 3}"} for i in range(120)]
    status, summary = run_json(capsys, str(write_lines(tmp_path / "e.jsonl", events)), "--batch")
    assert status == 0 and summary["mode"] == "batch"
    # 120 matching events in chunks of 50: three /api/v2/batch requests
    assert summary["requests"]["by_action"] == {"trackEvent": 3}
    assert summary["events"]["read"] == 120 and summary["events"]["matched"] == 120
    assert summary["mock"]["changes"]["event_added"] == 120


def test_batch_mode_reports_invalid_items_and_partial_batches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without `event` the payload fails validation (never sent); with `event: ""` batch mode keeps
    the empty name (single mode drops it), and the mock rejects that item: a 207 partial batch."""
    no_event = {k: v for k, v in NO_NAME.items() if k != "event"}
    status, summary = run_json(
        capsys, str(write_lines(tmp_path / "e.jsonl", [TRACK, NO_NAME, no_event])), "--batch"
    )
    assert status == 0 and summary["failed"]
    assert summary["invalid"]["count"] == 1
    assert summary["invalid"]["errors"] == [
        {
            "error": "Track Event: The root value is missing the required field 'name'.",
            "count": 1,
            "event_indexes": [2],
        }
    ]
    assert summary["requests"]["sent"] == 1 and summary["requests"]["partial"] == 1
    assert summary["mock"]["changes"]["event_added"] == 1


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.commands import run as run_command

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert run_command._progress(False) is None

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    bar = run_command._progress(False)
    assert bar is not None
    bar.close()
    assert run_command._progress(True) is None


def test_target_url_sends_over_http(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from werkzeug.serving import make_server

    from mock_cio import create_app

    app = create_app({"CIO_NOW": DEFAULT_START})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        path = write_lines(tmp_path / "e.jsonl", [IDENTIFY, TRACK, TOO_LONG])
        records = tmp_path / "r.jsonl"
        status, summary = run_json(capsys, str(path), "--target", url, "--records", str(records))
    finally:
        server.shutdown()
        thread.join()
    assert status == 0
    assert summary["target"] == url
    assert summary["requests"]["accepted"] == 2 and summary["requests"]["rejected"] == 1
    assert summary["mock"]["end"]["people"] == 1
    mock = app.extensions["mock_cio"]
    assert mock.person("u1")["events"][0]["name"] == "Signed Up"
    assert mock.clock.now() == DEFAULT_START  # --target leaves the server's clock alone by default
    journal_ids = [
        d["journal_id"]
        for line in records.read_text().splitlines()
        for s in json.loads(line)["subscriptions"]
        for d in s["deliveries"]
    ]
    assert len(journal_ids) == 3 and all(isinstance(i, int) for i in journal_ids)


def test_target_must_be_a_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(write_lines(tmp_path / "e.jsonl", [TRACK])), "--target", "localhost:9"]) == 2
    assert "--target must be an http:// or https:// URL" in capsys.readouterr().err


def test_unreachable_target_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", str(write_lines(tmp_path / "e.jsonl", [TRACK])), "--target", "http://127.0.0.1:9"]) == 2
    )
    assert "cannot reach the mock" in capsys.readouterr().err


# -- the engine: clock and streaming ---------------------------------------------------------------


def test_event_clock_follows_events_and_never_goes_back() -> None:
    clock = EventClock()
    assert clock.time_for({"type": "track"}) == DEFAULT_START
    assert clock.time_for({"timestamp": "2024-05-01T00:00:00Z"}) == 1714521600.0
    assert clock.time_for({"timestamp": "2024-04-01T00:00:00Z"}) == 1714521600.0  # earlier: stays
    assert (
        clock.time_for({"receivedAt": "2024-05-02T00:00:00", "timestamp": "2020-01-01T00:00:00Z"})
        == 1714608000.0
    )
    assert event_time({"timestamp": "not a date"}) is None


def test_the_mock_receives_each_event_at_its_time() -> None:
    target = InProcessTarget()
    replayer = Replayer(default_config(), target)
    record = replayer.replay(dict(IDENTIFY))
    assert record.received_at == 1714557600.0
    assert target.now() == 1714557600.0
    assert target.mock.person("u1")["identifiers"]["email"] == "u1@example.com"


def test_records_stream_as_events_arrive() -> None:
    """Replayer.run pulls one event per record: a generator is never read ahead (bounded memory)."""
    pulled = [0]

    def endless() -> Iterator[dict]:
        n = 0
        while True:
            pulled[0] += 1
            yield {**TRACK, "messageId": f"m{n}"}
            n += 1

    records = Replayer(default_config(), InProcessTarget()).run(endless())
    for expected in range(1, 6):
        record = next(records)
        assert record.index == expected - 1
        assert pulled[0] == expected


@given(st.lists(well_formed_events, max_size=6))
def test_array_and_lines_of_the_same_events_give_the_same_run(events: list[dict]) -> None:
    """A JSON array and JSON lines of the same events replay to the same summary and mock state."""
    from sandbox.replay.events import parse_text

    def replay(text: str) -> tuple[dict, dict]:
        target = InProcessTarget()
        summary = Summary()
        for record in Replayer(default_config(), target).run(parse_text(text)):
            summary.add(record)
        summary.finish(target)
        return summary.to_dict(), target.views()

    as_array = replay(json.dumps(events, indent=1))
    as_lines = replay("\n".join(json.dumps(e) for e in events))
    assert as_array == as_lines


def test_explanations_do_not_change_what_is_sent() -> None:
    """run without --records skips the FQL explanations; the requests, answers and state are the same."""
    from sandbox.replay.config import load_config
    from sandbox.replay.events import read_located

    config = load_config(SCENARIOS / "cio-sandbox.toml")

    def replay(explain: bool) -> tuple[list, dict, dict]:
        target = InProcessTarget()
        summary = Summary()
        sent = []
        for record in Replayer(config, target, explain=explain).run(read_located(SCENARIOS)):
            summary.add(record)
            sent.extend((d.request, d.status, d.outcome, d.changes) for d in record.deliveries)
        summary.finish(target)
        return sent, summary.to_dict(), target.views()

    assert replay(True) == replay(False)
