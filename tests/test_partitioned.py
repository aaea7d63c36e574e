"""Identity-partitioned run / snapshot / check (`--workers N`): the law — for any events, the
partitioned replay's golden file and run summary equal the in-process replay's — with generated
streams that share user ids, anonymous ids, emails (in other cases), aliases, device tokens and
groups across people, with out-of-order and month-long gaps in time; the fixtures' scenarios split
over partitions; the refusals; one run through the CLI on a local Dask cluster."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.errors import InputError
from sandbox.replay import golden, partitioned
from sandbox.replay.config import Config, load_config
from sandbox.replay.engine import InProcessTarget, Replayer
from sandbox.replay.events import Located, read_located
from sandbox.replay.identities import Components, assign, pack
from sandbox.replay.summary import Summary
from tests.keypass_support import block_size

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"
CONFIG = load_config(SCENARIOS / "cio-sandbox.toml")

USERS = ["u1", "u2", "u3", "ann@example.com"]
ANONYMOUS = ["a1", "a2", "a3"]
EMAILS = ["ann@example.com", "ANN@example.com", "bo@example.com", "cy@example.com"]
TOKENS = ["tok-1", "tok-2"]
GROUPS = ["g1", "g2", "g3"]
TRACKED = [
    "Order Completed",
    "Signed Up",
    "User Deleted",
    "User Suppressed",
    "User Unsuppressed",
    "Relationship Deleted",
    "Object Deleted",
    "Report Delivery Event",
]
DEVICE_EVENTS = ["Application Installed", "Device Created or Updated", "Application Uninstalled"]


@st.composite
def event(draw: Any) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "device", "refused"])
    )
    if kind == "refused":  # a payload the destination refuses: it only moves the clock
        return {"type": "page", "anonymousId": draw(st.sampled_from(ANONYMOUS)), "name": "No URL"}
    out: dict[str, Any] = {"type": "track" if kind == "device" else kind}
    who = draw(st.sampled_from(["user", "anonymous", "both"]))
    if who in ("user", "both") or kind == "alias":
        out["userId"] = draw(st.sampled_from(USERS))
    if who in ("anonymous", "both"):
        out["anonymousId"] = draw(st.sampled_from(ANONYMOUS))
    if kind == "identify":
        traits: dict[str, Any] = {"plan": draw(st.sampled_from(["free", "pro"]))}
        if draw(st.booleans()):
            traits["email"] = draw(st.sampled_from(EMAILS))
        out["traits"] = traits
    elif kind == "track":
        name = draw(st.sampled_from(TRACKED))
        out["event"] = name
        if name in ("Relationship Deleted", "Object Deleted"):
            out["properties"] = {"objectId": draw(st.sampled_from(GROUPS)), "objectTypeId": "1"}
        elif name == "Report Delivery Event":
            metric = draw(st.sampled_from(["opened", "clicked", "delivered"]))
            out["properties"] = {"deliveryId": draw(st.sampled_from(["d1", "d2"])), "metric": metric}
        else:
            out["properties"] = {"total": draw(st.integers(0, 3))}
    elif kind == "page":
        out["name"] = "Home"
        out["properties"] = {"url": "https://example.com/home"}
    elif kind == "screen":
        out["name"] = "Map"
    elif kind == "group":
        out["groupId"] = draw(st.sampled_from(GROUPS))
        out["traits"] = {"name": draw(st.sampled_from(["Acme", "Beta"]))}
    elif kind == "alias":
        out["previousId"] = draw(st.sampled_from(USERS + ANONYMOUS))
    else:
        out["event"] = draw(st.sampled_from(DEVICE_EVENTS))
        out["context"] = {"device": {"token": draw(st.sampled_from(TOKENS)), "type": "ios"}}
    return out


# seconds between events: the same second, minutes, past the 5-minute late window, a month
# (anonymous events expire after 30 days), and backwards (the mock's clock never goes back)
GAPS = st.sampled_from([0, 1, 90, 400, 86_400, 31 * 86_400, -3_600])


@st.composite
def streams(draw: Any) -> list[dict[str, Any]]:
    items = draw(st.lists(event(), min_size=1, max_size=18))
    at = 1_709_251_200  # 2024-03-01
    out = []
    for number, item in enumerate(items):
        at += draw(GAPS)
        stamp = f"{dt.datetime.fromtimestamp(at, dt.UTC):%Y-%m-%dT%H:%M:%S}.000Z"
        out.append({**item, "messageId": f"m-{number}", "timestamp": stamp})
    return out


def located(events: list[dict[str, Any]]) -> list[Located]:
    return [Located(e, "gen", n + 1) for n, e in enumerate(events)]


def sequential(events: list[dict[str, Any]], config: Config) -> tuple[str, dict[str, Any]]:
    """The golden text and the run summary of the in-process replay (as snapshot and run do)."""
    text = golden.render(golden.capture(located(events), config))
    target = InProcessTarget(journal_on_disk=True)
    summary = Summary(source="s", target=target.name, subscriptions=_names(config))
    try:
        for record in Replayer(config, target, explain=False).run(located(events)):
            summary.add(record)
        summary.finish(target)
    finally:
        target.close()
    return text, summary.to_dict()


def split(events: list[dict[str, Any]], config: Config, partitions: int) -> tuple[str, dict[str, Any]]:
    merged = partitioned.replay(located(events), config, partitions)
    text = golden.render(golden.document(config, False, merged.requests, merged.state))
    summary = Summary(source="s", target=InProcessTarget.name, subscriptions=_names(config))
    partitioned.summarise(merged, summary)
    return text, summary.to_dict()


def _names(config: Config) -> tuple[tuple[str, str], ...]:
    return tuple((s.name, s.partnerAction) for s in config.subscriptions)


@settings(max_examples=120)
@given(streams(), st.integers(2, 4))
def test_partitioned_replay_equals_the_sequential_one(events: list[dict[str, Any]], partitions: int) -> None:
    text, summary = sequential(events, CONFIG)
    got_text, got_summary = split(events, CONFIG, partitions)
    assert got_text == text
    assert got_summary == summary


@settings(max_examples=40)
@given(streams(), st.booleans())
def test_a_partitions_result_crosses_a_pickle_unchanged(events: list[dict[str, Any]], summary: bool) -> None:
    """What a worker returns (and a checkpoint holds) is pickled with its events as JSON text and
    its anonymous events as columns (PartitionResult.__reduce__); it comes back equal."""
    items = [partitioned.Item(n, e, 1_709_251_200.0 + n, "gen") for n, e in enumerate(events)]
    result = partitioned.replay_partition(items, CONFIG, summary=summary, keys=True)
    assert pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)) == result


def at(day: int) -> str:
    return f"2024-03-{day:02d}T10:00:00.000Z"


EXPIRING = [
    {"type": "track", "anonymousId": "a1", "event": "Viewed", "timestamp": at(1)},
    {"type": "track", "anonymousId": "a2", "event": "Viewed", "timestamp": at(1)},
    {"type": "track", "anonymousId": "a3", "event": "Viewed", "timestamp": at(3)},
    {"type": "identify", "userId": "u1", "timestamp": "2024-04-01T12:00:00Z"},  # expires a1, a2
    {"type": "identify", "userId": "u2", "anonymousId": "a3", "timestamp": "2024-04-01T12:00:00Z"},
    {"type": "track", "anonymousId": "a4", "event": "Viewed", "timestamp": at(1)},  # clock: Apr 1
    {"type": "page", "anonymousId": "a5", "name": "No URL", "timestamp": "2024-06-01T00:00:00Z"},
]
"""Anonymous events deleted at another partition's verb, claimed, and only hidden at the end."""


