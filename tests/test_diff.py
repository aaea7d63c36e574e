"""`cio-sandbox diff OLD NEW EVENTS`: the fixtures' scenarios under a changed mapping, a disabled
subscription and a mapping that fails; the field-path law."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sandbox.replay.diffing import changed_fields

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"
CONFIG = SCENARIOS / "cio-sandbox.toml"
PERSON = 'partnerAction = "createUpdatePerson"\nuseDefaultMappings = true\n'


def changed_config(tmp_path: Path, old: str, new: str) -> Path:
    text = CONFIG.read_text()
    assert text.count(old) == 1
    path = tmp_path / "new.toml"
    path.write_text(text.replace(old, new))
    return path


def diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "diff", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def scenario_ids_with(key: str) -> list[str]:
    """messageIds of the scenarios' identify calls whose traits hold `key`."""
    out = []
    for file in sorted(SCENARIOS.glob("*.jsonl")):
        for line in file.read_text().splitlines():
            if line.strip():
                event = json.loads(line)
                if event.get("type") == "identify" and key in (event.get("traits") or {}):
                    out.append(event["messageId"])
    return out


def test_a_changed_mapping_names_the_field_the_count_and_examples(tmp_path: Path) -> None:
    mapping = 'mapping = \'\'\'{"custom_attributes": {"plan": {"@path": "$.traits.plan"}}}\'\'\'\n'
    new = changed_config(tmp_path, PERSON, PERSON + mapping)
    done = diff(str(CONFIG), str(new), str(SCENARIOS), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["equal"] is False and report["events"] == 38
    person = next(s for s in report["subscriptions"] if s["action"] == "createUpdatePerson")
    fields = {f["field"]: f for f in person["changed_fields"]}
    named = scenario_ids_with("name")
    assert fields["attributes.name"]["count"] == len(named)
    assert fields["attributes.name"]["examples"] == named[:3]
    assert person["requests"]["changed"] >= len(named) and person["requests"]["added"] == 0
    others = [s for s in report["subscriptions"] if s["action"] != "createUpdatePerson"]
    assert all(not s["changed_fields"] and s["requests"]["changed"] == 0 for s in others)
    state = {(g["kind"], g["aspect"]): g for g in report["state"]}
    assert state[("person", "attributes")]["count"] > 0
    example = state[("person", "attributes")]["examples"][0]
    assert example["old"] is not None and example["new"] is None
    markdown = diff(str(CONFIG), str(new), str(SCENARIOS), "--format", "markdown")
    assert markdown.returncode == 1
    assert f"| Create or Update Person | `attributes.name` | {len(named)} |" in markdown.stdout
    text = diff(str(CONFIG), str(new), str(SCENARIOS))
    assert f"field attributes.name: {len(named)} request(s), e.g. {', '.join(named[:3])}" in text.stdout


def test_the_same_config_gives_no_difference() -> None:
    done = diff(str(CONFIG), str(CONFIG), str(SCENARIOS), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["equal"] is True and report["state"] == []
    assert report["requests"]["old"] == report["requests"]["new"] > 0


def test_what_diff_leaves_out_is_said(tmp_path: Path) -> None:
    """A fault profile and credentials make no difference to diff's report; a note on stderr says
    they were left out, so "no difference" is not read as "the faults change nothing"."""
    text = CONFIG.read_text()
    new = tmp_path / "new.toml"
    new.write_text(text.replace('siteId = "', 'siteId = "other-', 1) + "\n[faults]\nerror_rate = 0.5\n")
    done = diff(str(CONFIG), str(new), str(SCENARIOS))
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"cio-sandbox diff: note: {new}: [faults] is not applied (both sides replay without faults)\n"
        "cio-sandbox diff: note: siteId/apiKey differ; requests are compared without their credentials\n"
    )
    assert diff(str(CONFIG), str(CONFIG), str(SCENARIOS)).stderr == ""


def test_a_disabled_subscription_removes_requests_and_people(tmp_path: Path) -> None:
    new = changed_config(tmp_path, PERSON, PERSON + "enabled = false\n")
    report = json.loads(diff(str(CONFIG), str(new), str(SCENARIOS), "--json").stdout)
    person = next(s for s in report["subscriptions"] if s["action"] == "createUpdatePerson")
    assert person["requests"]["removed"] > 0 and person["requests"]["same"] == 0
    assert len(person["removed_examples"]) == 3
    assert report["requests"]["new"] == report["requests"]["old"] - person["requests"]["removed"]


def test_errors_introduced_are_counted(tmp_path: Path) -> None:
    mapping = "mapping = '''{\"id\": {\"@path\": \"$.traits\"}}'''\n"  # an object: refused
    new = changed_config(tmp_path, PERSON, PERSON + mapping)
    report = json.loads(diff(str(CONFIG), str(new), str(SCENARIOS), "--json").stdout)
    person = next(s for s in report["subscriptions"] if s["action"] == "createUpdatePerson")
    assert person["errors_introduced"] and person["errors_introduced"][0]["count"] > 0
    assert "must be a string" in person["errors_introduced"][0]["message"]
    assert not person["errors_fixed"] and person["requests"]["removed"] > 0
    back = json.loads(diff(str(new), str(CONFIG), str(SCENARIOS), "--json").stdout)
    person_back = next(s for s in back["subscriptions"] if s["action"] == "createUpdatePerson")
    assert person_back["errors_fixed"][0]["count"] == person["errors_introduced"][0]["count"]


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    done = diff(str(tmp_path / "missing.toml"), str(CONFIG), str(SCENARIOS))
    assert done.returncode == 2 and "missing.toml" in done.stderr and "Traceback" not in done.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=12,
)


@given(json_values, json_values)
def test_changed_fields_is_empty_exactly_when_equal(old: object, new: object) -> None:
    same = json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)
    assert (changed_fields(old, new) == []) == same
    assert changed_fields(old, old) == []
