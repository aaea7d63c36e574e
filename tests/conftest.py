"""Shared fixtures and the Hypothesis profiles.

Fixtures: `track` (a fresh mock with a frozen clock, through mock_support.Track) and `live_client`
(a test client of the live server with an in-memory session). A test module's own fixture of the
same name wins where a test needs a different start.

HYPOTHESIS_PROFILE=ci (what .ci/run sets) gives a fixed, derandomized example budget, so CI
runs are deterministic; the default `dev` profile is quicker and random.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "fixtures"


def load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def track():  # -> mock_support.Track
    from mock_support import make

    return make()


@pytest.fixture
def live_client():
    """The live server (Tracking API, mock, inspector) as a Flask test client, session in memory."""
    from sandbox.live import create_live_app

    return create_live_app({"CIO_DB": ":memory:", "CIO_NOW": "2024-03-05T12:00:00Z"}).test_client()
