"""`cio-sandbox run EVENTS`: replay Segment events into a mock Customer.io and summarise what happened.

Each event goes through the configured subscriptions and mappings (`--config`, default
./cio-sandbox.toml or the 15 automatic presets) into the mock: in-process by default, or a
running one with `--target URL`. The input is streamed, so its size does not matter. The summary:
events read, requests by action, accepted and rejected with reasons, people and objects created,
anonymous events merged, pending and expired.

The mock's clock follows the events' timestamps (`--clock events`, the default in-process), so a
replay is repeatable; `--clock mock` leaves it alone (the default with --target).

Delivery: `--delivery once` (the default) sends each request once. `--delivery segment` plays
Segment's delivery system (sandbox.delivery): retryable failures are retried for four hours with
randomized exponential backoff in virtual time (each attempt moves the mock's clock), the rest
dropped; the summary gains a `delivery` block (attempts, retried, dropped by reason, delivered
late, 207 items reported delivered but rejected). `--seed N` makes the backoff and the mock's
fault profile (the config's [faults]) repeatable. `--rate R` plans a backfill: every event is
there at the start and goes out at no more than R requests/second; the summary says how long it
takes (and in the other mode) and how many events miss Customer.io's windows because of it.

Exit status: 0 when it ran; 1 with --fail-on-rejection when the mock rejected a request (wholly or
partly) or the destination refused a payload before sending it, and with --fail-on-drop when an
event was dropped (with --delivery once: a request was answered outside 2xx); 2 for unusable
input or config.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import IO, Any, Literal

from sandbox.commands._replaying import (
    add_input_arguments,
    add_parallel_arguments,
    add_resume_argument,
    http_target,
    in_process_target,
    is_parallel,
    load,
    replay_partitioned,
    selection,
    source_label,
)
from sandbox.js.json import escape_lone_surrogates


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="replay Segment events into a mock Customer.io and summarise",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    add_parallel_arguments(parser)
    parser.add_argument(
        "--target", metavar="URL", help="a running mock (cio-sandbox serve) instead of in-process"
    )
    parser.add_argument(
        "--clock",
        choices=("events", "mock"),
        help="events: the mock's clock follows the events (default in-process); mock: leave it (default with --target)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--records",
        metavar="FILE",
        help="also write every event's story (trace, requests, answers) as JSON lines",
    )
    parser.add_argument(
        "--fail-on-rejection",
        action="store_true",
        help="exit 1 if a request was rejected or a payload failed validation (for CI)",
    )
    parser.add_argument(
        "--delivery",
        choices=("once", "segment"),
        default="once",
        help="once: send each request once (default); segment: Segment's retries, drops and send rate, in virtual time",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the backoff jitter and of the mock's fault profile (default 0)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="with --delivery segment: plan a backfill at R requests/second (all events available at the start)",
    )
    parser.add_argument("--fail-on-drop", action="store_true", help="exit 1 if an event was dropped (for CI)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_resume_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sandbox.commands.lint import warn
    from sandbox.errors import InputError
    from sandbox.replay.engine import Replayer
    from sandbox.replay.events import read_located
    from sandbox.replay.summary import Summary

    if args.rate is not None and (args.delivery != "segment" or not 0 < args.rate < float("inf")):
        raise InputError("needs --delivery segment and a positive number of requests/second", "--rate")
    config = load(args)
    if not config.is_default:
        warn("run", config.file, config.subscriptions)
    batch = bool(args.batch or config.batch)
    if is_parallel(args) or args.resume is not None:
        return _run_partitioned(args, config, batch)
    automation = {"CIO_SEGMENTS": list(config.segments), "CIO_CAMPAIGNS": list(config.campaigns)}
    target = http_target(args.target) if args.target else in_process_target(**automation)
    if args.target and (config.segments or config.campaigns):
        _put_automation(target, config)
    if config.faults is not None:
        _apply_faults(target, config.faults, args.seed)
    clock: Literal["events", "mock"] = args.clock or ("mock" if args.target else "events")
    summary = Summary(
        source=source_label(args.events),
        target=target.name,
        batch=batch,
        subscriptions=tuple((s.name, s.partnerAction) for s in config.subscriptions),
    )
    explain = args.records is not None
    loop = None
    replay: Any
    if args.delivery == "segment":
        from sandbox.delivery.loop import DeliveryLoop

        loop = DeliveryLoop(config, target, clock=clock, explain=explain, seed=args.seed, rate=args.rate)
        replay = loop
    else:
        replay = Replayer(config, target, clock=clock, explain=explain)
    records_out = _open_records(args.records)
    progress = _progress(args.no_progress)
    try:
        for record in replay.run(_counted(read_located(args.events, selection(args)), progress), batch=batch):
            summary.add(record)
            if records_out is not None:
                records_out.write(
                    escape_lone_surrogates(json.dumps(record.to_dict(), ensure_ascii=False, default=str))
                )
                records_out.write("\n")
        summary.finish(target)
    finally:
        if progress is not None:
            progress.close()
        if records_out is not None:
            records_out.close()
        target.close()
    _warn_unmatched(summary)
    if loop is not None and args.rate is not None and "-" not in args.events:
        loop.report.other_mode = _other_mode(args.events, config, not batch, args.rate, selection(args))
    out = sys.stdout
    if args.json:
        data = summary.to_dict()
        if loop is not None:
            data["delivery"] = loop.report.to_dict()
        out.write(escape_lone_surrogates(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")
    else:
        out.write(summary.render())
        if loop is not None:
            out.write(loop.report.render())
    out.flush()
    if args.fail_on_rejection and summary.failed:
        return 1
    if args.fail_on_drop:
        dropped = loop.report.dropped_total if loop is not None else summary.outcomes["rejected"]
        if dropped:
            return 1
    return 0


def _warn_unmatched(summary: Any) -> None:
    unmatched = summary.unmatched_subscriptions
    if unmatched and summary.events:
        names = ", ".join(repr(name) for name, _ in unmatched)
        print(
            f"cio-sandbox run: warning: {len(unmatched)} subscription(s) matched no event: {names}",
            file=sys.stderr,
        )


_SEQUENTIAL_ONLY = (
    ("target", "--target"),
    ("records", "--records"),
    ("rate", "--rate"),
)


def _run_partitioned(args: argparse.Namespace, config: Any, batch: bool) -> int:
    """`run --workers N` / `--scheduler` / `--resume DIR`: the events partitioned by identity
    (sandbox.replay.partitioned), the summary the in-process run gives."""
    from sandbox.errors import InputError
    from sandbox.replay.engine import InProcessTarget
    from sandbox.replay.partitioned import summarise
    from sandbox.replay.summary import Summary

    partition_flag = "--workers" if is_parallel(args) else "--resume"
    for attribute, flag in _SEQUENTIAL_ONLY:
        if getattr(args, attribute) is not None:
            raise InputError(f"cannot be combined with {flag} (use --workers 1)", partition_flag)
    if args.delivery != "once":
        raise InputError(
            "replays --delivery once only (use --workers 1 for --delivery segment)", partition_flag
        )
    if args.clock == "mock":
        raise InputError(
            "replays with --clock events only (use --workers 1 for --clock mock)", partition_flag
        )
    merged = replay_partitioned(args, config, batch=batch, resume=args.resume, lines=False, summary=True)
    summary = Summary(
        source=source_label(args.events),
        target=InProcessTarget.name,
        batch=batch,
        subscriptions=tuple((s.name, s.partnerAction) for s in config.subscriptions),
    )
    summarise(merged, summary)
    _warn_unmatched(summary)
    out = sys.stdout
    if args.json:
        out.write(escape_lone_surrogates(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2)) + "\n")
    else:
        out.write(summary.render())
    out.flush()
    if args.fail_on_rejection and summary.failed:
        return 1
    if args.fail_on_drop and summary.outcomes["rejected"]:
        return 1
    return 0


def _put_automation(target: Any, config: Any) -> None:
    """The config's [[segments]] and [[campaigns]] into a running mock (`PUT /_mock/.../<id>`)."""
    for kind, items in (("segments", config.segments), ("campaigns", config.campaigns)):
        for item in items:
            target._admin("PUT", f"/_mock/{kind}/{item['id']}", json=dict(item))


