"""`Automation`: segment memberships and campaign entries, kept in step with the state.

Where it sits: `MockCio` owns one. Definitions (segments, campaigns) are the mock's, shared by its
workspaces; memberships, entries and warnings are per workspace, held beside the `WorkspaceState`
they describe (a weak key: a reset or a rebuild makes new workspaces, and so fresh memberships,
rebuilt by the same replay). The calls:

- `after_request(ws, now, outcome)`: re-evaluate the people the verb touched; returns the outcome
  with the membership changes (`segment_entered` / `segment_left` {person, segment, at}), the
  campaign entries (`campaign_entered` {campaign, person, trigger, at[, starts_at]}) and notes (why
  an event did not trigger, why a timestamp rule did not match) added.
- `clock_moved(state, now)`: re-evaluate everyone when some segment depends on the time.
- `put_segment` / `delete_segment` / `put_campaign` / `delete_campaign`: change a definition and
  re-evaluate everyone (a segment-triggered campaign that is not `future_only` enters the
  segment's current members).

Everything is a function of the state, the definitions and the time it is called with, so a replay
of the journal (requests at their receipt times, definition and clock changes at theirs) rebuilds
the same memberships and entries.
"""

from __future__ import annotations

import heapq
import json
import math
import weakref
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mock_cio.state.people import Person, PersonEvent
from mock_cio.state.verb_io import Outcome

from .boundaries import TimeLeaf
from .compiled import Check, Env, compile_conditions
from .conditions import SegmentError, inputs_of, segment_refs, time_leaves
from .definitions import Campaign, Segment
from .evaluate import Context, attribute_holds, data_value, matches
from .kept import Kept
from .monotone import NEITHER, keeps
from .timestamps import unix_seconds, why_not

if TYPE_CHECKING:
    from mock_cio.state import CioState, WorkspaceState

JSON = Any


def why_not_triggered(campaign: Campaign, event: PersonEvent, now: float) -> str | None:
    """Why `event` starts no entry of the event-triggered `campaign` at `now` (None: it does, or it
    is not the campaign's trigger event at all): its data does not meet the trigger's `data`
    conditions, or its `can_trigger` is false (Customer.io's 72-hour rule for backfilled and
    merged anonymous events; events merged from another person). The engine's one rule, recorded
    for the person's page; entering can still be refused by the campaign's frequency or filter."""
    if event.type != "event" or event.name != campaign.event_name:
        return None
    rules = campaign.trigger["event"].get("data")
    if rules and not _data_holds(rules, event, now):
        shown = "; ".join(_rule_text(rule) for rule in rules)
        return f"its data does not meet the trigger's data conditions ({shown})"
    if not event.can_trigger:
        return _cannot_trigger(event.merged_from_anonymous, event.timestamp, event.received_at)
    return None


def _cannot_trigger(merged_from_anonymous: bool, timestamp: float, received_at: float) -> str:
    """Why an event whose `can_trigger` is false starts no event-triggered campaign."""
    if merged_from_anonymous:
        return "it was merged from an anonymous profile more than 72 hours after its timestamp"
    if received_at > timestamp + 72 * 3600:
        return "its timestamp is more than 72 hours before its receipt (backfilled)"
    return "it came from another person in a merge (merged events do not trigger)"


@dataclass(slots=True)
class WorkspaceAutomation:
    """What the definitions made of one workspace."""

    members: dict[int, dict[str, float]] = field(default_factory=dict)
    """segment id -> {cio_id: time entered}."""
    entries: list[KeptEntry] = field(default_factory=list)
    """The campaign entries, each as a `KeptEntry` (`_entry_change` makes its `campaign_entered`
    change again)."""
    entry_counts: dict[int, int] = field(default_factory=dict)
    """campaign id -> how many of `entries` are of it."""
    entered: dict[int, set[str]] = field(default_factory=dict)
    """campaign id -> the people who entered it (a set of the cio_ids the state holds anyway, not
    one tuple kept per entry)."""
    kept: dict[str, Kept] = field(default_factory=dict)
    """cio_id -> what the engine keeps of the person between evaluations (kept.py): their event
    index, segments, events looked at for triggers, time boundaries."""
    history: dict[str, list[JSON]] = field(default_factory=dict)
    """cio_id -> the person's membership changes and campaign entries, in order, flat: three
    items each (`_remember`; `Automation.person_view` makes each change's dict again). A large
    replay makes many changes and keeps them all: one dict (as it was), or one tuple, for each
    was most of the engine's memory, and the many small objects it kept slowed the whole
    replay down (bench/segments.py)."""
    warnings: dict[str, list[dict[str, JSON]]] = field(default_factory=dict)
    """cio_id -> the timestamp warnings of the person's latest evaluation."""
    untriggered: dict[str, list[dict[str, JSON]]] = field(default_factory=dict)
    """cio_id -> the person's events that started no entry of an event-triggered campaign whose
    trigger event they are, and why (`why_not_triggered`): {campaign, event {id, name,
    timestamp}, why, at}."""
    due: list[tuple[float, str]] = field(default_factory=list)
    """A heap of (time, cio_id): the earliest time a person's time-dependent rules can change
    (an entry is current while it is the person's `Kept.due_at`)."""
    latest: float = float("-inf")
    """The latest time anyone was evaluated at (a clock moved back re-evaluates everyone)."""

    def inside(self, cio_id: str) -> Set[int]:
        """The data-driven segments the person is in (the same as `members`, by person)."""
        kept = self.kept.get(cio_id)
        return _NONE if kept is None else kept.segments()


