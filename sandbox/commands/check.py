"""`cio-sandbox check EVENTS --against FILE`: fail when EVENTS no longer give the golden file.

Replays EVENTS exactly as `snapshot` does and compares the requests that would be sent and the
mock's final state with FILE. Exit 0 when equal; 1 with a unified diff (expected = the golden
file, actual = this replay) when anything differs, e.g. after a mapping change; 2 when the input,
the config or the golden file cannot be used. After a change you meant, run `snapshot` again.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sandbox.commands._replaying import (
    add_input_arguments,
    add_parallel_arguments,
    add_resume_argument,
    selection_words,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="compare the requests and final mock state of EVENTS with a golden file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    add_parallel_arguments(parser)
    add_resume_argument(parser)
    parser.add_argument("--against", metavar="FILE", required=True, help="the golden file (from snapshot)")
    parser.set_defaults(func=run)


def snapshot_command(args: argparse.Namespace) -> str:
    """The `snapshot` command that rewrites the golden file from this very replay: the same
    EVENTS, --config and --batch (quoted for a POSIX shell)."""
    import shlex

    words = ["cio-sandbox", "snapshot", *args.events, *selection_words(args)]
    if args.config is not None:
        words += ["--config", args.config]
    if args.batch:
        words.append("--batch")
    words += ["--out", args.against]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    from sandbox.commands.snapshot import golden_document
    from sandbox.replay import golden

    expected = golden.load(args.against)
    actual = golden_document(args)
    text = golden.diff(expected, actual, name=args.against)
    if not text:
        count = len(actual["requests"])
        print(f"{args.against}: matches ({count} request(s) and the final state)", file=sys.stderr)
        return 0
    out = sys.stdout
    try:
        out.write(f"{args.against}: the replay differs from the golden file:\n")
        for line in golden.explain(expected, actual):
            out.write(f"  {line}\n")
        out.write("\n")
        out.write(text)
        if not text.endswith("\n"):
            out.write("\n")
        out.write(f"\nIf the change is intended: {snapshot_command(args)}\n")
        out.flush()
    except BrokenPipeError:  # a reader that stopped early (`| head`): the verdict stands
        pass
    return 1
