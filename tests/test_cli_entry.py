"""The process entry point (`python -m sandbox`, the `cio-sandbox` script): `sandbox.cli.entry`
exits without the interpreter's teardown, so these run it as a real process and check that
nothing a normal exit gives is lost: the whole output through a pipe, the exit status, and a
reader that goes away early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.cli import main

SETTINGS = {"siteId": "s", "apiKey": "k"}


def _events(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            event = {"type": "track", "userId": f"u{i}", "event": "Bought", "messageId": f"m{i}"}
            out.write(json.dumps(event) + "\n")
    return path


def _process(*argv: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *argv], capture_output=True, timeout=120, cwd=cwd, check=False
    )


def test_the_whole_output_arrives_through_a_pipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    events = _events(tmp_path / "events.jsonl", 3000)  # a few MB: many pipe buffers
    argv = ["plan", str(events), "--settings", str(settings), "--now", "1709642096"]
    done = _process(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert main(argv) == 0
    assert done.stdout.decode("utf-8") == capsys.readouterr().out
    assert done.stderr == b""


def test_the_exit_status_is_the_commands(tmp_path: Path) -> None:
    missing = _process("plan", str(tmp_path / "missing.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.decode().count("\n") == 1, missing.stderr
    assert _process("--version", cwd=tmp_path).returncode == 0  # argparse's own exit


def test_a_reader_that_goes_away_early_is_no_error(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    events = _events(tmp_path / "events.jsonl", 20000)
    command = [sys.executable, "-m", "sandbox", "plan", str(events), "--settings", str(settings)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # as `| head -1` does
        error = proc.stderr.read()
        code = proc.wait(timeout=120)
    assert first.startswith(b'{"event_index": 0')
    assert code == 0 and b"Traceback" not in error, error
