"""`cio-sandbox plan INPUT`: print the requests the destination would send for some Segment events.

INPUT (a path, or `-` for standard input) is either a plan document
`{"settings", "events", "subscriptions"?, "batch"?}`, or, when `--settings FILE` or `--config FILE`
(the TOML file `run` reads) is given, events read as `run` reads its EVENTS (JSON lines, a JSON
array, Segment batch payloads, gzip, directories, archives, URLs; streamed). Settings and
subscriptions are checked exactly as `run` checks a config file. Output: one JSON line per request
or rejection (`--format table` for a readable summary); warnings about subscriptions that cannot
be meant go to stderr (see `cio-sandbox lint`). Exit 0 when it ran, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from sandbox.commands._replaying import (
    add_parallel_arguments,
    add_selection_arguments,
    is_parallel,
    selection,
)
from sandbox.commands.plan_output import (
    LINES_PER_WRITE,
    LineEncoder,
    single_mode_lines,
    write_batch_streamed,
    write_by_subscription,
    write_lines,
)
from sandbox.errors import ConfigError, InputError
from sandbox.js import json as js_json
from sandbox.js.json import escape_lone_surrogates
from sandbox.js.values import json_kind


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="print the Customer.io requests that Segment events would produce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a plan document, or events (as run reads them) with --settings/--config; - for stdin",
    )
    parser.add_argument("--settings", metavar="FILE", help="destination settings (JSON); makes INPUT events")
    add_selection_arguments(parser)
    add_parallel_arguments(parser, "plan", "INPUT's files as partitions")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings, subscriptions and batch mode from a cio-sandbox.toml (as run); makes INPUT events",
    )
    parser.add_argument(
        "--subscriptions",
        metavar="FILE",
        help="subscriptions (a JSON array); default: the 15 automatic presets",
    )
    parser.add_argument(
        "--batch", action="store_true", help="batch mode: one /api/v2/batch request per chunk"
    )
    parser.add_argument(
        "--format", choices=("json", "table"), default="json", help="output format (default: json lines)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="also say, on stderr, why each event matched or not"
    )
    parser.add_argument(
        "--now",
        type=parse_now,
        metavar="TIME",
        help="the clock for reportDeliveryEvent's default timestamp: Unix seconds or ISO-8601 (UTC if no zone)",
    )
    parser.set_defaults(func=run)


def parse_now(text: str) -> float:
    """--now: Unix seconds (`1709642096`) or an ISO-8601 time (`2024-03-05T12:34:56Z`; UTC when
    it names no zone)."""
    import datetime as dt

    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not abs(seconds) <= _DATE_RANGE_SECONDS:  # NaN too
            raise argparse.ArgumentTypeError(
                f"must be Unix seconds within JavaScript's Date range (±{_DATE_RANGE_SECONDS:,}), got {text!r}"
            )
        return seconds
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be Unix seconds or an ISO-8601 time (2024-03-05T12:34:56Z), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


_DATE_RANGE_SECONDS = 8_640_000_000_000
"""A JavaScript Date holds times up to 8.64e15 ms either side of 1970 (ECMA-262 §21.4.1.22)."""


def run(args: argparse.Namespace) -> int:
    from sandbox.pipeline import plan, trace
    from sandbox.replay.config import load_config, settings_from_dict, subscriptions_from_list

    if args.settings is not None and args.config is not None:
        raise InputError("give --settings FILE or --config FILE, not both")
    source = "<stdin>" if args.input == "-" else args.input
    config = load_config(args.config) if args.config is not None else None
    chosen = selection(args)
    parallel = is_parallel(args)
    if parallel:
        _check_parallel(args, config)
    files: list[str] = []
    events_from: Any = None
    stream_input = args.input
    if config is None and args.settings is None and _holds_events(args.input):
        raise InputError(
            "holds events, not a plan document: give --config FILE or --settings FILE", args.input
        )
    if config is not None or args.settings is not None:
        # events, read as `run` reads its EVENTS (a file, `-`, a directory, an archive, a URL)
        from sandbox.replay.events import input_files

        files = input_files([args.input], chosen)
        events_from = _events_of(files)
        stream_input = os.devnull
    with _open(stream_input) as stream:
        batch = bool(args.batch)
        subscriptions: Any = None
        if config is not None:
            settings = config.settings
            events: Any = events_from
            subscriptions_data: Any = None
            if not config.is_default:
                subscriptions = list(config.subscriptions)
            batch = batch or config.batch
        elif args.settings is not None:
            settings = settings_from_dict(_load_json_file(args.settings), args.settings)
            events = events_from
            subscriptions_data = None
        else:
            document = _load_json(_read_all(stream, source), source)
            if not isinstance(document, dict) or "events" not in document:
                raise InputError(
                    'expected a plan document {"settings", "events", ...}; for JSON-lines events give --settings FILE',
                    source,
                )
            unknown = sorted(set(document) - {"settings", "events", "subscriptions", "batch"})
            if unknown:
                raise InputError(f"unknown key {unknown[0]!r} in the plan document", source)
            if "settings" not in document:
                raise InputError("the plan document has no settings (or give --settings FILE)", source)
            settings = settings_from_dict(document["settings"], source)
            events = document["events"]
            if not isinstance(events, list):
                raise InputError("events must be a JSON array", source)
            for index, event in enumerate(events):
                if not isinstance(event, dict):
                    raise InputError(
                        f"events[{index}]: an event must be a JSON object, got {json_kind(event)}", source
                    )
            subscriptions_data = document.get("subscriptions")
            flag = document.get("batch", False)
            if not isinstance(flag, bool):
                raise InputError("batch must be true or false", source)
            batch = batch or flag
        sub_file = source
        if args.subscriptions is not None:
            subscriptions_data = _load_json_file(args.subscriptions)
            sub_file = args.subscriptions
        if isinstance(subscriptions_data, dict) and "subscriptions" in subscriptions_data:
            subscriptions_data = subscriptions_data["subscriptions"]
        if subscriptions_data is not None:
            if not isinstance(subscriptions_data, list):
                raise ConfigError("subscriptions must be a JSON array", sub_file)
            subscriptions = list(subscriptions_from_list(subscriptions_data, sub_file))
        if subscriptions is not None:
            from sandbox.commands.lint import warn

            warn("plan", sub_file if subscriptions_data is not None else str(args.config), subscriptions)

        if args.explain:
            events = _explaining(events, settings, subscriptions, trace)
        out = sys.stdout
        if parallel:
            _plan_on_dask(args, files, settings, subscriptions, out, batch)
            out.flush()
            return 0
        if args.format == "table":
            if batch:
                events = _held(events)
            _print_table(plan(events, settings, subscriptions, batch=batch, now=args.now), out)
        elif batch:
            _write_batch(events, settings, subscriptions, out, args.now)
        else:
            # Standard input may be a live stream: answer each event as it comes.
            lines = single_mode_lines(events, settings, subscriptions, now=args.now)
            write_lines(lines, out, 1 if args.input == "-" else LINES_PER_WRITE)
        out.flush()
    return 0


BATCH_HELD = 50_000
"""Batch mode holds this many events at most: a shorter input is planned whole (`plan`), a
longer one streamed (`write_batch_streamed`: a chunk per subscription held, the lines spooled).
The same lines either way; holding is about 7% cheaper per event for a small input, and streaming
keeps memory flat for a large one (1,000,000 events: 40 MB instead of 1.6 GB, and 4% faster)."""


def _write_batch(
    events: Iterable[Any], settings: Any, subscriptions: Any, out: IO[str], now: float | None
) -> None:
    """Batch mode's JSON lines to `out` (see BATCH_HELD)."""
    from itertools import chain, islice

    from sandbox.pipeline import plan

    stream = iter(events)
    head = _held(islice(stream, BATCH_HELD))
    if len(head) < BATCH_HELD:
        write_lines(
            map(LineEncoder(), plan(head, settings, subscriptions, batch=True, now=now)), out, LINES_PER_WRITE
        )
    else:
        write_batch_streamed(chain(head, stream), settings, subscriptions, out, now=now)


