"""Bad inputs to the Dask paths (`--workers N`, `--scheduler ADDRESS`) end in one line on stderr and
exit code 2: no traceback after it, no hang, nothing from Dask's own servers."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from user_events import events

from sandbox.cli import main

pytest.importorskip("distributed")

DAY = "1709596800000"


def write_part(path: Path, items: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as out:
        out.writelines(json.dumps(e) + "\n" for e in items)


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with cfg.toml and `cut`, an archive whose second file of four is a cut gzip stream."""
    root = tmp_path_factory.mktemp("robust-dask")
    assert cli("init", "cfg.toml", cwd=root).returncode == 0
    folder = root / "cut" / "segment-logs" / "s" / DAY
    for name, seed in (("a", 1), ("c", 3), ("d", 4)):
        write_part(folder / f"{name}.gz", events(50, seed))
    whole = gzip.compress("".join(json.dumps(e) + "\n" for e in events(50, 2)).encode())
    (folder / "b.gz").write_bytes(whole[:200])
    write_part(root / "ok" / "segment-logs" / "s" / DAY / "a.gz", events(30, 5))
    return root


def one_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    """The one stderr line of a refused command (exit code 2)."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cio-sandbox {command}: "), lines
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["run", "cut"],
        ["snapshot", "cut", "--out", "golden.json"],
        ["diff", "cfg.toml", "cfg.toml", "cut"],
    ],
    ids=["run", "snapshot", "diff"],
)
def test_an_unreadable_file_on_the_workers_is_one_line_without_a_cancel_traceback(
    work: Path, command: list[str]
) -> None:
    """The futures not taken were cancelled after the client closed (`IOLoop is closed`, printed
    as an exception ignored in `Partitions.results`): they are cancelled only while it is open."""
    line = one_line(cli(*command, "--workers", "2", cwd=work), command[0])
    assert "b.gz: cannot read" in line


def test_plan_on_workers_into_a_closed_pipe_leaves_stderr_empty(tmp_path: Path) -> None:
    """`plan --workers 2 | head -1`: the plan's generator is closed after its client was."""
    assert cli("init", "cfg.toml", cwd=tmp_path).returncode == 0
    for number in range(4):
        write_part(tmp_path / "big" / "segment-logs" / "s" / DAY / f"p{number}.gz", events(1500, number))
    command = [sys.executable, "-m", "sandbox", "plan", "big", "--config", "cfg.toml", "--workers", "2"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().startswith('{"event_index": 0')
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=120)
    assert stderr == ""


@pytest.mark.parametrize("command", ["run", "snapshot", "check", "diff", "plan"])
@pytest.mark.parametrize("count", ["99999999999999999999", "bound + 1"])
def test_more_workers_than_the_machine_bears_are_refused(
    command: str, count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the fix --workers 99999999999999999999 was taken, and the cluster's start grew to
    gigabytes with no output."""
    from sandbox.commands._replaying import WORKERS_PER_CPU, max_workers

    text = str(max_workers() + 1) if count == "bound + 1" else count
    with pytest.raises(SystemExit) as stopped:
        main([command, "--workers", text, "--help-is-not-reached"])
    assert stopped.value.code == 2
    bound = f"at most {max_workers()} processes on this machine ({WORKERS_PER_CPU} per CPU), got {text}"
    assert capsys.readouterr().err.splitlines() == [
        f"cio-sandbox {command}: error: argument --workers: {bound} (see cio-sandbox {command} --help)"
    ]


def test_the_help_gives_the_workers_bound(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox.commands._replaying import WORKERS_PER_CPU, max_workers

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"at most {WORKERS_PER_CPU} per CPU, {max_workers()} on this machine" in help_text


def with_timeouts(argv: list[str], cwd: Path, *, cluster: bool = False) -> str:
    """`cio-sandbox ARGV` in a new process with CONNECT_TIMEOUT and WORKERS_TIMEOUT at 1 s (with
    `cluster`: `{scheduler}` in ARGV is a scheduler of that process with no workers): its stderr,
    after checking it exited with code 2 (a hang fails on the 30 s limit of the process)."""
    script = f"""
import sys
import sandbox.replay.parallel as parallel
from sandbox.cli import main
parallel.CONNECT_TIMEOUT = parallel.WORKERS_TIMEOUT = 1.0
argv = {argv!r}
if {cluster!r}:
    from distributed import LocalCluster
    options = dict(processes=False, protocol="tcp", host="127.0.0.1", dashboard_address="127.0.0.1:0")
    with LocalCluster(n_workers=0, **options) as cluster:
        code = main([a.replace("{{scheduler}}", cluster.scheduler_address) for a in argv])
else:
    code = main(argv)
sys.exit(code)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=30)
    assert done.returncode == 2, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    "command", [["run", "ok"], ["plan", "ok", "--config", "cfg.toml"]], ids=["run", "plan"]
)
def test_a_scheduler_without_workers_is_one_line_after_a_bounded_wait(work: Path, command: list[str]) -> None:
    """Without the fix the job waited for a worker forever (the subprocess times out)."""
    stderr = with_timeouts([*command, "--scheduler", "{scheduler}"], work, cluster=True)
    (line,) = stderr.splitlines()
    assert line.startswith(f"cio-sandbox {command[0]}: tcp://127.0.0.1:")
    assert line.endswith(": the Dask scheduler has no workers (none joined within 1 s)")


