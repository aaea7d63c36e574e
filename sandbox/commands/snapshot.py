"""`cio-sandbox snapshot EVENTS --out FILE`: write a golden file for CI.

Replays EVENTS into a fresh in-process mock (the clock follows the events, so nothing depends on
when it runs) and writes what would be sent — each request's URL and body, the mock's answer —
and the mock's final state (people, objects, anonymous events, metrics) as stable, diffable JSON.
Commit the file; `cio-sandbox check EVENTS --against FILE` fails when a change alters it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

from sandbox.commands._replaying import (
    add_input_arguments,
    add_parallel_arguments,
    add_resume_argument,
    is_parallel,
    load,
    replay_partitioned,
    selection,
)
from sandbox.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="write the requests and final mock state of EVENTS as a golden file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    add_parallel_arguments(parser)
    add_resume_argument(parser)
    parser.add_argument("--out", metavar="FILE", required=True, help="the golden file to write; - for stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sandbox.replay.golden import render

    document = golden_document(args)
    text = render(document)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    write_atomically(args.out, text)
    requests = document["requests"]
    state = document["state"]
    print(
        f"wrote {args.out}: {len(requests)} request(s), {len(state.get('people') or [])} people, "
        f"{len(state.get('objects') or [])} objects",
        file=sys.stderr,
    )
    return 0


def golden_document(args: argparse.Namespace) -> dict[str, Any]:
    """The golden document of EVENTS: in this process, or partitioned with --workers / --scheduler
    / --resume DIR."""
    from sandbox.replay import golden
    from sandbox.replay.events import read_located

    config = load(args)
    batch = bool(args.batch or config.batch)
    if is_parallel(args) or args.resume is not None:
        merged = replay_partitioned(args, config, batch=batch, resume=args.resume)
        return golden.document(config, batch, merged.requests, merged.state)
    return golden.capture(read_located(args.events, selection(args)), config, batch=batch)


def write_atomically(path: str, text: str) -> None:
    """Write via a temporary file and a rename, so a failed run never leaves half a golden file."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".golden-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path) from None