class Automation:
    def __init__(self, segments: Iterable[Segment] = (), campaigns: Iterable[Campaign] = ()) -> None:
        self.segments: dict[int, Segment] = {}
        self.campaigns: dict[int, Campaign] = {}
        self._stores: weakref.WeakKeyDictionary[WorkspaceState, WorkspaceAutomation] = (
            weakref.WeakKeyDictionary()
        )
        for segment in segments:
            self.segments[segment.id] = segment
        for campaign in campaigns:
            self.campaigns[campaign.id] = campaign
        self._checks: dict[int, Check] = {}
        self.active = False
        """Whether any segment or campaign is defined (kept by `_refresh` and `_index_campaigns`)."""
        self._order = self._ordered(self.segments)
        self._refresh()
        self._index_campaigns()
        self._last: tuple[weakref.ref[WorkspaceState], WorkspaceAutomation] | None = None
        self._soonest = math.inf
        """At or before the earliest time boundary of anyone in any workspace."""
        self._latest = -math.inf
        """At or after the latest time anyone in any workspace was evaluated at."""

    # ------------------------------------------------------------------ state

    def store(self, ws: WorkspaceState) -> WorkspaceAutomation:
        last = self._last  # the workspace asked for last (most requests are for one workspace)
        if last is not None and last[0]() is ws:
            return last[1]
        found = self._stores.get(ws)
        if found is None:
            found = self._stores[ws] = WorkspaceAutomation()
        self._last = (weakref.ref(ws), found)
        return found

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, person: Person, now: float, warnings: list[dict[str, JSON]] | None = None) -> set[int]:
        """The data-driven segments `person` is in at `now` (a fresh evaluation, nothing stored;
        the timestamp warnings appended to `warnings`). Each segment's conditions run compiled
        (compiled.py), equal to evaluate.py's `matches`."""
        found: list[tuple[JSON, str, JSON, str]] | None = None if warnings is None else []
        env = Env(now, person, defined=self.segments, warnings=found)
        self._run(self._full, env, None)
        if warnings is not None and found:
            warnings.extend(_warning(seg, person, name, value, op, now) for seg, name, value, op in found)
        return env.inside

    def _run(self, plan: _Plan, env: Env, evaluated: list[int] | None) -> list[int]:
        """Evaluate the segments of `plan` for `env`'s person, in place: `env.inside` holds the
        data-driven segments the person was in, and the others keep their result. Each segment
        comes after those it refers to, so a reference to a data-driven segment reads its result
        of this evaluation. A segment that does not read what changed itself (`direct` false)
        keeps its result unless a segment it refers to changed in this evaluation. Returns the
        segments whose result changed, in the plan's order (`_order`'s); `evaluated` collects
        the ids evaluated."""
        inside = env.inside
        moved: list[int] = []
        for segment_id, segment, check, direct, refs, known in plan.steps:
            if not direct and (not moved or refs.isdisjoint(moved)):
                continue
            if known[segment_id in inside]:  # it cannot change (monotone.py)
                continue
            env.segment = segment
            if evaluated is not None:
                evaluated.append(segment_id)
            if check(env):
                if segment_id not in inside:
                    inside.add(segment_id)
                    moved.append(segment_id)
            elif segment_id in inside:
                inside.remove(segment_id)
                moved.append(segment_id)
        return moved

    def _plan(self, dirty: Set[tuple[str, JSON]]) -> _Plan:
        """What to evaluate again after changes to `dirty`: the segments whose result can differ,
        and of those the segments that read what changed themselves (the others refer to
        segments that do). Made once per set of dirty keys."""
        # one dirty key (most requests) is its own cache key: no frozenset made per request
        key: JSON = next(iter(dirty)) if len(dirty) == 1 else frozenset(dirty)
        found = self._plans.get(key)
        if found is None:
            out: set[int] = set()
            direct: set[int] = set()
            for item in dirty:
                out |= self._readers.get(item, _NONE)
                direct |= self._direct.get(item, _NONE)
            leaves: set[int] = set()
            for item in dirty:
                if item[0] == "time":
                    leaves.add(item[1])
                leaves |= self._leaf_readers.get(item, _NONE)
            added = dirty if all(item[0] not in _NOT_ADDED for item in dirty) else _NOTHING
            plan = self._make_plan(out, direct, full=False, added=added)
            found = self._plans[key] = replace(plan, leaves=frozenset(leaves), bounds=bool(leaves))
        return found

    def _make_plan(
        self, only: Set[int], direct: Set[int], *, full: bool, added: Set[tuple[str, JSON]] = frozenset()
    ) -> _Plan:
        """The plan of `only` (full: every segment, every time boundary computed again). With
        `added`, the changes were only events of those (type, name) keys added to the person's
        history: each segment that reads them knows whether its answer can change (monotone.py)."""
        steps = []
        for segment_id in self._order:
            if segment_id in only:
                check = self._checks.get(segment_id)
                if check is None:
                    check = self._checks[segment_id] = compile_conditions(
                        self.segments[segment_id].conditions
                    )
                steps.append(
                    (
                        segment_id,
                        self.segments[segment_id],
                        check,
                        segment_id in direct,
                        self._refs[segment_id],
                        keeps(self.segments[segment_id].conditions, added)
                        if added and segment_id in direct
                        else NEITHER,
                    )
                )
        leaves = frozenset(range(len(self._leaves))) if full else frozenset()
        return _Plan(tuple(steps), frozenset(only), frozenset(direct), full, leaves, bool(leaves))

    def conditions_hold(self, conditions: JSON, person: Person, now: float, inside: Set[int]) -> bool:
        ctx = Context(
            now,
            lambda other: other in inside or (other not in self.segments and other in person.segments),
            _ignore,
        )
        return matches(conditions, person, ctx)

    def after_request(self, ws: WorkspaceState, now: float, outcome: Outcome) -> Outcome:
        if not self.active:
            return outcome
        store = self.store(ws)
        changes: list[dict[str, JSON]] = []
        notes: list[str] = []
        if self._timed and store.due and store.due[0][0] <= now:  # a running clock moved on
            self._due(ws, store, now, changes)
        touched: dict[str, set[tuple[str, JSON]] | None] = {}
        for change in outcome.changes:
            kind = change.get("kind")
            cio_id = change.get("person")
            if isinstance(cio_id, str):
                _dirty(touched, cio_id, kind, change)
            if kind == "people_merged":  # the person who stays changed too
                primary = change.get("primary")
                if isinstance(primary, str):
                    _dirty(touched, primary, kind, change)
            elif kind == "person_deleted":
                self._forget(store, change["person"], now, change.get("reason", "delete"), changes)
        for cio_id, dirty in touched.items():
            person = ws.people.by_cio_id(cio_id)
            if person is not None:
                self._update(ws, store, person, now, changes, notes, events=True, dirty=dirty)
        if not changes and not notes:
            return outcome
        return outcome + Outcome(tuple(notes), tuple(changes))

    def clock_moved(self, state: CioState, now: float) -> dict[str, list[dict[str, JSON]]]:
        """Re-evaluate the people whose time boundary `now` passed (everyone when the clock went
        back before the latest time anyone was evaluated at): changes by site_id."""
        if not self._timed or (now < self._soonest and now >= self._latest):
            return {}  # nobody is due, and nothing was computed for a later time
        out: dict[str, list[dict[str, JSON]]] = {}
        soonest, latest = math.inf, -math.inf
        for site_id, ws in list(state.workspaces.items()):
            store = self.store(ws)
            if now < store.latest:  # back in time: the boundaries were computed for later times
                out.update(self._everyone(_Only(site_id, ws), now))
                store.latest = now  # everyone's boundaries are computed at `now` again
            else:
                changes: list[dict[str, JSON]] = []
                self._due(ws, store, now, changes)
                store.latest = max(store.latest, now)
                if changes:
                    out[site_id] = changes
            if store.due:
                soonest = min(soonest, store.due[0][0])
            latest = max(latest, store.latest)
        self._soonest, self._latest = soonest, latest
        return out

    def _due(
        self, ws: WorkspaceState, store: WorkspaceAutomation, now: float, changes: list[dict[str, JSON]]
    ) -> None:
        """Re-evaluate the people whose next time boundary is at or before `now`."""
        while store.due and store.due[0][0] <= now:
            at, cio_id = heapq.heappop(store.due)
            kept = store.kept.get(cio_id)
            if kept is None or kept.due_at != at:
                continue  # superseded by a later evaluation (or forgotten)
            kept.due_at = None
            person = ws.people.by_cio_id(cio_id)
            if person is not None:
                self._update(
                    ws, store, person, now, changes, [], events=False, dirty=self._due_keys(kept, now)
                )

    def _due_keys(self, kept: Kept, now: float) -> frozenset[tuple[str, JSON]]:
        """The time keys of the segments whose own next boundary is at or before `now` (the others
        keep their value until theirs); all of them when none were kept."""
        bounds = kept.bounds
        if bounds is None:
            return self._all_time_keys
        keys = [("time", leaf) for leaf, when in enumerate(bounds) if when <= now]
        return frozenset(keys) if keys else self._all_time_keys

    def _everyone(self, state: CioState | _Only, now: float) -> dict[str, list[dict[str, JSON]]]:
        out: dict[str, list[dict[str, JSON]]] = {}
        for site_id, ws in state.workspaces.items():
            store = self.store(ws)
            changes: list[dict[str, JSON]] = []
            for cio_id in [c for members in store.members.values() for c in members]:
                if ws.people.by_cio_id(cio_id) is None:
                    self._forget(store, cio_id, now, "delete", changes)
            for person in ws.people:
                self._update(ws, store, person, now, changes, [], events=False)
            if changes:
                out[site_id] = changes
        return out

    def _update(
        self,
        ws: WorkspaceState,
        store: WorkspaceAutomation,
        person: Person,
        now: float,
        changes: list[dict[str, JSON]],
        notes: list[str],
        *,
        events: bool,
        dirty: Set[tuple[str, JSON]] | None = None,
    ) -> None:
        """Evaluate `person` again (with `dirty`: only the segments that read what changed, when
        the person was evaluated before) and record what entered and left."""
        cio_id = person.cio_id
        history = person.events
        index = store.kept.get(cio_id)
        if index is None:
            index = store.kept[cio_id] = Kept(history)
        inside = index.inside
        if inside is None:  # new to the engine: every segment
            inside = index.inside = set()
            plan = self._full
        else:  # the kept set, changed in place (a new one each time grows the heap the garbage
            plan = self._full if dirty is None else self._plan(dirty)  # collector walks)
        if index.seen != len(history) or index.source is not history:
            index.current(history)
        env: Env | None = None
        if plan.steps:
            found: list[tuple[JSON, str, JSON, str]] = []
            env = Env(now, person, index, inside, self.segments, found)
            old = store.warnings.get(cio_id)
            evaluated: list[int] | None = [] if old and not plan.full else None
            moved = self._run(plan, env, evaluated)
            if found or old:
                self._warnings(store, person, now, found, old, evaluated, notes)
            env.warnings = None  # for the time boundaries (which try other times) to reuse
            for segment_id in moved:  # in `_order`
                if segment_id in inside:
                    members = store.members.get(segment_id)
                    if members is None:
                        members = store.members[segment_id] = {}
                    members[cio_id] = now
                    self._membership(store, changes, cio_id, "segment_entered", segment_id, now)
                    for campaign in self._by_segment.get(segment_id, ()):
                        trigger = {"segment": segment_id}
                        self._enter(store, campaign, person, trigger, now, inside, changes, notes)
                else:
                    del store.members[segment_id][cio_id]
                    self._membership(store, changes, cio_id, "segment_left", segment_id, now)
        seen = index.looked_at or 0
        by_event = self._by_event
        if events and seen < len(history) and by_event:
            for event in history[seen:]:
                if event.type == "event" and event.name in by_event:
                    self._event_triggers(store, person, event, now, inside, changes, notes)
        index.looked_at = len(history)
        back = now < store.latest
        if not back:
            store.latest = now
            if now > self._latest:
                self._latest = now
        if plan.bounds or back:
            when = self._next_change(person, now, plan, index, back, env)
            if when is None:
                index.due_at = None
            elif index.due_at != when:
                index.due_at = when
                heapq.heappush(store.due, (when, cio_id))
                if when < self._soonest:
                    self._soonest = when

    def _warnings(
        self,
        store: WorkspaceAutomation,
        person: Person,
        now: float,
        found: list[tuple[JSON, str, JSON, str]],
        old: list[dict[str, JSON]] | None,
        evaluated: list[int] | None,
        notes: list[str],
    ) -> None:
        """Keep the person's timestamp warnings: those `found` now, and (when only some segments
        were `evaluated`) the earlier ones of the segments not evaluated again."""
        new = [_warning(segment, person, name, value, op, now) for segment, name, value, op in found]
        kept = [w for w in old if w["segment"] not in evaluated] if old and evaluated is not None else []
        if new or kept:
            store.warnings[person.cio_id] = kept + new
            notes.extend(w["message"] for w in new)
        else:
            store.warnings.pop(person.cio_id, None)

    def _next_change(
        self, person: Person, now: float, plan: _Plan, index: Kept, back: bool, env: Env | None
    ) -> float | None:
        """The earliest next boundary of the person's time-dependent rules, rule by rule: a rule
        outside `plan.leaves` read nothing that changed, so its next boundary is the same as when
        it was last computed (at a time before `now`), and, when later than `now`, its next one
        after `now` too (none then: none now). All are computed again for a full plan, or when
        the clock went `back` (before the latest time anyone was evaluated at)."""
        bounds = index.bounds
        leaves = self._leaves
        again: Iterable[int]
        if bounds is None or plan.full or back or len(bounds) != len(leaves):
            bounds = index.bounds = [_UNKNOWN] * len(leaves)
            again = range(len(leaves))
        elif min(bounds, default=_NEVER) > now:  # no boundary passed
            again = plan.leaves
        else:
            again = [leaf for leaf, when in enumerate(bounds) if when <= now or leaf in plan.leaves]
        for leaf in again:  # each rule's boundary is its own: in any order
            if env is None:
                env = Env(now, person, index)
            found = leaves[leaf].next_change(env)
            bounds[leaf] = _NEVER if found is None else float(found)  # as an array("d") kept it
        earliest = min(bounds, default=_NEVER)
        return None if earliest == _NEVER else earliest

    def _forget(
        self, store: WorkspaceAutomation, cio_id: str, now: float, reason: str, changes: list[dict[str, JSON]]
    ) -> None:
        store.kept.pop(cio_id, None)
        for segment_id, members in store.members.items():
            if members.pop(cio_id, None) is not None:
                self._left(store, changes, cio_id, segment_id, now, reason)
        store.warnings.pop(cio_id, None)
        store.untriggered.pop(cio_id, None)

    def _membership(
        self,
        store: WorkspaceAutomation,
        changes: list[dict[str, JSON]],
        cio_id: str,
        kind: str,
        segment_id: int,
        now: float,
        reason: str | None = None,
    ) -> None:
        """One membership change (`segment_entered` / `segment_left`, with the `reason` when the
        person left for a reason other than the segment's conditions): its dict in the outcome,
        its three items in the person's history (`_remember`)."""
        change: dict[str, JSON] = {"kind": kind, "person": cio_id, "segment": segment_id, "at": now}
        if reason is None:
            _remember(store, cio_id, kind, segment_id, now)
        else:
            change["reason"] = reason
            _remember(store, cio_id, (kind, reason), segment_id, now)
        changes.append(change)

    def _left(
        self,
        store: WorkspaceAutomation,
        changes: list[dict[str, JSON]],
        cio_id: str,
        segment_id: int,
        now: float,
        reason: str,
    ) -> None:
        """A person leaves a segment for a reason other than its conditions (deleted, suppressed,
        the segment removed)."""
        self._membership(store, changes, cio_id, "segment_left", segment_id, now, reason)

    # ------------------------------------------------------------------ campaigns

    def _event_triggers(
        self,
        store: WorkspaceAutomation,
        person: Person,
        event: PersonEvent,
        now: float,
        inside: set[int],
        changes: list[dict[str, JSON]],
        notes: list[str],
    ) -> None:
        """The entries `event` (an event, of a name some campaign is triggered by) starts."""
        for campaign in self._by_event.get(event.name, ()):
            why = why_not_triggered(campaign, event, now)
            if why is not None:
                notes.append(
                    f"{_label(campaign)}: event {event.name!r} of {person} does not trigger it: {why}"
                )
                refused = {
                    "campaign": campaign.id,
                    "event": {"id": event.id, "name": event.name, "timestamp": event.timestamp},
                    "why": why,
                    "at": now,
                }
                store.untriggered.setdefault(person.cio_id, []).append(refused)
                continue
            trigger = {
                "event": event.name,
                "event_id": event.id,
                "merged_from_anonymous": event.merged_from_anonymous,
            }
            self._enter(store, campaign, person, trigger, now, inside, changes, notes)

    def _enter(
        self,
        store: WorkspaceAutomation,
        campaign: Campaign,
        person: Person,
        trigger: dict[str, JSON],
        now: float,
        inside: set[int],
        changes: list[dict[str, JSON]],
        notes: list[str],
    ) -> None:
        if campaign.frequency == "once" and person.cio_id in store.entered.get(campaign.id, ()):
            notes.append(
                f"{_label(campaign)}: {person} already entered it once (frequency once): not entered again"
            )
            return
        if campaign.filter is not None and not self.conditions_hold(campaign.filter, person, now, inside):
            notes.append(f"{_label(campaign)}: {person} does not meet its filter: not entered")
            return
        entry: dict[str, JSON] = {
            "kind": _ENTERED,
            "campaign": campaign.id,
            "person": person.cio_id,
            "trigger": trigger,
            "at": now,
        }
        starts = self._starts_at(campaign, person)
        if starts is not None and starts > now:
            entry["starts_at"] = starts
        people = store.entered.get(campaign.id)
        if people is None:
            people = store.entered[campaign.id] = set()
        people.add(person.cio_id)
        kept = (campaign.id, person.cio_id, tuple(trigger.items()), now, entry.get("starts_at"))
        store.entries.append(kept)
        store.entry_counts[campaign.id] = store.entry_counts.get(campaign.id, 0) + 1
        changes.append(entry)
        _remember(store, person.cio_id, _ENTERED, kept, None)

    def _starts_at(self, campaign: Campaign, person: Person) -> float | None:
        """Customer.io: a segment with an `is a timestamp` rule starts its campaign at the
        timestamp's time (the rules directly under the segment's conditions or their `and`)."""
        segment = self.segments.get(campaign.segment_id) if campaign.segment_id is not None else None
        if segment is None:
            return None
        rules = segment.conditions.get("and", [segment.conditions])
        for rule in rules:
            body = rule.get("attribute")
            if body is not None and body["operator"] == "is_timestamp":
                value = data_value(person.attributes, body["field"])
                seconds = unix_seconds(value)
                if seconds is not None:
                    return seconds
        return None

    # ------------------------------------------------------------------ definitions

    def check_segment(self, segment: Segment) -> None:
        """SegmentError when putting `segment` would make segments refer to each other in a cycle."""
        self._ordered({**self.segments, segment.id: segment})

    def check_delete(self, segment_id: int) -> None:
        """SegmentError when another segment or a campaign refers to `segment_id`."""
        for other in self.segments.values():
            if other.id != segment_id and segment_id in segment_refs(other.conditions):
                raise SegmentError(
                    f"segment {segment_id}: segment {other.id} refers to it; change that one first"
                )
        for campaign in self.campaigns.values():
            if campaign.segment_id == segment_id:
                raise SegmentError(
                    f"segment {segment_id}: campaign {campaign.id} is triggered by it; change that one first"
                )

    def put_segment(self, segment: Segment, state: CioState, now: float) -> dict[str, list[dict[str, JSON]]]:
        segments = {**self.segments, segment.id: segment}
        order = self._ordered(segments)  # raises on a cycle: nothing changed
        self.segments, self._order = segments, order
        self._checks.pop(segment.id, None)
        self._refresh()
        for ws in state.workspaces.values():
            self.store(ws).members.setdefault(segment.id, {})
        return self._everyone(state, now)

    def delete_segment(
        self, segment_id: int, state: CioState, now: float
    ) -> dict[str, list[dict[str, JSON]]]:
        if segment_id not in self.segments:
            raise SegmentError(f"segment {segment_id}: no such segment")
        segments = {k: v for k, v in self.segments.items() if k != segment_id}
        self.segments, self._order = segments, self._ordered(segments)
        self._checks.pop(segment_id, None)
        self._refresh()
        out: dict[str, list[dict[str, JSON]]] = {}
        for site_id, ws in state.workspaces.items():
            store = self.store(ws)
            changes: list[dict[str, JSON]] = []
            for cio_id in list(store.members.pop(segment_id, {})):
                kept = store.kept.get(cio_id)
                if kept is not None and kept.inside is not None:
                    kept.inside.discard(segment_id)
                self._left(store, changes, cio_id, segment_id, now, "segment deleted")
            if changes:
                out[site_id] = changes
        for site_id, more in self._everyone(state, now).items():
            out.setdefault(site_id, []).extend(more)
        return out

    def put_campaign(
        self, campaign: Campaign, state: CioState, now: float
    ) -> dict[str, list[dict[str, JSON]]]:
        first = not self.active
        self.campaigns = {**self.campaigns, campaign.id: campaign}
        self._index_campaigns()
        out: dict[str, list[dict[str, JSON]]] = {}
        for site_id, ws in state.workspaces.items():
            store = self.store(ws)
            for person in ws.people:
                kept = store.kept.get(person.cio_id)
                if kept is None:
                    kept = store.kept[person.cio_id] = Kept(person.events)
                if first or kept.looked_at is None:
                    kept.looked_at = len(person.events)
            segment_id = campaign.segment_id
            if segment_id is None or campaign.trigger.get("future_only"):
                continue
            changes: list[dict[str, JSON]] = []
            for cio_id in list(store.members.get(segment_id, {})):
                member = ws.people.by_cio_id(cio_id)
                if member is not None:
                    inside = self.evaluate(member, now)
                    self._enter(store, campaign, member, {"segment": segment_id}, now, inside, changes, [])
            if changes:
                out[site_id] = changes
        return out

    def delete_campaign(self, campaign_id: int) -> None:
        if campaign_id not in self.campaigns:
            raise SegmentError(f"campaign {campaign_id}: no such campaign")
        self.campaigns = {k: v for k, v in self.campaigns.items() if k != campaign_id}
        self._index_campaigns()

    def _index_campaigns(self) -> None:
        """After the campaigns changed: the campaigns each segment and each event name triggers,
        in the campaigns' order."""
        self.active = bool(self.segments or self.campaigns)
        self._by_segment: dict[int, list[Campaign]] = {}
        self._by_event: dict[str, list[Campaign]] = {}
        for campaign in self.campaigns.values():
            if campaign.segment_id is not None:
                self._by_segment.setdefault(campaign.segment_id, []).append(campaign)
            if campaign.event_name is not None:
                self._by_event.setdefault(campaign.event_name, []).append(campaign)

    def _ordered(self, segments: Mapping[int, Segment]) -> list[int]:
        """Segment ids, each after the data-driven segments it refers to; a cycle is an error."""
        order: list[int] = []
        state: dict[int, int] = {}

        def visit(segment_id: int, path: list[int]) -> None:
            if state.get(segment_id) == 2:
                return
            if state.get(segment_id) == 1:
                cycle = " -> ".join(str(s) for s in [*path[path.index(segment_id) :], segment_id])
                raise SegmentError(
                    f"segment {path[-1]}.conditions: segments refer to each other in a cycle ({cycle})"
                )
            state[segment_id] = 1
            for ref in sorted(segment_refs(segments[segment_id].conditions)):
                if ref in segments:
                    visit(ref, [*path, segment_id])
            state[segment_id] = 2
            order.append(segment_id)

        for segment_id in sorted(segments):
            visit(segment_id, [])
        return order

    def _refresh(self) -> None:
        """After the definitions changed: which segments depend on the time, and on what."""
        self.active = bool(self.segments or self.campaigns)
        self._refs = {s: segment_refs(self.segments[s].conditions) & set(self.segments) for s in self._order}
        self._inputs = {s: inputs_of(self.segments[s].conditions) for s in self._order}
        # the time-dependent rules, each once (however many segments have it), by what they read
        self._leaves: list[TimeLeaf] = []
        self._leaf_readers: dict[tuple[str, JSON], set[int]] = {}
        numbers: dict[str, int] = {}
        own_timed: set[int] = set()
        for segment_id in self._order:
            for node in time_leaves(self.segments[segment_id].conditions):
                text = json.dumps(node, sort_keys=True)
                leaf = numbers.get(text)
                if leaf is None:
                    leaf = numbers[text] = len(self._leaves)
                    self._leaves.append(TimeLeaf(node))
                    for key in inputs_of(node):
                        self._leaf_readers.setdefault(key, set()).add(leaf)
                self._inputs[segment_id] |= {("time", leaf)}  # its own clock: see _due_keys
                own_timed.add(segment_id)
        self._all_time_keys = frozenset(("time", leaf) for leaf in range(len(self._leaves)))
        self._timed = self._time_dependent(own_timed)
        self._direct: dict[tuple[str, JSON], set[int]] = {}
        self._readers: dict[tuple[str, JSON], set[int]] = {}
        for segment_id in self._order:  # a segment reads what the segments it refers to read
            for key in self._inputs[segment_id]:
                self._direct.setdefault(key, set()).add(segment_id)
            reads = set(self._inputs[segment_id])
            for key in list(reads):
                if key[0] == "segment" and key[1] in self.segments:
                    reads |= {k for k, ids in self._readers.items() if key[1] in ids}
            for key in reads:
                self._readers.setdefault(key, set()).add(segment_id)
        self._plans: dict[JSON, _Plan] = {}
        """Plans by their dirty key, or by the frozenset of their dirty keys."""
        self._full = self._make_plan(self.segments.keys(), self.segments.keys(), full=True)

    def _time_dependent(self, own: Set[int]) -> set[int]:
        """The segments whose result can change with the clock: by their own rules (`own`), or
        by those of the segments they refer to."""
        timed: set[int] = set()
        for segment_id in self._order:
            if segment_id in own or self._refs[segment_id] & timed:
                timed.add(segment_id)
        return timed

    # ------------------------------------------------------------------ views

    def members(self, ws: WorkspaceState, segment_id: int) -> list[dict[str, JSON]]:
        store = self.store(ws)
        out = []
        for cio_id, at in sorted(
            store.members.get(segment_id, {}).items(), key=lambda item: (item[1], item[0])
        ):
            person = ws.people.by_cio_id(cio_id)
            identifiers = person.identifiers if person is not None else {"cio_id": cio_id}
            out.append(
                {"workspace": ws.site_id, "cio_id": cio_id, "identifiers": identifiers, "entered_at": at}
            )
        return out

    def member_count(self, ws: WorkspaceState, segment_id: int) -> int:
        """len(members(ws, segment_id)), without building the views."""
        return len(self.store(ws).members.get(segment_id, ()))

    def entry_count(self, ws: WorkspaceState, campaign_id: int) -> int:
        """len(entries(ws, campaign_id, now)), without building the views."""
        return self.store(ws).entry_counts.get(campaign_id, 0)

    def entries(self, ws: WorkspaceState, campaign_id: int | None, now: float) -> list[dict[str, JSON]]:
        out = []
        for kept in self.store(ws).entries:
            if campaign_id is None or kept[0] == campaign_id:
                entry = _entry_change(kept)
                view: dict[str, JSON] = {"workspace": ws.site_id, **entry}
                del view["kind"]
                view["started"] = float(entry.get("starts_at") or entry["at"]) <= now
                out.append(view)
        return out

    def warnings(self, ws: WorkspaceState) -> list[dict[str, JSON]]:
        store = self.store(ws)
        return [{"workspace": ws.site_id, **w} for items in store.warnings.values() for w in items]

    def person_view(self, ws: WorkspaceState, person: Person, now: float) -> dict[str, JSON]:
        store = self.store(ws)
        return {
            "segments": sorted(s for s, members in store.members.items() if person.cio_id in members),
            "campaign_entries": [e for e in self.entries(ws, None, now) if e["person"] == person.cio_id],
            "segment_history": _recorded(person.cio_id, store.history.get(person.cio_id, [])),
            "warnings": list(store.warnings.get(person.cio_id, [])),
            "untriggered": list(store.untriggered.get(person.cio_id, [])),
        }