def _held(events: Iterable[Any]) -> list[Any]:
    """The events batch mode holds (`_write_batch`, `--format table`), read before it starts,
    held apart from the cyclic collector (`collector_paused`)."""
    with collector_paused():
        return list(events)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused, then move everything alive out of
    its reach (`gc.freeze`): for a block that builds a large structure to keep to the end and
    makes no reference cycles (batch mode's events, a batch plan's results on Dask). Otherwise
    each full collection walks everything kept so far again, a few times over as the heap grows.
    Freed memory is unaffected: reference counting frees it."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
    gc.freeze()


# -- on Dask -------------------------------------------------------------------------------------


def _check_parallel(args: argparse.Namespace, config: Any) -> None:
    flag = "--scheduler" if args.scheduler is not None else "--workers"
    if config is None and args.settings is None:
        raise InputError("needs events with --config FILE or --settings FILE (not a plan document)", flag)
    if args.input == "-":
        raise InputError("needs files to partition, not standard input", flag)
    if args.explain or args.format != "json":
        raise InputError("writes JSON lines only (no --explain, no --format table)", flag)


def _plan_on_dask(
    args: argparse.Namespace, files: list[str], settings: Any, subscriptions: Any, out: IO[str], batch: bool
) -> None:
    import shutil
    import tempfile

    from sandbox.replay.keypass import absolute_paths
    from sandbox.replay.parallel import Partitions, connect, plan_parallel, plan_parallel_batch, write_chunks

    client, cluster = connect(args.workers, args.scheduler)
    # a local cluster's workers write each partition's plan to a file the driver reads; an
    # existing cluster's workers have a working directory of their own, so get absolute paths
    spool = tempfile.mkdtemp(prefix="cio-sandbox-plan-") if cluster is not None else None
    if cluster is None:
        files = absolute_paths(files)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" events", file=sys.stderr, mininterval=0.2, leave=False, dynamic_ncols=True)
    try:
        workers = (
            max(1, len(client.scheduler_info().get("workers") or ())) if cluster is None else args.workers
        )
        partitions = Partitions(files, client, in_flight=2 * workers, spool=spool)
        progress = bar.update if bar is not None else None
        if batch:
            positioned = plan_parallel_batch(
                partitions, settings, subscriptions, now=args.now, progress=progress
            )
            write_by_subscription(positioned, out)
        else:
            chunks = plan_parallel(partitions, settings, subscriptions, now=args.now, progress=progress)
            write_chunks(chunks, out)
    finally:
        if bar is not None:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)


