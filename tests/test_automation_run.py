"""The seed's case end to end: the same identify with `created_at: "2024-03-05T12:34:56Z"`, through
the destination's createUpdatePerson with Convert Timestamps on and off, into the mock with a
`created_at is_timestamp` segment and a campaign it triggers (`run --json`, config `[[segments]]`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.errors import ConfigError
from sandbox.replay.config import parse_config

CONFIG = """
[settings]
siteId = "site"
apiKey = "key"
accountRegion = "US"

[[subscriptions]]
name = "Identify"
subscribe = 'type = "identify"'
partnerAction = "createUpdatePerson"
useDefaultMappings = true
[subscriptions.mapping]
convert_timestamp = {convert}

[[segments]]
id = 1
name = "Signed up"
conditions = {{ attribute = {{ field = "created_at", operator = "is_timestamp" }} }}

[[campaigns]]
id = 5
name = "Onboarding"
trigger = {{ segment = {{ id = 1 }} }}
"""
IDENTIFY = {
    "type": "identify",
    "userId": "u1",
    "traits": {"email": "u1@example.com", "created_at": "2024-03-05T12:34:56Z"},
    "timestamp": "2024-03-05T12:35:00Z",
}


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], convert: bool, *extra: str) -> tuple[int, str]:
    config = tmp_path / "cio-sandbox.toml"
    config.write_text(CONFIG.format(convert="true" if convert else "false"), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(IDENTIFY) + "\n", encoding="utf-8")
    status = main(["run", str(events), "--config", str(config), "--no-progress", *extra])
    return status, capsys.readouterr().out


def test_convert_timestamps_on_joins_the_segment_and_enters_the_campaign(tmp_path, capsys) -> None:
    status, out = run(tmp_path, capsys, True, "--json")
    data = json.loads(out)
    assert status == 0
    assert data["segments"] == {"1": {"name": "Signed up", "members": 1}}
    assert data["campaigns"] == {"5": {"name": "Onboarding", "entries": 1}}
    assert data["warnings"] == []


def test_convert_timestamps_off_does_not_and_the_warning_names_attribute_and_value(tmp_path, capsys) -> None:
    status, out = run(tmp_path, capsys, False, "--json")
    data = json.loads(out)
    assert status == 0
    assert data["segments"] == {"1": {"name": "Signed up", "members": 0}}
    assert data["campaigns"] == {"5": {"name": "Onboarding", "entries": 0}}
    (warning,) = data["warnings"]
    assert "created_at" in warning and "'2024-03-05T12:34:56Z'" in warning
    status, text = run(tmp_path, capsys, False)
    assert "Signed up (1) 0" in text and "Onboarding (5) 0" in text and "2024-03-05T12:34:56Z" in text


def test_a_bad_segment_in_the_config_names_file_and_path() -> None:
    bad = CONFIG.format(convert="true").replace('operator = "is_timestamp"', 'operator = "is_date"')
    with pytest.raises(ConfigError, match=r"segments\[0\]/conditions/attribute/operator.*unknown operator"):
        parse_config(bad, "cio-sandbox.toml")


def test_the_readme_example_is_a_valid_config() -> None:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    start = text.index("```toml", text.index("### Segments and campaigns")) + len("```toml")
    config = parse_config(text[start : text.index("```", start)], "README.md")
    assert [s["name"] for s in config.segments] == ["Signed up", "Active buyers"]
    assert [c["frequency"] for c in config.campaigns] == ["once", "every_time"]


def test_golden_files_hold_memberships_and_entries_and_check_sees_a_change(tmp_path) -> None:
    from sandbox.replay import golden
    from sandbox.replay.events import parse_text

    events = parse_text(json.dumps(IDENTIFY) + "\n")
    on = golden.capture(events, parse_config(CONFIG.format(convert="true")))
    assert on["state"]["segments"] == {"1": ["a3000001"]}
    assert [e["campaign"] for e in on["state"]["campaign_entries"]] == [5]
    off = golden.capture(
        parse_text(json.dumps(IDENTIFY) + "\n"), parse_config(CONFIG.format(convert="false"))
    )
    assert off["state"]["segments"] == {"1": []} and off["state"]["campaign_entries"] == []
    assert golden.diff(on, off)  # check fails, with a diff, when Convert Timestamps is turned off
