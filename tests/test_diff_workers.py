"""`cio-sandbox diff --workers N / --scheduler / --resume` over files: the workers' pass
(sandbox.replay.diffparts). The law: the report equals the sequential `compare_configs`'s for any
events and configs — generated streams sharing identities across partitions, cut into files of
every layout, with messageIds repeated and missing (the examples are the first distinct ones in
input order); the guessed keys kept and refuted; the comparison's merge; through the CLI on a local
Dask cluster, killed and resumed, and with bad input as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import InputError
from sandbox.replay import diffing, keypass
from sandbox.replay.config import Config, config_from_dict
from sandbox.replay.diffing import compare_configs
from sandbox.replay.diffparts import compare_files
from sandbox.replay.events import read_located
from tests.test_partitioned import (
    CHANGED_MORE,
    CONFIG,
    EXPIRING,
    PERSON,
    ROOT,
    SCENARIOS,
    cli,
    guess_flags,
    interrupted,
    load_config_text,
    scenario_events,
    streams,
    write_files,
)

CHANGED = load_config_text(CHANGED_MORE)
# Create or Update Person's id from an object: refused, an error on every identify
FAILING = load_config_text(
    (SCENARIOS / "cio-sandbox.toml")
    .read_text()
    .replace(PERSON, PERSON + "mapping = '''{\"id\": {\"@path\": \"$.traits\"}}'''\n")
)
# Track Event off: no anonymous tracks stored, so the end states differ in anonymous events
NO_TRACKS = load_config_text(
    (SCENARIOS / "cio-sandbox.toml")
    .read_text()
    .replace('partnerAction = "trackEvent"\n', 'partnerAction = "trackEvent"\nenabled = false\n')
)
CONFIGS = [CONFIG, CHANGED, FAILING, NO_TRACKS]


def relabelled(events: list[dict[str, Any]], labels: list[int]) -> list[dict[str, Any]]:
    """The events with messageIds from `labels` (repeats: one label on several events, perhaps
    in different partitions; -1: none, so the report names the event by its index)."""
    out = []
    for event, label in zip(events, labels, strict=True):
        event = {k: v for k, v in event.items() if k != "messageId"}
        if label >= 0:
            event["messageId"] = f"m-{label}"
        out.append(event)
    return out


def sequential(files: list[str], old: Config, new: Config) -> dict[str, Any]:
    return compare_configs(read_located(files), old, new).to_dict()


@settings(max_examples=60, deadline=None)
@given(streams(), st.integers(2, 4), st.sampled_from(CONFIGS), st.sampled_from(CONFIGS), st.data())
def test_diff_on_the_workers_pass_equals_the_sequential_diff(
    events: list[dict[str, Any]], partitions: int, old: Config, new: Config, data: Any
) -> None:
    labels = data.draw(st.lists(st.integers(-1, 4), min_size=len(events), max_size=len(events)))
    events = relabelled(events, labels)
    with tempfile.TemporaryDirectory() as temp:
        files = write_files(events, data, Path(temp))
        expected = sequential(files, old, new)
        got = compare_files(files, old, new, partitions=partitions, mapper=keypass.in_process)
        assert got.to_dict() == expected


@pytest.mark.parametrize("partitions", [2, 3])
def test_anonymous_events_deleted_claimed_or_hidden_end_as_in_the_sequential_diff(
    tmp_path: Path, partitions: int
) -> None:
    """A partition sends neither its verbs nor the anonymous events expired by its last event
    (diffparts._end_state): the end states still compare as one mock's, with events deleted at
    another partition's verb, claimed, still stored, and expired but not yet deleted."""
    late = [{"type": "track", "anonymousId": "a6", "event": "Viewed", "timestamp": "2024-06-01T00:00:01Z"}]
    file = tmp_path / "a.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in EXPIRING + late))
    for old, new in ((CONFIG, NO_TRACKS), (NO_TRACKS, FAILING)):
        got = compare_files([str(file)], old, new, partitions=partitions, mapper=keypass.in_process)
        assert got.to_dict() == sequential([str(file)], old, new)
        assert any(s.kind == "anonymous events" for s in got.state)