KeptEntry = tuple[int, str, tuple[tuple[str, JSON], ...], float, float | None]
"""A campaign entry as the engine keeps it: (campaign id, cio_id, the trigger's items, at,
starts_at or None). A tuple of plain values, which the garbage collector stops walking, where
the two dicts of its change (kept for every entry, as they were) were walked at every collection."""
_ENTERED = "campaign_entered"


def _entry_change(kept: KeptEntry) -> dict[str, JSON]:
    """A kept campaign entry as its `campaign_entered` change (as the outcome gave it)."""
    campaign_id, cio_id, trigger, at, starts = kept
    change: dict[str, JSON] = {
        "kind": _ENTERED, "campaign": campaign_id, "person": cio_id, "trigger": dict(trigger), "at": at,
    }  # fmt: skip
    if starts is not None:
        change["starts_at"] = starts
    return change


def _remember(store: WorkspaceAutomation, cio_id: str, what: JSON, item: JSON, at: float | None) -> None:
    """One item of the person's history, as three items of its flat list: a campaign entry as
    ("campaign_entered", its `KeptEntry`, None); a membership change as (its kind, or (kind,
    reason) when it has a reason, the segment, its time)."""
    found = store.history.get(cio_id)
    if found is None:
        store.history[cio_id] = [what, item, at]
    else:
        found += (what, item, at)


