"""What `run`, `snapshot` and `check` share: the EVENTS and --config arguments, the target mock."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sandbox.errors import InputError
from sandbox.replay.config import DEFAULT_FILE, Config, load_config


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "events",
        metavar="EVENTS",
        nargs="+",
        help="Segment events: JSON array, JSON lines or Segment API payloads; files, directories, "
        "Segment archives (segment-logs/...), fsspec URLs (s3://, gs://, file://), - for stdin",
    )
    add_selection_arguments(parser)
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings and subscriptions (TOML); default: cio-sandbox.toml in the EVENTS directory, else ./cio-sandbox.toml, else the 15 presets",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="batch mode: subscriptions with enable_batching send /api/v2/batch",
    )


def add_parallel_arguments(
    parser: argparse.ArgumentParser,
    verb: str = "replay",
    partitions: str = "the events partitioned by identity",
) -> None:
    """--workers N / --scheduler ADDRESS: the job on Dask (`verb` and `partitions` word the help)."""
    parser.add_argument(
        "--workers",
        type=workers_count,
        default=1,
        metavar="N",
        help=f"{verb} on a local Dask cluster of N processes, {partitions} (default 1: in this "
        f"process; at most {WORKERS_PER_CPU} per CPU, {max_workers()} on this machine)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help=f"{verb} on an existing Dask cluster (tcp://host:8786)"
    )


def add_resume_argument(parser: argparse.ArgumentParser) -> None:
    """--resume DIR: partition results kept as they finish, so an interrupted job resumes."""
    parser.add_argument(
        "--resume",
        metavar="DIR",
        help="keep each partition's result in DIR as it finishes; a rerun after an interruption replays only the rest (partitions by identity, as --workers)",
    )


WORKERS_PER_CPU = 4
"""--workers' bound: a local cluster's processes per CPU (each one a Python process of its own)."""


def max_workers() -> int:
    """The most processes --workers starts on this machine: WORKERS_PER_CPU per CPU."""
    return WORKERS_PER_CPU * (os.cpu_count() or 1)


def workers_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes, 1 or more, got {text!r}")
    bound = max_workers()
    if value > bound:
        raise argparse.ArgumentTypeError(
            f"at most {bound} processes on this machine ({WORKERS_PER_CPU} per CPU), got {text}"
        )
    return value


def is_parallel(args: argparse.Namespace) -> bool:
    return bool(args.workers > 1 or args.scheduler is not None)


RESUME_PARTITIONS = 4
"""Partitions per worker with --resume: smaller checkpoints, less replayed after an interruption."""


def replay_partitioned(
    args: argparse.Namespace,
    config: Config,
    *,
    batch: bool,
    resume: str | None = None,
    lines: bool = True,
    summary: bool = False,
) -> Any:
    """EVENTS partitioned by identity (sandbox.replay.partitioned) and replayed on Dask, or in this
    process one partition after another with --resume and --workers 1: the merged result, equal
    to the in-process replay's. With `resume`, each partition's result is kept in that folder.
    `summary`: the merged result need only give `run`'s summary (sandbox.replay.keypass only).
    Files and URLs take sandbox.replay.keypass (on Dask, or in this process with --workers 1
    --resume): the workers read the files themselves (for the keys, then their own events), and
    the driver never holds the events; standard input takes sandbox.replay.partitioned."""
    from sandbox.replay import partitioned
    from sandbox.replay.events import input_files, read_file

    partitioned.check(config, batch=batch, flag="--workers" if is_parallel(args) else "--resume")
    files = input_files(args.events, selection(args))
    if readable(files):
        assert files is not None
        return _replay_files(args, config, files, resume, lines=lines, summary=summary)
    with partition_runner(args, resume, files) as (runner, count):
        events = (located for file in files for located in read_file(file))
        return partitioned.replay(events, config, count, runner, lines=lines)


def _replay_files(
    args: argparse.Namespace,
    config: Config,
    files: Sequence[str],
    resume: str | None,
    *,
    lines: bool,
    summary: bool,
) -> Any:
    """sandbox.replay.keypass over `files` (see files_mapper); checkpoints in `resume`."""
    from sandbox.replay import keypass

    with files_mapper(args, resume) as (mapper, count):
        return keypass.replay(
            files, config, count, mapper, lines=lines, summary=summary, resume=resume, report=reporter(args)
        )


@contextlib.contextmanager
def files_mapper(args: argparse.Namespace, resume: str | None) -> Iterator[tuple[Any, int]]:
    """(mapper, partition count) for the workers' pass over files (sandbox.replay.keypass): a
    Dask cluster's (closed afterwards), RESUME_PARTITIONS per worker with `resume`; or with
    --workers 1 (and --resume) this process's, RESUME_PARTITIONS partitions one after another."""
    from sandbox.replay import keypass

    checked_resume(resume)
    if not is_parallel(args):
        yield keypass.in_process, RESUME_PARTITIONS
        return
    with dask_client(args) as (client, count):
        mapper = keypass.on_dask(client, here=args.scheduler is None)
        yield mapper, count * RESUME_PARTITIONS if resume is not None else count