@st.composite
def counted_events(draw: Any) -> list[tuple[str, str]]:
    """Per event, what a counter is told: (counter, label), labels repeating."""
    return draw(
        st.lists(
            st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([f"m{n}" for n in range(6)])), max_size=40
        )
    )


@settings(max_examples=200)
@given(counted_events(), st.data())
def test_counters_of_disjoint_events_merge_into_the_counter_of_all(
    told: list[tuple[str, str]], data: Any
) -> None:
    """Counts add up, and the examples are the first EXAMPLES distinct labels in input order,
    whatever partition each event went to."""
    partitions = data.draw(st.integers(1, 4))
    where = data.draw(st.lists(st.integers(0, partitions - 1), min_size=len(told), max_size=len(told)))
    one: dict[str, diffing._Counting] = {}
    parts: list[dict[str, diffing._Counting]] = [{} for _ in range(partitions)]
    for index, (counter, label) in enumerate(told):
        one.setdefault(counter, diffing._Counting()).add(index, label)
        parts[where[index]].setdefault(counter, diffing._Counting()).add(index, label)
    for counter, counting in one.items():
        merged = diffing.merge_counted(p[counter].freeze() for p in parts if counter in p)
        assert merged == counting.freeze()


def owned_config(owner: str | None) -> Config:
    """People by identify; track events for the person `properties.<owner>` names (None: the
    default mapping, the userId)."""
    events: dict[str, Any] = {
        "name": "Owned events",
        "subscribe": 'type = "track"',
        "partnerAction": "trackEvent",
        "useDefaultMappings": True,
    }
    if owner is not None:
        events["mapping"] = {"id": {"@path": f"$.properties.{owner}"}}
    people = {
        "name": "People",
        "subscribe": 'type = "identify"',
        "partnerAction": "createUpdatePerson",
        "useDefaultMappings": True,
    }
    return config_from_dict({"settings": {"siteId": "s", "apiKey": "k"}, "subscriptions": [people, events]})


OWNED = [
    {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "m1"},
    {"type": "identify", "userId": "x", "traits": {"plan": "free"}, "messageId": "m2"},
    {"type": "track", "userId": "x", "event": "Bought", "properties": {"owner": "u1"}, "messageId": "m3"},
    {"type": "identify", "userId": "u2", "traits": {"plan": "pro"}, "messageId": "m4"},
]


def test_a_new_mapping_that_reads_an_identifier_the_guess_misses_takes_the_exact_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NEW's trackEvent names `properties.owner` (u1) where OLD names the userId (x): the guess
    (userId) keeps u1 apart from the track, NEW's true keys put `who:u1` in two partitions, and
    the exact pass (both configs' keys joined) gives the sequential report."""
    file = tmp_path / "a.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in OWNED))
    old, new = owned_config(None), owned_config("owner")
    calls = guess_flags(monkeypatch)
    got = compare_files([str(file)], old, new, partitions=3, mapper=keypass.in_process)
    assert calls == [True, False]  # guessed, refuted, then exact
    assert got.to_dict() == sequential([str(file)], old, new)
    assert not got.equal


def test_guessed_partitions_of_a_diff_stand_when_no_true_key_is_in_two_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "a.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in scenario_events()))
    calls = guess_flags(monkeypatch)
    got = compare_files([str(file)], CONFIG, CHANGED, partitions=3, mapper=keypass.in_process)
    assert calls == [True]
    assert got.to_dict() == sequential([str(file)], CONFIG, CHANGED)


def test_a_cio_id_in_the_input_is_refused_on_the_workers_pass(tmp_path: Path) -> None:
    file = tmp_path / "a.jsonl"
    file.write_text(json.dumps({"type": "identify", "userId": "cio_a3000001", "traits": {"x": 1}}) + "\n")
    with pytest.raises(InputError) as caught:
        compare_files([str(file)], CONFIG, CHANGED, partitions=2, mapper=keypass.in_process)
    assert "cio_id" in str(caught.value) and f"{file}:1" in str(caught.value)


def diff_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return cli("diff", str(SCENARIOS / "cio-sandbox.toml"), *args)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff") / "new.toml"
    path.write_text(CHANGED_MORE)
    return path


def test_diff_with_2_workers_on_dask_over_files_equals_the_in_process_report(changed: Path) -> None:
    pytest.importorskip("distributed")
    one = diff_cli(str(changed), str(SCENARIOS), "--json")
    two = diff_cli(str(changed), str(SCENARIOS), "--json", "--workers", "2")
    assert two.returncode == one.returncode == 1, two.stderr
    assert two.stdout == one.stdout
    markdown = [
        diff_cli(str(changed), str(SCENARIOS), "--format", "markdown", *w) for w in ([], ["--workers", "2"])
    ]
    assert markdown[1].stdout == markdown[0].stdout


def test_an_interrupted_diff_resumes_from_its_partition_checkpoints(changed: Path, tmp_path: Path) -> None:
    """`diff --resume DIR` killed after its first partition's checkpoint: the rerun loads what was
    kept, compares the rest, and prints the report of an uninterrupted in-process diff."""
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([json.dumps(e) for e in scenario_events()] * 60) + "\n")
    folder = tmp_path / "resume"
    base = ["diff", str(SCENARIOS / "cio-sandbox.toml"), str(changed), str(events), "--json"]
    kept = interrupted([*base, "--resume", str(folder)], folder)
    resumed = cli(*base, "--resume", str(folder))
    assert resumed.returncode == 1, resumed.stderr
    assert f"resumed {kept} of 4 partition(s)" in resumed.stderr
    assert len(list(folder.glob("*.pickle"))) == 4 and not list(folder.glob("*.tmp"))
    assert resumed.stdout == cli(*base).stdout


