"""The pipeline: where the stages meet. Event → subscription match → mapping → validated payload → requests.

The step for one subscription and one event is written once, as `Compiled.matches` (the FQL) and
`Compiled.step` (resolve the mapping → validate the payload → perform the request; `outcome` gives
the same as a tuple), and batch mode adds `Compiled.batch`: each matched event prepared on its own
(`Compiled.prepare`: resolve, validate, mapPayload, buildPayload), then each chunk's lines from
its events' results (`Compiled.chunk_lines`), so partitions can be prepared apart (on Dask).
`transform` runs the step for one event; `plan` over many events (and does batch mode); `trace`
records every stage for the inspector; the replay engine (sandbox.replay.engine) delivers what
they return. All are pure: no I/O, no mutation of the events they are given (actions copy what
upstream would mutate in place, docs/destination.md §10.5).

Subscriptions are compiled once (FQL parsed, mapping validated). `transform` and `plan` then try,
for each event, only the subscriptions whose condition can hold for its `type` and `event` (read
off the parsed condition, see `_requirements`), and match those in full; `trace` shows them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sandbox.actions import ACTIONS, ActionDefinition
from sandbox.actions.build import batch_request, build_payload
from sandbox.actions.definition import MapPayload
from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.actions.request import CioRequest
from sandbox.actions.settings import Settings
from sandbox.errors import ConfigError, InputError, MappingError, SandboxError, SubscriptionSyntaxError
from sandbox.js.numbers import to_number
from sandbox.js.values import JSON, Event, Payload, json_kind
from sandbox.mapping import resolve, resolver, validate_mapping
from sandbox.subscriptions import Check, Compare, Condition, Group, matches, parse_subscription
from sandbox.subscriptions import explain as explain_fql

DEFAULT_BATCH_SIZE = 50


@dataclass(frozen=True, slots=True)
class Result:
    """What one subscription did with one event: a request, or the error that stopped it."""

    subscription: Subscription
    action: str
    request: CioRequest | None = None
    error: SandboxError | None = None


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One line of `plan` output. `event_index` is a tuple of indexes for a batch request."""

    event_index: int | tuple[int, ...]
    subscription: str
    action: str
    request: CioRequest | None = None
    error: SandboxError | None = None

    def to_dict(self) -> dict[str, JSON]:
        index = list(self.event_index) if isinstance(self.event_index, tuple) else self.event_index
        head: dict[str, JSON] = {
            "event_index": index,
            "subscription": self.subscription,
            "action": self.action,
        }
        if self.error is not None:
            head["error"] = error_dict(self.error)
            return head
        assert self.request is not None
        req = self.request
        head["method"] = req.method
        head["url"] = req.url
        headers = {"authorization": req.headers.get("authorization")}
        if "content-type" in req.headers:
            headers["content-type"] = req.headers["content-type"]
        head["headers"] = headers
        head["body"] = req.body
        return head


@dataclass(frozen=True, slots=True)
class Stopped:
    """What `plan_batch_streamed` gives in place of a line where a chunk of the subscription
    raised: batch mode stops there, after every line of the subscriptions before it."""

    error: SandboxError


@dataclass(frozen=True, slots=True)
class SubscriptionTrace:
    """Every stage of one subscription for one event, for the inspector."""

    subscription: Subscription
    action: str
    matched: bool
    checks: tuple[Check, ...]
    payload: Payload | None
    requests: tuple[CioRequest, ...]
    error: SandboxError | None


@dataclass(frozen=True, slots=True)
class EventTrace:
    event: Event
    subscriptions: tuple[SubscriptionTrace, ...]


def error_dict(error: SandboxError) -> dict[str, str]:
    """`{"name", "message"}` as the reference names its errors (AggregateAjvError, ...)."""
    name = getattr(error, "name", None)
    message = getattr(error, "message", None)
    return {
        "name": name if isinstance(name, str) else type(error).__name__,
        "message": message if isinstance(message, str) else str(error),
    }


# -- compiled subscriptions --------------------------------------------------------------------


