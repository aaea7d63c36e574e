"""No command-line entry point prints a traceback for a bad input.

Every file argument of `cio-sandbox plan|run|snapshot|check|init|lint|serve` and `python -m
mock_cio` is given each bad kind of file: binary, empty, a directory, missing, not a database, and
huge. Each either works (an empty events file is zero events; an empty TOML file is the default
config) or exits non-zero with exactly one line on stderr that names the file. The commands run in
this process (an escaping exception fails the test, as a traceback would); one case per entry point
also runs as a real subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import invoke

from mock_cio.__main__ import main as mock_main
from sandbox.cli import main as cli_main

HUGE_BYTES = 24 * 1024 * 1024

KINDS = ("binary", "empty", "directory", "missing", "database", "huge")


def make(kind: str, where: Path) -> Path:
    """A file (or directory, or nothing) of the given kind at `where`."""
    if kind == "binary":
        where.write_bytes(bytes(range(256)) * 4)
    elif kind == "empty":
        where.write_bytes(b"")
    elif kind == "directory":
        where.mkdir()
    elif kind == "missing":
        pass
    elif kind == "database":  # a SQLite file that is no journal, config or event file
        with sqlite3.connect(where) as db:
            db.execute("CREATE TABLE t (x)")
        db.close()
    elif kind == "huge":  # text that is none of JSON, TOML or SQLite, 24 MB of it
        where.write_bytes(b"\xff" + b"x" * HUGE_BYTES)
    return where


@pytest.fixture
def good(tmp_path: Path) -> dict[str, Path]:
    """Usable files for the arguments not under test."""
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}) + "\n")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"siteId": "s", "apiKey": "k"}))
    subscriptions = tmp_path / "subscriptions.json"
    subscriptions.write_text(
        json.dumps([{"name": "P", "partnerAction": "createUpdatePerson", "useDefaultMappings": True}])
    )
    plan_doc = tmp_path / "plan.json"
    plan_doc.write_text(json.dumps({"settings": {"siteId": "s", "apiKey": "k"}, "events": []}))
    config = tmp_path / "good.toml"
    config.write_text("")
    golden = tmp_path / "golden.json"
    assert cli_main(["snapshot", str(events), "--config", str(config), "--out", str(golden)]) == 0
    return {
        "events": events,
        "settings": settings,
        "subscriptions": subscriptions,
        "plan": plan_doc,
        "config": config,
        "golden": golden,
    }


# (name, argv with {bad} for the file under test, kinds under which the command works)
CASES: list[tuple[str, list[str], frozenset[str]]] = [
    ("plan INPUT", ["plan", "{bad}"], frozenset()),
    ("plan events --settings", ["plan", "{events}", "--settings", "{bad}"], frozenset()),
    ("plan --settings events", ["plan", "{bad}", "--settings", "{settings}"], frozenset({"empty"})),
    ("plan --subscriptions", ["plan", "{plan}", "--subscriptions", "{bad}"], frozenset()),
    ("plan --config", ["plan", "{events}", "--config", "{bad}"], frozenset({"empty"})),
    ("run EVENTS", ["run", "{bad}", "--config", "{config}"], frozenset({"empty"})),
    ("run --config", ["run", "{events}", "--config", "{bad}"], frozenset({"empty"})),
    (
        "run --records",
        ["run", "{events}", "--config", "{config}", "--records", "{bad}"],
        frozenset(
            {"empty", "missing", "binary", "database", "huge"}  # an output file: overwritten
        ),
    ),
    ("snapshot EVENTS", ["snapshot", "{bad}", "--config", "{config}", "--out", "-"], frozenset({"empty"})),
    ("snapshot --config", ["snapshot", "{events}", "--config", "{bad}", "--out", "-"], frozenset({"empty"})),
    ("check --against", ["check", "{events}", "--config", "{config}", "--against", "{bad}"], frozenset()),
    # no events: a replay that differs from the golden file (exit 1 with the diff on stdout)
    (
        "check EVENTS",
        ["check", "{bad}", "--config", "{config}", "--against", "{golden}"],
        frozenset({"empty"}),
    ),
    (
        "check --config",
        ["check", "{events}", "--config", "{bad}", "--against", "{golden}"],
        frozenset({"empty"}),
    ),
    ("lint --config", ["lint", "--config", "{bad}"], frozenset({"empty"})),
    # a directory gets PATH/cio-sandbox.toml; a new name without suffix becomes that directory
    ("init PATH", ["init", "{bad}"], frozenset({"directory", "missing"})),
    ("init PATH inside", ["init", "{bad}/x.toml"], frozenset({"directory"})),
    ("serve --db", ["serve", "--port", "0", "--db", "{bad}"], frozenset({"empty", "missing"})),
    (
        "serve --config",
        ["serve", "--port", "0", "--db", ":memory:", "--config", "{bad}"],
        frozenset({"empty"}),
    ),
]
MOCK_CASES: list[tuple[str, list[str], frozenset[str]]] = [
    ("python -m mock_cio --db", ["--port", "0", "--db", "{bad}"], frozenset({"empty", "missing"})),
]


def _argv(template: list[str], bad: Path, good: dict[str, Path]) -> list[str]:
    return [part.format(bad=bad, **good) for part in template]


BAD = [
    pytest.param(name, template, kind, id=f"{name}-{kind}")
    for name, template, works in CASES + MOCK_CASES
    for kind in KINDS
    if kind not in works
]
FINE = [
    pytest.param(name, template, kind, id=f"{name}-{kind}")
    for name, template, works in CASES
    for kind in sorted(works)
    if not name.startswith("serve")  # a usable file: it would start serving
]


def _run(
    tmp_path: Path,
    good: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    name: str,
    template: list[str],
    kind: str,
) -> tuple[Path, str, int, str, str]:
    bad = make(kind, tmp_path / f"bad-{kind}")
    entry = mock_main if name.startswith("python -m mock_cio") else cli_main
    prog = "python -m mock_cio" if entry is mock_main else f"cio-sandbox {template[0]}"
    code, out, err = invoke(entry, _argv(template, bad, good), capsys)
    return bad, prog, code, out, err


@pytest.mark.parametrize(("name", "template", "kind"), BAD)
def test_bad_file_gives_one_line_not_a_traceback(
    tmp_path: Path,
    good: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    template: list[str],
    kind: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    bad, prog, code, out, err = _run(tmp_path, good, capsys, name, template, kind)
    assert code != 0, (code, out, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: "), err
    assert str(bad) in lines[0] or bad.name in lines[0], err


@pytest.mark.parametrize(("name", "template", "kind"), FINE)
def test_files_that_are_usable_inputs_work(
    tmp_path: Path,
    good: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    template: list[str],
    kind: str,
) -> None:
    """An empty events file is zero events, an empty TOML file the default config, a directory
    the place `init` writes to, `--records` an output file: the command runs (check exits 1: no
    events differ from the golden file)."""
    monkeypatch.chdir(tmp_path)
    _, _, code, _, err = _run(tmp_path, good, capsys, name, template, kind)
    assert code == (1 if name == "check EVENTS" else 0), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["-m", "sandbox", "plan", "{bad}"], "cio-sandbox plan"),
        (["-m", "sandbox", "run", "{bad}"], "cio-sandbox run"),
        (["-m", "sandbox", "serve", "--port", "0", "--db", "{bad}"], "cio-sandbox serve"),
        (["-m", "mock_cio", "--port", "0", "--db", "{bad}"], "python -m mock_cio"),
    ],
)
def test_as_a_real_process(tmp_path: Path, argv: list[str], prog: str) -> None:
    bad = make("directory" if "--db" in argv else "binary", tmp_path / "bad")
    done = subprocess.run(
        [sys.executable, *(a.format(bad=bad) for a in argv)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"{prog}: "), done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("entry", ["serve", "mock"])
def test_db_errors_say_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    other = make("database", tmp_path / "other.db")
    junk = make("binary", tmp_path / "junk.db")
    cases = [
        (tmp_path / "nowhere" / "x.db", f"the directory {str(tmp_path / 'nowhere')!r} does not exist"),
        (folder, "is a directory; give a file name (e.g. cio-sandbox.db)"),
        (junk, "is not a SQLite database (a journal from cio-sandbox serve, or a new file name)"),
        (other, "is a SQLite database of something else (tables: t), not a journal"),
    ]
    for path, reason in cases:
        if entry == "serve":
            code, _, err = invoke(cli_main, ["serve", "--port", "0", "--db", str(path)], capsys)
            prog = "cio-sandbox serve"
        else:
            code, _, err = invoke(mock_main, ["--port", "0", "--db", str(path)], capsys)
            prog = "python -m mock_cio"
        assert (code, err) == (2, f"{prog}: --db {path}: {reason}\n")
    with sqlite3.connect(other) as db:  # the other program's file is left as it was
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["t"]
    db.close()


@pytest.mark.parametrize("entry", ["serve", "mock"])
def test_now_errors_name_the_flag(capsys: pytest.CaptureFixture[str], entry: str) -> None:
    argv = ["--port", "0", "--db", ":memory:", "--now", "tomorrow"]
    code, _, err = (
        invoke(cli_main, ["serve", *argv], capsys) if entry == "serve" else invoke(mock_main, argv, capsys)
    )
    assert code == 2
    assert "argument --now: --now 'tomorrow' is neither Unix seconds nor an ISO-8601 time" in err
    assert "CIO_NOW" not in err


@pytest.mark.parametrize(
    ("argv", "command", "message"),
    [
        ([], "cio-sandbox", "the following arguments are required: COMMAND"),
        (["nope"], "cio-sandbox", "argument COMMAND: invalid choice: 'nope'"),
        (["plan"], "cio-sandbox plan", "the following arguments are required: INPUT"),
        (["run", "--workers", "0", "x"], "cio-sandbox run", "argument --workers: must be a whole number"),
        (["plan", "-", "--format", "xml"], "cio-sandbox plan", "argument --format: invalid choice: 'xml'"),
        (["diff", "a.toml"], "cio-sandbox diff", "the following arguments are required"),
    ],
)
def test_a_usage_error_is_one_line(
    argv: list[str], command: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped command line is one line, as every other error (argparse printed the whole
    usage block before it): what is wrong, and where the help is."""
    from sandbox.cli import main

    code, out, err = invoke(main, argv, capsys)
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith(f"{command}: error: {message}") and line.endswith(f"(see {command} --help)")


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["plan", "", "--settings", "s.json"], "INPUT"),
        (["plan", "-", "--settings", ""], "--settings"),
        (["run", ""], "EVENTS"),
        (["run", "e.jsonl", "--config", ""], "--config"),
        (["run", "e.jsonl", "--records", ""], "--records"),
        (["snapshot", "e.jsonl", "--out", ""], "--out"),
        (["check", "e.jsonl", "--against", ""], "--against"),
        (["diff", "", "b.toml", "e.jsonl"], "OLD"),
    ],
)
def test_an_empty_path_is_refused(
    argv: list[str],
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ "" is no file: as a path it is the current directory (plan "" read its event files)."""
    from sandbox.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.jsonl").write_text(json.dumps({"type": "identify", "userId": "u1"}) + "\n")
    code, out, err = invoke(main, argv, capsys)
    assert (code, out) == (2, "")
    command = f"cio-sandbox {argv[0]}"
    assert err == f"{command}: error: argument {name}: needs a path, got '' (see {command} --help)\n"
