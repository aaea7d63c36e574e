"""`cio-sandbox serve` as a newcomer meets it: `--help` describes the server (not the module's
developer notes) and the startup line says where the inspector is and which config runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from live_support import start_server

CONFIG = """\
[[subscriptions]]
name = "Orders"
subscribe = 'event = "Order Completed"'
partnerAction = "trackEvent"
useDefaultMappings = true
"""


def test_help_describes_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--help"], capture_output=True, text=True, check=True
    )
    text = done.stdout
    assert "Serve, on one local port, everything your app and its tests talk to:" in text
    assert "/v1/..." in text and "the inspector" in text and "examples:" in text
    assert "Where it sits" not in text and "`sandbox.live.create_live_app`" not in text


def test_startup_line_gives_the_inspector_url_and_the_config(tmp_path: Path) -> None:
    config = tmp_path / "staging.toml"
    config.write_text(CONFIG, encoding="utf-8")
    with start_server(tmp_path, "--config", str(config), serve=True) as server:
        assert server.line == (
            f"mock Customer.io listening on {server.url}, journal {tmp_path / 'mock.db'}; "
            f"inspector {server.url}/ · Segment SDKs {server.url}/v1 · config {config} (1 subscription(s))"
        )
    with start_server(tmp_path, "--db", ":memory:", serve=True) as server:
        assert server.line.endswith("config: none found, the 15 automatic presets")