class Step(NamedTuple):
    """What one matched subscription made of one event: the payload as far as it got (validated
    when the step succeeded; as resolved when validation refused it; None when the mapping could not
    be resolved) and the request, or the error that stopped it. (A named tuple: made per event.)"""

    payload: Payload | None
    request: CioRequest | None
    error: SandboxError | None


@dataclass(frozen=True, slots=True)
class Compiled:
    """One subscription, ready to run: its parsed FQL, its effective mapping (validated) and its action."""

    subscription: Subscription
    condition: Condition | None  # None matches every event
    mapping: dict[str, JSON]
    action: ActionDefinition
    batch_size: int
    requires: Mapping[str, frozenset[str]]  # see _requirements

    def matches(self, event: Event) -> bool:
        """The subscription stage: does the FQL hold for `event`?"""
        return self.condition is None or matches(self.condition, event)

    @property
    def test(self) -> Callable[[Event], bool]:
        """`matches` for an event known to be an object (a dict), as one call."""
        return _matches_all if self.condition is None else self.condition.test

    def step(self, event: Event, settings: Settings, now: float | None) -> Step:
        """The rest of the flow for a matched event: resolve → validate → perform (single mode)."""
        return Step(*self.outcome(event, settings, now))

    def outcome(
        self, event: Event, settings: Settings, now: float | None
    ) -> tuple[Payload | None, CioRequest | None, SandboxError | None]:
        """`step`'s payload, request and error as a tuple (what `plan` reads, without a Step)."""
        payload: Payload | None = None
        try:
            payload = resolve(self.mapping, event)
            payload = self.action.validate(payload)
            return payload, self.action.perform(payload, settings, now=now), None
        except SandboxError as exc:
            return payload, None, exc

    def batch(
        self, events: Sequence[Event], indexes: Sequence[int], settings: Settings, now: float | None
    ) -> Iterator[PlanLine]:
        """Batch mode for the matched `indexes` of `events`: chunks of `batch_size`, each giving its
        refused events first, then its request(s) (`chunk_lines`). An action without a batch form
        goes one event at a time, as `step` does."""
        if not self.action.has_batch:
            yield from self.lines_of(indexes, self.prepared(events, indexes, settings, now), settings)
            return
        if not indexes:
            return  # (and no mapping compiled for a subscription nothing matched)
        for start, end in _chunks(len(indexes), self.batch_size):
            chunk = indexes[start:end]
            yield from self.chunk_lines(chunk, self.prepare(events, chunk), settings)

    def prepared(
        self, events: Sequence[Event], indexes: Sequence[int], settings: Settings, now: float | None
    ) -> list[Any]:
        """What batch mode makes of each matched event on its own, in `indexes` order (so a
        partition of the events can be prepared apart from the others, `plan --batch --workers`):
        an action without a batch form gives its step's (request, error); the others `prepare`'s."""
        if not self.action.has_batch:
            return [self.outcome(events[index], settings, now)[1:] for index in indexes]
        return self.prepare(events, indexes)

    def lines_of(
        self, indexes: Sequence[int], prepared: Sequence[Any], settings: Settings
    ) -> Iterator[PlanLine]:
        """Batch mode's lines from `prepared` (of the matched `indexes`, in order)."""
        name, slug = self.subscription.name, self.action.slug
        if not self.action.has_batch:
            for index, (request, error) in zip(indexes, prepared, strict=True):
                yield PlanLine(index, name, slug, request, error)
            return
        for start, end in _chunks(len(indexes), self.batch_size):
            yield from self.chunk_lines(indexes[start:end], prepared[start:end], settings)

    def prepare(self, events: Sequence[Event], indexes: Sequence[int]) -> list[Prepared]:
        """Each event's way through batch mode as far as it goes alone, in `indexes` order:
        resolve, validate (batch rules), mapPayload, buildPayload (`prepare_each`). `chunk_lines`
        then decides what a chunk of them sends.

        Batch mode's hot path, so stage by stage (each stage's code stays hot), in one
        comprehension per stage but validation (which refuses often); should resolving, mapPayload
        or buildPayload fail for any event, `prepare_each` does the events again one by one (the
        stages are pure: the same results; tests/test_parallel_batch.py checks the two agree)."""
        run, validate, map_payload = self._stages()
        try:
            payloads = [run(events[index]) for index in indexes]
        except SandboxError:
            return self.prepare_each(events, indexes)
        out: list[Prepared] = [_UNSET] * len(payloads)
        places: list[int] = []
        valid: list[Payload] = []
        for place, payload in enumerate(payloads):
            try:
                valid.append(validate(payload, batch=True))
            except SandboxError as exc:
                out[place] = (REFUSED, exc, None)
            else:
                places.append(place)
        try:
            entities = [map_payload(payload) for payload in valid]
            bodies = [build_payload(entity) for entity in entities]
        except SandboxError:
            return self.prepare_each(events, indexes)
        for place, entity, body in zip(places, entities, bodies, strict=True):
            out[place] = (None, body, entity.action)
        return out

    def _stages(self) -> tuple[Callable[[Event], Payload], Callable[..., Payload], MapPayload]:
        """Batch mode's first three stages for this subscription: its mapping's resolver, its
        action's validation and its mapPayload (buildPayload is the same for every action)."""
        map_payload = self.action.map_payload
        assert map_payload is not None  # has_batch
        return resolver(self.mapping), self.action.schema.validate, map_payload

    def prepare_each(self, events: Sequence[Event], indexes: Sequence[int]) -> list[Prepared]:
        """`prepare` one event at a time, through all four stages (the reference path): the stage
        that fails an event and its error, or its body."""
        run, validate, map_payload = self._stages()
        out: list[Prepared] = []
        for index in indexes:
            try:
                payload = run(events[index])
            except SandboxError as exc:
                out.append((UNRESOLVED, exc, None))
                continue
            try:
                payload = validate(payload, batch=True)
            except SandboxError as exc:
                out.append((REFUSED, exc, None))
                continue
            try:
                entity = map_payload(payload)
            except SandboxError as exc:
                out.append((UNMAPPED, exc, None))
                continue
            try:
                out.append((None, build_payload(entity), entity.action))
            except SandboxError as exc:
                out.append((UNBUILT, exc, entity.action))
        return out

    def chunk_lines_or_stop(
        self, chunk: Sequence[int], prepared: Sequence[Prepared], settings: Settings
    ) -> list[PlanLine | Stopped]:
        """`chunk_lines` as a list: where the chunk raises, what it gave before, then
        Stopped(error) (batch mode streamed: plan_batch_streamed, and on Dask)."""
        lines: list[PlanLine | Stopped] = []
        try:
            for line in self.chunk_lines(chunk, prepared, settings):
                lines.append(line)  # what the chunk gives before it raises is given too
        except SandboxError as exc:
            lines.append(Stopped(exc))
        return lines

    def chunk_lines(
        self, chunk: Sequence[int], prepared: Sequence[Prepared], settings: Settings
    ) -> Iterator[PlanLine]:
        """One chunk's lines. transformBatch resolves the whole chunk first: a mapping that fails
        to resolve for one event fails the chunk (one line for all its events, the first failure,
        no request). Then each refused event gives its line; performBatch maps every valid payload
        (the first failure raises), groups the entities (ActionDefinition.batch_groups) and builds
        each group's bodies (the first failure raises, before any request is given)."""
        name, slug, action = self.subscription.name, self.action.slug, self.action
        if not any([stage for stage, _, _ in prepared]):  # the common chunk: every event prepared
            bodies = [value for _, value, _ in prepared]
            for group in action.batch_groups([entity_action for _, _, entity_action in prepared]):
                request = batch_request([bodies[position] for position in group], settings)
                if request is not None:
                    yield PlanLine(tuple(chunk[position] for position in group), name, slug, request=request)
            return
        valid: list[int] = []  # positions in the chunk of the events validation let through
        refused: list[PlanLine] = []
        for position, (stage, value, _) in enumerate(prepared):
            if stage is None:
                valid.append(position)
            elif stage == UNRESOLVED:
                yield PlanLine(tuple(chunk), name, slug, error=value)
                return
            elif stage == REFUSED:
                refused.append(PlanLine(chunk[position], name, slug, error=value))
            else:
                valid.append(position)
        yield from refused
        if not valid:
            return
        for position in valid:
            if prepared[position][0] == UNMAPPED:
                raise prepared[position][1]
        lines: list[PlanLine] = []
        for group in action.batch_groups([prepared[position][2] for position in valid]):
            members = [valid[k] for k in group]
            for position in members:
                if prepared[position][0] == UNBUILT:
                    raise prepared[position][1]
            request = batch_request([prepared[position][1] for position in members], settings)
            if request is not None:
                lines.append(
                    PlanLine(tuple(chunk[position] for position in members), name, slug, request=request)
                )
        yield from lines


