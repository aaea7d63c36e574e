"""Assertion helpers over the mock's views, whose failures say exactly what differs.

Where it sits: at the end of a test, after code under test has talked to the mock. Each helper
takes a *source* — an `intercept()` handle, the `cio_mock` fixture, a `MockCio`, a mock Flask app
or a `RemoteMock` (a live server's admin API) — reads the same JSON the admin API serves, and
raises `AssertionError` with a per-key "expected vs actual" listing plus a unified diff of the
pretty-printed JSON.

Matching is by subset (the style of pytest-httpserver's matchers): a dict matches when every
expected key matches (other keys are ignored); a list of expectations matches when each expected
item matches a different actual item (order ignored); `ABSENT` asserts that a key is missing;
anything else must be equal (`1 == 1.0`, as in JSON).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

JSON = Any

__all__ = [
    "ABSENT",
    "assert_campaign_entered",
    "assert_campaign_not_entered",
    "assert_event",
    "assert_in_segment",
    "assert_not_in_segment",
    "assert_no_person",
    "assert_no_rejections",
    "assert_person",
    "assert_requests",
    "mismatches",
]


class _Absent:
    """Expect a key to be missing (`attributes={"plan": ABSENT}`)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
_MAX_LISTED = 20
_PAGE = 10_000


# ---------------------------------------------------------------------- subset matching


def mismatches(expected: JSON, actual: JSON, where: str = "") -> list[str]:
    """Every way `actual` fails to contain `expected`, one line each (empty list: it matches).

    >>> mismatches({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}, "d": 4})
    ['b.c: expected 2, got 3']
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where or '(top)'}: expected an object, got {_show(actual)}"]
        out: list[str] = []
        for key, value in expected.items():
            path = f"{where}.{key}" if where else str(key)
            if value is ABSENT:
                if key in actual:
                    out.append(f"{path}: expected no such key, got {_show(actual[key])}")
            elif key not in actual:
                out.append(f"{path}: expected {_show(value)}, but the key is missing")
            else:
                out.extend(mismatches(value, actual[key], path))
        return out
    if isinstance(expected, list | tuple):
        if not isinstance(actual, list | tuple):
            return [f"{where or '(top)'}: expected a list, got {_show(actual)}"]
        return _list_mismatches(list(expected), list(actual), where)
    if _equal(expected, actual):
        return []
    return [f"{where or '(top)'}: expected {_show(expected)}, got {_show(actual)}"]


def _equal(expected: JSON, actual: JSON) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def _matches(expected: JSON, actual: JSON) -> bool:
    return not mismatches(expected, actual)


def _assignment(expected: list[JSON], actual: list[JSON]) -> list[int | None]:
    """For each expected item, the index of a distinct actual item it matches (a bipartite matching)."""
    fits = [[j for j, item in enumerate(actual) if _matches(want, item)] for want in expected]
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        place(i, set())
    result: list[int | None] = [None] * len(expected)
    for j, i in owner.items():
        result[i] = j
    return result


def _list_mismatches(expected: list[JSON], actual: list[JSON], where: str) -> list[str]:
    out = []
    for i, j in enumerate(_assignment(expected, actual)):
        if j is not None:
            continue
        path = f"{where}[{i}]"
        if not any(_matches(expected[i], item) for item in actual):
            near = _nearest(expected[i], actual)
            detail = "" if near is None else f"; nearest is item {near[0]}: " + "; ".join(near[1])
            out.append(f"{path}: no item matches {_show(expected[i])} (of {len(actual)} item(s)){detail}")
        else:
            out.append(f"{path}: {_show(expected[i])} matches only items already matched by others")
    return out


def _nearest(want: JSON, items: list[JSON]) -> tuple[int, list[str]] | None:
    scored = [(len(mismatches(want, item)), index) for index, item in enumerate(items)]
    if not scored:
        return None
    _, index = min(scored)
    return index, mismatches(want, items[index])


def _project(expected: JSON, actual: JSON) -> JSON:
    """`actual` cut down to the shape of `expected`, so that a diff shows only what was asked."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return {k: _project(v, actual[k]) for k, v in expected.items() if k in actual and v is not ABSENT} | {
            k: actual[k] for k, v in expected.items() if v is ABSENT and k in actual
        }
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        assigned = _assignment(list(expected), list(actual))
        out = []
        for want, j in zip(expected, assigned, strict=True):
            if j is not None:
                out.append(_project(want, actual[j]))
            else:
                near = _nearest(want, list(actual))
                out.append(None if near is None else _project(want, actual[near[0]]))
        return out
    return actual


