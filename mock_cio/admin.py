"""The admin API under `/_mock/`: read the journal and the state, reset, clock, workspaces, faults.

Where it sits: beside the Track API, never journaled (docs/decisions.md §3.2). Each view is one call to a
`MockCio` method, so the in-process handle and the HTTP API answer the same JSON. Bad input is a
`400 {"error": "<what is wrong, and where>"}`; an unknown person or route is a `404` in the same
shape. Every route is documented in admin_openapi.json, served at `/_mock/openapi.json`.

Without `?site_id=`, person lookups answer from the only workspace (or the first that has the
person) and lists span every workspace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response, current_app, request

from mock_cio import control_plane
from mock_cio.errors import AdminError, ClockError, FaultError, StateError
from mock_cio.journal import MAX_LIMIT
from mock_cio.mock import JSON_TYPE, JournalWriteError, MockCio, dumps
from mock_cio.request_body import ApiError, parse_body
from mock_cio.segments import SegmentError
from mock_cio.wsgi_body import read_body

bp = Blueprint("mock_admin", __name__)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response with Customer.io's content type (a 204 has no body)."""
    if body is None:
        return Response(status=status, headers=dict(headers or {}))
    return Response(dumps(body), status=status, headers=dict(headers or {}), content_type=JSON_TYPE)


JSON = Any
_WORKSPACE_SETTINGS = ("api_key", "region", "anonymous_merge", "rate_limit", "email_updates_by_id")


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError) -> Response:
    return json_response(exc.status, {"error": str(exc)})


@bp.errorhandler(JournalWriteError)
def _journal_failed(exc: JournalWriteError) -> Response:
    return json_response(503, {"error": str(exc)})


@bp.errorhandler(StateError)
@bp.errorhandler(SegmentError)
@bp.errorhandler(ClockError)
@bp.errorhandler(FaultError)
def _bad_input(exc: Exception) -> Response:
    return json_response(400, {"error": str(exc)})


def _mock() -> MockCio:
    return current_app.extensions["mock_cio"]


@bp.before_request
def _guard() -> Response | None:
    """The control plane's checks (control_plane.py): Host, cross-origin writes."""
    refused = control_plane.refusal(
        request.method, request.host, request.headers, current_app.config.get("CIO_ALLOWED_HOSTS") or ()
    )
    return None if refused is None else json_response(refused[0], {"error": refused[1]})


def _ok(body: JSON) -> Response:
    return json_response(200, body)


MAX_ID = 2**63 - 1
"""The largest journal entry id (SQLite's INTEGER)."""