def test_a_port_that_never_answers_is_one_line_within_the_connect_timeout(work: Path) -> None:
    """A listening socket that accepts and never speaks: Dask's connect bounds the TCP connection
    only, then waited for the handshake forever (without the fix the subprocess times out)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        stderr = with_timeouts(["run", "ok", "--scheduler", address], work)
    assert stderr.splitlines() == [
        f"cio-sandbox run: {address}: cannot reach the Dask scheduler: no answer within 1 s"
    ]


def test_a_port_nothing_listens_on_is_one_line_at_once(work: Path) -> None:
    """Dask retried a refused connection for the whole connect timeout, then said it timed out."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    stderr = with_timeouts(["plan", "ok", "--config", "cfg.toml", "--scheduler", address], work)
    assert stderr.splitlines() == [
        f"cio-sandbox plan: {address}: cannot reach the Dask scheduler:"
        f" nothing listens on port {port} (connection refused)"
    ]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a `dask scheduler` with one `dask worker` whose working directory is an empty
    folder (not the folder the commands run in)."""
    dask = shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    root = tmp_path_factory.mktemp("elsewhere")
    info = root / "scheduler.json"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": root}
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    processes = [
        subprocess.Popen([dask, "scheduler", "--port", "0", "--scheduler-file", str(info), *common], **quiet)
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        processes.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", *common], **quiet))
        yield address
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.mark.parametrize(
    "command",
    [["run", "ok"], ["diff", "cfg.toml", "cfg.toml", "ok"], ["plan", "ok", "--config", "cfg.toml"]],
    ids=["run", "diff", "plan"],
)
def test_relative_events_reach_workers_in_another_directory(
    work: Path, elsewhere: str, command: list[str]
) -> None:
    """Without the fix the worker read `ok/...` from its own directory: `cannot read: No such file
    or directory`."""
    remote = cli(*command, "--scheduler", elsewhere, cwd=work)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == cli(*command, cwd=work).stdout


def test_a_local_cluster_says_nothing_when_port_8787_is_taken(work: Path) -> None:
    """The scheduler's HTTP server took 8787 without a dashboard as well; without the fix Dask's
    `UserWarning: Port 8787 is already in use` took four lines of stderr."""
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:  # taken already
            pass
        done = cli("run", "ok", "--workers", "2", cwd=work)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if ": warning: " not in line] == []


@pytest.mark.parametrize(
    "command", [["run", "ok"], ["plan", "ok", "--config", "cfg.toml"]], ids=["run", "plan"]
)
def test_workers_and_a_scheduler_together_are_refused(
    work: Path, command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--workers 3 beside --scheduler was ignored silently (the job ran on the scheduler's cluster)."""
    monkeypatch.chdir(work)
    assert main([*command, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"cio-sandbox {command[0]}: --workers: starts a local cluster, and --scheduler uses an existing one: give one of them"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [("tcp://127.0.0.1:99999", "Port out of range 0-65535"), ("tcp://[::1:5", "Invalid IPv6 URL")],
    ids=["port", "ipv6"],
)
def test_an_address_no_connection_can_have_is_refused_at_once(
    work: Path, address: str, why: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dask retried a port beyond 65535 for the whole connect timeout (10 s) before saying so."""
    import sandbox.replay.parallel as parallel

    monkeypatch.chdir(work)
    monkeypatch.setattr(parallel, "_check_answers", lambda scheduler: pytest.fail("tried to connect"))
    assert main(["run", "ok", "--scheduler", address]) == 2
    assert (
        capsys.readouterr().err.splitlines()[-1]
        == f"cio-sandbox run: {address}: not a scheduler address: {why}"
    )


@pytest.mark.parametrize("command", [["run"], ["snapshot", "--out", "golden.json"]], ids=["run", "snapshot"])
def test_a_byte_order_mark_past_a_file_s_start_stops_the_workers_as_it_stops_one_process(
    work: Path, command: list[str], tmp_path: Path
) -> None:
    """The partitions' line reader took a byte order mark on line 2 as a line's start (the
    `--workers 2` run replayed the file); read_file, and so `--workers 1`, refuses it."""
    lines = [json.dumps(event) for event in events(4, 7)]
    lines[1] = "\ufeff" + lines[1]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_part(tmp_path / "b.jsonl.gz", events(3, 8))
    argv = [command[0], "a.jsonl", "b.jsonl.gz", "--config", str(work / "cfg.toml"), *command[1:]]
    alone = one_line(cli(*argv, cwd=tmp_path), command[0])
    assert alone.endswith("a.jsonl: line 2, column 1: Expecting value")
    assert one_line(cli(*argv, "--workers", "2", cwd=tmp_path), command[0]) == alone