UNRESOLVED, REFUSED, UNMAPPED, UNBUILT = "unresolved", "refused", "unmapped", "unbuilt"
"""Where batch mode stopped an event (Prepared.stage): its mapping did not resolve, validation
refused its payload, mapPayload or buildPayload raised. Compared by value: a Prepared may have
been pickled (a partition prepared on a Dask worker)."""


Prepared = tuple[str | None, Any, str | None]
"""One matched event of a batch subscription, prepared on its own (Compiled.prepare): (stage,
value, action). `stage` None and `value` its entity body, or the stage that stopped it and
`value` the error; `action` is the entity's v2 action, once mapPayload ran. (A plain tuple: one
per event, made about twenty times faster than a named tuple.)"""

_UNSET: Prepared = (None, None, None)  # a place `prepare` has yet to fill (it fills every one)


def _chunks(count: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive chunks of `size` over `count` items."""
    for start in range(0, count, size):
        yield start, min(start + size, count)


# -- dispatch by event type ----------------------------------------------------------------------
#
# Most subscriptions can only match events of one `type` or a few `event` names. `_requirements`
# reads that off the parsed condition, and `CompiledSubscriptions.candidates` then skips, for each
# event, the subscriptions whose condition cannot hold. The evaluation itself is unchanged: every
# candidate's condition is still matched in full, in subscription order.

_DISPATCH_KEYS = ("type", "event")


def _requirements(condition: Condition | None) -> dict[str, frozenset[str]]:
    """Necessary conditions of `condition`: for some of the top-level fields `type` and `event`,
    the set of strings the field must equal for the condition to hold (no entry: anything goes).

    A leaf `type = "x"` holds only when `event["type"] == "x"` (the evaluator compares those two
    fields with `==`, and only a string equals a string). An `and` needs what each child needs
    (intersection per field); an `or` needs, per field that every child constrains, one of the
    children's values (union). Everything else (other leaves, other operators) constrains nothing,
    so the requirement is always implied by the condition, never stronger.
    """
    if isinstance(condition, Compare):
        if (
            condition.field in _DISPATCH_KEYS
            and condition.op == "="
            and condition.name is None
            and isinstance(condition.value, str)
        ):
            return {condition.field: frozenset((condition.value,))}
        return {}
    if isinstance(condition, Group) and condition.children:
        parts = [_requirements(child) for child in condition.children]
        if condition.op == "and":
            out: dict[str, frozenset[str]] = {}
            for part in parts:
                for key, values in part.items():
                    out[key] = out[key] & values if key in out else values
            return out
        if condition.op == "or":
            keys = set(parts[0]).intersection(*parts[1:])
            return {key: frozenset().union(*(part[key] for part in parts)) for key in keys}
    return {}


class CompiledSubscriptions(tuple):
    """Compiled subscriptions in their order, with the dispatch table of `candidates`."""

    _values: dict[str, frozenset[str]]
    _routes: dict[tuple[str | None, ...], tuple[Compiled, ...]]
    _positions: dict[tuple[str | None, ...], tuple[int, ...]]
    _tests: list[Callable[[Event], bool]]

    def __new__(cls, subscriptions: Iterable[Compiled]) -> CompiledSubscriptions:
        self = super().__new__(cls, subscriptions)
        self._values = {
            key: frozenset().union(*(sub.requires[key] for sub in self if key in sub.requires))
            for key in _DISPATCH_KEYS
        }
        # One route per combination of known values (None: any other value, or none); the number
        # of routes is bounded by the values the conditions name, whatever the traffic.
        self._routes = {}
        self._positions = {}
        self._tests = [sub.test for sub in self]  # for events known to be objects
        return self

    def candidates(self, event: Event) -> tuple[Compiled, ...]:
        """The subscriptions whose condition may hold for `event`, in order (a superset of the matches)."""
        key = self._route_key(event)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = tuple(self[position] for position in self._route(key))
        return route

    def matching(self, events: Sequence[Event]) -> list[list[int]]:
        """For each subscription (by position), the indexes of the `events` its condition matches:
        one pass over the events, each matched only against its candidates (the same lists as
        matching every subscription against every event, since the candidates hold every match)."""
        out: list[list[int]] = [[] for _ in self]
        matched = self.matched_positions
        for index, event in enumerate(events):
            for position in matched(event):
                out[position].append(index)
        return out

    def matched_positions(self, event: Event) -> list[int]:
        """The positions of the subscriptions whose condition `event` (an object) matches, in order."""
        key = self._route_key(event)
        route = self._positions.get(key)
        if route is None:
            route = self._positions[key] = self._route(key)
        tests = self._tests
        return [position for position in route if tests[position](event)]

    def _route_key(self, event: Event) -> tuple[str | None, str | None]:
        values = self._values
        kind = event.get("type")
        name = event.get("event")
        return (
            kind if isinstance(kind, str) and kind in values["type"] else None,
            name if isinstance(name, str) and name in values["event"] else None,
        )

    def _route(self, key: tuple[str | None, str | None]) -> tuple[int, ...]:
        known = dict(zip(_DISPATCH_KEYS, key, strict=True))
        return tuple(position for position, sub in enumerate(self) if _admits(sub.requires, known))


def _matches_all(event: Event) -> bool:
    return True


def _admits(requires: Mapping[str, frozenset[str]], known: Mapping[str, str | None]) -> bool:
    for key, allowed in requires.items():
        value = known[key]
        if value is None or value not in allowed:
            return False
    return True


def compile_subscriptions(
    subscriptions: Iterable[Subscription | Compiled | Mapping[str, Any]] | None,
) -> CompiledSubscriptions:
    """Parse each subscription's FQL and validate its mapping, once (`compile_subscription`).
    Raises ConfigError that names the subscription and where (the FQL column, the mapping path)."""
    if subscriptions is None or subscriptions is AUTOMATIC:
        global _AUTOMATIC
        if _AUTOMATIC is None:
            _AUTOMATIC = CompiledSubscriptions(compile_subscription(s) for s in AUTOMATIC)
        return _AUTOMATIC
    if isinstance(subscriptions, CompiledSubscriptions):
        return subscriptions
    if isinstance(subscriptions, (str, bytes, Mapping)):
        raise ConfigError("subscriptions must be a list of subscription objects")
    compiled: list[Compiled] = []
    for index, item in enumerate(subscriptions):
        if isinstance(item, Compiled):
            compiled.append(item)
            continue
        sub = item if isinstance(item, Subscription) else Subscription.from_dict(item, index=index)
        compiled.append(compile_subscription(sub))
    return CompiledSubscriptions(compiled)


_AUTOMATIC: CompiledSubscriptions | None = None


def compile_subscription(sub: Subscription, file: str = "") -> Compiled:
    """The one subscription validator: the action exists, the FQL parses, every mapping key is one
    of the action's fields and the mapping follows mapping-kit's rules. `Subscription.from_dict`
    checks only the object's shape and the config file only what is its own (TOML values, JSON
    text, batch options); both come here for the rest. Raises ConfigError naming `file`, the
    subscription and the key path (`subscribe`, `mapping/<key>/...`)."""

    def fail(path: str, message: str) -> ConfigError:
        return ConfigError(message, file, sub.name, path)

    action = ACTIONS.get(sub.partnerAction)
    if action is None:
        raise fail("partnerAction", f"must be one of {', '.join(sorted(ACTIONS))}, got {sub.partnerAction!r}")
    condition = None
    if sub.subscribe is not None:
        try:
            condition = parse_subscription(sub.subscribe)
        except SubscriptionSyntaxError as exc:
            raise fail("subscribe", f"{exc.message} at column {exc.position + 1}") from None
    for key in sub.mapping:
        if key not in action.fields:
            raise fail(
                f"mapping/{key}", f"{action.slug} has no such field (its fields: {', '.join(action.fields)})"
            )
    mapping = sub.effective_mapping
    try:
        validate_mapping(mapping)
    except MappingError as exc:
        parts = [str(p) for p in exc.path]
        message = exc.message
        prefix = "/" + "/".join(parts)
        if parts and message.startswith(prefix + " "):
            message = message[len(prefix) + 1 :]
        raise fail("/".join(["mapping", *parts]), message) from None
    return Compiled(sub, condition, mapping, action, _batch_size(mapping), _requirements(condition))


def _batch_size(mapping: Mapping[str, JSON]) -> int:
    """The chunk size of batch mode: the mapping's literal batch_size, else 50 (docs/decisions.md §1.5)."""
    value = mapping.get("batch_size", DEFAULT_BATCH_SIZE)
    if isinstance(value, str):
        value = to_number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return DEFAULT_BATCH_SIZE
    return max(1, int(value))


