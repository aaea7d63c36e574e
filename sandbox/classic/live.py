"""The inspector's "classic vs Actions" view (`cio-sandbox serve --compare-classic`).

Where it sits: beside the inspector (sandbox.live), reading the same trace store and writing
nothing the live server uses. A `ClassicShadow` replays the events the live server received, in
the order it stored them, through `sandbox.classic.compare.Comparison`: the classic model and the
Actions destination, each into its own fresh in-process mock. `/events/<id>/classic` shows that
event's two stories side by side — the requests each destination sends, the difference class (or
none), and the person in each mock afterwards.

The shadow catches up lazily when a page asks for an event it has not replayed yet; an older
event, or one after `POST /_mock/reset`, is replayed again from the start, so each view shows the
state right after its event. Duplicates Segment dropped are skipped (neither destination saw them).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template

from sandbox.classic.compare import Comparison
from sandbox.classic.differences import BY_KEY, Classifier
from sandbox.classic.effects import Names, decode
from sandbox.classic.migration import story, views_after
from sandbox.replay.config import Config

JSON = Any
KEPT = 500
"""Views kept in memory; an older one is computed again by replaying from the start."""

bp = Blueprint("classic", __name__, template_folder="templates")


def enable(app: Flask, config: Config) -> None:
    """Add the comparison view to a live app (before it serves): its route, and a link from each
    event's page."""
    app.extensions["sandbox_classic"] = ClassicShadow(config)
    app.register_blueprint(bp)


@bp.app_context_processor
def _link() -> dict[str, Any]:
    return {"compare_classic": True}


@bp.get("/events/<int:trace_id>/classic")
def compare(trace_id: int) -> str:
    live = current_app.extensions["sandbox_live"]
    record = live.store.get(trace_id)
    if record is None:
        abort(404, description=f"there is no event #{trace_id}")
    view = current_app.extensions["sandbox_classic"].view(live.store, trace_id)
    return render_template("classic_compare.html", record=record, view=view)


class ClassicShadow:
    """Both destinations replayed over the live server's events, for the comparison view."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._views: OrderedDict[int, dict[str, JSON]] = OrderedDict()
        self._start()

    def _start(self) -> None:
        self.comparison = Comparison(self.config)
        self.classifier = Classifier(
            Names(lambda cio: self.comparison.person("classic", f"cio_{cio}")),
            Names(lambda cio: self.comparison.person("actions", f"cio_{cio}")),
        )
        self.last_id: int | None = None
        self.count = 0
        self._views.clear()

    def view(self, store: Any, trace_id: int) -> dict[str, JSON]:
        with self._lock:
            if trace_id in self._views:
                return self._views[trace_id]
            behind = self.last_id is not None and (trace_id < self.last_id or store.get(self.last_id) is None)
            if behind:
                self.comparison.close()
                self._start()
            for record in _records_between(store, self.last_id, trace_id):
                self._step(record)
            return self._views.get(trace_id) or {"skipped": "this event was not replayed"}

    def _step(self, record: Mapping[str, JSON]) -> None:
        trace_id = int(record["id"])
        self.last_id = trace_id
        event = record.get("event")
        if record.get("status") == "duplicate" or not isinstance(event, dict):
            self._keep(trace_id, {"skipped": "a duplicate: Segment dropped it before either destination"})
            return
        pair = self.comparison.step(event, self.count)
        self.count += 1
        found = self.classifier.compare(pair)
        person = found.people[0] if found and found.people else _person_of(event)
        view: dict[str, JSON] = {"story": story(pair), "person": person}
        view["views"] = views_after(self.comparison, person)
        if found is not None:
            klass = BY_KEY[found.klass]
            view["difference"] = {
                "title": klass.title,
                "what": klass.what,
                "only_classic": [decode(e) for e in found.only_classic],
                "only_actions": [decode(e) for e in found.only_actions],
            }
        self._keep(trace_id, view)

    def _keep(self, trace_id: int, view: dict[str, JSON]) -> None:
        self._views[trace_id] = view
        while len(self._views) > KEPT:
            self._views.popitem(last=False)

    def close(self) -> None:
        self.comparison.close()


def _records_between(store: Any, after: int | None, upto: int) -> list[dict[str, JSON]]:
    """The stored traces with `after` < id <= `upto`, oldest first (the store pages newest first)."""
    found: list[dict[str, JSON]] = []
    before = upto + 1
    while True:
        page = store.page(before=before, limit=200)
        for item in page.items:
            if after is not None and int(item["id"]) <= after:
                return found[::-1]
            found.append(item)
        if page.next_before is None:
            return found[::-1]
        before = page.next_before


def _person_of(event: Mapping[str, JSON]) -> str | None:
    if event.get("userId"):
        return f"id:{event['userId']}"
    if event.get("anonymousId"):
        return f"anonymous:{event['anonymousId']}"
    return None
