"""The inspector: the live server's web UI at `/`, the last stop of the live flow, read-only.

It reads two stores and writes neither: the trace store (what the sandbox did with each Segment
event) and the mock's admin views (people, anonymous events, the journal). Pages are rendered on
the server by Jinja with autoescaping on; no template marks anything safe, so every value from an
event is shown as text. Lists page by id (keyset cursors), so a page with 100,000 journal entries
behind it costs what the first page costs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from mock_cio import control_plane
from sandbox.live.rules import conditions_text, trigger_text
from sandbox.live.traces import STATUSES

PAGE_SIZE = 50
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

bp = Blueprint(
    "inspector",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/_inspector/static",
)


def _live() -> Any:
    return current_app.extensions["sandbox_live"]


@bp.before_request
def _guard() -> tuple[Response, int] | None:
    """The control plane's checks (mock_cio/control_plane.py): only loopback or declared Host
    names (no DNS rebinding), no cross-origin writes."""
    refused = control_plane.refusal(
        request.method,
        request.host,
        request.headers,
        _live().mock_app.config.get("CIO_ALLOWED_HOSTS") or (),
    )
    return None if refused is None else (jsonify({"error": refused[1]}), refused[0])


@bp.after_request
def _no_scripts(response: Response) -> Response:
    # The inspector needs no JavaScript at all; forbidding it is a second wall behind escaping.
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(400)
@bp.errorhandler(404)
def _error_page(error: HTTPException) -> tuple[str, int]:
    """Inspector errors in the inspector's layout, with the reason (escaped like everything else)."""
    code = error.code or 500
    return render_template("error.html", code=code, name=error.name, description=error.description), code


@bp.app_context_processor
def _page_context() -> dict[str, Any]:
    try:
        now = _live().now()
    except (KeyError, AttributeError):
        now = None
    return {"clock_now": now}


# -- filters ------------------------------------------------------------------------------------


@bp.app_template_filter("pretty")
def pretty(value: Any) -> str:
    """JSON, indented, as text (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@bp.app_template_filter("change_text")
def change_text(change: Any) -> str:
    """A state change as a sentence (sandbox.live.changes)."""
    from sandbox.live.changes import describe

    return describe(change)


@bp.app_template_filter("compact")
def compact(value: Any, width: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


@bp.app_template_filter("when")
def when(value: Any) -> str:
    """Unix seconds as `2024-03-05 12:34:56Z`; anything else as it is."""
    seconds = _seconds(value)
    if seconds is None:
        return "" if value is None else str(value)
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # past year 9999 (a clock set far ahead)
        return f"{seconds:g}"


@bp.app_template_filter("looks_like_time")
def looks_like_time(value: Any) -> bool:
    """An attribute value that is plausibly Unix seconds (2001–2286): shown with its date."""
    return _seconds(value) is not None and 1e9 <= float(value) < 1e10


@bp.app_template_filter("duration")
def duration(seconds: Any) -> str:
    """`29d 23h`, `4h 10m`, `3m 5s`, or `expired`."""
    value = _seconds(seconds)
    if value is None:
        return ""
    if value <= 0:
        return "expired"
    total = int(math.ceil(value))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or abs(value) > 253402300799:  # year 9999
        return None
    return float(value)


def _cursor(name: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"{name} must be a whole number, got {raw!r}")
    if value < 0:
        abort(400, description=f"{name} must not be negative")
    return value


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    if raw not in allowed:
        abort(400, description=f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


# -- events -------------------------------------------------------------------------------------


@bp.get("/")
def events() -> str:
    """Segment events as they arrived, newest first, with what became of each."""
    status = _choice("status", STATUSES)
    kind = _choice("type", EVENT_TYPES)
    user = request.args.get("user", "").strip() or None
    page = _live().store.page(before=_cursor("before"), limit=PAGE_SIZE, status=status, type=kind, user=user)
    return render_template(
        "events.html",
        page=page,
        filters={"status": status or "", "type": kind or "", "user": user or ""},
        statuses=STATUSES,
        types=EVENT_TYPES,
    )


@bp.get("/events/<int:trace_id>")
def event(trace_id: int) -> str:
    """One event's full trace: the event, each subscription and why, payloads, requests, answers."""
    record = _live().store.get(trace_id)
    if record is None:
        abort(404, description=f"there is no event #{trace_id}")
    subs = record.get("subscriptions") or []
    matched = [s for s in subs if s.get("matched")]
    unmatched = [s for s in subs if not s.get("matched")]
    return render_template("event.html", record=record, matched=matched, unmatched=unmatched)


