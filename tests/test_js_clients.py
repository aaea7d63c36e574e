"""The official JavaScript clients, unmodified from npm (tests/js_clients: `npm ci --prefix
tests/js_clients`), against `cio-sandbox serve`:

- customerio-node (4.x on Debian's Node 20; 5.x needs Node >= 22) over `serve --tls`: every
  TrackClient method and the APIClient sends, then the mock's state;
- Segment's analytics.js (`@segment/analytics-next`'s own bundle) loaded by a local page in
  Debian's chromium (Playwright), set up as the README says: an anonymous page and track, then
  identify, track and group; the mock ends with one person, the anonymous events merged,
  `created_at` converted and the object relationship. Every request that is not to 127.0.0.1 is
  aborted, and the test fails if one was attempted.

Skipped on a machine without Node, chromium or the npm install; CI sets CIO_SANDBOX_REQUIRE_NODE=1
and CIO_SANDBOX_REQUIRE_BROWSER=1 (.ci/run), and there a skip is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from live_support import ROOT, Server, start_server

from mock_cio.remote import RemoteMock

CLIENTS = ROOT / "tests" / "js_clients"
NODE = shutil.which("node")
CHROMIUM = "/usr/bin/chromium"
BUNDLES = CLIENTS / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"


def _need(what: str, present: bool, variable: str) -> None:
    if present:
        return
    if os.environ.get(variable):
        pytest.fail(
            f"{what} is missing, and {variable}=1 says these tests must run (see the README's Quickstart)"
        )
    pytest.skip(f"{what} is missing (install it as the README's Quickstart does)")


def need_node() -> str:
    _need("node (Debian's nodejs)", NODE is not None, "CIO_SANDBOX_REQUIRE_NODE")
    _need("tests/js_clients/node_modules (npm ci --prefix tests/js_clients)",
          (CLIENTS / "node_modules" / "customerio-node").is_dir(), "CIO_SANDBOX_REQUIRE_NODE")  # fmt: skip
    assert NODE is not None
    return NODE


# -- customerio-node ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_tls(tmp_path_factory) -> Iterator[Server]:
    with start_server(
        tmp_path_factory.mktemp("js-tls"), "--tls", "--now", "1700000000", serve=True
    ) as server:
        yield server


def test_customerio_node_every_track_method_over_serve_tls(serve_tls):
    node = need_node()
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(serve_tls.ca)}
    result = subprocess.run([node, str(CLIENTS / "customerio_node.js"), serve_tls.url], cwd=CLIENTS, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    version = lines.pop(0)["answer"]
    assert version.startswith("4."), version  # what `npm ci` installs on Node 20 (5.x needs Node 22)
    failures = [line for line in lines if not line["ok"]]
    assert [f["call"] for f in failures] == ["track without a name"], failures  # the client's own check
    sends = [line for line in lines if line["call"].startswith("send")]
    assert len(sends) == 5 and all(set(s["answer"]) == {"delivery_id", "queued_at"} for s in sends)

    remote = RemoteMock(serve_tls.url, verify=str(serve_tls.ca))
    u1 = remote.person("u1")
    assert u1 is not None
    assert u1["attributes"]["plan"] == "pro" and u1["attributes"]["created_at"] == 1427241600
    names = [event["name"] for event in u1["events"]]
    assert "Purchased" in names and "/pricing" in names
    assert [device["token"] for device in u1["devices"]] == ["tok-2"]
    suppressed = [s["value"] for ws in remote.snapshot().values() for s in ws["suppressed"]]
    assert sorted(suppressed) == ["u2", "u2@example.com"]  # u3 was unsuppressed
    assert remote.person("u2") is None and remote.person("u3") is None  # suppressed; destroyed
    assert remote.person("u4") is None  # merged into u1
    assert [event["name"] for event in remote.anonymous_events()] == ["Viewed"]
    assert any(m["delivery_id"] == "d1" and m["metric"] == "opened" for m in remote.metrics())
    journal = remote.requests(limit=100)
    assert {entry["status"] for entry in journal} == {200}
    assert len([e for e in journal if e["path"].startswith("/v1/send/")]) == 5
    assert all(
        entry["headers"].get("User-Agent", "").startswith("Customer.io Node Client/4.") for entry in journal
    )


# -- analytics.js in chromium ---------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<script src="/analytics-next/bundles/index.js"></script></head>
<body><p>a local page</p>
<script>
// The README's set-up: analytics.js from a local copy, its CDN settings given (no CDN), and
// Segment.io's apiHost pointed at the sandbox.
const SANDBOX = "%(sandbox)s";
window.result = (async () => {
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load(
    {
      writeKey: "wk-browser",
      cdnURL: location.origin,
      cdnSettings: { integrations: { "Segment.io": { apiKey: "wk-browser", apiHost: SANDBOX + "/v1", protocol: "http" } } },
    },
    { integrations: { "Segment.io": { apiHost: SANDBOX + "/v1", protocol: "http" } } },
  );
  await analytics.page("Home", { path: "/" });
  await analytics.track("Product Viewed", { sku: "sku-123" });
  await analytics.identify("u-browser", { email: "browser@example.com", created_at: "Mar 25 2015" });
  await analytics.track("Order Completed", { total: 42 });
  await analytics.group("acme", { name: "Acme Inc" });
  return { anonymousId: analytics.user().anonymousId() };
})();
</script></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_page(tmp_path) -> Iterator[tuple[Path, str]]:
    """A local web app (another origin than the sandbox): its page and analytics.js's bundles."""
    site = tmp_path / "site"
    (site / "analytics-next").mkdir(parents=True)
    if BUNDLES.is_dir():
        shutil.copytree(BUNDLES, site / "analytics-next" / "bundles")
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(5)