_CACHE: dict[int, tuple[Sequence[Any], tuple[Any, ...], CompiledSubscriptions]] = {}


def _compiled_for(subscriptions: Sequence[Subscription | Mapping[str, Any]] | None) -> CompiledSubscriptions:
    """compile_subscriptions, remembered for the last few subscription lists (transform is per event)."""
    if subscriptions is None:
        return compile_subscriptions(None)
    if isinstance(subscriptions, CompiledSubscriptions):
        return subscriptions
    key = id(subscriptions)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is subscriptions and len(hit[1]) == len(subscriptions):
        if all(a is b for a, b in zip(hit[1], subscriptions, strict=True)):
            return hit[2]
    compiled = compile_subscriptions(subscriptions)
    if len(_CACHE) >= 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (subscriptions, tuple(subscriptions), compiled)
    return compiled


def check_event(event: Any, where: str | None = None) -> Event:
    """`event` if it is a JSON object; else InputError ("an event must be a JSON object, got an array")
    located at `where` (e.g. "event 3")."""
    if not isinstance(event, dict):
        raise InputError(f"an event must be a JSON object, got {json_kind(event)}", where or "")
    return event


# -- the flow ------------------------------------------------------------------------------------


def transform(
    event: Event,
    settings: Settings,
    subscriptions: Sequence[Subscription | Mapping[str, Any]] | None = None,
    *,
    now: float | None = None,
) -> list[Result]:
    """Return what one Segment event makes the destination do: one Result per matching subscription.

    For each subscription: match the FQL, resolve the mapping, validate the payload (single mode),
    build the request. Without subscriptions the 15 automatic presets run.
    """
    check_event(event)
    results: list[Result] = []
    for sub in _compiled_for(subscriptions).candidates(event):
        if sub.matches(event):
            done = sub.step(event, settings, now)
            results.append(Result(sub.subscription, sub.action.slug, done.request, done.error))
    return results


