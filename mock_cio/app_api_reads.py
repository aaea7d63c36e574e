"""The App API's segment and campaign reads, so code using the official clients' `APIClient` (or
plain HTTP) can inspect what the mock's segments and campaigns made of its state:

- `GET /v1/segments` → `{"segments": [segment]}`; `GET /v1/segments/{id}` → `{"segment": segment}`
- `GET /v1/segments/{id}/membership` (`start`, `limit`) and `POST /v1/customers` (a search:
  `{"filter": conditions}`, the same conditions as a segment's) → `{"identifiers": [{"email", "id",
  "cio_id"}], "ids": [id], "next": cursor}` (`next` is `""` on the last page)
- `GET /v1/customers/{id}/segments` (`id_type` id, email or cio_id) → `{"segments": [segment]}`
- `GET /v1/campaigns` → `{"campaigns": [campaign]}`

A segment is `{"id", "deduplicate_id", "name", "description", "state": "finished", "progress":
null, "type": "dynamic" | "manual", "tags": null}`; manual segments (ids people were added to
with `add_customers`) are listed too, named "Manual segment N". A campaign is `{"id",
"deduplicate_id", "name", "type": "segment" | "event", "event_name", "trigger_segment_ids",
"filter_segment_ids", "active": true, "state": "running", "tags": [], "actions": [], "created",
"updated"}`. Like the transactional sends, they take `Authorization: Bearer <App API key>` and read
the mock's metrics workspace (or its first). Errors are `{"meta": {"error": ...}}` naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_cio.app_api import app_error
from mock_cio.routes import Call, Reply, Route
from mock_cio.segments import SegmentError, check_conditions
from mock_cio.segments.conditions import segment_refs
from mock_cio.state.people import Person

if TYPE_CHECKING:
    from mock_cio.mock import MockCio
    from mock_cio.state import WorkspaceState

JSON = Any
MAX_PAGE = 30_000
DEFAULT_PAGE = 1000


def read_routes(mock: MockCio) -> list[Route]:
    """The read routes, bound to `mock`'s segments and campaigns."""
    reads = _Reads(mock)
    table = [
        ("GET", ("v1", "segments"), "listSegments", reads.segments),
        ("GET", ("v1", "segments", "<segment_id>"), "getSegment", reads.segment),
        ("GET", ("v1", "segments", "<segment_id>", "membership"), "getSegmentMembership", reads.membership),
        (
            "GET",
            ("v1", "customers", "<customer_id>", "segments"),
            "getCustomerSegments",
            reads.person_segments,
        ),
        ("POST", ("v1", "customers"), "searchCustomers", reads.search),
        ("GET", ("v1", "campaigns"), "listCampaigns", reads.campaigns),
    ]
    return [Route(m, p, n, h, flavour="merge", auth="bearer") for m, p, n, h in table]


