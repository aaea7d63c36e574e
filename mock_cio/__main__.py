"""`python -m mock_cio`: the mock Customer.io (Track API, App API sends, admin API) alone, on a real socket.

Where it sits: the command-line door to mock_cio/server.py. It builds the mock app from the
options (`--db`, `--workspace`, `--now`) and serves it (`--host`, `--port`, `--tls`) until SIGINT
or SIGTERM. `cio-sandbox serve` takes the same options and serves the sandbox's combined app.

Exit status: 0 after a clean stop, 2 when the options or the database cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from mock_cio.errors import MockError


def build_parser() -> argparse.ArgumentParser:
    from mock_cio.server import add_arguments

    parser = _Parser(
        prog="python -m mock_cio",
        description="Serve the mock Customer.io Track API (both hosts' paths), the App API's transactional "
        "sends (/v1/send/...) and its /_mock/ admin API.",
    )
    add_arguments(parser)
    return parser


class _Parser(argparse.ArgumentParser):
    """A usage error on one line, as the server's other errors (not argparse's usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from mock_cio.app import create_app
    from mock_cio.server import app_config, limits_from, run

    try:
        app = create_app(app_config(args))
        mock = app.extensions["mock_cio"]
        return run(app, host=args.host, port=args.port, tls=args.tls, tls_dir=args.tls_dir,
                   on_close=mock.close, extra=f", journal {args.db}", limits=limits_from(args))  # fmt: skip
    except MockError as exc:
        print(f"python -m mock_cio: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
