"""Which events must share a mock: the identity keys of the requests an event makes, joined into
connected components, and the components packed into partitions.

Where it sits: under `run` / `snapshot` / `check` with `--workers N` (sandbox.replay.partitioned).
Two events whose requests could touch the same person, object or workspace-wide list in the mock
must replay in the same mock. The keys come from the requests the mapping produced (not from raw
events), so a custom mapping that puts an identifier somewhere else is followed:

- every value under `id`, `email`, `anonymous_id` or `token` anywhere in a `/api/v2/entity` body
  (identifiers, merge's primary/secondary, attributes that change an identifier, a device's token,
  the people of an object's relationships, an event's id), folded to lower case into one namespace
  (an id that looks like an email is looked up as one in paths; over-joining is always safe);
- `object:<type>/<id>` for each dict naming an object (an object's identifiers, a person's
  `cio_relationships`): components joined through objects (docs/scale.md);
- the path identifier of `DELETE /api/v1/customers/{id}`;
- `~metrics` for every `/api/v1/metrics` request (the workspace's delivery metrics are one list),
  and `~keyless` for a request naming nothing (an anonymous event without an anonymous id).

A `cio_id` the input names refers to the sequential mock's numbering, which partitions do not
share: refused. So is any other request shape (it is not one the destination sends).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from functools import lru_cache
from heapq import heapreplace
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.actions.request import CioRequest
from sandbox.errors import InputError
from sandbox.js.numbers import number_to_string

if TYPE_CHECKING:
    from sandbox.pipeline import CompiledSubscriptions

FLAG = "--workers"
_IDENTIFIER_KEYS = frozenset(("id", "email", "anonymous_id", "token"))
_CUSTOMERS = "/api/v1/customers/"


def request_keys(request: CioRequest, where: str) -> list[str]:
    """The identity keys of one request (at least one)."""
    path = _path(request.url)
    keys: list[str] = []
    if path == "/api/v2/entity":
        _walk(request.body, keys, where)
    elif path == "/api/v1/metrics":
        keys.append("~metrics")
        _walk(request.body, keys, where)
    elif request.method == "DELETE" and path.startswith(_CUSTOMERS) and "/" not in path[len(_CUSTOMERS) :]:
        value = path[len(_CUSTOMERS) :]
        if value.startswith("cio_"):
            raise _cio_id(where)
        keys.append(f"who:{value.lower()}")
    else:
        raise InputError(
            f"cannot partition a {request.method} {path} request by identity; run with --workers 1", where
        )
    return keys or ["~keyless"]


@lru_cache(maxsize=4096)
def _path(url: str) -> str:
    """The path of a request URL (a handful of distinct URLs repeat: parsed once each)."""
    return urlsplit(url).path


def _cio_id(where: str) -> InputError:
    return InputError(
        "names a person by cio_id, which partitions number differently; run it with --workers 1", where
    )


def _scalar(value: object) -> str | None:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_string(value).lower()
    return None


def _walk(value: object, keys: list[str], where: str) -> None:
    if isinstance(value, dict):
        if "object_id" in value or "object_type_id" in value:
            keys.append(f"object:{_scalar(value.get('object_type_id'))}/{_scalar(value.get('object_id'))}")
        if _IDENTIFIER_KEYS.isdisjoint(value) and "cio_id" not in value:
            # no identifier at this level (most of a body: its attributes): only what is inside
            for item in value.values():
                if isinstance(item, _CONTAINERS):
                    _walk(item, keys, where)
            return
        for name, item in value.items():
            if name in _IDENTIFIER_KEYS:
                text = _scalar(item)
                if text is not None:
                    keys.append(f"who:{text}")
            elif name == "cio_id" and item not in (None, ""):
                raise _cio_id(where)
            if isinstance(item, _CONTAINERS):
                _walk(item, keys, where)
    elif isinstance(value, list):
        for item in value:
            _walk(item, keys, where)


_CONTAINERS = (dict, list)


class Components:
    """Union-find over identity keys, with each event's component found at the end."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self._parent
        root = parent.setdefault(key, key)
        while root != parent[root]:
            root = parent[root]
        while key != root:  # path compression
            parent[key], key = root, parent[key]
        return root

    def join(self, keys: Iterable[str]) -> str | None:
        """Join `keys` into one component; return its root (None for no keys)."""
        root: str | None = None
        for key in keys:
            other = self.find(key)
            if root is None:
                root = other
            elif other != root:
                if other < root:
                    root, other = other, root
                self._parent[other] = root
        return root


