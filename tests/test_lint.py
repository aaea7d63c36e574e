"""The subscription linter: FQL the destination accepts but cannot be meant, mappings that cannot
fill their action, `cio-sandbox lint` and its exit codes, the warnings `plan` and `run` print, and
run's per-subscription counts (a subscription that matched nothing is named)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions.presets import PRESETS, Subscription
from sandbox.actions.settings import Settings
from sandbox.cli import main
from sandbox.pipeline import plan
from sandbox.subscriptions import matches, parse_subscription
from sandbox.subscriptions.lint import SEGMENT_TYPES, lint_fql, lint_subscription, never_true


@pytest.mark.parametrize(
    ("fql", "expected"),
    [
        ('event == "Order Completed"', ["'==' is read as '=' followed by the value \"=\"", "is skipped"]),
        ("type = 'track'", ["single quotes are part of the value", 'write "track"', "can never be true"]),
        ('type = "track" and events = "x"', ["'events' is not a field FQL knows"]),
        ('type = "track" and Event = "x"', ["field names are case-sensitive: 'event'"]),
        ('type = "track" and type = "page"', ['type cannot be both "page" and "track"']),
        ('event = "x" and event != "x"', ['event cannot be "x" and not "x"']),
        ('type = "tracks"', ['type is never "tracks"']),
        ("properties.total >=5", ["'>=' needs a space after it", "can never be true"]),
        ('properties.total > "abc"', ["compares with a value that is not a number"]),
        ('type = "track" and event = "A" or event = "B"', ["mixes 'and' and 'or' without parentheses"]),
        ('match(event, "Order")', ["a pattern without '*' is not an exact match", "'rder'"]),
        ("event =", ["there is no value after '='"]),
    ],
)
def test_fql_that_cannot_be_meant(fql: str, expected: list[str]) -> None:
    parse_subscription(fql)  # the reference accepts every one of these
    warnings = lint_fql(fql)
    text = "\n".join(warnings)
    for part in expected:
        assert part in text, (part, warnings)


@pytest.mark.parametrize(
    "fql",
    [
        'type = "track"',
        'type = "track" and event = "Order Completed"',
        '(type = "track" or type = "page") and properties.plan = "pro"',
        'event = "A" or event = "B" or event = "C"',
        "properties.total > 5",
        'contains(event, "Order")',
        'match(event, "Order*")',
        "userId != null",
        'type = "track" and event != "x" and event != "y"',
    ],
)
def test_fql_as_meant_has_no_warnings(fql: str) -> None:
    assert lint_fql(fql) == []


def test_the_destinations_presets_lint_clean() -> None:
    assert [w for p in PRESETS for w in lint_subscription(p)] == []


def test_fql_that_does_not_parse_is_an_error_not_a_warning() -> None:
    assert lint_fql('type = "track" and event !="x"') == []


_SAMPLE_EVENTS = [
    {"type": kind, "event": name, "userId": "u1", "properties": {"plan": plan_name, "total": total}}
    for kind in SEGMENT_TYPES
    for name in ("A", "B", "x")
    for plan_name in ("pro", "free")
    for total in (1, 10)
]
_LEAVES = st.sampled_from(
    [
        'type = "track"',
        'type = "page"',
        'type = "nope"',
        'event = "A"',
        'event = "B"',
        'event != "A"',
        'properties.plan = "pro"',
        'properties.plan = "free"',
        "properties.total > 5",
        'properties.total > "abc"',
    ]
)


@given(st.lists(_LEAVES, min_size=1, max_size=4), st.sampled_from(["and", "or"]))
def test_never_true_is_never_wrong(leaves: list[str], joiner: str) -> None:
    """When the linter says a condition can never be true, no event matches it (sound: it may
    miss contradictions, it never invents one)."""
    condition = parse_subscription(f" {joiner} ".join(leaves))
    if never_true(condition) is not None:
        assert not any(matches(condition, e) for e in _SAMPLE_EVENTS)


def _sub(**fields: object) -> Subscription:
    data = {"name": "S", "partnerAction": "trackEvent", "mapping": {"name": {"@path": "$.event"}}}
    data.update(fields)
    return Subscription.from_dict(data)


def test_mapping_warnings() -> None:
    sub = _sub(
        mapping={
            "name": "$.event",
            "id": {"@path": "$.userid"},
            "data": {"@path": "$.propertie"},
        }
    )
    text = "\n".join(str(w) for w in lint_subscription(sub))
    assert "mapping/name: the text '$.event' is sent as it is" in text
    assert "mapping/data/@path: Segment events have no top-level 'propertie'" in text
    assert "did you mean $.properties?" in text
    assert "mapping/id/@path: Segment events have no top-level 'userid'" in text and "$.userId" in text
    missing = _sub(mapping={"id": {"@path": "$.userId"}})
    assert any(
        "the required field 'name' (Event Name) is not mapped" in str(w) for w in lint_subscription(missing)
    )


# -- the command and the warnings of plan and run ----------------------------------------------------

BAD_CONFIG = """\
[[subscriptions]]
name = "Orders"
subscribe = 'event == "Order Completed"'
partnerAction = "trackEvent"
useDefaultMappings = true

