"""The pytest plugin (entry point cio_mock) and the assertion helpers, run in pytester sessions.

The plugin is active through its entry point (`pip install -e .`), so the inner sessions get it
the way a user's suite would; the failure output of each helper is checked line by line.
"""

from __future__ import annotations

import pytest

from mock_cio import assertions
from mock_cio.assertions import ABSENT, mismatches

pytest_plugins = ["pytester"]

HEADER = """
import pytest, requests
from customerio import CustomerIO
US = "https://track.customer.io"
def client():
    return CustomerIO("site1", "key1", backoff_factor=0)
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(HEADER + body)
    # A subprocess, as a user's suite: the plugin comes from its entry point. (In-process runs
    # re-import requests' modules and break its cookie classes.)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_the_fixture_is_registered_by_its_entry_point(pytester):
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(
        [
            "cio_mock_config -- *mock_cio/pytest_plugin.py*",
            "cio_mock -- *mock_cio/pytest_plugin.py*",
            "*active `mock_cio.intercept()`*",
        ]  # fmt: skip
    )


PASSING = """
from customerio import CustomerIOException
from mock_cio.assertions import ABSENT, assert_person, assert_event, assert_requests, assert_no_rejections

def test_marker_is_declared(request):
    assert any(m.startswith("cio_mock(**config)") for m in request.config.getini("markers"))

def test_one(cio_mock):
    client().identify("u1", plan="pro")
    cio_mock.assert_person("u1", attributes={"plan": "pro"})
    assert len(cio_mock.requests()) == 1

def test_two_gets_a_fresh_mock(cio_mock):
    assert cio_mock.people() == [] and cio_mock.requests() == []

def test_network_is_refused(cio_mock):
    with pytest.raises(requests.ConnectionError):
        requests.get("https://example.com/")

def test_config_fixture(cio_mock):
    assert cio_mock.clock.now() == 1_700_000_000
    with pytest.raises(CustomerIOException, match="401"):
        CustomerIO("site1", "wrong").identify("u1")

@pytest.mark.cio_mock(CIO_NOW="2024-01-01T00:00:00Z")
def test_marker_overrides(cio_mock):
    assert cio_mock.clock.now() == 1_704_067_200

@pytest.mark.cio_mock(hosts=["localhost:9"])
def test_marker_hosts(cio_mock):
    assert requests.put("https://localhost:9/api/v1/customers/u1", json={}, auth=("s", "k")).status_code == 200

@pytest.mark.cio_mock("positional")
def test_bad_marker(cio_mock):
    pass

def test_passing_helpers(cio_mock):
    c = client()
    c.identify("u1", email="u1@example.com", plan="pro")
    c.track("u1", "purchase", {"total": 3})
    c.track("u1", "purchase", {"total": 5})
    c.add_device("u1", "tok1", "ios")
    c.track_anonymous("a1", "viewed")
    cio_mock.assert_person("u1", attributes={"plan": "pro", "city": ABSENT},
                           identifiers={"email": "u1@example.com"},
                           events=["purchase", {"name": "purchase", "data": {"total": 5}}],
                           devices=[{"token": "tok1", "platform": "ios"}], exact_events=True)
    cio_mock.assert_event("u1", "purchase", count=2)
    cio_mock.assert_event("u1", "purchase", data={"total": 3}, merged_from_anonymous=False)
    cio_mock.assert_event(None, "viewed", anonymous_id="a1")
    cio_mock.assert_requests(count=4, path="/api/v1/customers/u1*", status=200)
    cio_mock.assert_requests(count=1, method="PUT", body={"plan": "pro"})
    cio_mock.assert_requests(count=5, status="2xx")
    cio_mock.assert_no_rejections()
    cio_mock.assert_no_person("u2")
    # The same helpers as plain functions, on the handle, the MockCio or the app.
    assert_person(cio_mock.mock, "u1", attributes={"plan": "pro"})
    assert_event(cio_mock.app, "u1", "purchase")
    assert_requests(cio_mock, path="/api/v1/events")
    assert_no_rejections(cio_mock.mock)
"""


def test_fixture_marker_config_and_passing_helpers(pytester):
    pytester.makeconftest(
        """
import pytest
@pytest.fixture
def cio_mock_config(request):
    if request.node.name in ("test_config_fixture", "test_marker_overrides"):
        return {"CIO_NOW": 1_700_000_000, "CIO_WORKSPACES": {"site1": {"api_key": "key1"}}}
    return {}
"""
    )
    result = run(pytester, PASSING, "-rE")
    result.assert_outcomes(passed=8, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_bad_marker*", "*keyword arguments only, got ('positional',)"]
    )


FAILING = """
def test_person_attributes(cio_mock):
    client().identify("u1", plan="free", city="Oslo")
    cio_mock.assert_person("u1", attributes={"plan": "pro", "age": 30, "city": "Oslo"})

def test_person_missing(cio_mock):
    client().identify("u1")
    client().identify("u2")
    cio_mock.assert_person("u3", attributes={})

def test_person_events(cio_mock):
    client().track("u1", "purchase", {"total": 3})
    cio_mock.assert_person("u1", events=[{"name": "purchase", "data": {"total": 4}}])

def test_no_rejections(cio_mock):
    client().identify("u1")
    requests.post(US + "/api/v1/customers/u1/events", json={"name": ""}, auth=("site1", "key1"))
    requests.put(US + "/api/v1/customers/u1", json={}, auth=None)
    cio_mock.assert_no_rejections()