# -- input ---------------------------------------------------------------------------------------


def _holds_events(path: str) -> bool:
    """INPUT that can only be events (a directory, an archive, a URL, a gzipped file), not a plan document."""
    from sandbox.replay.archive import is_url

    return path != "-" and (is_url(path) or os.path.isdir(path) or path.endswith(".gz"))


def _events_of(files: list[str]) -> Iterator[Any]:
    """The events of `files` in order (`-`: standard input), as `run` reads them."""
    from sandbox.replay.events import read_file_events

    for file in files:
        yield from read_file_events(file)


class _open:
    """Open INPUT (or stdin for `-`), turning OS errors into InputError."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stream: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        if self.path == "-":
            return sys.stdin
        try:
            self.stream = open(self.path, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", self.path) from None
        return self.stream

    def __exit__(self, *exc: object) -> None:
        if self.stream is not None:
            self.stream.close()


def _read_all(stream: IO[str], source: str) -> str:
    try:
        return stream.read()
    except UnicodeDecodeError as exc:
        raise InputError(f"byte {exc.start}: not UTF-8 text", source) from None
    except OSError as exc:  # a directory given as INPUT, ...
        raise InputError(f"cannot read: {exc.strerror or exc}", source) from None


def _load_json_file(path: str) -> Any:
    with _open(path) as stream:
        return _load_json(_read_all(stream, path), path)


def _load_json(text: str, source: str, line_offset: int = 0) -> Any:
    try:
        return js_json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {exc.lineno + line_offset}, column {exc.colno}: {exc.msg}", source) from None
    except ValueError as exc:  # NaN or Infinity, which JSON.parse refuses
        raise InputError(str(exc), source) from None
    except RecursionError:
        raise InputError("the document is nested too deeply", source) from None


def _explaining(events: Any, settings: Any, subscriptions: Any, trace: Any) -> Iterator[Any]:
    """Pass events through, writing to stderr why each subscription matched or not."""
    err = sys.stderr
    for index, event in enumerate(events):
        if isinstance(event, dict):
            for sub in trace(event, settings, subscriptions).subscriptions:
                verdict = "matched" if sub.matched else "not matched"
                err.write(f"event {index}: {sub.subscription.name} ({sub.action}): {verdict}\n")
                for check in sub.checks:
                    mark = "ok " if check.passed else "NO "
                    err.write(
                        f"    {mark}{check.text}  (actual: {escape_lone_surrogates(json.dumps(check.actual, ensure_ascii=False, default=repr))})\n"
                    )
        yield event


def _print_table(lines: Any, out: IO[str]) -> None:
    rows = [("EVENT", "SUBSCRIPTION", "ACTION", "RESULT")]
    for line in lines:
        index = line.event_index
        where = ",".join(map(str, index)) if isinstance(index, tuple) else str(index)
        if line.error is not None:
            result = f"ERROR {getattr(line.error, 'message', str(line.error))}"
        else:
            req = line.request
            body = req.body if isinstance(req.body, dict) else {}
            what = body.get("action") or ("metric " + str(body.get("metric")) if "metric" in body else "")
            if "batch" in body:
                what = f"{len(body['batch'])} items"
            result = f"{req.method} {req.url} {what}".rstrip()
        rows.append((where, line.subscription, line.action, result))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] + "\n")