@pytest.mark.parametrize("partitions", [2, 3])
def test_anonymous_events_expire_as_in_one_mock(partitions: int) -> None:
    """Stored anonymous events expire at the next verb of anyone (another partition's) after 30
    days, or are only hidden when nothing ran since; a claim takes what has not expired."""
    events = EXPIRING
    text, summary = sequential(events, CONFIG)
    assert summary["mock"]["changes"]["anonymous_events_expired"] == 2
    assert summary["mock"]["anonymous_events_merged"] == 1
    assert json.loads(text)["state"]["anonymous_events"] == []  # a4: expired, not yet deleted
    assert summary["mock"]["end"]["anonymous_events"] == 1
    assert split(events, CONFIG, partitions) == (text, summary)


def scenario_events() -> list[dict[str, Any]]:
    return [item.event for item in read_located([str(SCENARIOS)], None)]


@pytest.mark.parametrize("partitions", [2, 3, 6])
def test_the_scenarios_split_across_partitions_give_the_golden_file(partitions: int) -> None:
    events = scenario_events()
    groups, _ = partitioned.partition(located(events), CONFIG, partitions)
    assert sum(1 for g in groups if g) == partitions  # really split, not all in one
    assert split(events, CONFIG, partitions) == sequential(events, CONFIG)
    committed = golden.load(str(ROOT / "fixtures" / "scenarios.golden.json"))
    merged = partitioned.replay(read_located([str(SCENARIOS)], None), CONFIG, partitions)
    assert golden.diff(committed, golden.document(CONFIG, False, merged.requests, merged.state)) == ""


def keys_partitions(events: list[dict[str, Any]], partitions: int = 8) -> list[int]:
    groups, _ = partitioned.partition(located(events), CONFIG, partitions)
    where = {item.index: p for p, group in enumerate(groups) for item in group}
    return [where[i] for i in range(len(events))]


