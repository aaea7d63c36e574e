"""`cio-sandbox plan`: input forms, output lines, batch mode, table format, and exit 2 for unusable input."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import events as any_events
from strategies import well_formed_events

from sandbox.actions.settings import Settings
from sandbox.cli import main
from sandbox.commands.plan import _held
from sandbox.commands.plan_output import LineEncoder
from sandbox.errors import InputError
from sandbox.pipeline import plan

SETTINGS = {"siteId": "12345", "apiKey": "abcde", "accountRegion": "EU 🇪🇺"}
EVENTS = [
    {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "a@b.co"},
        "timestamp": "2024-03-05T12:34:56.789Z",
    },
    {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1", "properties": {"plan": "pro"}},
    {"type": "page", "userId": "u1", "properties": {}},
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()] if code == 0 and "--format" not in argv else []
    return code, lines, err if code else out + err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_plan_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = write(tmp_path, "plan.json", json.dumps({"settings": SETTINGS, "events": EVENTS}))
    code, lines, _ = run(capsys, doc)
    assert code == 0
    assert [(line["event_index"], line["action"]) for line in lines] == [
        (0, "createUpdatePerson"),
        (1, "trackEvent"),
        (2, "trackPageView"),
    ]
    first = lines[0]
    assert list(first) == ["event_index", "subscription", "action", "method", "url", "headers", "body"]
    assert first["url"] == "https://track-eu.customer.io/api/v2/entity"
    assert first["headers"] == {"authorization": "Basic MTIzNDU6YWJjZGU=", "content-type": "application/json"}
    assert first["body"]["identifiers"] == {"id": "u1"}
    assert lines[2] == {
        "event_index": 2,
        "subscription": "Track Page View",
        "action": "trackPageView",
        "error": {
            "name": "AggregateAjvError",
            "message": "The root value is missing the required field 'url'.",
        },
    }


def test_json_lines_with_settings_and_subscriptions_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write(tmp_path, "events.jsonl", "\n".join(json.dumps(e) for e in EVENTS) + "\n\n")
    settings = write(tmp_path, "settings.json", json.dumps(SETTINGS))
    subs = write(
        tmp_path,
        "subs.json",
        json.dumps(
            [
                {
                    "name": "Everything",
                    "partnerAction": "trackEvent",
                    "mapping": {"name": {"@path": "$.type"}},
                    "useDefaultMappings": True,
                }
            ]
        ),
    )
    code, lines, _ = run(capsys, events, "--settings", settings, "--subscriptions", subs)
    assert code == 0
    assert [line["body"]["name"] for line in lines] == ["identify", "track", "page"]
    code, lines, _ = run(capsys, events, "--settings", settings, "--subscriptions", subs, "--batch")
    assert code == 0
    assert [line["event_index"] for line in lines] == [[0, 1, 2]]
    assert lines[0]["url"].endswith("/api/v2/batch")


def test_stdin_and_batch_flag_in_the_document(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {"settings": SETTINGS, "events": EVENTS[1:2] * 3, "batch": True}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(doc)))
    code, lines, _ = run(capsys, "-")
    assert code == 0
    assert [line["event_index"] for line in lines] == [[0, 1, 2]]


def test_table_format_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = write(tmp_path, "plan.json", json.dumps({"settings": SETTINGS, "events": EVENTS}))
    assert main(["plan", doc, "--format", "table", "--explain"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["EVENT", "SUBSCRIPTION", "ACTION", "RESULT"]
    assert "POST https://track-eu.customer.io/api/v2/entity identify" in out
    assert "ERROR The root value is missing the required field 'url'." in out
    assert "event 0: Create or Update Person (createUpdatePerson): matched" in err
    assert "event 0: Track Event (trackEvent): not matched" in err


@pytest.mark.parametrize(
    ("files", "argv", "message"),
    [
        (
            {"p.json": '{"settings": {}, "events": [\n  {"type": "track",}\n]}'},
            ["p.json"],
            "p.json: line 2, column",
        ),
        (
            {"e.jsonl": '{"type": "nothing"}\n{oops\n', "s.json": json.dumps(SETTINGS)},
            ["e.jsonl", "--settings", "s.json"],
            "e.jsonl: line 2, column 2",
        ),
        (
            {"e.jsonl": "[1]\n", "s.json": json.dumps(SETTINGS)},
            ["e.jsonl", "--settings", "s.json"],
            "line 1: expected a Segment event (a JSON object), got a number",
        ),
        (
            {"p.json": json.dumps({"settings": {"siteId": "1"}, "events": []})},
            ["p.json"],
            "p.json: settings/apiKey: is required",
        ),
        ({"p.json": json.dumps([1, 2])}, ["p.json"], "expected a plan document"),
        (
            {"p.json": json.dumps({"settings": SETTINGS, "events": [EVENTS[0], [1]]})},
            ["p.json"],
            "p.json: events[1]: an event must be a JSON object, got an array",
        ),
        (
            {"e.jsonl.gz": ""},
            ["e.jsonl.gz"],
            "e.jsonl.gz: holds events, not a plan document: give --config FILE or --settings FILE",
        ),
        (
            {"archive/segment-logs/s/1709596800000/a.gz": ""},
            ["archive"],
            "archive: holds events, not a plan document: give --config FILE or --settings FILE",
        ),
        (
            {
                "p.json": json.dumps(
                    {
                        "settings": SETTINGS,
                        "events": [],
                        "subscriptions": [
                            {
                                "name": "Bad",
                                "subscribe": 'type = "track" and event !="x"',
                                "partnerAction": "trackEvent",
                                "mapping": {},
                            }
                        ],
                    }
                )
            },
            ["p.json"],
            "subscription 'Bad': subscribe:",
        ),
        ({}, ["missing.json"], "missing.json: cannot read"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict,
    argv: list,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        write(tmp_path, name, text)
    assert main(["plan", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("cio-sandbox plan: ")
    assert message in err
    assert err.count("\n") == 1


def test_python_dash_m_sandbox_plan(tmp_path: Path) -> None:
    doc = write(tmp_path, "plan.json", json.dumps({"settings": SETTINGS, "events": EVENTS[:1]}))
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "plan", doc], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "createUpdatePerson"


# -- the output encoder and the JSON-lines reader against their plain forms -----------------------

_PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


@given(
    st.lists(well_formed_events | any_events, max_size=6),
    st.sampled_from([Settings("1", "k"), Settings("é", "ü", "EU")]),
    st.booleans(),
)
def test_line_encoder_is_encoding_to_dict(evs: list, settings: Settings, batch: bool) -> None:
    """One encoder over many lines (its table of shared parts in use) writes what to_dict encodes,
    with the body as its exact wire text (and lone surrogates escaped)."""
    encode = LineEncoder()
    for line in plan([e for e in evs if isinstance(e, dict)], settings, batch=batch, now=1.0):
        assert encode(line) == _expected_line(line)


def _expected_line(line: Any) -> str:
    from sandbox.js.json import escape_lone_surrogates

    fields = line.to_dict()
    if line.error is not None or line.request is None:
        return escape_lone_surrogates(_PLAIN(fields))
    body = line.request.body_text()
    del fields["body"]
    return (
        escape_lone_surrogates(_PLAIN(fields))[:-1] + ', "body": ' + ("null" if body is None else body) + "}"
    )


_PLAIN_TEXTS = {
    "json lines": "".join(json.dumps(event) + "\n" for event in EVENTS),
    "a batch payload": json.dumps({"batch": EVENTS, "context": {"ip": "1.2.3.4"}}) + "\n",
    "a single call's body": json.dumps({"userId": "u1", "traits": {"email": "a@b.co"}}) + "\n",
    "pretty-printed": "".join(json.dumps(event, indent=2) + "\n" for event in EVENTS),
    "two a line": " ".join(json.dumps(event) for event in EVENTS) + "\n",
    "a byte order mark": "\ufeff" + json.dumps(EVENTS[0]) + "\n",
    "a JSON array": json.dumps(EVENTS),
    "a writeKey": json.dumps({**EVENTS[1], "writeKey": "w"}) + "\n",
}


@pytest.mark.parametrize("kind", sorted(_PLAIN_TEXTS))
def test_plan_reads_a_plain_file_as_run_reads_its_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """A plain file, its gzipped copy and standard input give the same lines, and as many events
    as the event reader (run's) reads from it: a batch payload's items, a body without a type,
    values over several lines or several a line are events here too (they were silently not
    planned, or refused, when plan read a plain file line by line)."""
    import gzip

    from sandbox.replay.events import read_events

    text = _PLAIN_TEXTS[kind]
    plain = write(tmp_path, "e.jsonl", text)
    packed = tmp_path / "e.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    code, from_plain, _ = run(capsys, plain, "--settings", settings)
    assert code == 0
    assert run(capsys, str(packed), "--settings", settings)[1] == from_plain
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "plan", "-", "--settings", settings],
        input=text.encode("utf-8"), capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and [json.loads(line) for line in done.stdout.splitlines()] == from_plain
    events = list(read_events(plain))
    assert events and {line["event_index"] for line in from_plain} <= set(range(len(events)))
    assert max(line["event_index"] for line in from_plain) == len(events) - 1


def test_plan_answers_each_event_of_a_live_stream_as_it_comes(tmp_path: Path) -> None:
    """Standard input is read as it arrives: an event's lines come out before the next is sent."""
    import select

    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    child = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "plan", "-", "--settings", settings],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    try:
        for index in range(2):
            child.stdin.write((json.dumps(EVENTS[1]) + "\n").encode("utf-8"))
            child.stdin.flush()
            ready, _, _ = select.select([child.stdout], [], [], 60)
            assert ready, "no answer while the stream stays open"
            assert json.loads(child.stdout.readline())["event_index"] == index
    finally:
        child.stdin.close()
        child.wait(60)
    assert child.returncode == 0


