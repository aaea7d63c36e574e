"""The published destination as an oracle: one Node process (tests/reference/runner.js) per session.

`Reference` speaks the runner's JSON-lines protocol. `reference_outcome` and `sandbox_outcome` turn
one case (a subscription, settings, events, a mode) into the same comparable shape from each side:

    [{"events": [indexes], "skipped": bool, "error": [name, message] | None,
      "errors": {index: message}, "requests": [[method, url, headers, body text]]}]

Single mode: one entry per event. Batch mode: one entry for all events, with the per-event
validation messages in `errors` (the reference reports them in its multistatus; the sandbox as
error lines); actions without a batch form go event by event on both sides. Bodies are TEXT: the
bytes on the wire, key order and number spelling included.

Without Node or `npm ci --prefix tests/reference` the tests using this skip, unless
CIO_SANDBOX_REQUIRE_NODE=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

import sandbox
from sandbox.actions.presets import Subscription
from sandbox.errors import ConfigError, SandboxError
from sandbox.js import json as js_json
from sandbox.pipeline import compile_subscriptions

HERE = Path(__file__).parent / "reference"
RUNNER = HERE / "runner.js"
CASES_FILE = HERE / "regressions.json"
NOT_MATCHED = "Payload is either invalid or does not match the subscription"

with (HERE / "package.json").open(encoding="utf-8") as _file:
    DESTINATION_VERSION: str = json.load(_file)["dependencies"]["@segment/action-destinations"]


def missing_reason() -> str | None:
    """Why the reference cannot run here (None: it can)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    installed = HERE / "node_modules" / "@segment" / "action-destinations" / "package.json"
    if not installed.exists():
        return "the reference packages are not installed (npm ci --prefix tests/reference)"
    version = json.loads(installed.read_text(encoding="utf-8"))["version"]
    if version != DESTINATION_VERSION:
        return f"tests/reference has @segment/action-destinations {version}, not {DESTINATION_VERSION}: run npm ci"
    return None


def require_reference() -> None:
    """Skip (or, with CIO_SANDBOX_REQUIRE_NODE=1, fail) when the reference cannot run."""
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CIO_SANDBOX_REQUIRE_NODE") == "1":
        pytest.fail(f"CIO_SANDBOX_REQUIRE_NODE=1 but {reason}")
    pytest.skip(reason)


class ReferenceError(RuntimeError):
    """The runner failed (not the destination: its errors are answers)."""