def test_analytics_next_in_chromium_reaches_the_mock(tmp_path, web_page):
    _need("Debian's chromium", os.access(CHROMIUM, os.X_OK), "CIO_SANDBOX_REQUIRE_BROWSER")
    _need(
        "@segment/analytics-next (npm ci --prefix tests/js_clients)",
        BUNDLES.is_dir(),
        "CIO_SANDBOX_REQUIRE_NODE",
    )
    from playwright.sync_api import sync_playwright

    site, origin = web_page
    with start_server(tmp_path, "--now", "2024-03-05T12:00:00Z", serve=True) as sandbox:
        (site / "index.html").write_text(PAGE % {"sandbox": sandbox.url.split("://", 1)[1]})
        outside: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])  # fmt: skip
            try:
                context = browser.new_context()

                def only_local(route) -> None:  # type: ignore[no-untyped-def]
                    if urlsplit(route.request.url).hostname == "127.0.0.1":
                        route.continue_()
                    else:
                        outside.append(route.request.url)
                        route.abort()

                context.route("**/*", only_local)
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(f"{origin}/index.html")
                result = page.evaluate("window.result")
                page.wait_for_timeout(300)
                context.close()
            finally:
                browser.close()
        assert outside == [], f"the page tried to reach beyond 127.0.0.1: {outside}"
        assert errors == []

        remote = RemoteMock(sandbox.url)
        person = _settled(lambda: remote.person("u-browser"), lambda p: p and len(p.get("events", [])) >= 3)
        assert [p["identifiers"]["id"] for p in remote.people()] == ["u-browser"]
        assert person["attributes"]["created_at"] == 1427241600
        assert person["identifiers"]["email"] == "browser@example.com"
        names = {event["name"] for event in person["events"]}
        assert {
            "Product Viewed",
            "Order Completed",
        } <= names  # the anonymous track, merged, and the later one
        assert any(event.get("type") == "page" for event in person["events"])  # the anonymous page view
        assert remote.anonymous_events() == []
        (company,) = remote.objects()
        assert company["object_id"] == "acme"
        # A group's object, as the destination maps it, carries the visitor's anonymous id.
        assert company["attributes"] == {"anonymous_id": result["anonymousId"]}
        assert [r["identifiers"]["id"] for r in company["relationships"]] == ["u-browser"]
        trace_paths = {entry["path"] for entry in remote.requests(limit=100)}
        assert trace_paths, "nothing reached the mock"
        assert result["anonymousId"]


def _settled(read, ready, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """`read()` once `ready(value)`, polling (the browser's last sends may still be in flight)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not ready(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value