def test_plan_refuses_standard_input_that_is_not_utf8_at_its_byte(tmp_path: Path) -> None:
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "plan", "-", "--settings", settings],
        input=json.dumps(EVENTS[1]).encode() + b"\n" + b'{"userId": "u\xff"}\n',
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr.decode()
        == f"cio-sandbox plan: <stdin>: byte {len(json.dumps(EVENTS[1])) + 14}: not UTF-8 text\n"
    )
    assert [json.loads(line)["event_index"] for line in done.stdout.splitlines()] == [0]


def test_a_file_that_stops_being_utf8_keeps_the_events_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Undecodable bytes far down a file (past the first read): every event before them is planned, then the error."""
    line = json.dumps(EVENTS[1]).encode() + b"\n"
    path = tmp_path / "e.jsonl"
    path.write_bytes(line * 3000 + b'{"b": "\xff"}\n')
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    assert main(["plan", str(path), "--settings", settings]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(text)["event_index"] for text in out.splitlines()] == list(range(3000))
    assert err == f"cio-sandbox plan: {path}: byte {len(line) * 3000 + 7}: not UTF-8 text\n"


def test_plan_refuses_events_nested_too_deeply_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = '{"type": "identify", "userId": "u1", "traits": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}\n"
    events = write(tmp_path, "deep.jsonl", deep)
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    assert main(["plan", events, "--settings", settings]) == 2
    assert (
        capsys.readouterr().err
        == f"cio-sandbox plan: {events}: line 1, column 1: the value is nested too deeply\n"
    )
    doc = write(tmp_path, "p.json", '{"settings": ' + json.dumps(SETTINGS) + ', "events": [' + deep + "]}")
    assert main(["plan", doc]) == 2
    assert capsys.readouterr().err == f"cio-sandbox plan: {doc}: the document is nested too deeply\n"


@pytest.mark.parametrize("many", [False, True])
def test_lines_before_a_bad_line_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], many: bool
) -> None:
    """Output goes out in chunks; what came before an unusable line is still written, in order."""
    good = EVENTS[:2] * (300 if many else 1)
    events = write(tmp_path, "e.jsonl", "".join(json.dumps(e) + "\n" for e in good) + "{oops\n")
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    assert main(["plan", events, "--settings", settings]) == 2
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["event_index"] for line in lines] == list(range(len(good)))
    assert f"line {len(good) + 1}, column 2" in err


# -- plan and run agree (issue 14's newcomer defects) ----------------------------------------------


def _plan_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: dict, subscription: dict
) -> tuple[str, str]:
    """The stderr of plan (JSON document) and of run (TOML config) for the same settings and subscription."""
    doc = write(
        tmp_path,
        "p.json",
        json.dumps({"settings": settings, "events": EVENTS, "subscriptions": [subscription]}),
    )
    assert main(["plan", doc]) == 2
    plan_err = capsys.readouterr().err
    from sandbox.commands.init import toml_string, toml_value

    lines = ["[settings]", *(f"{k} = {toml_string(v)}" for k, v in settings.items()), "", "[[subscriptions]]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in subscription.items()]
    config = write(tmp_path, "c.toml", "\n".join(lines) + "\n")
    events = write(tmp_path, "e.jsonl", "\n".join(json.dumps(e) for e in EVENTS) + "\n")
    assert main(["run", events, "--config", config]) == 2
    run_err = capsys.readouterr().err
    return plan_err, run_err


SUB = {"name": "Orders", "partnerAction": "trackEvent", "mapping": {"name": {"@path": "$.event"}}}


def test_plan_and_run_both_refuse_an_unknown_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_err, run_err = _plan_and_run(tmp_path, capsys, {**SETTINGS, "accountRegion": "eu-west"}, SUB)
    for err in (plan_err, run_err):
        assert (
            'settings/accountRegion: must be one of "US", "EU", "US 🇺🇸", "EU 🇪🇺" (any letter case), got "eu-west"'
            in err
        )


def test_plan_and_run_both_refuse_a_misspelt_mapping_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = {**SUB, "mapping": {"nmae": {"@path": "$.event"}}}
    plan_err, run_err = _plan_and_run(tmp_path, capsys, SETTINGS, sub)
    for err in (plan_err, run_err):
        assert "subscription 'Orders': mapping/nmae: trackEvent has no such field" in err
        assert err.count("\n") == 1


@pytest.mark.parametrize("region", ["eu", "Eu", "EU", "eu 🇪🇺", "EU 🇪🇺"])
def test_region_in_any_letter_case_as_workspace_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], region: str
) -> None:
    doc = write(
        tmp_path,
        "p.json",
        json.dumps({"settings": {**SETTINGS, "accountRegion": region}, "events": EVENTS[:1]}),
    )
    code, lines, _ = run(capsys, doc)
    assert code == 0 and lines[0]["url"].startswith("https://track-eu.customer.io/")


def test_plan_reads_the_toml_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "cio-sandbox.toml",
        '[settings]\nsiteId = "s"\napiKey = "k"\naccountRegion = "eu"\n\n[[subscriptions]]\nname = "Signups"\n'
        'subscribe = \'event = "Signed Up"\'\npartnerAction = "trackEvent"\nuseDefaultMappings = true\n',
    )
    events = write(tmp_path, "e.jsonl", "\n".join(json.dumps(e) for e in EVENTS) + "\n")
    code, lines, _ = run(capsys, events, "--config", config)
    assert code == 0
    assert [(line["event_index"], line["subscription"]) for line in lines] == [(1, "Signups")]
    assert lines[0]["url"] == "https://track-eu.customer.io/api/v2/entity"
    assert main(["plan", events, "--config", config, "--settings", config]) == 2
    assert "give --settings FILE or --config FILE, not both" in capsys.readouterr().err


def test_plan_on_a_binary_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    assert main(["plan", str(path)]) == 2
    assert capsys.readouterr().err == f"cio-sandbox plan: {path}: byte 0: not UTF-8 text\n"


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("1709642096", 1709642096.0),
        ("2024-03-05T12:34:56Z", 1709642096.0),
        ("2024-03-05T12:34:56", 1709642096.0),
        ("2024-03-05T13:34:56+01:00", 1709642096.0),
    ],
)
def test_plan_now_takes_unix_seconds_or_iso(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, seconds: float
) -> None:
    event = {"type": "track", "event": "Report Delivery Event", "userId": "u1",
             "properties": {"deliveryId": "d1", "metric": "opened"}}  # fmt: skip
    doc = write(tmp_path, "p.json", json.dumps({"settings": SETTINGS, "events": [event]}))
    code, lines, _ = run(capsys, doc, "--now", given)
    assert code == 0 and lines[0]["body"]["timestamp"] == int(seconds)


def test_plan_now_error_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "-", "--now", "soon"])
    assert (
        "argument --now: must be Unix seconds or an ISO-8601 time (2024-03-05T12:34:56Z), got 'soon'"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize("given", ["nan", "inf", "-inf", "1e400", "1e20", "-8640000000001"])
def test_plan_now_beyond_a_javascript_date_is_refused(capsys: pytest.CaptureFixture[str], given: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "-", f"--now={given}"])
    assert exited.value.code == 2
    assert (
        f"argument --now: must be Unix seconds within JavaScript's Date range (±8,640,000,000,000), got {given!r}"
        in (capsys.readouterr().err)
    )


def test_an_empty_subscriptions_list_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[]` is not "the presets": nothing is sent, and plan says why instead of printing nothing."""
    events = write(tmp_path, "e.jsonl", "".join(json.dumps(e) + "\n" for e in EVENTS))
    settings = write(tmp_path, "s.json", json.dumps(SETTINGS))
    subscriptions = write(tmp_path, "subs.json", "[]")
    assert main(["plan", events, "--settings", settings, "--subscriptions", subscriptions]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"cio-sandbox plan: warning: {subscriptions}: no subscriptions, so no event sends anything "
        "(without a subscriptions list the 15 automatic presets apply)\n"
    )


def test_batch_mode_reads_every_event_with_the_collector_paused_then_frozen() -> None:
    seen: list[bool] = []

    def events() -> Any:
        for index in range(3):
            seen.append(gc.isenabled())
            yield {"type": "track", "event": f"e{index}"}

    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        held = _held(events())
        assert held == [{"type": "track", "event": f"e{index}"} for index in range(3)]
        assert seen == [False, False, False]  # paused while reading
        assert gc.isenabled()  # and running again after
        assert gc.get_freeze_count() > before  # what was read is out of the collector's reach
    finally:
        gc.unfreeze()


def test_batch_mode_restores_the_collector_when_reading_fails() -> None:
    def events() -> Any:
        yield {"type": "track"}
        raise InputError("line 2: bad", "events.jsonl")

    with pytest.raises(InputError):
        _held(events())
    assert gc.isenabled()
