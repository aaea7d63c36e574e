"""Schema-driven fuzzing (schemathesis) of the mock: no server error, every answer as documented.

Two documents drive it:

- the mock's own admin OpenAPI (`/_mock/openapi.json`, served by the app under test);
- Customer.io's published Track API OpenAPI, read from ../shared/spec at run time (never copied
  into the repository). Its path parameter `identifier` is a `oneOf` of three plain strings (id,
  email, cio_id): every string matches more than one branch, so no value satisfies the `oneOf`
  and nothing could be generated. It is read as the `anyOf` it means, in memory only.

Each operation gets a fixed budget of generated cases (`EXAMPLES`, Hypothesis derandomized by the
"ci" profile), sent in-process to the WSGI app with valid credentials. Two checks run on every
answer: `not_a_server_error` (no 5xx) and `response_schema_conformance` (a documented status
answers the documented JSON shape). The cases are counted; the count is printed at the end of the
session (`-s` shows it) and must reach `MIN_CASES`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from mock_support import T0, basic  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from shared_data import shared_path  # noqa: E402

from mock_cio import create_app  # noqa: E402

EXAMPLES = 20
"""Generated cases per operation (the CI budget)."""
SHARED = shared_path("spec", "customerio-track-openapi.json")
"""../shared beside the checkout, as in CI (tests/shared_data.py)."""
CHECKS = [not_a_server_error, response_schema_conformance]
COUNTS: dict[str, int] = {"admin": 0, "track": 0}
IDENTIFIER_PARAMETERS = ("track_customer_id", "trackEvent_customer_id")


def _track_document() -> dict[str, Any]:
    if not SHARED.exists():
        pytest.skip(f"Customer.io's Track OpenAPI is not at {SHARED} (CI has ../shared beside the checkout)")
    doc = json.loads(SHARED.read_text("utf-8"))
    doc = copy.deepcopy(doc)
    for name in IDENTIFIER_PARAMETERS:  # the unsatisfiable oneOf, read as the anyOf it means
        schema = doc["components"]["parameters"][name]["schema"]
        if "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
    return doc


APP = create_app({"CIO_NOW": T0})
ADMIN = schemathesis.openapi.from_wsgi("/_mock/openapi.json", APP)
TRACK = schemathesis.openapi.from_dict(_track_document()) if SHARED.exists() else None
if TRACK is not None:
    TRACK.app = APP
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@ADMIN.parametrize()
@FUZZ
def test_admin_api(case: Any) -> None:
    COUNTS["admin"] += 1
    case.call_and_validate(base_url="http://127.0.0.1:8787", checks=CHECKS)


if TRACK is not None:

    @TRACK.parametrize()
    @FUZZ
    def test_track_api(case: Any) -> None:
        COUNTS["track"] += 1
        _encode_query_marks(case)
        headers = {"Authorization": basic("fuzz-site", "fuzz-key")}
        case.call_and_validate(base_url="https://track.customer.io", headers=headers, checks=CHECKS)


def _encode_query_marks(case: Any) -> None:
    """A generated path parameter holding `?` or `#` is sent percent-encoded: Werkzeug's test
    client (schemathesis's WSGI transport) would otherwise read it as the start of a query."""
    for name, value in (case.path_parameters or {}).items():
        text = value if isinstance(value, str) else str(value)
        if "?" in text or "#" in text:
            case.path_parameters[name] = text.replace("?", "%3F").replace("#", "%23")


def test_zz_the_fuzzing_budget_was_spent() -> None:
    """Runs after the fuzz tests (file order): the case count, printed for the closing note."""
    total = COUNTS["admin"] + COUNTS["track"]
    print(f"\nschemathesis: {COUNTS['admin']} admin cases, {COUNTS['track']} Track API cases, {total} in all")
    if total == 0:
        pytest.skip("run with the fuzz tests to count their cases")
    assert COUNTS["admin"] >= 10 * EXAMPLES
