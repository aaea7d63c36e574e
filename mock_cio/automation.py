"""`MockCio.automation`: the admin side of segments and campaigns (mock_cio/segments/).

Where it sits: between the admin API (and the in-process callers) and the `Automation` engine the
request pipeline feeds. Definitions declared at start-up (`CIO_SEGMENTS`, `CIO_CAMPAIGNS`) are the
app's config; definitions put or deleted here are journaled as control rows (`segment`,
`campaign`) before they take effect, so a restart on the same database replays them at their
place among the requests and rebuilds the same memberships and entries. Membership changes that a
definition or the clock causes are kept in each person's history (`GET /_mock/people/<id>`'s
`automation`), and the warnings of the latest evaluation in `warnings()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_cio.segments import Automation
from mock_cio.segments.definitions import campaign_from, definition_id, segment_from
from mock_cio.state import find_person

if TYPE_CHECKING:
    from mock_cio.mock import MockCio
    from mock_cio.state import CioState, WorkspaceState

JSON = Any


class AutomationControl:
    def __init__(self, mock: MockCio) -> None:
        self._mock = mock

    @property
    def engine(self) -> Automation:
        return self._mock.engine

    # ------------------------------------------------------------------ definitions

    def put_segment(self, segment_id: JSON, body: JSON) -> dict[str, JSON]:
        segment = segment_from(body, "body", segment_id)
        with self._mock.lock:
            self.engine.check_segment(segment)
            self._journal("segment", {"id": segment.id, "definition": segment.to_dict()})
            self._mock.emit_source(self.engine.put_segment(segment, self._mock.state, self._mock.clock.now()))
        return self.segment(segment.id)

    def delete_segment(self, segment_id: JSON) -> dict[str, JSON]:
        number = definition_id(segment_id, "segment id")
        with self._mock.lock:
            if number not in self.engine.segments:
                raise LookupError(f"segment {number}: no such segment")
            self.engine.check_delete(number)
            self._journal("segment", {"id": number, "definition": None})
            self._mock.emit_source(
                self.engine.delete_segment(number, self._mock.state, self._mock.clock.now())
            )
        return {"deleted": number}

    def put_campaign(self, campaign_id: JSON, body: JSON) -> dict[str, JSON]:
        campaign = campaign_from(body, "body", campaign_id)
        with self._mock.lock:
            self._journal("campaign", {"id": campaign.id, "definition": campaign.to_dict()})
            self._mock.emit_source(
                self.engine.put_campaign(campaign, self._mock.state, self._mock.clock.now())
            )
        return self.campaign(campaign.id)

    def delete_campaign(self, campaign_id: JSON) -> dict[str, JSON]:
        number = definition_id(campaign_id, "campaign id")
        with self._mock.lock:
            if number not in self.engine.campaigns:
                raise LookupError(f"campaign {number}: no such campaign")
            self._journal("campaign", {"id": number, "definition": None})
            self.engine.delete_campaign(number)
        return {"deleted": number}

    def _journal(self, action: str, args: dict[str, JSON]) -> None:
        from mock_cio.mock import JOURNAL_ERRORS, JournalWriteError, _journal_failed

        try:
            self._mock.journal.control(self._mock.clock.now(), action, args)
        except JOURNAL_ERRORS as exc:
            raise JournalWriteError(_journal_failed(exc)["meta"]["error"]) from None

    def control_rows(self, at: float) -> list[tuple[float, str, dict[str, JSON]]]:
        """The definitions as control rows (a reset keeps them, as it keeps workspace settings)."""
        rows: list[tuple[float, str, dict[str, JSON]]] = []
        for s in self.engine.segments.values():
            rows.append((at, "segment", {"id": s.id, "definition": s.to_dict()}))
        for c in self.engine.campaigns.values():
            rows.append((at, "campaign", {"id": c.id, "definition": c.to_dict()}))
        return rows

    # ------------------------------------------------------------------ views

    def segments(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self._mock.lock:
            return [self._segment_view(s, site_id) for s in sorted(self.engine.segments)]

    def segment(self, segment_id: JSON, site_id: str | None = None) -> dict[str, JSON]:
        number = definition_id(segment_id, "segment id")
        with self._mock.lock:
            if number not in self.engine.segments:
                raise LookupError(f"segment {number}: no such segment")
            return self._segment_view(number, site_id)

    def _segment_view(self, number: int, site_id: str | None) -> dict[str, JSON]:
        segment = self.engine.segments[number]
        members = sum(self.engine.member_count(ws, number) for ws in self._workspaces(site_id))
        return {**segment.to_dict(), "members": members}

    def members(self, segment_id: JSON, site_id: str | None = None) -> list[dict[str, JSON]]:
        number = definition_id(segment_id, "segment id")
        with self._mock.lock:
            if number not in self.engine.segments:
                raise LookupError(f"segment {number}: no such segment")
            return [m for ws in self._workspaces(site_id) for m in self.engine.members(ws, number)]

    def campaigns(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self._mock.lock:
            return [self._campaign_view(c, site_id) for c in sorted(self.engine.campaigns)]

    def campaign(self, campaign_id: JSON, site_id: str | None = None) -> dict[str, JSON]:
        number = definition_id(campaign_id, "campaign id")
        with self._mock.lock:
            if number not in self.engine.campaigns:
                raise LookupError(f"campaign {number}: no such campaign")
            return self._campaign_view(number, site_id)

    def _campaign_view(self, number: int, site_id: str | None) -> dict[str, JSON]:
        count = sum(self.engine.entry_count(ws, number) for ws in self._workspaces(site_id))
        return {**self.engine.campaigns[number].to_dict(), "entries": count}

    def entries(self, campaign_id: JSON | None = None, site_id: str | None = None) -> list[dict[str, JSON]]:
        number = None if campaign_id is None else definition_id(campaign_id, "campaign id")
        with self._mock.lock:
            if number is not None and number not in self.engine.campaigns:
                raise LookupError(f"campaign {number}: no such campaign")
            now = self._mock.clock.now()
            return [e for ws in self._workspaces(site_id) for e in self.engine.entries(ws, number, now)]

    def warnings(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self._mock.lock:
            return [w for ws in self._workspaces(site_id) for w in self.engine.warnings(ws)]

    def person(self, identifier: str, site_id: str | None = None) -> dict[str, JSON] | None:
        """A person's segments, campaign entries, membership history and warnings."""
        with self._mock.lock:
            for ws in self._workspaces(site_id):
                found = find_person(ws, identifier)
                if found is not None:
                    return self.engine.person_view(ws, found, self._mock.clock.now())
        return None

    def summary(self) -> dict[str, JSON]:
        """Members per segment, entries per campaign and the warnings (for `run`'s summary)."""
        return {
            "segments": {str(s["id"]): {"name": s["name"], "members": s["members"]} for s in self.segments()},
            "campaigns": {
                str(c["id"]): {"name": c["name"], "entries": c["entries"]} for c in self.campaigns()
            },
            "warnings": [w["message"] for w in self.warnings()],
        }

    def _workspaces(self, site_id: str | None) -> list[WorkspaceState]:
        state: CioState = self._mock.state
        if site_id is None:
            return list(state.workspaces.values())
        ws = state.get(site_id)
        return [] if ws is None else [ws]
