"""Segment storage archives (segment-logs/<source>/<received-day>/*.gz) and fsspec URLs as input:
partitions picked by --source/--since/--until, read locally, through file:// and from a local S3
(moto's server on 127.0.0.1), with one-line errors for bad URLs, credentials and gzip."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.errors import InputError
from sandbox.replay.archive import Selection, day_name, day_of
from sandbox.replay.events import input_files, read_events

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "fixtures" / "events" / "segment-events.jsonl"
SETTINGS = ROOT / "fixtures" / "plan" / "settings.json"
DAYS = (dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3))
SOURCES = ("srcA", "srcB")


def fixture_events() -> list[dict]:
    return [json.loads(line) for line in EVENTS.read_text().splitlines() if line.strip()]


def write_archive(root: Path) -> dict[tuple[str, dt.date], list[dict]]:
    """The fixture events spread over two sources and three days; returns each partition's events."""
    events = fixture_events()
    parts: dict[tuple[str, dt.date], list[dict]] = {}
    slots = [(s, d) for d in DAYS for s in SOURCES]
    for position, event in enumerate(events):
        parts.setdefault(slots[position * len(slots) // len(events)], []).append(event)
    for (source, day), chunk in parts.items():
        folder = root / "segment-logs" / source / day_name(day)
        folder.mkdir(parents=True, exist_ok=True)
        half = len(chunk) // 2
        for number, piece in enumerate((chunk[:half], chunk[half:])):
            with gzip.open(folder / f"{1704067200000 + number}.part-{number}.gz", "wt") as out:
                out.writelines(json.dumps(e) + "\n" for e in piece)
    return parts


def cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_received_day_is_unix_milliseconds_of_utc_midnight() -> None:
    assert day_name(dt.date(2024, 1, 1)) == "1704067200000"
    assert day_of("1704067200000") == dt.date(2024, 1, 1)
    assert day_of("2024-01-02") == dt.date(2024, 1, 2)
    assert day_of("part") is None


def test_eight_digits_are_a_date_not_milliseconds() -> None:
    """`--since 20240305` (ISO's basic form) is 2024-03-05; as milliseconds it would be the first
    day of 1970 and pick everything."""
    assert day_of("20240305") == dt.date(2024, 3, 5)
    assert day_of("86400000") is None  # eight digits but no date
    assert day_of("0") == dt.date(1970, 1, 1)
    assert day_of("20241305") is None


def test_a_day_directory_given_alone_points_to_the_archive_root(tmp_path: Path) -> None:
    write_archive(tmp_path)
    day = tmp_path / "segment-logs" / SOURCES[0] / day_name(DAYS[0])
    for folder in (day, day.parent):
        with pytest.raises(
            InputError, match="a Segment archive is read from the directory that holds segment-logs/"
        ):
            list(read_events(folder))


def test_a_symbolic_link_that_leads_nowhere_is_an_error(tmp_path: Path) -> None:
    write_archive(tmp_path)
    folder = tmp_path / "segment-logs" / SOURCES[0] / day_name(DAYS[0])
    (folder / "lost.gz").symlink_to(tmp_path / "nowhere.gz")
    with pytest.raises(InputError, match=r"lost\.gz: cannot read: No such file or directory"):
        list(read_events(tmp_path))


def test_the_whole_archive_reads_day_by_day_then_source(tmp_path: Path) -> None:
    parts = write_archive(tmp_path)
    expected = [e for day in DAYS for source in SOURCES for e in parts.get((source, day), [])]
    assert list(read_events(tmp_path)) == expected
    assert list(read_events(tmp_path / "segment-logs")) == expected
    assert sorted(map(json.dumps, expected)) == sorted(map(json.dumps, fixture_events()))


def test_selection_picks_sources_and_days(tmp_path: Path) -> None:
    parts = write_archive(tmp_path)
    chosen = Selection(("srcB",), DAYS[1], DAYS[2])
    expected = parts[("srcB", DAYS[1])] + parts[("srcB", DAYS[2])]
    assert list(read_events(tmp_path, chosen)) == expected
    files = input_files(tmp_path, Selection(since=DAYS[2]))
    assert len(files) == 4 and all(day_name(DAYS[2]) in f for f in files)


def test_plan_run_snapshot_check_read_archives(tmp_path: Path) -> None:
    write_archive(tmp_path)
    flat = tmp_path / "flat.jsonl"
    flat.write_text("".join(json.dumps(e) + "\n" for e in read_events(tmp_path)))
    planned = cli("plan", str(tmp_path), "--settings", str(SETTINGS))
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout == cli("plan", str(flat), "--settings", str(SETTINGS)).stdout
    partial = cli(
        "plan", str(tmp_path), "--settings", str(SETTINGS), "--source", "srcA", "--until", "2024-01-01"
    )
    assert 0 < len(partial.stdout.splitlines()) < len(planned.stdout.splitlines())
    ran = cli("run", str(tmp_path), "--json", "--source", "srcA")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["events"]["read"] == len(list(read_events(tmp_path, Selection(("srcA",)))))
    golden = tmp_path / "g.json"
    assert cli("snapshot", str(tmp_path), "--since", "2024-01-02", "--out", str(golden)).returncode == 0
    assert cli("check", str(tmp_path), "--since", "2024-01-02", "--against", str(golden)).returncode == 0
    differs = cli("check", str(tmp_path), "--against", str(golden))
    assert differs.returncode == 1
    assert "--since 2024-01-02" not in differs.stdout.splitlines()[-1]


def test_file_urls_read_as_local_paths(tmp_path: Path) -> None:
    write_archive(tmp_path)
    assert list(read_events(tmp_path.as_uri())) == list(read_events(tmp_path))
    one = next(iter(sorted((tmp_path / "segment-logs" / "srcA").rglob("*.gz"))))
    assert list(read_events(one.as_uri())) == list(read_events(str(one)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2024-13-01"], "--since: expected a date"),
        (["--since", "2024-01-03", "--until", "2024-01-01"], "is after --until"),
        (["--source", "nope"], "no archive files match"),
    ],
)
def test_bad_selections_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    write_archive(tmp_path)
    done = cli("run", str(tmp_path), *args)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_selection_without_an_archive_is_refused() -> None:
    done = cli("run", str(EVENTS), "--source", "x")
    assert done.returncode == 2 and "no EVENTS is one" in done.stderr


def test_corrupt_and_cut_gzip_are_one_line(tmp_path: Path) -> None:
    write_archive(tmp_path)
    files = sorted((tmp_path / "segment-logs").rglob("*.gz"))
    files[0].write_bytes(b"not gzip at all\n")
    done = cli("run", str(tmp_path))
    assert done.returncode == 2 and "not a gzip file" in done.stderr and str(files[0]) in done.stderr
    data = gzip.compress(b'{"type": "track", "event": "x", "userId": "u"}\n' * 50)
    files[0].write_bytes(data[: len(data) // 2])
    done = cli("run", str(tmp_path))
    assert done.returncode == 2 and "corrupt or cut gzip" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda data: b"not gzip at all\n",
            "cannot read: not a gzip file, or one with something else after its data",
        ),
        (
            lambda data: data + b"garbage",
            "cannot read: not a gzip file, or one with something else after its data",
        ),
        (
            lambda data: data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:],
            "cannot read: corrupt gzip data after 983,040 bytes of text (CRC check failed",
        ),
        (
            lambda data: data[: len(data) // 2],
            "cannot read: corrupt or cut gzip data after 458,752 bytes of text",
        ),
    ],
    ids=["not gzip", "trailing bytes", "bad checksum", "cut"],
)
def test_gzip_damage_is_named_as_it_is(tmp_path: Path, damage: Any, message: str) -> None:
    """What is wrong with a .gz, and where in its text when the position is known (the text read
    before the failing read, counted in whole reads)."""
    text = b"".join(
        json.dumps({"type": "track", "event": "x", "userId": f"u{n}"}).encode() + b"\n" for n in range(20_000)
    )
    path = tmp_path / "e.jsonl.gz"
    path.write_bytes(damage(gzip.compress(text)))
    with pytest.raises(InputError) as info:
        list(read_events(path))
    assert message in str(info.value) and str(path) in str(info.value)


def test_unknown_scheme_is_one_line() -> None:
    done = cli("run", "nosuchscheme://bucket/x")
    assert done.returncode == 2 and "nosuchscheme://bucket/x" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# -- S3, on moto's server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3() -> object:
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_env(endpoint: str, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


def upload(endpoint: str, bucket: str, root: Path) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    for file in sorted(root.rglob("*.gz")):
        client.put_object(Bucket=bucket, Key=str(file.relative_to(root)), Body=file.read_bytes())


def test_s3_archive_reads_as_the_local_one(s3: str, tmp_path: Path) -> None:
    write_archive(tmp_path)
    upload(s3, "history", tmp_path)
    env = s3_env(s3)
    local = cli("plan", str(tmp_path), "--settings", str(SETTINGS), "--source", "srcB")
    remote = cli("plan", "s3://history", "--settings", str(SETTINGS), "--source", "srcB", env=env)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and remote.stdout
    ran = cli("run", "s3://history/segment-logs", "--json", "--since", "2024-01-02", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["events"]["read"] == len(
        list(read_events(tmp_path, Selection(since=DAYS[1])))
    )


def test_s3_archive_on_two_workers_gives_the_one_process_summary_and_golden_file(
    s3: str, tmp_path: Path
) -> None:
    """The workers read the archive from S3 themselves (the key pass, then each its own events)."""
    events: list[dict] = []
    for n in range(60):
        user, stamp = f"u{n % 7}", f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z"
        kind = ("identify", "track", "group", "page")[n % 4]
        event: dict = {"type": kind, "userId": user, "anonymousId": f"a{n % 5}", "timestamp": stamp}
        event.update(
            {
                "identify": {"traits": {"email": f"{user}@example.com", "plan": "pro"}},
                "track": {"event": "Order Completed", "properties": {"total": n}},
                "group": {"groupId": f"acct-{n % 3}", "traits": {"name": "Acme"}},
                "page": {"name": "Home", "properties": {"url": "https://example.com/"}},
            }[kind]
        )
        events.append(event)
    folder = tmp_path / "segment-logs" / "srcA" / day_name(DAYS[0])
    folder.mkdir(parents=True)
    for number in range(2):
        with gzip.open(folder / f"part-{number}.gz", "wt") as out:
            out.writelines(json.dumps(e) + "\n" for e in events[number * 30 : (number + 1) * 30])
    upload(s3, "workers", tmp_path)
    env = s3_env(s3)
    one = cli("run", "s3://workers/segment-logs", "--json", "--no-progress", env=env)
    two = cli("run", "s3://workers/segment-logs", "--json", "--no-progress", "--workers", "2", env=env)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert json.loads(two.stdout) == json.loads(one.stdout)
    golden_one, golden_two = tmp_path / "one.json", tmp_path / "two.json"
    made = [
        cli("snapshot", "s3://workers/segment-logs", "--out", str(out), *extra, env=env)
        for out, extra in ((golden_one, []), (golden_two, ["--workers", "2"]))
    ]
    assert all(done.returncode == 0 for done in made), made[1].stderr
    assert golden_two.read_bytes() == golden_one.read_bytes()


def test_s3_archive_diff_on_two_workers_gives_the_one_process_report(s3: str, tmp_path: Path) -> None:
    """`diff --workers 2` over S3: each worker reads its files from S3 (the key pass over both
    configs, then its own events, compared in the worker); the report is the in-process one."""
    from sandbox.replay.events import read_located

    scenarios = [item.event for item in read_located([str(ROOT / "fixtures" / "scenarios")])]
    cuts = [len(scenarios) * k // 6 for k in range(7)]  # the scenarios in 6 files over 3 days
    for k in range(6):
        folder = tmp_path / "archive" / "segment-logs" / "srcA" / day_name(DAYS[k // 2])
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / f"part-{k % 2}.gz", "wt") as out:
            out.writelines(json.dumps(e) + "\n" for e in scenarios[cuts[k] : cuts[k + 1]])
    upload(s3, "diffs", tmp_path / "archive")
    config = ROOT / "fixtures" / "scenarios" / "cio-sandbox.toml"
    person = 'partnerAction = "createUpdatePerson"\nuseDefaultMappings = true\n'
    mapping = """mapping = '''{"custom_attributes": {"plan": {"@path": "$.traits.plan"}}}'''\n"""
    new = tmp_path / "new.toml"
    new.write_text(config.read_text().replace(person, person + mapping))
    env = s3_env(s3)
    base = ["diff", str(config), str(new), "s3://diffs/segment-logs", "--json"]
    one = cli(*base, env=env)
    two = cli(*base, "--workers", "2", env=env)
    assert one.returncode == 1 and two.returncode == 1, two.stderr
    assert two.stdout == one.stdout
    local = cli(*base[:3], str(tmp_path / "archive"), *base[4:])
    assert json.loads(local.stdout) | {"source": ""} == json.loads(one.stdout) | {"source": ""}


def test_s3_errors_are_one_line(s3: str, tmp_path: Path) -> None:
    missing = cli("run", "s3://no-such-bucket/segment-logs", env=s3_env(s3))
    assert missing.returncode == 2 and "s3://no-such-bucket" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    env = s3_env(s3)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    anonymous = cli("run", "s3://history/segment-logs", env=env)
    assert anonymous.returncode == 2 and "credentials" in anonymous.stderr
    assert len(anonymous.stderr.strip().splitlines()) == 1 and "Traceback" not in anonymous.stderr


def test_input_error_names_the_url() -> None:
    with pytest.raises(InputError, match="nosuch://"):
        list(read_events("nosuch://x/y"))
