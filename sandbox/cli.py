"""The `cio-sandbox` command line: one subcommand per module in `sandbox.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the parser default. Exit status: 0 when the command ran,
2 with a one-line message for unusable input, 1 for a failed check.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from sandbox.errors import SandboxError

COMMANDS = ("plan", "run", "serve", "init", "snapshot", "check", "diff", "lint", "migrate")
"""Every subcommand, in the order `--help` lists them."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with `only` that one (so `plan` does not import the
    server's modules: start-up time is part of what `plan` costs)."""
    parser = _Parser(
        prog="cio-sandbox",
        description="Test Segment's Customer.io (Actions) destination offline.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"sandbox.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sandbox.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with a usage error on one line (the flag and what is wrong with it, and
    where the help is) instead of the whole usage block before it, as every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """argparse's, and an empty path refused: `""` would be the current directory (`plan ""`
        would read its event files, `--config ""` say it is a directory)."""
        parsed, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            if action.metavar in _PATH_METAVARS:
                value = getattr(parsed, action.dest, None)
                if value == "" or (isinstance(value, list) and "" in value):
                    name = "/".join(action.option_strings) or str(action.metavar)
                    self.error(f"argument {name}: needs a path, got ''")
        return parsed, extras


_PATH_METAVARS = frozenset(("FILE", "DIR", "EVENTS", "INPUT", "OLD", "NEW", "PATH"))
"""The metavars of the arguments that name a file or a directory."""


class _Version(argparse.Action):
    """--version, with the version read only when asked (importlib.metadata costs every command
    15 ms of start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from sandbox.actions import EMULATED_DESTINATION

        print(f"cio-sandbox {version()} (emulates {EMULATED_DESTINATION})")
        parser.exit()


def version() -> str:
    """The installed package's version (its metadata, written from pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("cio-sandbox")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Events may hold lone surrogates (JSON allows them, UTF-8 cannot encode them): a report that
    # shows one writes it as the escape `\udxxx` (in a JSON text, the same string) rather than fail.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    try:
        return int(args.func(args))
    except SandboxError as exc:
        print(f"cio-sandbox {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def entry() -> NoReturn:
    """The process's entry point (`cio-sandbox`, `python -m sandbox`): `main`, then the exit the
    interpreter makes (its threads waited for, its exit handlers run, the output flushed) without
    its teardown, which only frees, one object at a time, memory the process gives back anyway:
    about 0.2 s after `--workers` (Dask's modules), more after a large replay. mypy exits so for
    the same reason. `threading._shutdown` is the step the interpreter itself takes first: it
    stops idle executor threads (Dask's offload thread) and waits for every other thread."""
    code = main()
    getattr(threading, "_shutdown")()  # noqa: B009 - private: the interpreter's own first exit step
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away; a closed stream
            pass
    os._exit(code)
