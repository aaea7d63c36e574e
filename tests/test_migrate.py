"""`cio-sandbox migrate`: one fixture event per documented difference (the classic requests, the
Actions requests and the class the report gives it), no difference for identical events, the six
scenarios, the output forms and exit statuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.classic.migration import migrate
from sandbox.cli import main
from sandbox.replay.config import default_config, load_config
from sandbox.replay.events import read_located

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"
CONFIG = default_config()

KNOWN = {
    "type": "identify",
    "userId": "u1",
    "traits": {"email": "u1@example.com", "name": "Ada"},
    "messageId": "m-known",
    "timestamp": "2024-05-01T10:00:00Z",
}


def at(minute: int) -> str:
    return f"2024-05-01T10:{minute:02d}:00Z"


# Each case: the events (setup first, the event under test last), the class the last one gets, the
# classic request paths it sends and the Actions actions it goes through.
CASES = {
    "anonymous": (
        [
            {
                "type": "track",
                "anonymousId": "anon-1",
                "event": "Viewed",
                "messageId": "m-t",
                "timestamp": at(1),
            }
        ],
        [],
        ["trackEvent"],
    ),
    "alias_merge": (
        [
            KNOWN,
            {**KNOWN, "userId": "old", "traits": {"plan": "pro"}, "messageId": "m-old"},
            {"type": "alias", "userId": "u1", "previousId": "old", "messageId": "m-t", "timestamp": at(2)},
        ],
        [],
        ["mergePeople"],
    ),
    "page_screen": (
        [KNOWN, {"type": "screen", "userId": "u1", "name": "Home", "messageId": "m-t", "timestamp": at(3)}],
        ["PUT /api/v1/customers/u1", "POST /api/v1/customers/u1/events"],
        ["trackScreenView"],
    ),
    "group_objects": (
        [
            KNOWN,
            {
                "type": "group",
                "userId": "u1",
                "groupId": "acme",
                "traits": {"name": "Acme"},
                "messageId": "m-t",
                "timestamp": at(4),
            },
        ],
        ["PUT /api/v1/customers/u1"],
        ["createUpdateObject"],
    ),
    "timestamps": (
        [
            KNOWN,
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"created": "2024-01-02"},
                "messageId": "m-t",
                "timestamp": at(5),
            },
        ],
        ["PUT /api/v1/customers/u1"],
        ["createUpdatePerson"],
    ),
    "devices": (
        [
            KNOWN,
            {
                "type": "track",
                "userId": "u1",
                "event": "Application Installed",
                "messageId": "m-t",
                "timestamp": at(6),
                "context": {"device": {"token": "tok-1", "type": "ios"}},
            },
        ],
        ["PUT /api/v1/customers/u1/devices", "POST /api/v1/customers/u1/events"],
        ["createUpdateDevice"],
    ),
    "deletes_suppressions": (
        [
            KNOWN,
            {
                "type": "track",
                "userId": "u1",
                "event": "User Deleted",
                "messageId": "m-t",
                "timestamp": at(7),
            },
        ],
        ["POST /api/v1/customers/u1/events"],
        ["deletePerson"],
    ),
    "metrics": (
        [
            KNOWN,
            {
                "type": "track",
                "userId": "u1",
                "event": "Report Delivery Event",
                "properties": {"deliveryId": "d-1", "metric": "opened"},
                "messageId": "m-t",
                "timestamp": at(9),
            },
        ],
        ["POST /api/v1/customers/u1/events"],
        ["reportDeliveryEvent"],
    ),
    "event_ids": (
        [
            KNOWN,
            {"type": "track", "userId": "u1", "event": "Paid", "messageId": "m-dup", "timestamp": at(8)},
            {"type": "track", "userId": "u1", "event": "Paid", "messageId": "m-dup", "timestamp": at(8)},
        ],
        ["POST /api/v1/customers/u1/events"],
        ["trackEvent"],
    ),
}


def example_of(report, klass):
    (tally,) = [t for t in report.classes if t.klass.key == klass]
    return tally, tally.examples[0]


@pytest.mark.parametrize("klass", sorted(CASES))
def test_each_documented_difference(klass):
    events, classic_paths, actions_actions = CASES[klass]
    report = migrate(events, CONFIG, examples=3)
    last = len(events) - 1
    differing = {e.index: t.klass.key for t in report.classes for e in t.examples}
    assert differing.get(last) == klass, report.to_dict()["classes"]
    _, example = example_of(report, klass)
    example = next(e for t in report.classes for e in t.examples if e.index == last)
    assert [f"{r['method']} {r['url'].split('.io', 1)[1]}" for r in example.classic] == classic_paths
    assert [r["action"] for r in example.actions] == actions_actions
    assert not report.equal


def test_object_events_are_group_differences():
    events = [
        {
            "type": "track",
            "userId": "admin",
            "event": "Object Deleted",
            "messageId": "m-t",
            "properties": {"objectId": "acme", "objectTypeId": "1"},
            "timestamp": at(1),
        },
    ]
    report = migrate(events, CONFIG)
    assert [t.klass.key for t in report.classes] == ["group_objects"]


def test_an_email_user_id_names_the_same_person_on_both_sides():
    """classic writes an email-shaped userId as id and email, Actions as email only: the
    identify differs, later events on that person do not."""
    events = [
        {
            "type": "identify",
            "userId": "sam@example.net",
            "traits": {"name": "Sam"},
            "messageId": "m1",
            "timestamp": at(0),
        },
        {
            "type": "track",
            "userId": "sam@example.net",
            "event": "Signed Up",
            "messageId": "m2",
            "timestamp": at(1),
        },
    ]
    report = migrate(events, CONFIG)
    assert report.identical == 1 and [t.message_ids for t in report.classes] == [("m1",)]


def test_a_difference_is_counted_once_with_its_people_and_message_ids():
    events, _, _ = CASES["page_screen"]
    report = migrate(events, CONFIG)
    assert report.identical == 1 and report.differing == 1
    tally, example = example_of(report, "page_screen")
    assert (tally.events, tally.people, tally.message_ids) == (1, ("id:u1",), ("m-t",))
    assert example.views["classic"]["attributes"]["_last_visit"] == 1714557780
    assert "_last_visit" not in example.views["actions"]["attributes"]


def test_identical_events_give_no_difference():
    """A plain identified identify and track with data ends the same in both mocks."""
    events = [
        KNOWN,
        {
            "type": "track",
            "userId": "u1",
            "event": "Order Completed",
            "messageId": "m2",
            "timestamp": at(1),
            "properties": {"total": 42.5, "items": [{"sku": "a", "n": 2}], "at": "2024-05-01T09:00:00Z"},
        },
    ]
    report = migrate(events, CONFIG)
    assert report.classes == () and report.end == () and report.equal
    assert report.identical == 2 and report.people == {"classic": 1, "actions": 1}
    assert main(["migrate", "--json", *_write(events)]) == 0


_plain = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
_value = st.one_of(st.integers(-1000, 1000), st.booleans(), _plain)


@settings(max_examples=25, deadline=None)
@given(
    traits=st.dictionaries(_plain.map(lambda s: "t_" + s), _value, max_size=4),
    properties=st.dictionaries(
        _plain.map(lambda s: "p_" + s), st.one_of(_value, st.lists(_value, max_size=3)), max_size=4
    ),
)
def test_identified_calls_without_dates_never_differ(traits, properties):
    """Law: identify + track of a known user, with values that are no dates, give no difference."""
    events = [
        {"type": "identify", "userId": "u9", "traits": traits, "messageId": "a", "timestamp": at(0)},
        {
            "type": "track",
            "userId": "u9",
            "event": "E",
            "properties": properties,
            "messageId": "b",
            "timestamp": at(1),
        },
    ]
    report = migrate(events, CONFIG, examples=0)
    assert report.equal and report.classes == (), report.to_dict()


def _write(events, tmp=None):
    import tempfile

    folder = Path(tempfile.mkdtemp())
    path = folder / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return [str(path)]


# -- the six scenarios ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenarios():
    return migrate(
        read_located([str(SCENARIOS)]),
        load_config(str(SCENARIOS / "cio-sandbox.toml")),
        source="fixtures/scenarios",
    )


def test_scenarios_by_class(scenarios):
    counts = {t.klass.key: t.events for t in scenarios.classes}
    assert counts == {
        "alias_merge": 1,
        "anonymous": 10,
        "deletes_suppressions": 7,
        "devices": 5,
        "group_objects": 4,
        "page_screen": 1,
    }
    assert scenarios.events == 38 and scenarios.identical == 10
    entities = {d.entity for d in scenarios.end}
    assert {
        "person id:legacy-4004",
        "person id:user-5005",
        "person id:user-6006",
        "object 1/acme-corp",
    } <= entities


def test_readme_shows_the_scenarios_report(capsys):
    assert main(["migrate", str(SCENARIOS), "--examples", "0"]) == 1
    out = capsys.readouterr().out.replace(str(SCENARIOS), "fixtures/scenarios")
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"\$ cio-sandbox migrate fixtures/scenarios --examples 0\n(.*?)```", readme, re.S)
    assert block is not None, "README has no migrate example"
    assert block.group(1) == out


# -- the command ---------------------------------------------------------------------------------


def test_json_and_markdown_forms(capsys):
    paths = _write(CASES["group_objects"][0])
    assert main(["migrate", "--json", *paths]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["end_state"]["equal"] is False
    assert [c["class"] for c in data["classes"]] == ["group_objects"]
    assert data["classes"][0]["examples"][0]["classic"]["requests"][0]["method"] == "PUT"
    assert main(["migrate", "--format", "markdown", *paths]) == 1
    out = capsys.readouterr().out
    assert out.startswith("## Classic → Actions: 2 events") and "| group → objects | 1 | 1 | m-t |" in out


def test_text_form_shows_both_sides(capsys):
    assert main(["migrate", *_write(CASES["anonymous"][0])]) == 1
    out = capsys.readouterr().out
    assert "anonymous events [anonymous]: 1 event · 1 person" in out
    assert "nothing sent: no userId" in out and "POST /api/v2/entity → 200" in out
    assert "Normalised before comparing:" in out


def test_unusable_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "track",\n')
    assert main(["migrate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cio-sandbox migrate: ") and len(err.strip().splitlines()) == 1
    assert main(["migrate", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["migrate", "--examples", "-1", str(bad)]) == 2