def plan(
    events: Iterable[Event],
    settings: Settings,
    subscriptions: Sequence[Subscription | Mapping[str, Any]] | None = None,
    batch: bool = False,
    *,
    now: float | None = None,
) -> Iterator[PlanLine]:
    """Yield the requests (and rejections) for `events`, in event order then subscription order.

    Batch mode (docs/decisions.md §1.5): per subscription, the matching events are cut into chunks of
    the mapping's batch_size; each chunk gives its rejected events first, then its request(s).
    reportDeliveryEvent has no batch form and goes one event at a time. Single mode streams.
    """
    compiled = compile_subscriptions(subscriptions)
    if not batch:
        yield from _plan_single(compiled, events, settings, now)
        return
    listed = list(events)
    for index, event in enumerate(listed):
        if type(event) is not dict:
            check_event(event, f"event {index}")
    for sub, indexes in zip(compiled, compiled.matching(listed), strict=True):
        yield from sub.batch(listed, indexes, settings, now)


def plan_batch_streamed(
    events: Iterable[Event],
    settings: Settings,
    subscriptions: Sequence[Subscription | Mapping[str, Any]] | None = None,
    *,
    now: float | None = None,
) -> Iterator[tuple[int, PlanLine | Stopped]]:
    """Batch mode as the events come, holding only the events of the chunks not yet full:
    (subscription position, line), each chunk's lines as soon as it fills (the last, partial
    chunks at the end). Per position, the lines are those `plan(..., batch=True)` gives, in its
    order; it gives position 0's lines, then 1's, and so on, so the lines ordered by position
    (stably) are its lines. Where a chunk of position k raises, (k, Stopped(error)) comes after
    the lines the chunk gave first, and nothing more of k or later positions: `plan` raises
    there, after every line of the positions before k, which go on to the end; lines of later
    positions given before it are not `plan`'s. An event that is no object raises when it comes
    (`plan` raises before any line). tests/test_batch_streamed.py checks this against `plan`."""
    compiled = compile_subscriptions(subscriptions)
    # a chunk's own events with range(len) stand for the whole input: prepared reads events[k]
    chunks = BatchChunks(
        compiled, settings, lambda sub, held: sub.prepared(held, range(len(held)), settings, now)
    )
    for index, event in enumerate(events):
        if type(event) is not dict:
            check_event(event, f"event {index}")
        for position in compiled.matched_positions(event):
            yield from chunks.add(position, (index,), (event,))
    yield from chunks.finish()