def test_identities_that_link_people_keep_their_events_together() -> None:
    events = [
        {"type": "identify", "userId": "u1", "traits": {"email": "Ann@Example.com"}},
        {"type": "identify", "userId": "u2", "traits": {"email": "ann@example.com"}},  # email, folded
        {"type": "alias", "userId": "u3", "previousId": "u4"},
        {"type": "identify", "userId": "u4"},  # aliased
        {"type": "identify", "anonymousId": "a9", "userId": "u5"},
        {"type": "track", "anonymousId": "a9", "event": "Viewed"},  # the claimed anonymous id
        {
            "type": "track",
            "userId": "u6",
            "event": "Application Installed",
            "context": {"device": {"token": "t", "type": "ios"}},
        },
        {
            "type": "track",
            "userId": "u7",
            "event": "Application Opened",
            "context": {"device": {"token": "t", "type": "ios"}},
        },
        {"type": "group", "userId": "u8", "groupId": "acme"},
        {"type": "group", "userId": "u9", "groupId": "acme"},  # joined through the object
        {"type": "identify", "userId": "loner"},
    ]
    got = keys_partitions(events)
    assert got[0] == got[1] and got[2] == got[3] and got[4] == got[5]
    assert got[6] == got[7] and got[8] == got[9]
    assert len({got[0], got[2], got[4], got[6], got[8], got[10]}) == 6  # nothing else joined


def test_components_pack_largest_first_onto_the_least_loaded_partition() -> None:
    components = Components()
    keys = [components.join(k) for k in (["a"], ["a"], ["a"], ["b"], ["c"], ["c"], [])]
    assert assign(components, keys, 2) == [0, 0, 0, 1, 1, 1, 0]


def _pack_by_hand(roots: list[Any], partitions: int) -> list[int]:
    """The rule, one event and one partition at a time: components largest first (ties: first
    appearance) onto the least loaded partition (ties: the lowest number), then each keyless
    event (None) onto the least loaded one, in event order."""
    sizes: dict[Any, int] = {}
    for root in roots:
        if root is not None:
            sizes[root] = sizes.get(root, 0) + 1
    load = [0] * partitions
    where = {}
    for root, size in sorted(sizes.items(), key=lambda item: -item[1]):
        target = min(range(partitions), key=lambda p: (load[p], p))
        where[root] = target
        load[target] += size
    out = []
    for root in roots:
        if root is None:
            target = min(range(partitions), key=lambda p: (load[p], p))
            load[target] += 1
            out.append(target)
        else:
            out.append(where[root])
    return out


@given(st.lists(st.none() | st.integers(0, 12), max_size=60), st.integers(1, 5))
def test_pack_places_events_as_the_rule_says(roots: list[int | None], partitions: int) -> None:
    assert pack(roots, partitions) == _pack_by_hand(roots, partitions)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"batch": True}, "single mode only"),
        ({"segments": ({"id": 1, "name": "s", "conditions": {}},)}, "segments and campaigns"),
        ({"faults": {"rate": 0.5}}, "[faults]"),
    ],
)
def test_what_reads_across_people_is_refused(change: dict[str, Any], words: str) -> None:
    from dataclasses import replace

    config = replace(CONFIG, **{k: v for k, v in change.items() if k != "batch"})
    with pytest.raises(InputError) as caught:
        partitioned.check(config, batch=bool(change.get("batch")))
    assert words in caught.value.message and caught.value.source == "--workers"