# -- people -------------------------------------------------------------------------------------


@bp.get("/people")
def people() -> str:
    """Everyone the mock knows, in the order the mock lists them, a page at a time."""
    everyone = list(_live().mock.people())
    start = _cursor("start") or 0
    shown = everyone[start : start + PAGE_SIZE]
    next_start = start + PAGE_SIZE if start + PAGE_SIZE < len(everyone) else None
    return render_template(
        "people.html", people=shown, start=start, next_start=next_start, total=len(everyone)
    )


@bp.get("/people/<path:identifier>")
def person(identifier: str) -> str | tuple[str, int]:
    """One person: identifiers, attributes, activity (merged anonymous events marked), devices,
    relationships, and the Segment events that came from them."""
    site_id = request.args.get("site_id") or None
    found = _live().mock.person(identifier, site_id=site_id)
    if not found:
        into = _merged_into(identifier, site_id)
        if into is not None:
            return _merged_away_page(identifier, *into)
        abort(404, description=f"the mock has no person {identifier!r}")
    events = sorted(found.get("events") or [], key=_event_order, reverse=True)
    ids = found.get("identifiers") or {}
    attributes = found.get("attributes") or {}
    user_ids = [v for v in (ids.get("id"), ids.get("email")) if isinstance(v, str) and v]
    anonymous_ids = [a for a in _anonymous_ids(attributes, events) if a]
    traces = _live().store.for_ids(user_ids, anonymous_ids, limit=PAGE_SIZE)
    merged = sum(1 for e in events if e.get("merged_from_anonymous"))
    return render_template(
        "person.html",
        person=found,
        events=events,
        merged=merged,
        traces=traces,
        identifier=identifier,
        automation=_person_automation(found),
    )


def _person_automation(found: Mapping[str, Any]) -> dict[str, Any] | None:
    """A person's data-driven segments (which conditions, since when), campaign entries (which
    trigger, when), the events that did not trigger an event-triggered campaign and why, and the
    timestamp warnings; None when no segment or campaign is defined."""
    view = found.get("automation")
    if not isinstance(view, Mapping):
        return None
    control = _live().mock.automation
    segments = {s["id"]: s for s in control.segments()}
    campaigns = {c["id"]: c for c in control.campaigns()}
    history = view.get("segment_history") or []
    joined: dict[Any, Any] = {}
    for change in history:
        if change.get("kind") == "segment_entered":
            joined[change.get("segment")] = change.get("at")
    rows = [
        {
            "id": sid,
            "name": (segments.get(sid) or {}).get("name", ""),
            "why": conditions_text((segments.get(sid) or {}).get("conditions")),
            "at": joined.get(sid),
        }
        for sid in view.get("segments") or []
    ]
    entries = [
        dict(
            e,
            name=(campaigns.get(e.get("campaign")) or {}).get("name", ""),
            why=trigger_text(e.get("trigger")),
        )
        for e in view.get("campaign_entries") or []
    ]
    untriggered = [  # the mock's own record of which events did not trigger what, and why
        {**u, "campaign": campaigns.get(u.get("campaign")) or {"id": u.get("campaign"), "name": ""}}
        for u in view.get("untriggered") or []
    ]
    return {
        "segments": rows,
        "entries": entries,
        "untriggered": untriggered,
        "history": history,
        "warnings": view.get("warnings") or [],
    }


# -- segments and campaigns -----------------------------------------------------------------------


def _page(rows: list[Any]) -> tuple[list[Any], int, int | None]:
    start = _cursor("start") or 0
    shown = rows[start : start + PAGE_SIZE]
    return shown, start, (start + PAGE_SIZE if start + PAGE_SIZE < len(rows) else None)


