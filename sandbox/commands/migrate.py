"""`cio-sandbox migrate EVENTS`: what moving from the classic Customer.io destination to Customer.io
(Actions) changes, shown on your own events.

The events are replayed through a model of the classic (cloud-mode) destination and through the
Actions destination (the config's subscriptions, default the 15 presets; single mode) into two
fresh in-process mocks on the same clock. The report lists, per difference class, how many events
and people differ, their messageIds and an example (both requests side by side, both person views
after it), then whether the two mocks end in the same state. Events that end the same in both
give no difference: cio_ids, event ids and receipt times are normalised away (the report says so).

Exit status: 0 when the end states are the same, 1 when they differ, 2 for unusable input or config.
"""

from __future__ import annotations

import argparse
from typing import Any

from sandbox.commands._replaying import load, print_report, source_label


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="compare the classic Customer.io destination with Customer.io (Actions) on your events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "events",
        metavar="EVENTS",
        nargs="+",
        help="Segment events: JSON array, JSON lines or Segment API payloads; files, directories, - for stdin",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings and subscriptions of the Actions side (TOML); default as for run",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument(
        "--format", choices=("text", "markdown"), default="text", help="text (default) or markdown"
    )
    parser.add_argument(
        "--examples", type=int, default=1, metavar="N", help="examples shown per difference class (default 1)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sandbox.classic.migration import migrate
    from sandbox.classic.report import render_markdown, render_text
    from sandbox.errors import InputError
    from sandbox.replay.events import read_located

    if args.examples < 0:
        raise InputError("--examples must be 0 or more", "--examples")
    config = load(args)
    report = migrate(
        read_located(args.events), config, source=source_label(args.events), examples=args.examples
    )
    return print_report(args, report, render_text, render_markdown)