def test_a_cio_id_in_the_input_is_refused() -> None:
    events = [{"type": "identify", "userId": "cio_a3000001", "traits": {"x": 1}}]
    with pytest.raises(InputError) as caught:
        partitioned.partition(located(events), CONFIG, 2)
    assert "cio_id" in caught.value.message and caught.value.source == "gen:1"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_run_and_snapshot_with_2_workers_on_dask_equal_workers_1(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    one = cli("run", str(SCENARIOS), "--json")
    two = cli("run", str(SCENARIOS), "--json", "--workers", "2")
    assert two.returncode == 0, two.stderr
    assert json.loads(two.stdout) == json.loads(one.stdout)
    out, sequential_out = tmp_path / "g2.json", tmp_path / "g1.json"
    made = cli("snapshot", str(SCENARIOS), "--workers", "2", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert cli("snapshot", str(SCENARIOS), "--out", str(sequential_out)).returncode == 0
    assert out.read_bytes() == sequential_out.read_bytes()
    checked = cli("check", str(SCENARIOS), "--workers", "2", "--against", str(sequential_out))
    assert checked.returncode == 0, checked.stdout
    refused = cli("snapshot", str(SCENARIOS), "--workers", "2", "--batch", "--out", str(out))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "cio-sandbox snapshot: --workers: replays single mode only: a batch request carries several "
        "people (drop --batch / batch = true, or use --workers 1)"
    ]


def test_an_interrupted_run_resumes_from_its_partition_checkpoints(tmp_path: Path) -> None:
    """`run --resume DIR` killed after its first partition's checkpoint: the rerun loads what was
    kept, replays the rest, and reports the summary of an uninterrupted in-process run."""
    events = tmp_path / "events.jsonl"
    lines = [json.dumps(e) for e in scenario_events()]
    events.write_text("\n".join(lines * 100) + "\n")
    folder = tmp_path / "resume"
    base = ["run", str(events), "--config", str(SCENARIOS / "cio-sandbox.toml"), "--json"]
    kept = interrupted([*base, "--resume", str(folder)], folder)
    resumed = cli(*base, "--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {kept} of 4 partition(s)" in resumed.stderr
    assert len(list(folder.glob("*.pickle"))) == 4 and not list(folder.glob("*.tmp"))
    assert json.loads(resumed.stdout) == json.loads(cli(*base).stdout)


def interrupted(args: list[str], folder: Path) -> int:
    """Run `cio-sandbox ARGS` (with --resume FOLDER), kill it once its first partition checkpoint
    is in `folder`, and return how many it kept (checked to be some of 4, not all)."""
    import os
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while not list(folder.glob("*.pickle")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    kept = len(list(folder.glob("*.pickle")))
    assert process.returncode == -signal.SIGKILL and 1 <= kept < 4  # interrupted mid-way
    return kept


PERSON = 'partnerAction = "createUpdatePerson"\nuseDefaultMappings = true\n'
CHANGED_TEXT = (
    (SCENARIOS / "cio-sandbox.toml")
    .read_text()
    .replace(
        PERSON, PERSON + 'mapping = \'\'\'{"custom_attributes": {"plan": {"@path": "$.traits.plan"}}}\'\'\'\n'
    )
)
# the law's NEW config also drops objects and suppressions, so the end states differ in them too
CHANGED_MORE = CHANGED_TEXT.replace(
    'partnerAction = "createUpdateObject"\n', 'partnerAction = "createUpdateObject"\nenabled = false\n'
).replace('partnerAction = "suppressPerson"\n', 'partnerAction = "suppressPerson"\nenabled = false\n')


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff") / "new.toml"
    path.write_text(CHANGED_TEXT)
    return path


SUPPRESSED = [
    {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "timestamp": at(1)},
    {"type": "track", "userId": "u1", "event": "User Suppressed", "timestamp": at(2)},
    {"type": "group", "userId": "u2", "groupId": "g1", "timestamp": at(2)},
]


@settings(max_examples=40)
@given(streams(), st.integers(2, 3))
@example(SUPPRESSED, 2)
def test_a_partitioned_diff_equals_the_sequential_one(events: list[dict[str, Any]], partitions: int) -> None:
    from sandbox.replay.diffing import compare_configs, compare_partitioned

    new = load_config_text(CHANGED_MORE)
    expected = compare_configs(located(events), CONFIG, new).to_dict()
    assert compare_partitioned(located(events), CONFIG, new, partitions=partitions).to_dict() == expected


def load_config_text(text: str) -> Config:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cio-sandbox.toml"
        path.write_text(text)
        return load_config(path)


def test_diff_with_workers_and_resume_gives_the_in_process_report(changed: Path, tmp_path: Path) -> None:
    base = ["diff", str(SCENARIOS / "cio-sandbox.toml"), str(changed), str(SCENARIOS), "--json"]
    one = cli(*base)
    assert one.returncode == 1, one.stderr  # they differ
    folder = tmp_path / "resume"
    first = cli(*base, "--resume", str(folder))
    again = cli(*base, "--resume", str(folder))
    assert first.stdout == again.stdout == one.stdout
    assert "resumed 0 of 4 partition(s)" in first.stderr and "resumed 4 of 4 partition(s)" in again.stderr
    assert len(list(folder.glob("*.pickle"))) == 4  # each partition compares both configs


@settings(max_examples=25)
@given(streams(), st.integers(2, 3))
def test_a_worker_reading_its_events_from_the_files_replays_what_the_driver_would_ship(
    events: list[dict[str, Any]], partitions: int
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as temp:
        half = len(events) // 2
        files = [str(Path(temp) / "a.jsonl"), str(Path(temp) / "b.jsonl")]
        for file, part in zip(files, (events[:half], events[half:]), strict=True):
            Path(file).write_text("".join(json.dumps(e) + "\n" for e in part))
        groups, _ = partitioned.partition(read_located(files), CONFIG, partitions)
        for group in groups:
            indexes, times = [i.index for i in group], [i.now for i in group]
            shipped = partitioned.replay_partition(group, CONFIG, True)
            assert partitioned.replay_from_files(files, indexes, times, CONFIG, True) == shipped


def test_a_worker_finding_fewer_events_than_the_driver_says_so(tmp_path: Path) -> None:
    file = tmp_path / "a.jsonl"
    file.write_text(json.dumps({"type": "track", "userId": "u", "event": "E"}) + "\n")
    with pytest.raises(InputError, match="the input changed while it was replayed"):
        partitioned.replay_from_files([str(file)], [0, 1], [0.0, 0.0], CONFIG, False)


def _sequential_files(files: list[str], config: Config) -> tuple[str, dict[str, Any]]:
    text = golden.render(golden.capture(read_located(files), config))
    target = InProcessTarget(journal_on_disk=True)
    summary = Summary(source="s", target=target.name, subscriptions=_names(config))
    try:
        for record in Replayer(config, target, explain=False).run(read_located(files)):
            summary.add(record)
        summary.finish(target)
    finally:
        target.close()
    return text, summary.to_dict()


def write_files(events: list[dict[str, Any]], data: Any, folder: Path) -> list[str]:
    """`events` cut into files anywhere (empty files too), each written as JSON lines, with blank
    lines, pretty-printed over several lines, or as a JSON array."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=3)))
    files = []
    for number, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(events)], strict=True)):
        file = folder / f"part-{number}.jsonl"
        chunk = events[start:end]
        style = data.draw(st.sampled_from(["lines", "lines", "blank", "pretty", "array"]))
        if style == "array":
            text = json.dumps(chunk)
        else:
            sep = "\n\n" if style == "blank" else "\n"
            text = "".join(json.dumps(e, indent=1 if style == "pretty" else None) + sep for e in chunk)
        file.write_text(text)
        files.append(str(file))
    return files


@settings(max_examples=60)
@given(streams(), st.integers(2, 4), st.data())
def test_the_workers_pass_over_files_equals_the_sequential_replay(
    events: list[dict[str, Any]], partitions: int, data: Any
) -> None:
    """sandbox.replay.keypass: files traced one by one (each with its own clock), keys joined and
    the event clock run in the driver, each partition reading its events from the files (plain
    JSON lines by line, other layouts as read_file reads them): the golden file and summary of one
    sequential pass, also with undated events (the first one too) and files that are empty, cut
    anywhere, with blank lines, values over several lines, or a JSON array."""
    import tempfile

    from sandbox.replay import keypass

    undated = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    events = [
        {k: v for k, v in e.items() if k != "timestamp"} if drop else e
        for e, drop in zip(events, undated, strict=True)
    ]
    block = data.draw(st.sampled_from([keypass._BLOCK, 1, 50, 300]))  # lines cut between blocks
    with tempfile.TemporaryDirectory() as temp, block_size(block):
        files = write_files(events, data, Path(temp))
        merged = keypass.replay(files, CONFIG, partitions, keypass.in_process)
        text = golden.render(golden.document(CONFIG, False, merged.requests, merged.state))
        summary = Summary(source="s", target=InProcessTarget.name, subscriptions=_names(CONFIG))
        partitioned.summarise(merged, summary)
        expected = _sequential_files(files, CONFIG)
        assert (text, summary.to_dict()) == expected
        # run's path: partitions send their summaries only
        tallied = keypass.replay(files, CONFIG, partitions, keypass.in_process, lines=False, summary=True)
        assert tallied.events == () and tallied.parts
        summary = Summary(source="s", target=InProcessTarget.name, subscriptions=_names(CONFIG))
        partitioned.summarise(tallied, summary)
        assert summary.to_dict() == expected[1]


def test_events_that_send_nothing_fill_the_least_loaded_partition() -> None:
    from sandbox.replay.keypass import _pack

    # component 7 (3 events) and component 9 (1 event); four events with no keys
    groups = _pack([7, -1, 7, -1, 9, 7, -1, -1], 2)
    assert [list(g) for g in groups] == [[0, 2, 5, 6], [1, 3, 4, 7]]  # loads 3:1, then 3:2, 3:3, 4:3, 4:4


def test_a_file_that_changed_under_the_workers_is_reported(tmp_path: Path) -> None:
    from array import array

    from sandbox.replay import keypass

    file = tmp_path / "a.jsonl"
    file.write_text(json.dumps({"type": "track", "userId": "u", "event": "E"}) + "\n")
    indexes, times = array("q", [0, 1]).tobytes(), array("d", [0.0, 0.0]).tobytes()
    for plain in (True, False):
        with pytest.raises(InputError, match="the input changed while it was replayed"):
            keypass.replay_files([str(file)], [2], [plain], indexes, times, keypass.Replaying((CONFIG,)))


def test_a_line_that_is_not_one_event_after_all_is_read_the_slow_way(tmp_path: Path) -> None:
    """Event k on line k + 1 for every k, yet line 1 holds only the start of the first event."""
    from sandbox.replay import keypass

    file = tmp_path / "a.jsonl"
    file.write_text('{"type": "track", "userId": "u", "event":\n"E"}{"type": "identify", "userId": "v"}\n')
    part = keypass.file_keys(str(file), (CONFIG,))
    assert part.plain and part.events == 2
    merged = keypass.replay([str(file)], CONFIG, 2, keypass.in_process)
    assert [e.index for e in merged.events] == [0, 1]
    assert merged.requests == partitioned.replay(read_located([str(file)]), CONFIG, 2).requests


REASONS = [f"reason {n}" for n in range(30)]


@st.composite
def outcomes(draw: Any) -> list[tuple[list[str], list[partitioned.Sent], list[partitioned.Refused]]]:
    """Events as the summary sees them, with more distinct rejection reasons and refusal messages
    than a summary keeps (MAX_REASONS)."""
    out = []
    for index in range(draw(st.integers(1, 60))):
        sent = [
            partitioned.Sent(
                "sub",
                draw(st.sampled_from(["identify", "track"])),
                draw(st.sampled_from([200, 400])),
                draw(st.sampled_from(["accepted", "rejected", "partial"])),
                tuple(draw(st.lists(st.sampled_from(REASONS), max_size=3))),
                ({"kind": "person_created"},),
            )
            for _ in range(draw(st.integers(0, 2)))
        ]
        refused = [
            partitioned.Refused("sub", "track", draw(st.sampled_from(REASONS)), index)
            for _ in range(draw(st.integers(0, 1)))
        ]
        out.append((["sub"] if sent or refused else [], sent, refused))
    return out


@settings(max_examples=150)
@given(outcomes(), st.data())
def test_partition_summaries_add_up_to_the_sequential_summary(events: list[Any], data: Any) -> None:
    """Summary.add_parts: the kept reasons (the first MAX_REASONS to appear, in input order, the
    rest under OTHER) and each error's first event indexes are those of one summary fed in order."""
    from sandbox.replay.summary import PartSummary

    partitions = data.draw(st.integers(1, 4))
    where = data.draw(st.lists(st.integers(0, partitions - 1), min_size=len(events), max_size=len(events)))
    one = Summary()
    parts = [PartSummary() for _ in range(partitions)]
    for index, (matched, sent, refused) in enumerate(events):
        one.add_event(matched, sent, refused)
        parts[where[index]].add_indexed(index, matched, sent, refused)
    merged = Summary()
    merged.add_parts(parts, [lambda text: text] * partitions)
    assert merged.to_dict() == one.to_dict()
    assert merged.invalid_at == one.invalid_at


def test_a_plain_file_with_batches_writekeys_and_untyped_bodies_replays_as_read_file_reads_it(
    tmp_path: Path,
) -> None:
    """A worker decodes a plain file's common lines itself; the others (a one-item batch, a
    writeKey to drop, a body whose type the endpoint gives) are read as read_file reads them."""
    from sandbox.replay import keypass

    lines = [
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}},
        {"batch": [{"type": "track", "userId": "u1", "event": "Signed Up"}], "context": {"ip": "1.2.3.4"}},
        {"type": "track", "userId": "u2", "event": "Order Completed", "writeKey": "wk"},
        {"type": "identify", "userId": "u2", "traits": {"plan": "pro"}},
    ]
    file = tmp_path / "a.jsonl"
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert keypass.file_keys(str(file), (CONFIG,)).plain
    merged = keypass.replay([str(file)], CONFIG, 2, keypass.in_process)
    assert merged.requests == partitioned.replay(read_located([str(file)]), CONFIG, 2).requests
    text = golden.render(golden.document(CONFIG, False, merged.requests, merged.state))
    assert text == _sequential_files([str(file)], CONFIG)[0]


def guess_flags(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The `guess` flag of every keypass.layout call from now on."""
    from sandbox.replay import keypass

    calls: list[bool] = []
    real = keypass.layout

    def layout(*args: Any, guess: bool = False) -> Any:
        calls.append(guess)
        return real(*args, guess=guess)

    monkeypatch.setattr(keypass, "layout", layout)
    return calls


def test_guessed_partitions_stand_when_no_true_key_is_in_two_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.replay import keypass

    file = tmp_path / "a.jsonl"
    events = [
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}, "messageId": "m1"},
        {"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "m2"},
        {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "m3"},
    ]
    file.write_text("".join(json.dumps(e) + "\n" for e in events))
    calls = guess_flags(monkeypatch)
    merged = keypass.replay([str(file)], CONFIG, 2, keypass.in_process)
    assert calls == [True]  # the guess held: no exact pass
    text = golden.render(golden.document(CONFIG, False, merged.requests, merged.state))
    assert text == _sequential_files([str(file)], CONFIG)[0]


def test_a_mapping_that_reads_an_identifier_the_guess_misses_takes_the_exact_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trackEvent's person is `properties.owner` here: the guess (userId) puts the track with a
    stranger, the partitions' true keys meet in `who:u1`, and the exact pass gives the result."""
    from sandbox.replay import keypass
    from sandbox.replay.config import config_from_dict

    config = config_from_dict(
        {
            "settings": {"siteId": "s", "apiKey": "k"},
            "subscriptions": [
                {
                    "name": "People",
                    "subscribe": 'type = "identify"',
                    "partnerAction": "createUpdatePerson",
                    "useDefaultMappings": True,
                },
                {
                    "name": "Owned events",
                    "subscribe": 'type = "track"',
                    "partnerAction": "trackEvent",
                    "useDefaultMappings": True,
                    "mapping": {"id": {"@path": "$.properties.owner"}},
                },
            ],
        }
    )
    events = [
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "m1"},
        {"type": "identify", "userId": "u1", "traits": {"plan": "free"}, "messageId": "m2"},
        {"type": "track", "userId": "x", "event": "Bought", "properties": {"owner": "u1"}, "messageId": "m3"},
    ]
    file = tmp_path / "a.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in events))
    calls = guess_flags(monkeypatch)
    merged = keypass.replay([str(file)], config, 2, keypass.in_process)
    assert calls == [True, False]  # guessed, refuted, then exact
    text = golden.render(golden.document(config, False, merged.requests, merged.state))
    assert text == _sequential_files([str(file)], config)[0]
    # resumable, the exact pass's note says why a second pass runs (not the same note twice)
    notes: list[str] = []
    again = keypass.replay(
        [str(file)], config, 2, keypass.in_process, resume=str(tmp_path / "r"), report=notes.append
    )
    assert golden.render(golden.document(config, False, again.requests, again.state)) == text
    assert [n.split(" from ")[0] for n in notes] == [
        "resumed 0 of 2 partition(s)",
        "the guessed partitions did not hold, partitioned again by traced keys: resumed 0 of 1 partition(s)",
    ], notes  # the traced keys join all three events: one partition


def test_with_guessed_partitions_the_first_error_in_input_order_is_still_the_one_reported(
    tmp_path: Path,
) -> None:
    """A cio_id (refused when partitioning) in the first file and a bad line in the second: the
    exact pass meets the cio_id first, and so must the guessed one."""
    from sandbox.replay import keypass

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({"type": "identify", "userId": "cio_abc", "traits": {}}) + "\n")
    second.write_text('{"type": "track", "userId": "u1", "event": "E"}\n{not json\n')
    with pytest.raises(InputError) as raised:
        keypass.replay([str(first), str(second)], CONFIG, 2, keypass.in_process)
    assert "cio_id" in str(raised.value)


def test_resume_over_files_keeps_checkpoints_only_while_the_files_are_unchanged(tmp_path: Path) -> None:
    """Over files the driver never reads the events, so a checkpoint is named by each file's
    name, size and modification time (and the partition's events, the config): a rerun of the
    same input loads them all; after a file changes, none."""
    import os

    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in scenario_events()))
    folder = tmp_path / "resume"
    base = [
        "run",
        str(events),
        "--config",
        str(SCENARIOS / "cio-sandbox.toml"),
        "--json",
        "--resume",
        str(folder),
    ]
    first = cli(*base)
    assert first.returncode == 0, first.stderr
    assert "resumed 0 of 4 partition(s)" in first.stderr
    again = cli(*base)
    assert "resumed 4 of 4 partition(s)" in again.stderr and again.stdout == first.stdout
    stat = events.stat()
    with events.open("a") as out:
        out.write(json.dumps({"type": "track", "userId": "late", "event": "Signed Up"}) + "\n")
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same time, a new size
    changed = cli(*base)
    assert changed.returncode == 0, changed.stderr
    assert "resumed 0 of 4 partition(s)" in changed.stderr
    assert json.loads(changed.stdout)["events"]["read"] == json.loads(first.stdout)["events"]["read"] + 1