@pytest.mark.parametrize(
    ("events", "words"),
    [
        (b'{"type": "track", "userId": "u", "event": "E"}\n{not json\n', "a.jsonl: line 2"),
        (b"not gzip at all", "gzip"),
        (b'{"type": "identify", "userId": "cio_a3000001"}\n', "cio_id"),
    ],
)
def test_bad_input_to_a_resumable_diff_is_one_line(
    changed: Path, tmp_path: Path, events: bytes, words: str
) -> None:
    file = tmp_path / ("a.jsonl.gz" if words == "gzip" else "a.jsonl")
    file.write_bytes(events)
    done = diff_cli(str(changed), str(file), "--resume", str(tmp_path / "resume"))
    assert done.returncode == 2, done.stdout
    # the error is one line (after the `resumed K of N` notes of the passes before it)
    errors = [line for line in done.stderr.strip().splitlines() if " resumed " not in line]
    assert len(errors) == 1 and words in errors[0] and errors[0].startswith("cio-sandbox diff: "), done.stderr
    assert "Traceback" not in done.stderr
    if words != "cio_id":  # refused only when partitioning; the others as the in-process diff says
        assert errors == diff_cli(str(changed), str(file)).stderr.strip().splitlines()


def test_a_resume_folder_that_cannot_be_made_is_one_line(changed: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = diff_cli(str(changed), str(SCENARIOS), "--resume", str(blocker / "resume"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot create" in done.stderr


def test_diff_of_standard_input_keeps_the_drivers_pass_with_the_same_report(
    changed: Path, tmp_path: Path
) -> None:
    """Workers cannot read standard input: the driver partitions it (sandbox.replay.partitioned),
    checkpointed per config with --resume, and the report is the in-process one."""
    text = "".join(json.dumps(e) + "\n" for e in scenario_events())
    base = [
        sys.executable,
        "-m",
        "sandbox",
        "diff",
        str(SCENARIOS / "cio-sandbox.toml"),
        str(changed),
        "-",
        "--json",
    ]
    one, resumed = (
        subprocess.run([*base, *extra], input=text, capture_output=True, text=True, cwd=ROOT, timeout=300)
        for extra in ([], ["--resume", str(tmp_path / "resume")])
    )
    assert resumed.returncode == one.returncode == 1, resumed.stderr
    assert resumed.stdout == one.stdout
    assert len(list((tmp_path / "resume").glob("*.pickle"))) == 8  # 4 partitions x 2 configs


def test_a_resume_folder_that_is_a_file_is_one_line(changed: Path, tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("kept\n")
    done = diff_cli(str(changed), str(SCENARIOS), "--resume", str(existing))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{existing}: not a directory" in done.stderr
    assert existing.read_text() == "kept\n"  # nothing lost