class _Reads:
    def __init__(self, mock: MockCio) -> None:
        self._mock = mock

    # ------------------------------------------------------------------ segments

    def segments(self, call: Call) -> Reply:
        return Reply(200, {"segments": [self._segment(call.ws, s) for s in self._segment_ids(call.ws)]})

    def segment(self, call: Call) -> Reply:
        number = self._known(call, call.args["segment_id"])
        return Reply(200, {"segment": self._segment(call.ws, number)})

    def membership(self, call: Call) -> Reply:
        number = self._known(call, call.args["segment_id"])
        ws = call.ws
        engine = self._mock.engine
        if ws is None:
            people: list[Person] = []
        elif number in engine.segments:
            members = engine.store(ws).members.get(number, {})
            people = [p for p in (ws.people.by_cio_id(c) for c in members) if p is not None]
        else:
            people = [p for p in ws.people if number in p.segments]
        return Reply(200, _page(people, call.query))

    def person_segments(self, call: Call) -> Reply:
        ws = call.ws
        id_type = call.query.get("id_type", "id")
        if id_type not in ("id", "email", "cio_id"):
            raise app_error(f"id_type must be id, email or cio_id, got {id_type!r}")
        value = call.args["customer_id"]
        person = None
        if ws is not None:
            find = {"id": ws.people.by_id, "email": ws.people.by_email, "cio_id": ws.people.by_cio_id}[
                id_type
            ]
            person = find(value)
        if ws is None or person is None:
            raise app_error(f"customer not found: no person with {id_type} {value!r}", 404)
        inside = self._mock.engine.store(ws).inside(person.cio_id)
        numbers = sorted({*inside, *person.segments})
        return Reply(200, {"segments": [self._segment(ws, n) for n in numbers]})

    def search(self, call: Call) -> Reply:
        body = call.body
        if not isinstance(body, dict) or "filter" not in body:
            raise app_error(
                'the body must be {"filter": {...}}: segment conditions (and, or, not, attribute, ...)'
            )
        try:
            conditions = check_conditions(body["filter"], "filter")
        except SegmentError as exc:
            raise app_error(str(exc)) from None
        ws = call.ws
        people: list[Person] = []
        if ws is not None:
            engine = self._mock.engine
            store = engine.store(ws)
            people = [
                p for p in ws.people
                if engine.conditions_hold(conditions, p, call.now, store.inside(p.cio_id))
            ]  # fmt: skip
        return Reply(200, _page(people, call.query))

    # ------------------------------------------------------------------ campaigns

    def campaigns(self, call: Call) -> Reply:
        out = []
        for campaign in sorted(self._mock.engine.campaigns.values(), key=lambda c: c.id):
            out.append(
                {
                    "id": campaign.id,
                    "deduplicate_id": f"{campaign.id}:0",
                    "name": campaign.name,
                    "type": "segment" if campaign.segment_id is not None else "event",
                    "event_name": campaign.event_name,
                    "trigger_segment_ids": [] if campaign.segment_id is None else [campaign.segment_id],
                    "filter_segment_ids": sorted(segment_refs(campaign.filter)) if campaign.filter else [],
                    "active": True,
                    "state": "running",
                    "tags": [],
                    "actions": [],
                    "created": 0,
                    "updated": 0,
                }
            )
        return Reply(200, {"campaigns": out})

    # ------------------------------------------------------------------ helpers

    def _segment_ids(self, ws: WorkspaceState | None) -> list[int]:
        manual = {n for p in ws.people for n in p.segments} if ws is not None else set()
        return sorted({*self._mock.engine.segments, *manual})

    def _known(self, call: Call, text: str) -> int:
        if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**31:
            raise app_error(f"segment_id must be a whole number from 1 to 2147483647, got {text!r}")
        number = int(text)
        if number not in self._segment_ids(call.ws):
            raise app_error(f"segment {number} not found", 404)
        return number

    def _segment(self, ws: WorkspaceState | None, number: int) -> dict[str, JSON]:
        defined = self._mock.engine.segments.get(number)
        return {
            "id": number,
            "deduplicate_id": f"{number}:0",
            "name": defined.name if defined is not None else f"Manual segment {number}",
            "description": "",
            "state": "finished",
            "progress": None,
            "type": "dynamic" if defined is not None else "manual",
            "tags": None,
        }


def _page(people: list[Person], query: dict[str, str]) -> dict[str, JSON]:
    start_text = query.get("start") or "0"
    limit_text = query.get("limit") or str(DEFAULT_PAGE)
    if not start_text.isdigit():
        raise app_error(f"start must be the cursor a previous page gave in next, got {start_text!r}")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise app_error(f"limit must be a whole number from 1 to {MAX_PAGE}, got {limit_text!r}")
    start, limit = int(start_text), int(limit_text)
    page = people[start : start + limit]
    more = start + limit < len(people)
    return {
        "identifiers": [{"email": p.email, "id": p.id, "cio_id": p.cio_id} for p in page],
        "ids": [p.id for p in page if p.id is not None],
        "next": str(start + limit) if more else "",
    }