class BatchChunks:
    """Batch mode's chunks cut as each subscription's matched events come, in input order: what
    `plan_batch_streamed` and, on Dask, the driver (sandbox.replay.parallel) hold. Per position,
    the events not yet in a full chunk (their indexes and what `prepare(sub, items)` makes
    Prepared of: the events, or what a worker prepared already); a full chunk gives its lines
    (Compiled.chunk_lines_or_stop), and where one stops, `stop` becomes its position and that
    position and every later one take nothing more. An action without a batch form holds
    nothing: its events' lines come as they are added, one an event (Compiled.lines_of)."""

    def __init__(
        self,
        compiled: CompiledSubscriptions,
        settings: Settings,
        prepare: Callable[[Compiled, list[Any]], Sequence[Prepared]],
    ) -> None:
        self.compiled, self.settings, self._prepare = compiled, settings, prepare
        self._indexes: list[list[int]] = [[] for _ in compiled]
        self._items: list[list[Any]] = [[] for _ in compiled]
        self.stop = len(compiled)
        """Positions from here on have stopped."""

    def add(self, position: int, indexes: Iterable[int], items: Iterable[Any]) -> list[tuple[int, Any]]:
        """Matched events of `position` (their indexes in the input, ascending, and their items):
        the lines of the chunks they fill, as (position, PlanLine or Stopped)."""
        if position >= self.stop:
            return []
        sub = self.compiled[position]
        if not sub.action.has_batch:  # one event at a time: nothing to cut
            lines = sub.lines_of(list(indexes), self._prepare(sub, list(items)), self.settings)
            return [(position, line) for line in lines]
        self._indexes[position].extend(indexes)
        pending = self._items[position]
        pending.extend(items)
        size = sub.batch_size
        out: list[tuple[int, Any]] = []
        while position < self.stop and len(pending) >= size:
            out.extend(self._chunk(position, size))
        return out

    def finish(self) -> list[tuple[int, Any]]:
        """The lines of the last, partial chunks, in position order."""
        out: list[tuple[int, Any]] = []
        for position in range(len(self.compiled)):
            if position < self.stop and self._items[position]:
                out.extend(self._chunk(position, len(self._items[position])))
        return out

    def _chunk(self, position: int, size: int) -> list[tuple[int, Any]]:
        sub, indexes, items = self.compiled[position], self._indexes[position], self._items[position]
        cut, taken = indexes[:size], items[:size]
        del indexes[:size], items[:size]
        lines = sub.chunk_lines_or_stop(cut, self._prepare(sub, taken), self.settings)
        if lines and isinstance(lines[-1], Stopped):
            self.stop = position
        return [(position, line) for line in lines]


