"""Golden files: what a set of events makes the destination send, and the state it leaves in the mock.

It sits at the end of a replay, for CI: `cio-sandbox snapshot EVENTS --out FILE` writes a golden
file; `cio-sandbox check EVENTS --against FILE` replays again and fails with a unified diff when
anything differs. A golden file is JSON with sorted keys and two-space indents, one value per line,
so that a change in a mapping shows up as a small, readable diff in review.

Nothing volatile goes in: the replay runs against a fresh in-process mock whose clock follows the
events (`sandbox.replay.engine`, `clock="events"`, from `DEFAULT_START` when an event has no time), the
mock's ids come from per-workspace counters, credentials are left out (the settings' siteId and
region stay; the apiKey does not), and journal ids are dropped.

Format (`"format": "cio-sandbox golden 1"`):

    {"format", "mode": "single"|"batch", "settings": {"siteId", "accountRegion"},
     "requests": [{"events": [i, ...], "subscription", "action", "method", "url", "body",
                   "status", "response", "outcome", "reasons", "notes"}
                  | {"events": [i], "subscription", "action", "error": {"name", "message"}}],
     "state": {"people", "objects", "anonymous_events", "metrics"}}
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.errors import InputError
from sandbox.js.json import escape_lone_surrogates
from sandbox.js.values import JSON
from sandbox.pipeline import error_dict
from sandbox.replay.config import Config
from sandbox.replay.events import Located

FORMAT = "cio-sandbox golden 1"
VOLATILE_KEYS = frozenset({"journal_id"})


def capture(
    events: Iterable[Located | dict[str, JSON]], config: Config, *, batch: bool = False
) -> dict[str, JSON]:
    """Replay `events` into a fresh in-process mock and return the golden document."""
    from sandbox.replay.engine import DEFAULT_START, InProcessTarget, Replayer

    automation = {"CIO_SEGMENTS": list(config.segments), "CIO_CAMPAIGNS": list(config.campaigns)}
    target = InProcessTarget(config={"CIO_NOW": DEFAULT_START, **automation})
    replayer = Replayer(config, target, clock="events")
    requests: list[JSON] = []
    try:
        for record in replayer.run(events, batch=batch):
            requests.extend(entries(record))
        state = target.views()
        if config.segments or config.campaigns:  # only then, so other golden files keep their shape
            found = target.mock.automation
            state["segments"] = {
                str(s["id"]): [m["cio_id"] for m in found.members(s["id"])] for s in found.segments()
            }
            state["campaign_entries"] = found.entries()
    finally:
        target.close()
    return document(config, batch, requests, state)


def document(config: Config, batch: bool, requests: list[JSON], state: Mapping[str, Any]) -> dict[str, JSON]:
    """The golden document of a replay's request entries and final state."""
    settings = config.settings
    return {
        "format": FORMAT,
        "mode": "batch" if batch else "single",
        "settings": {"siteId": settings.site_id, "accountRegion": settings.region},
        "requests": requests,
        "state": _stable(state),
    }


def entries(record: Any) -> list[JSON]:
    """A record's lines of `requests`: its refused payloads, then its deliveries."""
    out: list[JSON] = []
    for invalid in record.invalid:
        out.append(
            {
                "events": [invalid.event_index],
                "subscription": invalid.subscription,
                "action": invalid.action,
                "error": error_dict(invalid.error),
            }
        )
    for delivery in record.deliveries:
        req = delivery.request
        out.append(
            {
                "events": list(delivery.event_indexes),
                "subscription": delivery.subscription,
                "action": delivery.action,
                "method": req.method,
                "url": req.url,
                "body": req.body,
                "status": delivery.status,
                "response": delivery.answer.body,
                "outcome": delivery.outcome,
                "reasons": list(delivery.reasons),
                "notes": list(delivery.notes),
            }
        )
    return out


def render(document: Mapping[str, JSON]) -> str:
    """The golden file's text: sorted keys, two-space indents, non-ASCII kept (a lone surrogate,
    which UTF-8 cannot hold, escaped as JSON.stringify escapes it), final newline."""
    return escape_lone_surrogates(json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False)) + "\n"