def test_snapshot_and_check_resume_from_partition_checkpoints(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in scenario_events()))
    config = ["--config", str(SCENARIOS / "cio-sandbox.toml")]
    plain, kept = tmp_path / "plain.json", tmp_path / "kept.json"
    folder = tmp_path / "resume"
    assert cli("snapshot", str(events), *config, "--out", str(plain)).returncode == 0
    first = cli("snapshot", str(events), *config, "--out", str(kept), "--resume", str(folder))
    assert first.returncode == 0, first.stderr
    assert kept.read_bytes() == plain.read_bytes()
    checked = cli("check", str(events), *config, "--against", str(plain), "--resume", str(folder))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "resumed 4 of 4 partition(s)" in checked.stderr


def test_a_resumed_pass_over_files_reads_each_files_keys_from_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.replay import keypass

    files = []
    for number, chunk in enumerate((scenario_events()[:20], scenario_events()[20:])):
        file = tmp_path / f"part-{number}.jsonl"
        file.write_text("".join(json.dumps(e) + "\n" for e in chunk))
        files.append(str(file))
    traced: list[str] = []
    real = keypass.file_keys

    def file_keys(file: str, configs: tuple[Config, ...], guess: bool = False) -> Any:
        traced.append(file)
        return real(file, configs, guess)

    monkeypatch.setattr(keypass, "file_keys", file_keys)
    folder = str(tmp_path / "resume")
    first = keypass.replay(files, CONFIG, 3, keypass.in_process, resume=folder)
    assert sorted(set(traced)) == files
    traced.clear()
    again = keypass.replay(files, CONFIG, 3, keypass.in_process, resume=folder)
    assert traced == []  # every file's keys came from its checkpoint
    assert again.requests == first.requests
    assert len(list((tmp_path / "resume").glob("keys-*.keys"))) >= len(files)


