"""The delivery model against the published actions-core: the request client's timeout and its
timeout error's status, and how Customer.io's answer becomes each event's result — a single
event's error carries the answer's status (what Segment's retry rule reads), and a batch's answer
is given to every event in it (a 207 is every event's success; an error fails the whole batch).

Runs Node (Debian's nodejs) on tests/delivery_oracle/answers.js with the npm project of
tests/reference (the published @segment/action-destinations and @segment/actions-core). Skipped
without them, unless CIO_SANDBOX_REQUIRE_NODE=1 and that project is part of the checkout (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sandbox.delivery import rules

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "reference"
MODULES = Path(os.environ.get("CIO_DELIVERY_ORACLE_MODULES") or PROJECT / "node_modules")
SCRIPT = ROOT / "tests" / "delivery_oracle" / "answers.js"
STATUSES = [200, 204, 207, 400, 401, 404, 408, 413, 423, 429, 500, 501, 502, 503, 504]


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    node = shutil.which("node")
    ready = node is not None and (MODULES / "@segment" / "actions-core").is_dir()
    if not ready:
        if os.environ.get("CIO_SANDBOX_REQUIRE_NODE") == "1" and (PROJECT / "package.json").is_file():
            pytest.fail(f"node and {MODULES} are needed (npm ci --prefix tests/reference)")
        pytest.skip("needs node and the npm project of tests/reference")
    assert node is not None
    got = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps({"modules": str(MODULES), "statuses": STATUSES}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert got.returncode == 0, got.stderr[-2000:]
    return json.loads(got.stdout)


def test_the_request_timeout_and_its_status_are_the_published_ones(reference: dict[str, Any]) -> None:
    assert reference["default_timeout_ms"] == rules.REQUEST_TIMEOUT * 1000
    assert reference["timeout_error_status"] == rules.TIMEOUT_STATUS


@pytest.mark.parametrize("status", STATUSES)
def test_a_single_events_result_carries_the_answers_status(reference: dict[str, Any], status: int) -> None:
    result = reference["single"][str(status)]
    decision = rules.decide(status, latency=0.0, sent_at=0.0, first_sent_at=0.0, attempt=1, u=0.5)
    if 200 <= status <= 299:
        assert result == {"ok": True} and decision.kind == "deliver"
    else:
        assert result["ok"] is False and result["status"] == status  # what Segment's rule reads
        assert decision.kind == ("retry" if rules.is_retryable(status) else "drop")


@pytest.mark.parametrize("status", STATUSES)
def test_a_batch_answer_is_every_events_answer(reference: dict[str, Any], status: int) -> None:
    result = reference["batch"][str(status)]
    if 200 <= status <= 299:
        assert result == {"statuses": [status] * 3}  # a 207 too: delivered, per-item errors unread
    else:
        assert result == {"thrown": status}  # the whole batch fails with the answer's status
