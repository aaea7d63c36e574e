"""`cio-sandbox serve`: the local server — the mock Customer.io (Track and admin APIs), Segment's
Tracking API (`/v1/...`) and the inspector (`/`), composed by `sandbox.live.create_live_app`.

Where it sits: the one place (with `run`) where the sandbox meets mock_cio. It builds the WSGI app
(`build_app`), then runs it with mock_cio's live server (threaded, `--tls` with a local CA, graceful
stop on SIGINT/SIGTERM). Segment's Tracking API and the inspector join the app in `build_app`.

Options are those of `python -m mock_cio`: `--host` (default 127.0.0.1), `--port` (default 8787; 0
picks a free port), `--db FILE` (journal and state, restored on restart), `--tls`, `--tls-dir`,
`--workspace SITE_ID:API_KEY[:REGION]` (repeatable), `--now TIME`; plus `--config FILE` (settings
and subscriptions for events arriving on `/v1/...`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from mock_cio.errors import MockError
from mock_cio.server import add_arguments, app_config, limits_from, run

DESCRIPTION = """\
Serve, on one local port, everything your app and its tests talk to:

  /v1/...          Segment's HTTP Tracking API: point your Segment SDK here; each event goes
                   through your subscriptions and mappings (--config) into the mock below
  /api/v1, /api/v2 the mock Customer.io Track API (point the official Customer.io clients here)
  /_mock/...       the mock's admin API: state, journal, clock, reset, faults
  /                the inspector: every event, what was sent, what changed

Nothing leaves your machine. The journal and state live in --db (default ./cio-sandbox.db) and come
back on restart. Stop with Ctrl-C.

examples:
  cio-sandbox serve                                  # http://127.0.0.1:8787/
  cio-sandbox serve --config staging.toml --port 0   # a free port, printed at start
  cio-sandbox serve --tls                            # https; prints the CA file to trust
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the mock Customer.io, Segment's Tracking API and the inspector locally (http or https)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="settings and subscriptions (TOML) for /v1 events; default: ./cio-sandbox.toml, "
                        "else the 15 automatic presets")  # fmt: skip
    parser.add_argument("--delivery", choices=("once", "segment"), default="once",
                        help="once: send each request once (default); segment: Segment's retries in virtual "
                        "time, each attempt on the event's trace")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the mock's fault profile (the config's [faults]) and of the retries' jitter (default 0)")  # fmt: skip
    parser.add_argument("--compare-classic", action="store_true",
                        help="add the inspector's classic vs Actions view of each event (/events/ID/classic)")  # fmt: skip
    parser.set_defaults(func=serve)


def build_app(args: argparse.Namespace) -> tuple[Callable[..., Any], Callable[[], None]]:
    """The WSGI app to serve and what to call when the server stops."""
    from sandbox.live import create_live_app
    from sandbox.replay.config import load_config

    config = load_config(args.config)
    seed = getattr(args, "seed", 0)
    faults = {"CIO_FAULTS": config.faults, "CIO_FAULTS_SEED": seed} if config.faults is not None else {}
    app = create_live_app(
        {
            **app_config(args),
            **faults,
            **({"CIO_SEGMENTS": list(config.segments)} if config.segments else {}),
            **({"CIO_CAMPAIGNS": list(config.campaigns)} if config.campaigns else {}),
            **(
                {"CIO_SOURCE_TO": config.source_to}
                if config.source_to and not getattr(args, "source_to", None)
                else {}
            ),
            "SANDBOX_CONFIG": config,
            "SANDBOX_DELIVERY": getattr(args, "delivery", "once"),
            "SANDBOX_SEED": seed,
        }
    )
    if getattr(args, "compare_classic", False):
        from sandbox.classic.live import enable

        enable(app, config)
    return app, app.extensions["sandbox_live"].close


def startup_details(url: str, db: str, config: Any) -> str:
    """What the startup line adds after the URL: the journal file, where the inspector is and which
    config runs."""
    if config is None:
        used = "config: none"
    elif config.is_default:
        used = "config: none found, the 15 automatic presets"
    else:
        used = f"config {config.file} ({len(config.subscriptions)} subscription(s))"
    return f", journal {db}; inspector {url}/ · Segment SDKs {url}/v1 · {used}"


def serve(args: argparse.Namespace) -> int:
    try:
        app, close = build_app(args)
        config = getattr(app, "config", {}).get("SANDBOX_CONFIG")  # the Flask app's config
        return run(app, host=args.host, port=args.port, tls=args.tls, tls_dir=args.tls_dir,
                   on_close=close, extra=lambda url: startup_details(url, args.db, config),
                   limits=limits_from(args))  # fmt: skip
    except MockError as exc:
        print(f"cio-sandbox serve: {exc}", file=sys.stderr)
        return 2