def _recorded(cio_id: str, flat: list[JSON]) -> list[dict[str, JSON]]:
    """A person's history as its changes: each campaign entry's dict, and each membership
    change's dict made again (the fields in the order of the outcome's)."""
    out: list[dict[str, JSON]] = []
    for start in range(0, len(flat), 3):
        what, item, when = flat[start : start + 3]
        if what == _ENTERED:
            out.append(_entry_change(item))
            continue
        kind, reason = what if isinstance(what, tuple) else (what, None)
        change: dict[str, JSON] = {"kind": kind, "person": cio_id, "segment": item, "at": when}
        if reason is not None:
            change["reason"] = reason
        out.append(change)
    return out


_NONE: frozenset[int] = frozenset()
_NOTHING: frozenset[tuple[str, JSON]] = frozenset()
_NOT_ADDED = frozenset({"attr", "device", "segment", "time"})
"""The dirty keys (`_dirty`, `_due_keys`) that are not events added: an activity key is a
(type, name) of `event_added` changes only."""
_UNSEEN: set[tuple[str, JSON]] = set()
_NEVER = math.inf
_UNKNOWN = -math.inf


_DIRTY_ATTRIBUTE = frozenset({"attribute_set", "attribute_removed", "identifier_set"})
_DIRTY_DEVICE = frozenset({"device_added", "device_updated", "device_deleted"})
_CLEAN = frozenset(
    {
        "relationship_added",
        "relationship_updated",
        "relationship_removed",
        "metric_recorded",
        "anonymous_id_claimed",
    }
)
"""Changes no rule reads. A claim itself only adds to the person's anonymous ids: the events it
moves over come as `events_merged` (anything may have changed), its objects as relationships."""