def checked_resume(resume: str | None) -> None:
    """--resume DIR's folder made and checked writable before any work (an InputError naming it)."""
    if resume is not None:
        from sandbox.replay.partitioned import make_checkpoint_folder

        make_checkpoint_folder(resume)


def reporter(args: argparse.Namespace) -> Callable[[str], None]:
    """Tells stderr about the job (`resumed K of N partition(s)`), prefixed by the command."""
    import sys

    def report(text: str) -> None:
        print(f"cio-sandbox {args.command}: {text}", file=sys.stderr)

    return report


def readable(files: Sequence[str] | None) -> bool:
    """Whether workers can read `files` themselves: local paths and URLs (each worker opens them
    through fsspec with its own credentials chain), not standard input."""
    return files is not None and all(f != "-" for f in files)


@contextlib.contextmanager
def dask_client(args: argparse.Namespace) -> Iterator[tuple[Any, int]]:
    """(client, worker count) for --workers N / --scheduler ADDRESS; a local cluster is closed
    afterwards."""
    from sandbox.replay.parallel import connect

    client, cluster = connect(args.workers, args.scheduler)
    try:
        count = args.workers
        if args.scheduler is not None:
            count = max(1, len(client.scheduler_info().get("workers") or {}))
        yield client, count
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def partition_runner(
    args: argparse.Namespace, resume: str | None, files: Sequence[str] | None = None
) -> Iterator[tuple[Any, int]]:
    """(runner, partition count) for --workers / --scheduler / --resume: a Dask cluster's (closed
    afterwards), or this process's with --workers 1; checkpointing in `resume` when given. With
    `files` (the input's files), workers read their events from them (local files and URLs)."""
    from sandbox.replay import partitioned

    checked_resume(resume)
    report = reporter(args)
    runner: partitioned.Runner
    if not is_parallel(args):
        runner = partitioned.in_process
        if resume is not None:
            runner = partitioned.resumable(runner, resume, report)
        yield runner, RESUME_PARTITIONS
        return
    with dask_client(args) as (client, count):
        runner = partitioned.on_dask(client, files if readable(files) else None)
        if resume is not None:
            runner = partitioned.resumable(runner, resume, report)
            count *= RESUME_PARTITIONS
        yield runner, count


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """--source, --since, --until: which partitions of a Segment archive to read."""
    parser.add_argument(
        "--source",
        metavar="ID",
        action="append",
        help="only this source of a Segment archive (repeatable; default: every source)",
    )
    parser.add_argument(
        "--since", metavar="DAY", help="only archive days received on or after DAY (2024-03-05, UTC)"
    )
    parser.add_argument(
        "--until", metavar="DAY", help="only archive days received on or before DAY (2024-03-05, UTC)"
    )


def selection(args: argparse.Namespace) -> Any:
    """The archive partitions the arguments pick."""
    from sandbox.replay.archive import Selection, parse_day

    since = parse_day(args.since, "--since") if args.since is not None else None
    until = parse_day(args.until, "--until") if args.until is not None else None
    if since is not None and until is not None and since > until:
        raise InputError(f"--since {since} is after --until {until}", "--since")
    return Selection(tuple(args.source or ()), since, until)


def selection_words(args: argparse.Namespace) -> list[str]:
    """The selection as command-line words (to repeat a command)."""
    words: list[str] = []
    for source in args.source or ():
        words += ["--source", source]
    for flag in ("since", "until"):
        if getattr(args, flag) is not None:
            words += [f"--{flag}", getattr(args, flag)]
    return words


def load(args: argparse.Namespace) -> Config:
    """--config FILE; else a cio-sandbox.toml inside the EVENTS directory (a scenario set carries
    its own); else ./cio-sandbox.toml; else the embedded defaults."""
    if args.config is not None:
        return load_config(args.config)
    if len(args.events) == 1 and os.path.isdir(args.events[0]):
        beside = os.path.join(args.events[0], DEFAULT_FILE)
        if os.path.isfile(beside):
            return load_config(beside)
    return load_config(None)


def source_label(paths: list[str]) -> str:
    names = ["<stdin>" if p == "-" else p for p in paths]
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"


def in_process_target(**config: Any) -> Any:
    from sandbox.replay.engine import InProcessTarget

    return InProcessTarget(config=config, journal_on_disk=True)


def http_target(url: str) -> Any:
    from sandbox.replay.engine import HttpTarget

    if not url.startswith(("http://", "https://")):
        raise InputError("--target must be an http:// or https:// URL of a running mock", url)
    return HttpTarget(url)


def print_report(
    args: argparse.Namespace, report: Any, text: Callable[[Any], str], markdown: Callable[[Any], str]
) -> int:
    """Write a comparison's report to standard output as `--json`, `--format markdown` or text;
    the exit status: 0 when the two sides are equal (`report.equal`), else 1 (as `check`)."""
    if args.json:
        out = json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif args.format == "markdown":
        out = markdown(report)
    else:
        out = text(report)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 0 if report.equal else 1
