"""Events holding lone surrogates (JSON allows `"\\ud800"`, UTF-8 has no bytes for it): every
command that writes them out writes the escape `\\udxxx` instead of failing, so a golden file,
a diff report or a migration report stays valid UTF-8 and, where it is JSON, the same strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.cli import main

EVENT = {"type": "identify", "userId": "u\ud800", "traits": {"name": "x\udfff", "\udfff": "key"}}


def _events(tmp_path: Path) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n", encoding="ascii")  # json.dumps escapes them
    return str(path)


def _config(tmp_path: Path, name: str, custom: str) -> str:
    assert main(["init", str(tmp_path / name)]) == 0
    path = tmp_path / name
    text = path.read_text(encoding="utf-8")
    original = 'custom_attributes = { "@path" = "$.traits" }'
    assert original in text
    path.write_text(
        text.replace(original, f'custom_attributes = {{ "@path" = "{custom}" }}'), encoding="utf-8"
    )
    return str(path)


def test_a_golden_file_keeps_lone_surrogates_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events, golden = _events(tmp_path), tmp_path / "golden.json"
    assert main(["snapshot", events, "--out", str(golden)]) == 0
    document = json.loads(golden.read_bytes().decode("utf-8"))  # strict UTF-8
    assert "u\ud800" in json.dumps(document, ensure_ascii=False)
    assert main(["check", events, "--against", str(golden)]) == 0
    capsys.readouterr()
    assert main(["snapshot", events, "--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == document


@pytest.mark.parametrize("form", [[], ["--json"], ["--format", "markdown"]])
def test_a_diff_report_shows_a_lone_surrogate_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: list[str]
) -> None:
    old = _config(tmp_path, "old.toml", "$.traits")
    new = _config(tmp_path, "new.toml", "$.traits.plan")
    capsys.readouterr()
    assert main(["diff", old, new, _events(tmp_path), *form]) == 1
    out = capsys.readouterr().out
    out.encode("utf-8")  # writable
    if form == ["--json"]:
        assert "\udfff" in json.dumps(json.loads(out), ensure_ascii=False)
    else:
        assert "\\udfff" in out


def test_migration_reports_a_user_id_the_classic_destination_cannot_put_in_a_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", _events(tmp_path), "--json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert "encodeURIComponent throws (URIError: URI malformed)" in json.dumps(report)