def _plain(value: JSON) -> JSON:
    """`expected` as JSON (ABSENT keys dropped) for the diff."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not ABSENT}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _pretty(value: JSON) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=repr).splitlines()


def _show(value: JSON) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def _diff(expected: JSON, actual: JSON) -> str:
    lines = difflib.unified_diff(
        _pretty(_plain(expected)), _pretty(_project(expected, actual)), "expected", "actual", lineterm="", n=3
    )
    return "\n".join(lines)


def _fail(
    title: str,
    problems: list[str],
    expected: JSON = None,
    actual: JSON = None,
    *,
    diff: bool = True,
    bullet: str = "- ",
) -> None:
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    parts = [title]
    parts.extend(f"  {bullet}{p}" for p in problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        parts.append(f"  ... and {len(problems) - _MAX_LISTED} more")
    if diff and expected is not None:
        text = _diff(expected, actual)
        if text:
            parts.append("diff (expected vs actual, actual cut to the expected keys):")
            parts.append(text)
    raise AssertionError("\n".join(parts))


# ---------------------------------------------------------------------- sources


def _source(source: Any) -> Any:
    """Anything with the MockCio views: a handle, a MockCio, a Flask app with the extension."""
    extensions = getattr(source, "extensions", None)
    if isinstance(extensions, dict) and "mock_cio" in extensions:
        return extensions["mock_cio"]
    for name in ("person", "people", "requests", "anonymous_events"):
        if not callable(getattr(source, name, None)):
            raise TypeError(
                f"assertion source must be an intercept handle, MockCio, mock app or RemoteMock; "
                f"{type(source).__name__} has no {name}()"
            )
    return source


def _all_requests(mock: Any, **filters: JSON) -> list[dict[str, JSON]]:
    """Every journal entry matching `filters`, newest first (the views page at most 10,000)."""
    out: list[dict[str, JSON]] = []
    before: int | None = None
    while True:
        page = mock.requests(**filters, limit=_PAGE, before_id=before)
        out.extend(page)
        if len(page) < _PAGE:
            return out
        before = page[-1]["id"]


def _entry_line(entry: Mapping[str, JSON]) -> str:
    line = f"#{entry.get('id')} {entry.get('method')} {entry.get('path')} -> {entry.get('status')}"
    reasons = entry.get("reasons") or []
    if reasons:
        line += " (" + "; ".join(str(r) for r in reasons) + ")"
    return line


# ---------------------------------------------------------------------- the helpers


def assert_person(
    source: Any,
    identifier: str,
    *,
    site_id: str | None = None,
    attributes: Mapping[str, JSON] | None = None,
    events: Sequence[Mapping[str, JSON] | str] | None = None,
    devices: Sequence[Mapping[str, JSON] | str] | None = None,
    identifiers: Mapping[str, JSON] | None = None,
    relationships: Sequence[Mapping[str, JSON]] | None = None,
    exact_events: bool = False,
) -> dict[str, JSON]:
    """Assert that a person exists and contains what is expected; return the person.

    `attributes`, `identifiers`: subset of the person's; `events` / `devices`: each item (a dict
    subset, or a string: an event name / a device token) matches a different event / device;
    `exact_events=True` also requires that the person has no other events.
    """
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    person = _source(source).person(identifier, site_id)
    where = f" in workspace {site_id!r}" if site_id else ""
    if person is None:
        people = _source(source).people(site_id)
        known = [p.get("identifiers", {}).get("id") or p.get("identifiers", {}).get("email") for p in people]
        _fail(
            f"no person {identifier!r}{where}",
            [f"the mock has {len(people)} person(s): {_show(known[:_MAX_LISTED])}"],
            diff=False,
        )
    expected: dict[str, JSON] = {}
    if identifiers is not None:
        expected["identifiers"] = dict(identifiers)
    if attributes is not None:
        expected["attributes"] = dict(attributes)
    if events is not None:
        expected["events"] = [{"name": e} if isinstance(e, str) else dict(e) for e in events]
    if devices is not None:
        expected["devices"] = [{"token": d} if isinstance(d, str) else dict(d) for d in devices]
    if relationships is not None:
        expected["relationships"] = [dict(r) for r in relationships]
    problems = mismatches(expected, person)
    if exact_events and events is not None and len(person["events"]) != len(expected["events"]):
        names = [e.get("name") for e in person["events"]]
        problems.append(
            f"events: expected exactly {len(expected['events'])}, got {len(names)}: {_show(names)}"
        )
    if problems:
        _fail(f"person {identifier!r}{where} does not match:", problems, expected, person)
    return person


def assert_no_person(source: Any, identifier: str, *, site_id: str | None = None) -> None:
    """Assert that no person answers to `identifier` (deleted, suppressed, merged away, never made)."""
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    person = _source(source).person(identifier, site_id)
    if person is not None:
        _fail(f"expected no person {identifier!r}, but found one:", _pretty(person), diff=False)


def assert_no_rejections(source: Any, **filters: JSON) -> None:
    """Assert that every journal entry was accepted: none rejected (4xx), failed (5xx) or partial
    (a 207 batch with refused items); filters as `requests()` takes (workspace, path, since, ...)."""
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    mock = _source(source)
    bad = [e for e in _all_requests(mock, **filters) if e.get("outcome") != "accepted"]
    if bad:
        bad.reverse()  # oldest first reads like the test
        _fail(
            f"expected no rejected requests, got {len(bad)}:",
            [_entry_line(e) for e in bad],
            diff=False,
        )


def assert_requests(
    source: Any,
    *,
    count: int | None = None,
    path: str | None = None,
    method: str | None = None,
    status: int | str | None = None,
    outcome: str | None = None,
    workspace: str | None = None,
    body: JSON = None,
) -> list[dict[str, JSON]]:
    """Assert how many journal entries match; return them, oldest first.

    `path` is matched exactly against the raw path, or as a prefix when it ends with `*`; `body`
    is a subset of the request body. Without `count`, at least one entry must match.
    """
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    mock = _source(source)
    entries = list(reversed(_all_requests(mock, workspace=workspace)))

    def selected(entry: Mapping[str, JSON]) -> bool:
        if path is not None:
            raw = str(entry.get("path"))
            if not (raw.startswith(path[:-1]) if path.endswith("*") else raw == path):
                return False
        if method is not None and str(entry.get("method")).upper() != method.upper():
            return False
        if status is not None and not _status_matches(status, entry.get("status")):
            return False
        if outcome is not None and entry.get("outcome") != outcome:
            return False
        return body is None or _matches(body, entry.get("body"))

    found = [e for e in entries if selected(e)]
    ok = len(found) == count if count is not None else bool(found)
    if not ok:
        wanted = ", ".join(
            f"{k}={v!r}"
            for k, v in {
                "path": path,
                "method": method,
                "status": status,
                "outcome": outcome,
                "workspace": workspace,
                "body": body,
            }.items()  # fmt: skip
            if v is not None
        )
        head = f"expected {count if count is not None else 'at least one'} request(s)"
        head += f" matching {wanted}" if wanted else ""
        head += f"; {len(found)} matched. The journal holds {len(entries)} (* = matched):"
        shown = entries[-(_MAX_LISTED - 1) :]
        lines = [("* " if e in found else "  ") + _entry_line(e) for e in shown]
        if len(entries) > len(shown):
            lines.insert(0, f"  ({len(entries) - len(shown)} older entries not shown)")
        _fail(head, lines, diff=False, bullet="")
    return found


def _status_matches(want: int | str, got: JSON) -> bool:
    if isinstance(want, str) and len(want) == 3 and want[1:].lower() == "xx":
        return isinstance(got, int) and str(got)[0] == want[0]
    return str(got) == str(want)


def assert_event(
    source: Any,
    identifier: str | None,
    name: str,
    *,
    count: int | None = None,
    site_id: str | None = None,
    anonymous_id: str | None = None,
    **fields: JSON,
) -> list[dict[str, JSON]]:
    """Assert that an event called `name` landed on a person (or, with `identifier=None` and
    `anonymous_id`, is stored anonymously); extra keyword arguments (`data`, `type`, `timestamp`,
    `merged_from_anonymous`, `can_trigger`, ...) are a subset each event must contain. Without
    `count`, at least one must match. Returns the matching events."""
    __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
    mock = _source(source)
    if identifier is None:
        if anonymous_id is None:
            raise TypeError("assert_event needs a person identifier, or identifier=None and anonymous_id")
        events = [e for e in mock.anonymous_events(site_id) if e.get("anonymous_id") == anonymous_id]
        owner = f"anonymous id {anonymous_id!r}"
    else:
        person = mock.person(identifier, site_id)
        if person is None:
            _fail(f"no person {identifier!r}, so no event {name!r} on them", [], diff=False)
        events = list(person["events"])
        owner = f"person {identifier!r}"
    expected = {"name": name, **fields}
    found = [e for e in events if _matches(expected, e)]
    ok = len(found) == count if count is not None else bool(found)
    if not ok:
        head = (
            f"expected {count if count is not None else 'at least one'} event(s) {_show(expected)} "
            f"on {owner}, found {len(found)}"
        )
        same_name = [e for e in events if e.get("name") == name]
        if not events:
            _fail(head, [f"{owner} has no events"], diff=False)
        if same_name and not found:
            near = _nearest(expected, same_name)
            assert near is not None
            _fail(head + f"; nearest event named {name!r}:", near[1], expected, same_name[near[0]])
        _fail(head, [f"{owner} has events: {_show([e.get('name') for e in events])}"], diff=False)
    return found


# ---------------------------------------------------------------------- segments and campaigns


def _automation_of(
    source: Any, identifier: str, site_id: str | None
) -> tuple[dict[str, JSON], dict[str, JSON]]:
    """The person's view and its `automation` part (data-driven segments, entries, warnings)."""
    __tracebackhide__ = True
    person = _source(source).person(identifier, site_id)
    if person is None:
        _fail(f"no person {identifier!r}" + (f" in workspace {site_id!r}" if site_id else ""), [], diff=False)
    automation = person.get("automation") or {"segments": [], "campaign_entries": [], "warnings": []}
    return person, automation