class Reference:
    """A running tests/reference/runner.js (`modules`: another node_modules, for the drift script)."""

    def __init__(self, runner: Path = RUNNER, modules: Path | None = None) -> None:
        env = {**os.environ, "TZ": "UTC"}
        if modules is not None:
            env["CIO_REFERENCE_MODULES"] = str(modules)
        self._process = subprocess.Popen(
            ["node", str(runner)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=runner.parent,
        )
        self._next = 0
        self._lock = threading.Lock()

    def ask(self, line: dict[str, Any]) -> Any:
        """Send one request line and return its answer (ReferenceError on a runner failure).
        Values of type RawJSON are spliced into the line as the JSON text they are."""
        with self._lock:
            self._next += 1
            text = _splice({**line, "id": self._next})
            assert self._process.stdin is not None and self._process.stdout is not None
            try:
                self._process.stdin.write(text.encode("utf-8") + b"\n")
                self._process.stdin.flush()
                reply = self._process.stdout.readline()
            except BrokenPipeError:
                reply = b""
            if not reply:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise ReferenceError(f"the reference runner stopped: {stderr[-2000:]}")
            answer = json.loads(reply)
            if answer.get("id") != self._next:
                raise ReferenceError(f"answer out of order: {answer!r:.200}")
            if "fatal" in answer:
                raise ReferenceError(answer["fatal"])
            return answer["answer"]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


# -- one case, both sides ---------------------------------------------------------------------------
#
# A case: {"mode": "single" | "batch", "now": ms, "settings": {...},
#          "subscription": {"subscribe", "partnerAction", "mapping", "useDefaultMappings"},
#          "events": "<JSON text of the event list>"}
# The events travel as text so that both sides read the same characters: the reference with
# JSON.parse, the sandbox with sandbox.js.json.loads (JavaScript's numbers).


def reference_line(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "mode": case["mode"],
        "now": case["now"],
        "settings": case["settings"],
        "subscription": case["subscription"],
        "events": RawJSON(case["events"]),
    }


class RawJSON(str):
    """JSON text to splice into a request line as it is."""


def _splice(line: dict[str, Any]) -> str:
    raw = {key: value for key, value in line.items() if isinstance(value, RawJSON)}
    rest = {key: value for key, value in line.items() if not isinstance(value, RawJSON)}
    text = json.dumps(rest, ensure_ascii=True, allow_nan=False)
    for key, value in raw.items():
        text = text[:-1] + f", {json.dumps(key)}: {value}}}"
    return text


def ask_case(reference: Reference, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference's outcome for `case` (see the module docstring)."""
    return reference_outcome(reference.ask(reference_line(case)))


def _request(req: dict[str, Any]) -> list[Any]:
    headers = {name.lower(): value for name, value in req["headers"]}
    return [req["method"], req["url"], headers, req["body"]]


def _invalid_subscription(output: Any) -> bool:
    if not output or len(output) != 1:
        return False
    (item,) = output
    texts = (
        [item.get("output")]
        if "output" in item
        else [m.get("errormessage") for m in item.get("multistatus", [])]
    )
    return bool(texts) and all(str(text).startswith("Invalid subscription : ") for text in texts)


def reference_outcome(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if calls and all(_invalid_subscription(call["output"]) for call in calls):
        return [{"rejected": "subscribe"}]
    out = []
    for call in calls:
        entry: dict[str, Any] = {
            "events": call["events"],
            "skipped": False,
            "error": None,
            "errors": {},
            "requests": [_request(r) for r in call["requests"]],
        }
        if call["error"] is not None:
            entry["error"] = [call["error"]["name"], call["error"]["message"]]
        output = call["output"] or []
        if output == [{"output": "not subscribed"}]:
            entry["skipped"] = True
        for item in output:
            for index, status in enumerate(item.get("multistatus") or []):
                message = status.get("errormessage") if isinstance(status, dict) else None
                if status and status.get("status", 200) >= 400 and message != NOT_MATCHED:
                    entry["errors"][str(call["events"][index])] = message
        out.append(entry)
    return out


def _sandbox_request(req: sandbox.CioRequest) -> list[Any]:
    return [req.method, req.url, {k.lower(): v for k, v in req.headers.items()}, req.body_text()]


def sandbox_outcome(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The sandbox's outcome for `case`, through the public `sandbox.plan`."""
    events = js_json.loads(case["events"])
    settings = sandbox.Settings.from_dict(case["settings"])
    given = case["subscription"]
    sub = Subscription.from_dict({"name": "case", **given})
    now = case["now"] / 1000
    slug = given["partnerAction"]
    single = case["mode"] == "single" or not sandbox.ACTIONS[slug].has_batch
    groups = [[i] for i in range(len(events))] if single else [list(range(len(events)))]
    try:
        compile_subscriptions([sub])
    except ConfigError as exc:
        return _rejected(exc, sub, events, groups, single)
    out = []
    for indexes in groups:
        entry: dict[str, Any] = {
            "events": indexes,
            "skipped": False,
            "error": None,
            "errors": {},
            "requests": [],
        }
        chosen = [events[i] for i in indexes]
        lines = list(sandbox.plan(chosen, settings, [sub], batch=not single, now=now))
        if single:
            if not lines:
                entry["skipped"] = True
            for line in lines:
                if line.error is not None:
                    entry["error"] = [_error_name(line.error), _message(line.error)]
                elif line.request is not None:
                    entry["requests"].append(_sandbox_request(line.request))
        else:
            for line in lines:
                if line.error is not None and isinstance(line.event_index, tuple):
                    entry["error"] = [_error_name(line.error), _message(line.error)]  # the whole chunk
                elif line.error is not None and isinstance(line.event_index, int):
                    entry["errors"][str(indexes[line.event_index])] = _message(line.error)
                elif line.request is not None:
                    entry["requests"].append(_sandbox_request(line.request))
            if not _any_match(sub, chosen):
                entry["skipped"] = True
        out.append(entry)
    return out


def _rejected(
    exc: ConfigError, sub: Subscription, events: list[Any], groups: list[list[int]], single: bool
) -> list[dict[str, Any]]:
    """What the reference does with a subscription the sandbox refuses to compile.

    FQL: the reference answers "Invalid subscription : ..." for every event; the sandbox names
    the column in its own words (a deliberate difference: its message is the useful one), so
    only the refusal is compared. A mapping that mapping-kit's validate() rejects: the reference
    throws for each matching event (the whole batch in batch mode); see `agree`."""
    if exc.path == "subscribe":
        return [{"rejected": "subscribe"}]
    out: list[dict[str, Any]] = []
    for indexes in groups:
        matched = _any_match(sub, [events[i] for i in indexes])
        out.append({"events": indexes, "skipped": not matched, "rejected": "mapping"})
    return out


def agree(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> bool:
    """Whether the sandbox's outcome `got` is the reference's `want`. Equal, except where the
    sandbox refused the mapping when compiling it: then the reference must refuse every matching
    event (an error, no request); its message (an AggregateError that carries stack traces) is
    not compared."""
    if not any(entry.get("rejected") == "mapping" for entry in got):
        return got == want
    if len(got) != len(want):
        return False
    for ours, theirs in zip(got, want, strict=True):
        if ours["events"] != theirs.get("events") or ours["skipped"] != theirs.get("skipped"):
            return False
        if theirs.get("requests") or (not ours["skipped"] and theirs.get("error") is None):
            return False
    return True


def _any_match(sub: Subscription, events: list[Any]) -> bool:
    if sub.subscribe is None:
        return bool(events)
    from sandbox.subscriptions import matches, parse_subscription

    condition = parse_subscription(sub.subscribe)
    return any(matches(condition, event) for event in events)


def _message(error: SandboxError) -> str:
    message = getattr(error, "message", None)
    return message if isinstance(message, str) else str(error)


def _error_name(error: SandboxError) -> str:
    name = getattr(error, "name", None)
    return name if isinstance(name, str) else type(error).__name__
