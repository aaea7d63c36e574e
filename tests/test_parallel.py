"""`plan --workers N` / `--scheduler ADDRESS` on Dask: the output is byte-identical to the in-process
plan (event order, event indexes), errors stay one line, and a real `dask scheduler` + `dask worker`
on 127.0.0.1 gives the same bytes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from array import array
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.replay.archive import day_name
from sandbox.replay.parallel import PartitionPlan, _load, plan_partition

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "fixtures" / "events" / "segment-events.jsonl"
SETTINGS = ROOT / "fixtures" / "plan" / "settings.json"

pytest.importorskip("distributed")


def write_archive(root: Path, copies: int = 12) -> None:
    """The fixture events, `copies` times over (new messageIds and users), as 2 sources × 3 days
    × 2 files: 12 partitions of unequal size."""
    base = [json.loads(line) for line in EVENTS.read_text().splitlines() if line.strip()]
    files: list[list[dict]] = [[] for _ in range(12)]
    for copy in range(copies):
        for position, event in enumerate(base):
            event = dict(event, messageId=f"m-{copy}-{position}")
            if "userId" in event:
                event["userId"] = f"{event['userId']}-{copy}"
            files[(copy * 7 + position) % 12 if copy % 3 else 0].append(event)
    import datetime as dt

    for number, chunk in enumerate(files):
        source = ("srcA", "srcB")[number % 2]
        day = day_name(dt.date(2024, 1, 1 + number // 4))
        folder = root / "segment-logs" / source / day
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / f"part-{number:02d}.gz", "wt") as out:
            out.writelines(json.dumps(e) + "\n" for e in chunk)


def plan(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "plan", *args], capture_output=True, cwd=ROOT, env=env, timeout=300
    )


def test_workers_2_is_byte_identical_to_workers_1(tmp_path: Path) -> None:
    write_archive(tmp_path)
    one = plan(str(tmp_path), "--settings", str(SETTINGS))
    two = plan(str(tmp_path), "--settings", str(SETTINGS), "--workers", "2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    indexes = [json.loads(line)["event_index"] for line in one.stdout.splitlines()]
    assert indexes == sorted(indexes) and indexes[-1] > 400
    picked = plan(str(tmp_path), "--settings", str(SETTINGS), "--workers", "2", "--source", "srcB")
    assert picked.stdout == plan(str(tmp_path), "--settings", str(SETTINGS), "--source", "srcB").stdout


def test_batch_mode_on_workers_is_byte_identical_to_the_in_process_batch_mode(tmp_path: Path) -> None:
    """Chunks cut across the partitions (the fixtures' events through the presets): the same bytes
    as in process. (tests/test_parallel_batch.py checks the law on generated events, refusals and
    failed chunks among them.)"""
    write_archive(tmp_path)
    one = plan(str(tmp_path), "--settings", str(SETTINGS), "--batch")
    two = plan(str(tmp_path), "--settings", str(SETTINGS), "--batch", "--workers", "2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    lines = [json.loads(line) for line in one.stdout.splitlines()]
    batches = [line["event_index"] for line in lines if isinstance(line["event_index"], list)]
    assert len(batches) > 10 and max(len(batch) for batch in batches) > 20


def test_batch_mode_stops_before_any_line_at_a_corrupt_partition(tmp_path: Path) -> None:
    write_archive(tmp_path, copies=3)
    victim = sorted((tmp_path / "segment-logs").rglob("*.gz"))[5]
    victim.write_bytes(b"not gzip")
    one = plan(str(tmp_path), "--settings", str(SETTINGS), "--batch")
    two = plan(str(tmp_path), "--settings", str(SETTINGS), "--batch", "--workers", "2")
    assert one.returncode == two.returncode == 2
    assert two.stdout == one.stdout == b"" and two.stderr == one.stderr
    assert b"not a gzip file" in two.stderr and len(two.stderr.strip().splitlines()) == 1


def test_a_corrupt_partition_stops_at_the_same_line(tmp_path: Path) -> None:
    write_archive(tmp_path, copies=3)
    victim = sorted((tmp_path / "segment-logs").rglob("*.gz"))[5]
    victim.write_bytes(b"not gzip")
    one = plan(str(tmp_path), "--settings", str(SETTINGS))
    two = plan(str(tmp_path), "--settings", str(SETTINGS), "--workers", "2")
    assert one.returncode == two.returncode == 2
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert b"not a gzip file" in two.stderr and len(two.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], b"--workers: must be a whole number"),
        (["--workers", "2", "--format", "table"], b"JSON lines only"),
    ],
)
def test_bad_parallel_arguments(tmp_path: Path, args: list[str], message: bytes) -> None:
    write_archive(tmp_path, copies=1)
    done = plan(str(tmp_path), "--settings", str(SETTINGS), *args)
    assert done.returncode == 2 and message in done.stderr and b"Traceback" not in done.stderr


def test_a_real_dask_scheduler_and_workers(tmp_path: Path) -> None:
    dask = shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    write_archive(tmp_path, copies=4)
    info = tmp_path / "scheduler.json"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    common = ["--no-dashboard"]
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info), *common],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(2):
            workers.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
            )
        remote = plan(str(tmp_path), "--settings", str(SETTINGS), "--scheduler", address)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout == plan(str(tmp_path), "--settings", str(SETTINGS)).stdout
        batched = plan(str(tmp_path), "--settings", str(SETTINGS), "--batch", "--scheduler", address)
        assert batched.returncode == 0, batched.stderr
        assert batched.stdout == plan(str(tmp_path), "--settings", str(SETTINGS), "--batch").stdout
        # identity-partitioned snapshot on the same cluster: the in-process golden file's bytes
        scenarios = str(ROOT / "fixtures" / "scenarios")
        for name, extra in (("remote", ["--scheduler", address]), ("local", [])):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sandbox",
                    "snapshot",
                    scenarios,
                    "--out",
                    str(tmp_path / name),
                    *extra,
                ],
                capture_output=True,
                cwd=ROOT,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
        assert (tmp_path / "remote").read_bytes() == (tmp_path / "local").read_bytes()
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            process.wait(timeout=30)


_tails = st.text(st.characters(blacklist_characters="\n"), max_size=12).map(lambda t: ", " + json.dumps(t))


@given(st.lists(st.tuples(st.integers(0, 10**6), _tails), max_size=20), st.integers(0, 10**9))
def test_a_partition_is_written_with_its_indexes_moved(lines: list[tuple[int, str]], offset: int) -> None:
    """PartitionPlan.output is each line, `{"event_index": ` + index + offset + tail, in order."""
    tails = "\n".join(tail for _, tail in lines).encode("utf-8")
    part = PartitionPlan(7, array("q", [index for index, _ in lines]), tails)
    expected = "".join(f'{{"event_index": {index + offset}{tail}\n' for index, tail in lines)
    assert part.output(offset) == expected.encode("utf-8")


def test_a_partition_plan_equals_the_in_process_plan_of_its_file(tmp_path: Path) -> None:
    """plan_partition (returned, and through a spool file) gives the in-process plan's bytes."""
    from sandbox.commands.plan_output import LineEncoder
    from sandbox.pipeline import plan as plan_events
    from sandbox.replay.config import settings_from_dict
    from sandbox.replay.events import read_file_events

    write_archive(tmp_path, copies=2)
    refused = {"type": "track", "userId": "u", "event": "Report Delivery Event", "properties": {}}
    with_errors = tmp_path / "refused.jsonl.gz"  # error lines (a refused payload), twice
    with gzip.open(with_errors, "wt") as out:
        base = [json.loads(line) for line in EVENTS.read_text().splitlines() if line.strip()]
        out.writelines(json.dumps(e) + "\n" for e in [refused, *base, refused])
    settings = settings_from_dict(json.loads(SETTINGS.read_text()), str(SETTINGS))
    encode = LineEncoder()
    files = [with_errors, *sorted((tmp_path / "segment-logs").rglob("*.gz"))[:3]]
    for file in files:
        events = list(read_file_events(str(file)))
        lines = [encode(line) for line in plan_events(events, settings)]
        assert file != with_errors or sum('"error": ' in line for line in lines) == 2
        shifted = [
            f'{{"event_index": {json.loads(line)["event_index"] + 1000}{line[line.index(",") :]}\n'
            for line in lines
        ]
        returned = plan_partition(str(file), settings, None)
        assert isinstance(returned, PartitionPlan) and returned.events == len(events)
        assert returned.output(0) == "".join(line + "\n" for line in lines).encode("utf-8")
        assert returned.output(1000) == "".join(shifted).encode("utf-8")
        spooled = plan_partition(str(file), settings, None, None, str(tmp_path / "spool"))
        assert spooled == (len(events), None, str(tmp_path / "spool"))
        assert _load(spooled) == returned and not (tmp_path / "spool").exists()