def assign(components: Components, event_keys: Sequence[str | None], partitions: int) -> list[int]:
    """The partition of each event (`event_keys`: one of its keys, joined in `components`), as
    `pack` places their components."""
    return pack([components.find(key) if key is not None else None for key in event_keys], partitions)


def pack(roots: Sequence[Hashable | None], partitions: int) -> list[int]:
    """The partition of each event from its component's root (None: the event has no key, it sends
    nothing): components largest first onto the least loaded partition (ties: the lowest number),
    then each event with no key onto the least loaded one.

    The loads are a heap of (load, partition), whose first item is that least loaded partition;
    the sizes are counted, and the components sorted largest first (stable: ties keep their
    first appearance), in C. (It runs on the driver of `run --workers`, between the key pass and
    the replays, while the workers wait.)"""
    sizes = Counter(roots)
    sizes.pop(None, None)
    loads = [(0, partition) for partition in range(partitions)]
    where: dict[Hashable | None, int] = {}
    for root, size in sorted(sizes.items(), key=itemgetter(1), reverse=True):
        load, target = loads[0]
        where[root] = target
        heapreplace(loads, (load + size, target))

    def least_loaded() -> int:
        load, target = loads[0]
        heapreplace(loads, (load + 1, target))
        return target

    return [least_loaded() if root is None else where[root] for root in roots]


# -- a first guess from the events themselves ------------------------------------------------------
#
# Tracing every event for its requests' keys costs most of what replaying it costs. `guessed_keys`
# reads likely keys off the event instead: the identifiers Segment events carry, where the
# destination's presets read them. A guess is only a partitioning; it is never trusted. The
# partitions replay, each noting the true keys of the requests it sent (`request_keys`), and a
# true key found in two partitions (a custom mapping reading an identifier from elsewhere, say)
# throws the guessed replay away for the exact pass (sandbox.replay.keypass). When no true key is
# in two partitions, every true component lies in one partition (an event's keys are all in its
# partition), which is all the exact pass guarantees.


def guessed_keys(event: dict[str, Any], compiled: CompiledSubscriptions) -> list[str]:
    """Likely identity keys of `event`'s requests (see above): none when no subscription matches."""
    matched = metrics = False
    for sub in compiled.candidates(event):
        if sub.matches(event):
            matched = True
            metrics = metrics or sub.action.slug == "reportDeliveryEvent"
    if not matched:
        return []
    keys: list[str] = []
    get = event.get
    _guess(get("userId"), keys)
    _guess(get("anonymousId"), keys)
    _guess(get("previousId"), keys)
    context = get("context")
    properties = get("properties")
    holders = [get("traits"), properties]
    groups = [get("groupId")]
    if type(properties) is dict:
        groups.append(properties.get("objectId"))  # the object of Object/Relationship Deleted
    if type(context) is dict:
        holders.append(context.get("traits"))
        groups.append(context.get("groupId"))
        device = context.get("device")
        if type(device) is dict:
            _guess(device.get("token"), keys)
    for group in groups:
        if group is not None:
            text = _scalar(group)
            if text is not None:
                keys.append(f"group:{text}")
    for holder in holders:
        if type(holder) is dict:
            for name in _IDENTIFIER_KEYS:
                if name in holder:
                    _guess(holder[name], keys)
    if metrics:
        keys.append("~metrics")
    return keys or ["~keyless"]


def _guess(value: object, keys: list[str]) -> None:
    if value is None or value == "":
        return
    text = _scalar(value)
    if text is not None:
        keys.append(f"who:{text}")