def _dirty(
    touched: dict[str, set[tuple[str, JSON]] | None], cio_id: str, kind: JSON, change: Mapping[str, JSON]
) -> None:
    """Note what `change` (of `kind`) changed of person `cio_id` (None: anything may have changed)."""
    keys = touched.get(cio_id, _UNSEEN)
    if keys is _UNSEEN:
        keys = touched[cio_id] = set()
    if keys is None:
        return
    if kind in _DIRTY_ATTRIBUTE:
        keys.add(("attr", change.get("name")))
    elif kind == "event_added":
        keys.add(("event" if change.get("type") == "event" else str(change.get("type")), change.get("name")))
    elif kind in _DIRTY_DEVICE:
        keys.add(("device", None))
    elif kind in ("added_to_segment", "removed_from_segment"):
        keys.add(("segment", change.get("segment")))
    elif kind not in _CLEAN:
        touched[cio_id] = None  # created, merged, claimed, or a change this list does not know


def _label(campaign: Campaign) -> str:
    return f"campaign {campaign.id} ({campaign.name!r})"


def _ignore(name: str, value: JSON, operator: str) -> None:
    return None


def _never(segment: int) -> bool:
    return False


def _rule_text(rule: JSON) -> str:
    value = rule.get("value")
    return f"{rule['field']} {rule['operator']}" + ("" if value is None else f" {json.dumps(value)}")


