"""Golden files: `snapshot` writes stable JSON, `check` passes on the same input and fails with a
readable diff when a mapping change alters what would be sent."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.replay import golden
from sandbox.replay.config import default_config, parse_config
from sandbox.replay.events import parse_text

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"

EVENTS = [
    {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "u1@example.com", "plan": "pro"},
        "timestamp": "2024-05-01T10:00:00Z",
    },
    {
        "type": "track",
        "userId": "u1",
        "event": "Order Completed",
        "messageId": "m1",
        "properties": {"total": 30},
        "timestamp": "2024-05-01T10:05:00Z",
    },
    {
        "type": "track",
        "anonymousId": "a9",
        "event": "Viewed",
        "messageId": "m2",
        "timestamp": "2024-05-02T08:00:00Z",
    },
]

RENAMED = """
[settings]
siteId = "sandbox-site"
apiKey = "sandbox-key"

[[subscriptions]]
name = "Create or Update Person"
subscribe = 'type = "identify"'
partnerAction = "createUpdatePerson"
useDefaultMappings = true

[[subscriptions]]
name = "Track Event"
subscribe = 'type = "track"'
partnerAction = "trackEvent"
useDefaultMappings = true
[subscriptions.mapping]
name = { "@template" = "{{event}} (web)" }
"""


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return path


def test_snapshot_is_stable_sorted_and_without_secrets(events_file: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["snapshot", str(events_file), "--out", str(first)]) == 0
    assert main(["snapshot", str(events_file), "--out", str(second)]) == 0
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert document["format"] == golden.FORMAT and document["mode"] == "single"
    assert document["settings"] == {"siteId": "sandbox-site", "accountRegion": "US 🇺🇸"}
    assert "sandbox-key" not in text and "authorization" not in text.lower() and "journal_id" not in text
    assert [r["action"] for r in document["requests"]] == ["createUpdatePerson", "trackEvent", "trackEvent"]
    assert document["requests"][1]["body"]["name"] == "Order Completed"
    assert document["requests"][1]["status"] == 200 and document["requests"][1]["outcome"] == "accepted"
    (person,) = document["state"]["people"]
    assert person["identifiers"]["id"] == "u1" and person["attributes"]["plan"] == "pro"
    (anonymous,) = document["state"]["anonymous_events"]
    assert anonymous["anonymous_id"] == "a9" and anonymous["received_at"] == 1714636800.0


def test_snapshot_does_not_depend_on_the_wall_clock(
    events_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events without any timestamp still give the same file: the clock starts at DEFAULT_START."""
    undated = [{k: v for k, v in e.items() if k != "timestamp"} for e in EVENTS]
    text = "\n".join(json.dumps(e) for e in undated)
    first = golden.capture(parse_text(text), default_config())
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400 * 400)
    assert golden.capture(parse_text(text), default_config()) == first


def test_check_passes_on_the_same_events(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "golden.json"
    assert main(["snapshot", str(events_file), "--out", str(out)]) == 0
    assert main(["check", str(events_file), "--against", str(out)]) == 0
    assert "matches (3 request(s) and the final state)" in capsys.readouterr().err


def test_check_fails_with_a_readable_diff_after_a_mapping_change(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "golden.json"
    assert main(["snapshot", str(events_file), "--out", str(out)]) == 0
    config = tmp_path / "renamed.toml"
    config.write_text(RENAMED, encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(events_file), "--against", str(out), "--config", str(config)]) == 1
    report = capsys.readouterr().out
    assert report.startswith(f"{out}: the replay differs from the golden file:\n")
    assert "  requests: 2 of 3 differ\n" in report
    assert "    request #1: Track Event (trackEvent) for event 1\n" in report
    assert "  state: anonymous_events differ (anonymous_id a9 event m2)\n" in report
    assert "  state: people differ (id u1)\n" in report
    assert f"--- {out} (expected)\n+++ replay (actual)\n" in report
    assert '-        "name": "Order Completed",\n+        "name": "Order Completed (web)",\n' in report
    hint = f"cio-sandbox snapshot {events_file} --config {config} --out {out}"
    assert f"If the change is intended: {hint}\n" in report
    # Following the hint rewrites the golden file from the same config: check then passes.
    assert main(shlex.split(hint)[1:]) == 0
    assert main(["check", str(events_file), "--against", str(out), "--config", str(config)]) == 0


class _ClosedEarly:
    """Standard output whose reader went away (`check ... | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError

    def flush(self) -> None:
        raise BrokenPipeError


def test_check_still_fails_when_its_reader_stops_early(
    events_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A difference exits 1 even when the report cannot be written (so `set -o pipefail` and
    `| head` in CI still see the regression); it used to exit 0."""
    out = tmp_path / "golden.json"
    assert main(["snapshot", str(events_file), "--out", str(out)]) == 0
    config = tmp_path / "renamed.toml"
    config.write_text(RENAMED, encoding="utf-8")
    monkeypatch.setattr("sys.stdout", _ClosedEarly())
    assert main(["check", str(events_file), "--against", str(out), "--config", str(config)]) == 1


def test_check_notices_a_new_request(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "golden.json"
    main(["snapshot", str(events_file), "--out", str(out)])
    with open(events_file, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "track", "userId": "u1", "event": "User Deleted"}) + "\n")
    capsys.readouterr()
    assert main(["check", str(events_file), "--against", str(out)]) == 1
    report = capsys.readouterr().out
    assert "requests: 0 of 3 differ, 1 more now" in report
    assert "state: people differ (id u1 gone)" in report


def test_check_batch_mode_against_a_single_mode_file(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "golden.json"
    main(["snapshot", str(events_file), "--out", str(out)])
    capsys.readouterr()
    assert main(["check", str(events_file), "--against", str(out), "--batch"]) == 1
    assert 'mode: "single" → "batch"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "line 1, column 1: Expecting value (not a golden file?)"),
        (
            '{"format": "other"}',
            'not a golden file of this version (expected "format": "cio-sandbox golden 1", found "other")',
        ),
        ("[]", "not a golden file of this version"),
    ],
)
def test_check_refuses_what_is_not_a_golden_file(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "golden.json"
    path.write_text(content, encoding="utf-8")
    assert main(["check", str(events_file), "--against", str(path)]) == 2
    assert f"{path}: {message}" in capsys.readouterr().err


def test_missing_golden_file_exits_2(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(events_file), "--against", str(tmp_path / "none.json")]) == 2
    assert "none.json: cannot read" in capsys.readouterr().err


def test_snapshot_to_stdout(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", str(events_file), "--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == golden.FORMAT


def test_a_failed_snapshot_leaves_no_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "identify", "userId": "u"}\n{oops}\n', encoding="utf-8")
    out = tmp_path / "golden.json"
    assert main(["snapshot", str(bad), "--out", str(out)]) == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.jsonl"]


def test_diff_is_empty_for_equal_documents() -> None:
    document = golden.capture(parse_text(json.dumps(EVENTS)), default_config())
    assert golden.diff(document, json.loads(golden.render(document))) == ""


def test_the_scenarios_golden_file_is_current() -> None:
    """fixtures/scenarios.golden.json is the CI recipe in action: it must match the scenarios."""
    config = parse_config((SCENARIOS / "cio-sandbox.toml").read_text(encoding="utf-8"), "cio-sandbox.toml")
    from sandbox.replay.events import read_located

    actual = golden.capture(read_located(SCENARIOS), config)
    expected = golden.load(str(ROOT / "fixtures" / "scenarios.golden.json"))
    assert golden.diff(expected, actual, name="scenarios.golden.json") == ""
