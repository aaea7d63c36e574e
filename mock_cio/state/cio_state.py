"""The whole mock's state: workspaces by site_id, created on first use, and views across them.

Where it sits: `MockCio` (the Flask extension) owns one `CioState`, picks the workspace from the
request's credentials and calls a verb on it. Resetting is `CioState()` again, never a clear().
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import views
from .people import Person
from .settings import WorkspaceSettings, check_setting_names
from .verb_io import JSON, Ident, StateError
from .workspace import WorkspaceState


class CioState:
    """Workspaces by site_id. `workspaces` seeds declared ones: `{"site": {"api_key": "k", "region": "eu"}}`."""

    def __init__(self, workspaces: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.workspaces: dict[str, WorkspaceState] = {}
        for site_id, settings in (workspaces or {}).items():
            self.configure(site_id, **settings)

    def workspace(self, site_id: str) -> WorkspaceState:
        """The workspace of `site_id`, created (with default settings) on first use."""
        ws = self.workspaces.get(site_id)
        if ws is None:
            if not isinstance(site_id, str) or not site_id:
                raise StateError(f"site_id must be a non-empty string, got {site_id!r}")
            ws = self.workspaces[site_id] = WorkspaceState(site_id)
        return ws

    def get(self, site_id: str) -> WorkspaceState | None:
        """The workspace of `site_id` if it exists; never creates one."""
        return self.workspaces.get(site_id)

    def configure(self, site_id: str, **settings: Any) -> WorkspaceSettings:
        """Create or change a workspace's settings (see `WorkspaceSettings`); raises StateError on bad values."""
        ws = self.workspaces.get(site_id)
        if ws is None:
            check_setting_names(settings)
            fresh = WorkspaceSettings(**settings)
            ws = self.workspace(site_id)
            ws.settings = fresh
            return fresh
        return ws.configure(**settings)

    def _selected(self, site_id: str | None) -> Iterator[WorkspaceState]:
        if site_id is None:
            return iter(list(self.workspaces.values()))
        ws = self.workspaces.get(site_id)
        return iter([] if ws is None else [ws])

    # ------------------------------------------------------------------ views

    def people(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return [v for ws in self._selected(site_id) for v in views.people_view(ws)]

    def person(self, identifier: str, site_id: str | None = None) -> dict[str, JSON] | None:
        """A person by `cio_<cio_id>`, id or email (tried in that order), from `site_id`'s workspace,
        or else from the first workspace that has them."""
        for ws in self._selected(site_id):
            person = find_person(ws, identifier)
            if person is not None:
                return views.person_view(ws, person)
        return None

    def anonymous_events(self, site_id: str | None = None, now: float | None = None) -> list[dict[str, JSON]]:
        return [v for ws in self._selected(site_id) for v in views.anonymous_events_view(ws, now)]

    def objects(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return [v for ws in self._selected(site_id) for v in views.objects_view(ws)]

    def metrics(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return [v for ws in self._selected(site_id) for v in views.metrics_view(ws)]

    def workspace_views(self) -> list[dict[str, JSON]]:
        return [views.workspace_view(ws) for ws in self.workspaces.values()]

    def snapshot(self) -> dict[str, JSON]:
        """The whole state as canonical JSON-ready data (`json.dumps(..., sort_keys=True)` is stable):
        equal after replaying the journal into a fresh `CioState`."""
        return {site_id: views.snapshot_workspace(ws) for site_id, ws in sorted(self.workspaces.items())}


def find_person(ws: WorkspaceState, identifier: str) -> Person | None:
    """Look a person up by `cio_<cio_id>`, then id, then email (case-insensitive)."""
    if not isinstance(identifier, str) or not identifier:
        return None
    if identifier.startswith("cio_"):
        person = ws.people.by_cio_id(identifier[4:])
        if person is not None:
            return person
    return ws.people.find(Ident("id", identifier)) or ws.people.by_email(identifier)