def _segments_of(person: Mapping[str, JSON], automation: Mapping[str, JSON]) -> list[int]:
    return sorted({*automation.get("segments", []), *person.get("segments", [])})


def _why(automation: Mapping[str, JSON], segment: int | None = None) -> list[str]:
    return [
        f"warning: {w['message']}"
        for w in automation.get("warnings", [])
        if segment is None or w.get("segment") == segment
    ]


def assert_in_segment(source: Any, identifier: str, segment: int, *, site_id: str | None = None) -> None:
    """Assert that the person is in `segment` (a data-driven segment or a manual one)."""
    __tracebackhide__ = True
    person, automation = _automation_of(source, identifier, site_id)
    segments = _segments_of(person, automation)
    if segment not in segments:
        _fail(
            f"person {identifier!r} is not in segment {segment}:",
            [f"their segments: {_show(segments)}", *_why(automation, segment)],
            diff=False,
        )


def assert_not_in_segment(source: Any, identifier: str, segment: int, *, site_id: str | None = None) -> None:
    """Assert that the person is not in `segment`."""
    __tracebackhide__ = True
    person, automation = _automation_of(source, identifier, site_id)
    segments = _segments_of(person, automation)
    if segment in segments:
        entered = [h for h in automation.get("segment_history", []) if h.get("segment") == segment]
        _fail(
            f"person {identifier!r} is in segment {segment}:",
            [f"their segments: {_show(segments)}", *(f"history: {_show(h)}" for h in entered[-3:])],
            diff=False,
        )


