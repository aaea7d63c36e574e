"""`cio-sandbox lint [--config FILE]`: say what in the subscriptions cannot be meant.

Reads the configuration as `run` does (`--config FILE`, else ./cio-sandbox.toml, else the 15
automatic presets) and prints one line per warning: FQL that the destination accepts but reads
otherwise than written (`==`, single-quoted strings, skipped words, `and`/`or` without
parentheses), conditions that can never be true, and mappings that cannot fill their action
(a required field not mapped, a literal "$.x" string, a @path into a key Segment events lack).
`plan` and `run` print the same warnings on stderr before they start.

Exit status: 0 no warnings; 1 warnings (one line each on stdout); 2 the configuration cannot be
used (one line on stderr: the errors `run` would stop on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="warn about subscriptions and mappings that the destination accepts but cannot be meant",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings and subscriptions (TOML); default: ./cio-sandbox.toml, else the 15 presets",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sandbox.replay.config import load_config
    from sandbox.subscriptions.lint import lint_subscriptions

    config = load_config(args.config)
    warnings = lint_subscriptions(config.subscriptions)
    out = sys.stdout
    for warning in warnings:
        out.write(f"{config.file}: {warning}\n")
    count = len(config.subscriptions)
    if warnings:
        print(f"{config.file}: {len(warnings)} warning(s) in {count} subscription(s)", file=sys.stderr)
        return 1
    print(f"{config.file}: {count} subscription(s), no warnings", file=sys.stderr)
    return 0


def warn(command: str, file: str, subscriptions: Iterable[Any]) -> int:
    """Print the lint warnings of `subscriptions` on stderr, as `plan` and `run` do before they
    start; return how many there were."""
    from sandbox.subscriptions.lint import lint_subscriptions

    listed = list(subscriptions)
    where = f"{file}: " if file else ""
    if not listed:
        print(
            f"cio-sandbox {command}: warning: {where}no subscriptions, so no event sends anything "
            "(without a subscriptions list the 15 automatic presets apply)",
            file=sys.stderr,
        )
        return 1
    warnings = lint_subscriptions(listed)
    for warning in warnings:
        print(f"cio-sandbox {command}: warning: {where}{warning}", file=sys.stderr)
    return len(warnings)
