"""Running a command line in this process, as a test sees it: its exit status (argparse's exits
too), its standard output and its standard error."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def invoke(
    entry: Callable[[list[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`entry(argv)`'s status, stdout and stderr (a usage error exits through SystemExit)."""
    try:
        code = entry(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err