def test_requests(cio_mock):
    client().identify("u1")
    client().track("u1", "e")
    cio_mock.assert_requests(count=2, path="/api/v1/customers/u1")

def test_event_data(cio_mock):
    client().track("u1", "purchase", {"total": 3, "currency": "EUR"})
    cio_mock.assert_event("u1", "purchase", data={"total": 4})

def test_event_name(cio_mock):
    client().track("u1", "purchase")
    cio_mock.assert_event("u1", "refund")

def test_event_anonymous(cio_mock):
    cio_mock.assert_event(None, "viewed", anonymous_id="a1")
"""


def failure_of(result: pytest.RunResult, test: str) -> list[str]:
    """The `E` lines of one test's failure section."""
    text = result.stdout.str()
    section = text.split(f"_ {test} _", 1)[1].split("\n___", 1)[0]
    return [line for line in section.splitlines() if line.startswith("E ")]


def test_failures_print_readable_diffs(pytester):
    result = run(pytester, FAILING)
    result.assert_outcomes(failed=8)

    lines = failure_of(result, "test_person_attributes")
    text = "\n".join(line[1:].strip() for line in lines)
    assert text.startswith("AssertionError: person 'u1' does not match:\n"), text
    assert '- attributes.plan: expected "pro", got "free"' in text
    assert "- attributes.age: expected 30, but the key is missing" in text
    assert "attributes.city" not in text  # keys that match are not problems
    assert "diff (expected vs actual, actual cut to the expected keys):\n--- expected\n+++ actual" in text
    assert '-    "plan": "pro"\n+    "plan": "free"' in text

    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_person_missing"))
    assert text == 'AssertionError: no person \'u3\'\n- the mock has 2 person(s): ["u1", "u2"]'

    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_person_events"))
    assert (
        '- events[0]: no item matches {"data": {"total": 4}, "name": "purchase"} (of 1 item(s)); '
        "nearest is item 0: data.total: expected 4, got 3"
    ) in text
    assert '-        "total": 4\n+        "total": 3' in text

    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_no_rejections"))
    assert text.startswith("AssertionError: expected no rejected requests, got 2:\n- #"), text
    assert "POST /api/v1/customers/u1/events -> 400 (" in text
    assert "PUT /api/v1/customers/u1 -> 401 (" in text

    lines = [line[1:].rstrip() for line in failure_of(result, "test_requests")]
    assert lines[0].strip() == (
        "AssertionError: expected 2 request(s) matching path='/api/v1/customers/u1'; 1 matched. "
        "The journal holds 2 (* = matched):"
    )
    assert lines[1].strip().startswith("* #") and lines[1].endswith("PUT /api/v1/customers/u1 -> 200")
    assert lines[2].strip().startswith("#") and lines[2].endswith("POST /api/v1/customers/u1/events -> 200")

    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_event_data"))
    assert text.startswith(
        'AssertionError: expected at least one event(s) {"data": {"total": 4}, "name": "purchase"} '
        "on person 'u1', found 0; nearest event named 'purchase':\n- data.total: expected 4, got 3"
    ), text
    assert '-    "total": 4\n+    "total": 3' in text

    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_event_name"))
    assert text.endswith("- person 'u1' has events: [\"purchase\"]"), text
    text = "\n".join(line[1:].strip() for line in failure_of(result, "test_event_anonymous"))
    assert text.endswith("- anonymous id 'a1' has no events"), text


# ---------------------------------------------------------------------- the matcher itself


def test_mismatches_examples():
    assert mismatches({"a": 1}, {"a": 1, "b": 2}) == []
    assert mismatches({"a": ABSENT}, {"a": 1}) == ["a: expected no such key, got 1"]
    assert mismatches({"a": ABSENT}, {}) == []
    assert mismatches(1, 1.0) == []
    assert mismatches(True, 1) == ["(top): expected true, got 1"]
    assert mismatches({"a": {"b": 1}}, {"a": 3}) == ["a: expected an object, got 3"]
    # Each expected item needs its own actual item, whatever the order.
    assert mismatches([{"n": 1}, {"n": 1}], [{"n": 1}, {"n": 2}]) != []
    assert mismatches([{"n": 2}, {"n": 1}], [{"n": 1}, {"n": 2}]) == []
    # Matching is a real assignment: {} first must not steal the only {"n": 1}.
    assert mismatches([{}, {"n": 1}], [{"n": 1}, {"n": 2}]) == []


def test_a_source_without_views_is_a_type_error():
    with pytest.raises(TypeError, match="assertion source"):
        assertions.assert_person(object(), "u1")


def test_failures_point_at_the_users_test_not_the_helpers(pytester):
    """The helpers hide their own frames (`__tracebackhide__`): a failure shows the line of the
    user's test that asserted, not the helper's body and locals."""
    result = run(pytester, FAILING)
    result.assert_outcomes(failed=8)
    text = result.stdout.str()
    for test in ("test_person_attributes", "test_no_rejections", "test_requests", "test_event_name"):
        section = text.split(f"_ {test} _", 1)[1].split("\n___", 1)[0]
        assert "mock_cio/assertions.py" not in section and "mock_cio/intercept.py" not in section, section
        assert "def _fail(" not in section and "raise AssertionError" not in section, section
        assert "test_failures_point_at_the_users_test_not_the_helpers.py:" in section, section
        pointed = [line for line in section.splitlines() if line.startswith(">")]
        assert pointed and all("cio_mock.assert_" in line for line in pointed), pointed