@settings(max_examples=40)
@given(streams(), st.sampled_from(["lines", "bom", "batch", "blank", "pretty"]))
def test_the_guessed_pass_reads_a_plain_file_line_by_line_as_read_file_reads_it(
    events: list[dict[str, Any]], style: str
) -> None:
    """file_keys(guess=True) reads a plain file's lines itself (`_guessed_plain`): the same
    FileKeys as through read_file; a file that is not plain (blank lines, values over several
    lines) is left to read_file."""
    import tempfile

    from sandbox.replay import keypass

    lines = [json.dumps(e) for e in events]
    if style == "batch":
        lines[0] = json.dumps({"batch": [events[0]], "context": {"ip": "1.2.3.4"}})
    text = ("\n\n" if style == "blank" else "\n").join(lines) + "\n"
    if style == "pretty":
        text = "".join(json.dumps(e, indent=1) + "\n" for e in events)
    with tempfile.TemporaryDirectory() as temp:
        file = Path(temp) / "part.jsonl"
        file.write_bytes(("\ufeff" if style == "bom" else "").encode() + text.encode())
        try:
            fast: Any = keypass._guessed_plain(str(file), (CONFIG,))
        except keypass._NotPlain:
            fast = None
        real = keypass._guessed_plain
        keypass._guessed_plain = _not_plain  # type: ignore[assignment]
        try:
            slow = keypass.file_keys(str(file), (CONFIG,), guess=True)
        finally:
            keypass._guessed_plain = real
    if style == "pretty":
        # every value over several lines: the fast path declines; read_file calls the file plain
        # only when its one event starts on line 1 (replay_files then finds line 1 is not it)
        assert fast is None and slow.plain == (len(events) == 1)
    elif style == "blank" and len(events) > 1:
        assert fast is None and not slow.plain
    else:
        assert fast == slow and slow.plain