[[subscriptions]]
name = "Pages"
subscribe = 'type = "page"'
partnerAction = "trackPageView"
useDefaultMappings = true
"""

GOOD_CONFIG = """\
[[subscriptions]]
name = "Orders"
subscribe = 'event = "Order Completed"'
partnerAction = "trackEvent"
useDefaultMappings = true
"""


def test_lint_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG, encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(GOOD_CONFIG, encoding="utf-8")
    assert main(["lint", "--config", str(bad)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines and all(line.startswith(f"{bad}: subscription 'Orders': subscribe: ") for line in lines)
    assert "1 subscription" not in err and "warning(s) in 2 subscription(s)" in err
    assert main(["lint", "--config", str(good)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "1 subscription(s), no warnings" in err
    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD_CONFIG.replace("trackEvent", "trackEvnt"), encoding="utf-8")
    assert main(["lint", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "partnerAction: must be one of" in err


def test_lint_without_config_reads_the_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lint"]) == 0


def test_plan_and_run_print_the_warnings_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(BAD_CONFIG, encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Order Completed", "userId": "u1"}) + "\n")
    assert main(["plan", str(events), "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out == ""  # `event = "="` matches nothing: the warning says why
    assert (
        f"cio-sandbox plan: warning: {config}: subscription 'Orders': subscribe: event at column 1: '=='"
        in err
    )
    assert main(["run", str(events), "--config", str(config), "--json"]) == 0
    out, err = capsys.readouterr()
    assert f"cio-sandbox run: warning: {config}: subscription 'Orders': subscribe:" in err
    assert "cio-sandbox run: warning: 2 subscription(s) matched no event: 'Orders', 'Pages'" in err
    summary = json.loads(out)
    assert summary["subscriptions"] == [
        {"name": "Orders", "action": "trackEvent", "matched": 0, "requests": 0, "invalid": 0},
        {"name": "Pages", "action": "trackPageView", "matched": 0, "requests": 0, "invalid": 0},
    ]


def test_run_counts_by_subscription_so_a_silent_one_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two subscriptions with one action: the by-action count (2 trackEvent) hides that one never
    fired; the by-subscription counts and the summary's `unmatched` row show it."""
    config = tmp_path / "c.toml"
    config.write_text(
        GOOD_CONFIG
        + """
[[subscriptions]]
name = "Signups"
subscribe = 'event = "Signed Up"'
partnerAction = "trackEvent"
useDefaultMappings = true
""",
        encoding="utf-8",
    )
    events = tmp_path / "e.jsonl"
    events.write_text(
        "".join(
            json.dumps({"type": "track", "event": "Order Completed", "userId": f"u{i}", "messageId": f"m{i}"})
            + "\n"
            for i in range(2)
        )
    )
    for batch in ([], ["--batch"]):
        assert main(["run", str(events), "--config", str(config), "--json", *batch]) == 0
        out, err = capsys.readouterr()
        summary = json.loads(out)
        assert summary["requests"]["by_action"] == {"trackEvent": 1 if batch else 2}
        assert [(s["name"], s["matched"]) for s in summary["subscriptions"]] == [
            ("Orders", 2),
            ("Signups", 0),
        ]
        assert "matched no event: 'Signups'" in err
    assert main(["run", str(events), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "unmatched  1 of 2 subscriptions matched an event; none for:\n" in text
    assert "Signups (trackEvent)" in text


def test_warnings_never_change_what_is_sent() -> None:
    """The linter reads; the plan of a subscription with warnings is what the reference does."""
    sub = _sub(subscribe='event == "Order Completed"')
    assert lint_subscription(sub)
    settings = Settings("s", "k")
    event = {"type": "track", "event": "=", "userId": "u1"}
    assert [line.action for line in plan([event], settings, [sub])] == ["trackEvent"]