def _person_link(
    workspace: Any, cio_id: Any, identifiers: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    ids = identifiers or {}
    key = ids.get("id") or ids.get("email") or f"cio_{cio_id}"
    return url_for("inspector.person", identifier=str(key), site_id=workspace), str(key)


@bp.get("/segments")
def segments() -> str:
    """The data-driven segments: each one's conditions in words and how many people are in it,
    and every timestamp warning (the rules that did not match because a value is not Unix seconds)."""
    control = _live().mock.automation
    rows = [dict(s, why=conditions_text(s.get("conditions"))) for s in control.segments()]
    warnings = control.warnings()
    return render_template(
        "segments.html",
        segments=rows,
        warnings=_warning_rows(warnings[:PAGE_SIZE]),
        warnings_total=len(warnings),
    )


@bp.get("/segments/<int:segment_id>")
def segment(segment_id: int) -> str:
    """One segment: its conditions, its members (since when), and its warnings."""
    control = _live().mock.automation
    try:
        found = control.segment(segment_id)
        members = control.members(segment_id)
    except (LookupError, ValueError) as exc:
        abort(404, description=str(exc))
    rows = [dict(m, link=_person_link(m["workspace"], m["cio_id"], m.get("identifiers"))) for m in members]
    shown, start, next_start = _page(rows)
    warnings = [w for w in control.warnings() if w.get("segment") == segment_id]
    return render_template(
        "segment.html",
        segment=found,
        why=conditions_text(found.get("conditions")),
        members=shown,
        start=start,
        next_start=next_start,
        warnings=_warning_rows(warnings[:PAGE_SIZE]),
        warnings_total=len(warnings),
    )


def _warning_rows(warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warnings with a link to their person (the pages show the first PAGE_SIZE and the count)."""
    return [dict(w, link=_person_link(w.get("workspace"), w.get("person"))) for w in warnings]


@bp.get("/campaigns")
def campaigns() -> str:
    """The campaigns: each one's trigger, filter and frequency in words, and how many entries."""
    control = _live().mock.automation
    rows = [
        dict(c, why=trigger_text(c.get("trigger")), filter_text=_filter_text(c.get("filter")))
        for c in control.campaigns()
    ]
    return render_template("campaigns.html", campaigns=rows)


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> str:
    """One campaign: its definition and its entries (who, what triggered it, when, started yet)."""
    control = _live().mock.automation
    try:
        found = control.campaign(campaign_id)
        entries = control.entries(campaign_id)
    except (LookupError, ValueError) as exc:
        abort(404, description=str(exc))
    shown, start, next_start = _page(entries[::-1])  # newest first; people looked up for one page
    rows = []
    for entry in shown:
        person = _live().mock.person(f"cio_{entry['person']}", site_id=entry["workspace"]) or {}
        link = _person_link(entry["workspace"], entry["person"], person.get("identifiers"))
        rows.append(dict(entry, link=link, why=trigger_text(entry.get("trigger"))))
    return render_template(
        "campaign.html",
        campaign=found,
        why=trigger_text(found.get("trigger")),
        filter_text=_filter_text(found.get("filter")),
        entries=rows,
        start=start,
        next_start=next_start,
    )


def _filter_text(value: Any) -> str:
    return "" if value is None else conditions_text(value)


_MERGE_SCAN = 100_000
"""Journal entries read (newest first) to find where a merged-away person went."""


def _merged_into(identifier: str, site_id: str | None) -> tuple[dict[str, Any], int] | None:
    """The person `identifier` was merged into (following later merges of that person too), with
    the journal id of the first merge; None when the journal shows no such merge."""
    mock = _live().mock
    wanted: str | None = None  # the merged-away person's cio_id, once known
    first_entry: int | None = None
    hops = 0
    before: int | None = None
    read = 0
    while read < _MERGE_SCAN:
        page = mock.requests(site_id, limit=1000, before_id=before)
        for entry in page:
            changes = entry.get("changes") or []
            for change in changes:
                if change.get("kind") != "person_deleted" or change.get("reason") != "merge":
                    continue
                ids = change.get("identifiers") or {}
                if wanted is None and identifier not in [v for v in ids.values() if v]:
                    continue
                if wanted is not None and change.get("person") != wanted:
                    continue
                merged = next(
                    (
                        c
                        for c in changes
                        if c.get("kind") == "people_merged" and c.get("secondary") == change.get("person")
                    ),
                    None,
                )
                if merged is None:
                    continue
                first_entry = entry.get("id") if first_entry is None else first_entry
                primary = str(merged.get("primary"))
                now = mock.person(f"cio_{primary}", site_id=site_id)
                if now:
                    return now, int(first_entry or 0)
                wanted, hops = primary, hops + 1  # merged again later: newer entries hold that
                if hops > 20:
                    return None
        read += len(page)
        if len(page) < 1000:
            break
        before = page[-1]["id"]
    return None


def _merged_away_page(identifier: str, into: Mapping[str, Any], entry_id: int) -> tuple[str, int]:
    ids = into.get("identifiers") or {}
    name = next((str(v) for v in (ids.get("id"), ids.get("email"), into.get("cio_id")) if v), "")
    target = ids.get("id") or ids.get("email") or f"cio_{into.get('cio_id')}"
    return (
        render_template(
            "error.html",
            code=404,
            name="Merged away",
            description=f"{identifier!r} was merged into {name!r} (journal entry #{entry_id}); "
            "their attributes, events and devices are there now.",
            link=(url_for("inspector.person", identifier=target), f"Go to {name}"),
        ),
        404,
    )


def _event_order(event: Mapping[str, Any]) -> tuple[float, str]:
    stamp = event.get("timestamp")
    received = event.get("received_at")
    key = stamp if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else received
    return (float(key) if isinstance(key, (int, float)) else 0.0, str(event.get("id", "")))


def _anonymous_ids(attributes: Mapping[str, Any], events: list[Mapping[str, Any]]) -> set[str]:
    found = set()
    value = attributes.get("anonymous_id")
    if isinstance(value, str):
        found.add(value)
    for item in events:
        anon = item.get("anonymous_id")
        if isinstance(anon, str):
            found.add(anon)
    return found


# -- anonymous events ---------------------------------------------------------------------------


@bp.get("/anonymous")
def anonymous() -> str:
    """Anonymous events waiting for a person to claim them, soonest to expire first."""
    live = _live()
    now = live.now()
    waiting = sorted(live.mock.anonymous_events(), key=lambda e: (e.get("expires_at") or 0, str(e.get("id"))))
    start = _cursor("start") or 0
    shown = waiting[start : start + PAGE_SIZE]
    next_start = start + PAGE_SIZE if start + PAGE_SIZE < len(waiting) else None
    rows = [dict(e, time_left=(e.get("expires_at") or now) - now) for e in shown]
    return render_template(
        "anonymous.html", rows=rows, start=start, next_start=next_start, total=len(waiting)
    )


# -- the journal --------------------------------------------------------------------------------

OUTCOMES = ("rejected", "partial", "accepted")


@bp.get("/journal")
def journal() -> str:
    """Every request the mock received, rejected ones first, then the rest; newest first in each.

    The cursor is `(section, id)`: the rejected section is read to its end, then the others, each
    by keyset (`id < before`), so no page counts or skips rows.
    """
    live = _live()
    workspace = request.args.get("workspace", "").strip() or None
    path = request.args.get("path", "").strip() or None
    outcome = _choice("outcome", OUTCOMES)
    before = _cursor("before")
    section = _choice("section", ("rejected", "rest")) or "rejected"
    filters = {"workspace": workspace or "", "path": path or "", "outcome": outcome or ""}

    sections: list[tuple[str, list[dict[str, Any]]]] = []
    remaining = PAGE_SIZE
    next_cursor: dict[str, Any] | None = None
    plan = _journal_sections(outcome, section)
    for index, (name, outcomes) in enumerate(plan):
        cursor = before if index == 0 else None
        rows = live.journal(
            workspace=workspace, path=path, outcomes=outcomes, before=cursor, limit=remaining + 1
        )
        shown = rows[:remaining]
        if shown:
            sections.append((name, shown))
        remaining -= len(shown)
        if len(rows) > len(shown):
            next_cursor = dict(filters, section=name, before=shown[-1]["id"]) if shown else None
            break
        if remaining <= 0:
            following = plan[index + 1 :]
            if following:
                next_cursor = dict(filters, section=following[0][0])
            break
    if next_cursor is not None:
        next_cursor = {k: v for k, v in next_cursor.items() if v not in ("", None)}
    return render_template(
        "journal.html", sections=sections, filters=filters, outcomes=OUTCOMES, next_cursor=next_cursor
    )


def _journal_sections(outcome: str | None, start: str) -> list[tuple[str, tuple[str, ...]]]:
    """Which sections a page reads, in order. One outcome chosen: just that one."""
    if outcome is not None:
        return [("rejected" if outcome == "rejected" else "rest", (outcome,))]
    plan = [("rejected", ("rejected",)), ("rest", ("partial", "accepted"))]
    return plan if start == "rejected" else plan[1:]


@bp.get("/messages")
def messages() -> str:
    """Messages that would have been sent: the App API's transactional sends the mock captured
    (accepted ones; refused sends are on the journal page), newest first."""
    rows = _live().journal(
        path="/v1/send/", outcomes=("accepted",), before=_cursor("before"), limit=PAGE_SIZE + 1
    )
    shown = rows[:PAGE_SIZE]
    more = shown[-1]["id"] if len(rows) > PAGE_SIZE and shown else None
    return render_template("messages.html", rows=shown, next_before=more)


@bp.get("/journal/<int:entry_id>")
def journal_entry(entry_id: int) -> str:
    """One journal entry in full: request, response, reasons, notes and state changes."""
    entry = _live().journal_entry(entry_id)
    if entry is None:
        abort(404, description=f"the journal has no entry #{entry_id}")
    return render_template("journal_entry.html", entry=entry)