def _not_plain(file: str, configs: tuple[Config, ...]) -> Any:
    from sandbox.replay import keypass

    raise keypass._NotPlain


@pytest.mark.parametrize("data", [b"not gzip at all", None])  # None: a file cut in half
def test_a_broken_gzip_file_is_one_line_error_with_workers(tmp_path: Path, data: bytes | None) -> None:
    import gzip

    from sandbox.replay import keypass

    file = tmp_path / "part.gz"
    whole = gzip.compress(b'{"type": "track", "userId": "u", "event": "E"}\n' * 50)
    file.write_bytes(data if data is not None else whole[: len(whole) // 2])
    with pytest.raises(InputError, match="gzip"):
        keypass.replay([str(file)], CONFIG, 2, keypass.in_process)


@settings(max_examples=300)
@given(
    st.lists(st.floats(-1e10, 1e10, allow_nan=False), max_size=30).map(sorted),
    st.floats(-1e10, 1e10, allow_nan=False),
)
def test_the_merge_finds_the_expiring_verb_by_bisection(verb_times: list[float], received: float) -> None:
    """merge's bisection over oldest_kept of the verb times gives the first verb time at which
    the mock's `expired` holds for an event received at `received` (a plain scan), also at the
    float boundaries (times near 30 days apart)."""
    from array import array

    from mock_cio.state.anonymous import RETENTION, expired, oldest_kept

    times = sorted(verb_times + [received + RETENTION, received + RETENTION + 1e-6])
    kept_from = array("d", map(oldest_kept, times))
    scan = next((i for i, now in enumerate(times) if expired(received, now)), len(times))
    assert partitioned._first_expiring(kept_from, received) == scan