def load(path: str) -> dict[str, JSON]:
    """Read a golden file; InputError when it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"line {exc.lineno}, column {exc.colno}: {exc.msg} (not a golden file?)", path
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InputError(
            f'not a golden file of this version (expected "format": "{FORMAT}", found {json.dumps(found)}); '
            "write it again with cio-sandbox snapshot",
            path,
        )
    return document


def diff(expected: Mapping[str, JSON], actual: Mapping[str, JSON], *, name: str = "golden") -> str:
    """A unified diff of the two documents' renderings ('' when they are equal)."""
    if expected == actual:
        return ""
    lines = difflib.unified_diff(
        render(expected).splitlines(keepends=True),
        render(actual).splitlines(keepends=True),
        fromfile=f"{name} (expected)",
        tofile="replay (actual)",
        n=4,
    )
    return "".join(lines)


def explain(expected: Mapping[str, JSON], actual: Mapping[str, JSON]) -> list[str]:
    """One line per top-level difference, e.g. `requests: 3 of 12 differ, 1 more now`."""
    out: list[str] = []
    for key in ("mode", "settings"):
        if expected.get(key) != actual.get(key):
            out.append(f"{key}: {json.dumps(expected.get(key))} → {json.dumps(actual.get(key))}")
    old, new = expected.get("requests") or [], actual.get("requests") or []
    if old != new:
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
        text = f"requests: {len(changed)} of {len(old)} differ"
        if len(new) != len(old):
            text += f", {abs(len(new) - len(old))} {'more' if len(new) > len(old) else 'fewer'} now"
        out.append(text)
        for position in changed[:MAX_LISTED]:
            out.append(f"  request #{position}: {_describe_request(new[position])}")
        if len(changed) > MAX_LISTED:
            out.append(f"  ... and {len(changed) - MAX_LISTED} more")
    old_state, new_state = expected.get("state") or {}, actual.get("state") or {}
    for key in sorted(set(old_state) | set(new_state)):
        before, after = old_state.get(key) or [], new_state.get(key) or []
        if before == after:
            continue
        names = _changed_items(before, after)
        text = f"state: {key} differ"
        if names:
            shown = ", ".join(names[:MAX_LISTED]) + (
                f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
            )
            text += f" ({shown})"
        out.append(text)
    return out


MAX_LISTED = 5


def _describe_request(item: Any) -> str:
    if not isinstance(item, dict):
        return "?"
    events = ", ".join(str(i) for i in item.get("events") or [])
    return f"{item.get('subscription')} ({item.get('action')}) for event {events}"


def _changed_items(before: Any, after: Any) -> list[str]:
    """Names of the people/objects/... that differ, by their identifiers."""
    if not isinstance(before, list) or not isinstance(after, list):
        return []
    old = {_label(x): x for x in before}
    new = {_label(x): x for x in after}
    names = []
    for label in sorted(set(old) | set(new)):
        if label not in old:
            names.append(f"{label} added")
        elif label not in new:
            names.append(f"{label} gone")
        elif old[label] != new[label]:
            names.append(label)
    return names


def _label(item: Any) -> str:
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True)[:40]
    identifiers = item.get("identifiers")
    if isinstance(identifiers, dict):
        for key in ("id", "email", "cio_id"):
            if identifiers.get(key):
                return f"{key} {identifiers[key]}"
    if item.get("object_id") is not None:
        return f"object {item.get('object_type_id')}/{item['object_id']}"
    for key in ("anonymous_id", "delivery_id", "id"):
        if item.get(key) is not None:
            extra = f" event {item['id']}" if key == "anonymous_id" and item.get("id") is not None else ""
            return f"{key} {item[key]}{extra}"
    return json.dumps(item, sort_keys=True)[:40]


def _stable(value: Any) -> JSON:
    """Drop volatile keys; lists keep their order (the mock's views are ordered)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value