def _int_arg(name: str, *, minimum: int = 0, maximum: int | None = MAX_ID) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text) if len(text) <= 30 else _too_long(name, text)
    except ValueError:
        raise AdminError(f"query parameter {name} must be an integer, got {text!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise AdminError(f"query parameter {name} must be at least {minimum}{upper}, got {value}")
    return value


def _site_id() -> str | None:
    return request.args.get("site_id") or None


MAX_ADMIN_BODY = 64 * 1024
"""Admin request bodies are read up to this many bytes (streamed; a larger one is answered 413)."""


def _json_object() -> dict[str, JSON]:
    read = read_body(request.environ, MAX_ADMIN_BODY)
    if read.error is not None:
        raise AdminError(read.error)
    if read.oversized is not None:
        raise AdminError(f"request body must be at most {MAX_ADMIN_BODY} bytes", 413)
    raw = read.data
    if not raw.strip():
        return {}
    try:  # the Track API's reader: nesting, number range, lone surrogates (U+FFFD) as there
        body = parse_body(raw, "application/json", flavour="merge", limit=MAX_ADMIN_BODY)
    except ApiError as exc:
        raise AdminError(str(exc)) from None
    return body if isinstance(body, dict) else {}


def _filters() -> dict[str, JSON]:
    status = request.args.get("status") or None
    return {
        "workspace": request.args.get("workspace") or _site_id(),
        "status": status,
        "path": request.args.get("path") or None,
        "since": request.args.get("since") or None,
        "outcome": request.args.get("outcome") or None,
    }


# ---------------------------------------------------------------------- journal


@bp.get("/requests")
def requests_list() -> Response:
    limit = _int_arg("limit", minimum=1, maximum=MAX_LIMIT)
    return _ok(
        _mock().requests(
            **_filters(), limit=limit, before_id=_int_arg("before_id"), after_id=_int_arg("after_id")
        )
    )


@bp.get("/requests/count")
def requests_count() -> Response:
    return _ok({"count": _mock().journal_count(**_filters())})


def _too_long(name: str, text: str) -> int:
    raise AdminError(f"query parameter {name} must be an integer of at most 19 digits, got {text[:40]!r}…")


@bp.get("/requests/<int:entry_id>")
def request_one(entry_id: int) -> Response:
    entry = _mock().request(entry_id) if entry_id <= MAX_ID else None
    if entry is None:
        raise AdminError(f"no journal entry {entry_id}", 404)
    return _ok(entry)


# ---------------------------------------------------------------------- state


@bp.get("/people")
def people() -> Response:
    return _ok(_mock().people(_site_id()))


@bp.get("/people/<path:identifier>")
def person(identifier: str) -> Response:
    found = _mock().person(identifier, _site_id())
    if found is None:
        where = f" in workspace {_site_id()!r}" if _site_id() else ""
        raise AdminError(f"no person {identifier!r}{where} (looked up as cio_<cio_id>, id, then email)", 404)
    return _ok(found)


@bp.get("/anonymous_events")
def anonymous_events() -> Response:
    return _ok(_mock().anonymous_events(_site_id()))


@bp.get("/objects")
def objects() -> Response:
    return _ok(_mock().objects(_site_id()))


@bp.get("/metrics")
def metrics() -> Response:
    return _ok(_mock().metrics(_site_id()))


@bp.get("/snapshot")
def snapshot() -> Response:
    return _ok(_mock().snapshot())


@bp.post("/reset")
def reset() -> Response:
    return _ok(_mock().reset())


# ---------------------------------------------------------------------- clock


@bp.get("/clock")
def clock_get() -> Response:
    return _ok(_mock().clock.to_dict())


@bp.post("/clock")
def clock_post() -> Response:
    body = _json_object()
    unknown = set(body) - {"now", "advance", "running"}
    if unknown:
        raise AdminError(f"unknown clock field(s): {', '.join(sorted(unknown))} (use now, advance, running)")
    if ("now" in body) == ("advance" in body):
        raise AdminError('send exactly one of {"now": <unix or ISO>} or {"advance": <seconds>}')
    clock = _mock().clock
    if "now" in body:
        running = body.get("running", False)
        if not isinstance(running, bool):
            raise AdminError(f"running must be true or false, got {running!r}")
        return _ok(clock.set(body["now"], running=running))
    if "running" in body:
        raise AdminError("running goes with now, not with advance")
    return _ok(clock.advance(body["advance"]))


# ---------------------------------------------------------------------- workspaces


@bp.get("/workspaces")
def workspaces() -> Response:
    return _ok(_mock().workspaces())


@bp.get("/workspaces/<site_id>")
def workspace_get(site_id: str) -> Response:
    view = _mock().workspace(site_id)
    if view is None:
        raise AdminError(f"no workspace {site_id!r} (it is created by its first request or a PUT)", 404)
    return _ok(view)


@bp.put("/workspaces/<site_id>")
def workspace_put(site_id: str) -> Response:
    body = _json_object()
    unknown = set(body) - set(_WORKSPACE_SETTINGS)
    if unknown:
        raise AdminError(f"unknown workspace setting(s): {', '.join(sorted(unknown))} "
                         f"(one of {', '.join(_WORKSPACE_SETTINGS)})")  # fmt: skip
    return _ok(_mock().configure_workspace(site_id, **body))


# ---------------------------------------------------------------------- faults


@bp.get("/faults")
def faults_get() -> Response:
    return _ok(_mock().faults.to_dict())


@bp.post("/faults")
def faults_post() -> Response:
    body = _json_object()
    unknown = set(body) - {"status", "count", "latency", "body"}
    if unknown:
        raise AdminError(
            f"unknown fault field(s): {', '.join(sorted(unknown))} (use status, count, latency, body)"
        )
    return _ok(_mock().inject_fault(**body))


@bp.delete("/faults")
def faults_delete() -> Response:
    return _ok(_mock().clear_faults())


@bp.get("/faults/profile")
def fault_profile_get() -> Response:
    return _ok(_mock().fault_profile())


@bp.put("/faults/profile")
def fault_profile_put() -> Response:
    return _ok(_mock().set_fault_profile(_json_object()))


@bp.delete("/faults/profile")
def fault_profile_delete() -> Response:
    return _ok(_mock().set_fault_profile(None))


# ---------------------------------------------------------------------- segments and campaigns


def _found(view: Any) -> Response:
    try:
        return _ok(view())
    except LookupError as exc:
        raise AdminError(str(exc).strip("'\""), 404) from None


@bp.get("/segments")
def segments_list() -> Response:
    return _ok(_mock().automation.segments(_site_id()))


@bp.get("/segments/<segment_id>")
def segment_get(segment_id: str) -> Response:
    return _found(lambda: _mock().automation.segment(segment_id, _site_id()))


@bp.put("/segments/<segment_id>")
def segment_put(segment_id: str) -> Response:
    return _ok(_mock().automation.put_segment(segment_id, _json_object()))


@bp.delete("/segments/<segment_id>")
def segment_delete(segment_id: str) -> Response:
    return _found(lambda: _mock().automation.delete_segment(segment_id))


@bp.get("/segments/<segment_id>/members")
def segment_members(segment_id: str) -> Response:
    return _found(lambda: _mock().automation.members(segment_id, _site_id()))


@bp.get("/campaigns")
def campaigns_list() -> Response:
    return _ok(_mock().automation.campaigns(_site_id()))


@bp.get("/campaigns/<campaign_id>")
def campaign_get(campaign_id: str) -> Response:
    return _found(lambda: _mock().automation.campaign(campaign_id, _site_id()))


@bp.put("/campaigns/<campaign_id>")
def campaign_put(campaign_id: str) -> Response:
    return _ok(_mock().automation.put_campaign(campaign_id, _json_object()))


@bp.delete("/campaigns/<campaign_id>")
def campaign_delete(campaign_id: str) -> Response:
    return _found(lambda: _mock().automation.delete_campaign(campaign_id))


@bp.get("/campaigns/<campaign_id>/entries")
def campaign_entries(campaign_id: str) -> Response:
    return _found(lambda: _mock().automation.entries(campaign_id, _site_id()))


@bp.get("/automation/warnings")
def automation_warnings() -> Response:
    return _ok(_mock().automation.warnings(_site_id()))


@bp.get("/source")
def source_view() -> Response:
    """The Customer.io source's outbox (mock_cio/source.py): where it posts, how many events it
    posted, and the latest failures."""
    mock = _mock()
    outbox = mock.source
    view = outbox.view() if outbox is not None else {"to": None, "sent": 0, "failures": []}
    return _ok({"events": mock.source_events, **view})


# ---------------------------------------------------------------------- documentation


@cache
def openapi_document() -> dict[str, JSON]:
    """The admin API's OpenAPI 3.1 document (admin_openapi.json)."""
    text = resources.files("mock_cio").joinpath("admin_openapi.json").read_text("utf-8")
    return json.loads(text)


@bp.get("/openapi.json")
def openapi() -> Response:
    return _ok(openapi_document())


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(rest: str) -> Response:
    raise AdminError(f"no admin route {request.method} /_mock/{rest} (see /_mock/openapi.json)", 404)