def _plan_single(
    compiled: CompiledSubscriptions, events: Iterable[Event], settings: Settings, now: float | None
) -> Iterator[PlanLine]:
    """Single mode, streamed: what `transform` does for each event, as PlanLines."""
    candidates = compiled.candidates
    for index, event in enumerate(events):
        if type(event) is not dict:
            check_event(event, f"event {index}")
        for sub in candidates(event):
            if sub.matches(event):
                _, request, error = sub.outcome(event, settings, now)
                yield PlanLine(index, sub.subscription.name, sub.action.slug, request, error)


def plan_bodies(
    events: Iterable[Event],
    settings: Settings,
    subscriptions: Sequence[Subscription | Mapping[str, Any]] | None = None,
    *,
    now: float | None = None,
) -> Iterator[tuple[int, Compiled, dict[str, JSON] | None, SandboxError | None]]:
    """Single-mode `plan` without a PlanLine or a CioRequest per line: for each of its lines, in
    its order, (event index, the subscription, the request's body, the error). The request is
    `sub.action.request(body, settings)`, whose method, URL and headers are the same for every
    body of one subscription: a writer of many lines encodes them once (`plan_output`). The same
    stages as `Compiled.outcome` (resolve → validate → body, `ActionDefinition.perform` being
    `request(body(...))`), each subscription's looked up once; tests/test_plan_output.py checks
    the lines against `plan`'s."""
    compiled = compile_subscriptions(subscriptions)
    candidates = compiled.candidates
    stages: dict[int, tuple[Callable[[Event], Payload], Callable[..., Payload], Callable[..., Any]]] = {}
    for index, event in enumerate(events):
        if type(event) is not dict:
            check_event(event, f"event {index}")
        for sub in candidates(event):
            if sub.matches(event):
                found = stages.get(id(sub))
                if found is None:
                    action = sub.action
                    found = stages[id(sub)] = (resolver(sub.mapping), action.schema.validate, action.body)
                run, validate, body = found
                try:
                    made = body(validate(run(event)), now=now)
                except SandboxError as exc:
                    yield index, sub, None, exc
                else:
                    yield index, sub, made, None