def assert_campaign_entered(
    source: Any, identifier: str, campaign: int, count: int | None = None, *, site_id: str | None = None
) -> list[dict[str, JSON]]:
    """Assert that the person entered `campaign` (exactly `count` times, if given); return the entries."""
    __tracebackhide__ = True
    person, automation = _automation_of(source, identifier, site_id)
    every = automation.get("campaign_entries", [])
    entries = [e for e in every if e.get("campaign") == campaign]
    if (count is None and not entries) or (count is not None and len(entries) != count):
        wanted = "at least once" if count is None else f"{count} time(s)"
        _fail(
            f"person {identifier!r} entered campaign {campaign} {len(entries)} time(s), expected {wanted}:",
            [
                f"their campaign entries: {_show([(e.get('campaign'), e.get('trigger')) for e in every])}",
                *_why(automation),
            ],
            diff=False,
        )
    return entries


def assert_campaign_not_entered(
    source: Any, identifier: str, campaign: int, *, site_id: str | None = None
) -> None:
    """Assert that the person never entered `campaign`."""
    __tracebackhide__ = True
    person, automation = _automation_of(source, identifier, site_id)
    entries = [e for e in automation.get("campaign_entries", []) if e.get("campaign") == campaign]
    if entries:
        _fail(
            f"person {identifier!r} entered campaign {campaign} {len(entries)} time(s), expected never:",
            [f"entry: {_show(e)}" for e in entries],
            diff=False,
        )
