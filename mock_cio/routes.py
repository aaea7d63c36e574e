"""The Track API's route table and the values a handler sees (`Call`) and returns (`Reply`).

Where it sits: between the Flask catch-all view (app.py) and the handlers (track_v1.py,
track_v2.py). Routing is done here on the RAW request path, split on `/` and then percent-decoded
segment by segment, because official clients percent-encode identifiers (`%2F` included) and a
router working on the decoded path would read `a%2Fb` as two segments. The same table routes a
journal entry again when a restart replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from mock_cio.request_body import Flavour
from mock_cio.state import CioState, Outcome, WorkspaceState

JSON = Any
AuthMode = Literal["required", "optional", "bearer"]
"""`required`: Track API Basic auth; `optional`: none needed; `bearer`: the App API's key."""


@dataclass(slots=True)
class Call:
    """One request as a handler sees it: already authenticated and parsed."""

    state: CioState
    ws: WorkspaceState | None
    now: float
    args: dict[str, str]
    query: dict[str, str]
    body: JSON
    host_region: str = "us"


@dataclass(slots=True)
class Reply:
    """What a handler answers; `result` is the state's Outcome (notes and changes)."""

    status: int = 200
    body: JSON = field(default_factory=dict)
    outcome: str = "accepted"
    reasons: list[str] = field(default_factory=list)
    result: Outcome = field(default_factory=Outcome)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    """`pattern` is a tuple of literal segments and `<name>` placeholders."""

    method: str
    pattern: tuple[str, ...]
    name: str
    handler: Handler
    flavour: Flavour = "v1"
    auth: AuthMode = "required"
    limit: int = 1024 * 1024

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        args: dict[str, str] = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("<"):
                args[part[1:-1]] = unquote(segment, errors="replace")
            elif part != segment:
                return None
        return args


def split_path(raw_path: str) -> list[str]:
    """`/api/v1/customers/a%2Fb` → `["api", "v1", "customers", "a%2Fb"]` (still encoded)."""
    path = raw_path.split("?", 1)[0]
    return path.strip("/").split("/") if path.strip("/") else []


class Router:
    """Matches (method, raw path) against the routes; tells 404 from 405."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._by_length: dict[int, list[Route]] = {}
        for route in routes:  # only routes with as many segments can match (order kept)
            self._by_length.setdefault(len(route.pattern), []).append(route)
        self._literal: dict[tuple[str, tuple[str, ...]], Route] = {}
        """Matches of routes without placeholders, remembered (as many as such routes)."""

    def match(self, method: str, raw_path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """(route, args, allowed methods); route is None for 404 (allowed empty) or 405."""
        segments = split_path(raw_path)
        key = (method, tuple(segments))
        known = self._literal.get(key)
        if known is not None:
            return known, {}, []
        found = self._scan(method, segments)
        route = found[0]
        if route is not None and not any(part.startswith("<") for part in route.pattern):
            self._literal[key] = route
        return found

    def knows(self, raw_path: str) -> bool:
        """Whether some route (of any method) has this path."""
        segments = split_path(raw_path)
        return any(route.match(segments) is not None for route in self._by_length.get(len(segments), ()))

    def _scan(self, method: str, segments: list[str]) -> tuple[Route | None, dict[str, str], list[str]]:
        allowed: list[str] = []
        for route in self._by_length.get(len(segments), ()):
            args = route.match(segments)
            if args is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, args, []
            allowed.append(route.method)
        return None, {}, sorted(set(allowed))