def _data_holds(rules: list[JSON], event: PersonEvent, now: float) -> bool:
    """Whether `event`'s data meets every attribute-shaped rule of a trigger's `data`."""
    ctx = Context(now, _never, _ignore)
    return all(attribute_holds(r, data_value(event.data, r["field"]), ctx) for r in rules)


def _warning(
    segment: Segment, person: Person, name: str, value: JSON, operator: str, now: float
) -> dict[str, JSON]:
    reason = why_not(value)
    message = (
        f"segment {segment.id} ({segment.name!r}): {name} of {person} is {value!r}, {reason}: the {operator} "
        f"rule holds only for Unix timestamps in seconds, so it does not match"
    )
    return {
        "segment": segment.id,
        "person": person.cio_id,
        "attribute": name,
        "value": value,
        "operator": operator,
        "reason": reason,
        "message": message,
        "at": now,
    }


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the engine evaluates again for one set of changed inputs (`Automation._plan`)."""

    steps: tuple[tuple[int, Segment, Check, bool, Set[int], tuple[bool, bool]], ...]
    """(segment id, segment, its compiled conditions, whether it reads what changed itself, the
    data-driven segments it refers to, (whether a person out of it stays out, whether a person in
    it stays in): monotone.py's `keeps`), each segment after those it refers to."""
    only: frozenset[int]
    """The segments of `steps` (the others keep their result)."""
    direct: frozenset[int]
    full: bool
    """Every segment, evaluated afresh (a person new to the engine, or anything changed)."""
    leaves: frozenset[int]
    """The time-dependent rules (`Automation._leaves`) whose next boundary must be computed again
    (they read what changed, or their boundary passed)."""
    bounds: bool
    """Whether the person's next time boundary must be computed again (`leaves` or `full`)."""


@dataclass(frozen=True, slots=True)
class _Only:
    """One workspace of a state, shaped like `CioState` for `_everyone`."""

    site_id: str
    ws: WorkspaceState

    @property
    def workspaces(self) -> dict[str, WorkspaceState]:
        return {self.site_id: self.ws}