def _apply_faults(target: Any, faults: Any, seed: int) -> None:
    """The config's [faults] profile into the mock: in-process directly, a running mock through
    its admin API (`PUT /_mock/faults/profile`, the same shape)."""
    mock = getattr(target, "mock", None)
    if mock is not None:
        mock.set_fault_profile(faults, seed=seed)
        return
    profile = dict(faults)
    if profile.get("seed") is None:
        profile["seed"] = seed
    target._admin("PUT", "/_mock/faults/profile", json=profile)


def _other_mode(
    paths: list[str], config: Any, batch: bool, rate: float, chosen: Any = None
) -> dict[str, Any]:
    """Backfill planning for the mode not run: its request count (planned, nothing sent) and the
    time it takes at `rate` without faults."""
    from sandbox.pipeline import plan
    from sandbox.replay.events import read_located

    events = (item.event for item in read_located(paths, chosen))
    requests = sum(1 for line in plan(events, config.settings, config.subscriptions, batch) if line.request)
    return {
        "mode": "batch" if batch else "single",
        "requests": requests,
        "seconds": round(requests / rate, 3),
    }


def _counted(events: Iterator[Any], progress: Any) -> Iterator[Any]:
    if progress is None:
        yield from events
        return
    for event in events:
        yield event
        progress.update(1)


def _progress(disabled: bool) -> Any:
    """A tqdm bar on stderr for interactive runs; None when stderr is not a terminal."""
    if disabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(unit=" events", file=sys.stderr, mininterval=0.2, leave=False, dynamic_ncols=True)


def _open_records(path: str | None) -> IO[str] | None:
    if path is None:
        return None
    from sandbox.errors import InputError

    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path) from None