def plan_subscription(
    sub: Compiled, events: Sequence[Event], settings: Settings, batch: bool, *, now: float | None = None
) -> Iterator[PlanLine]:
    """`plan` for one compiled subscription over events already checked to be objects: batch mode
    (`Compiled.batch`) or one step per matching event (the replay engine's batch windows)."""
    if batch:
        yield from sub.batch(events, [i for i, e in enumerate(events) if sub.matches(e)], settings, now)
        return
    name, slug = sub.subscription.name, sub.action.slug
    for index, event in enumerate(events):
        if sub.matches(event):
            done = sub.step(event, settings, now)
            yield PlanLine(index, name, slug, done.request, done.error)


def trace(
    event: Event,
    settings: Settings,
    subscriptions: Sequence[Subscription | Mapping[str, Any]] | None = None,
    *,
    now: float | None = None,
    explain: bool = True,
) -> EventTrace:
    """Record each stage for every subscription: match (with one Check per FQL leaf), payload, requests.

    `explain=False` keeps only the subscriptions that matched, without their FQL checks and
    payloads (what `transform` computes, about 3x cheaper): the requests are the same."""
    check_event(event)
    out: list[SubscriptionTrace] = []
    compiled = _compiled_for(subscriptions)
    if not explain:
        for sub in compiled.candidates(event):
            if sub.matches(event):
                done = sub.step(event, settings, now)
                requests = (done.request,) if done.request is not None else ()
                out.append(
                    SubscriptionTrace(sub.subscription, sub.action.slug, True, (), None, requests, done.error)
                )
        return EventTrace(event, tuple(out))
    for sub in compiled:
        checks = tuple(explain_fql(sub.condition, event)) if sub.condition is not None else ()
        if sub.matches(event):
            done = sub.step(event, settings, now)
            requests = (done.request,) if done.request is not None else ()
            out.append(
                SubscriptionTrace(
                    sub.subscription, sub.action.slug, True, checks, done.payload, requests, done.error
                )
            )
        else:
            out.append(SubscriptionTrace(sub.subscription, sub.action.slug, False, checks, None, (), None))
    return EventTrace(event, tuple(out))
