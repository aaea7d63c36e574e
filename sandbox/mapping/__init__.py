"""mapping-kit for Python: validate a subscription's mapping once, resolve it for every event.

The mapping stage of the flow: event → subscription match → **mapping** → action payload.

* `validate_mapping(mapping)`: validate.ts' checks; raises MappingError (`/<path> <text>.`).
* `resolve(mapping, data)`: mapping-kit's `transform` without its validation: the resolved
  payload, a new dict with every MISSING removed (MISSING array items become None). Raises only
  MappingError, for failures found while resolving (`data must be an object, got array`,
  `@path: expected string, got number`, ...), located by `.path`.
* `compile_mapping(mapping)`: the function `resolve` uses, for callers that keep it themselves.

Directives (docs/destination.md §10.3): @path @template @if @literal @arrayPath @case @replace @merge @transform
@flatten @json @liquid @excludeWhenNull, and the `__segment_internal_directive` root mapping.

`resolve` compiles each mapping once and keeps the result in a small cache (256 mappings, oldest
out first) keyed by the mapping's identity; the cache holds the mapping, so the identity is not
reused. A mapping must therefore not be changed in place once it has been resolved: the change
would not be seen. Build a new dict instead, or hold `compile_mapping(mapping)` yourself. Behind
it, compiled mappings are shared between equal mappings (keyed by their JSON text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from sandbox.errors import MappingError
from sandbox.js.values import JSON, real_type_of
from sandbox.mapping.compile import compile_node, own_properties, remove_undefined
from sandbox.mapping.validate import mapping_to_process, validate_mapping

__all__ = ["compile_mapping", "remove_undefined", "resolve", "resolver", "validate_mapping"]

Compiled = Callable[[JSON], dict[str, JSON]]

_CACHE_SIZE: Final = 256
_cache: dict[int, tuple[JSON, Compiled]] = {}
_by_content: dict[str, Compiled] = {}


def compile_mapping(mapping: dict[str, JSON]) -> Compiled:
    """The resolver of one mapping: `data` → payload. The mapping is assumed validated; what
    validation does not catch raises MappingError when the resolver runs."""
    if type(mapping) is not dict:
        raise MappingError(f"the mapping must be an object, got {real_type_of(mapping)}")
    try:
        node = compile_node(mapping_to_process(mapping))
    except RecursionError:
        raise MappingError("the mapping is nested too deeply to resolve") from None

    def run(data: JSON) -> dict[str, JSON]:
        if type(data) is not dict:
            raise MappingError(f"data must be an object, got {real_type_of(data)}")
        try:
            result = own_properties(node(data))
        except RecursionError:
            raise MappingError("the mapping or the data is nested too deeply to resolve") from None
        if type(result) is not dict:
            # A root directive may give anything; transform() would return it as it is.
            raise MappingError(f"the mapping resolved to {real_type_of(result)}, not an object")
        return result

    return run


def resolve(mapping: dict[str, JSON], data: JSON) -> dict[str, JSON]:
    """Resolve a validated mapping against one event (mapping-kit `transform` minus validation)."""
    return resolver(mapping)(data)


def resolver(mapping: dict[str, JSON]) -> Compiled:
    """The function `resolve(mapping, data)` calls with `data`, from the same cache: for callers
    that resolve one mapping against many events (batch mode's chunks)."""
    entry = _cache.get(id(mapping))
    if entry is None:
        if len(_cache) >= _CACHE_SIZE:
            del _cache[next(iter(_cache))]
        entry = _cache[id(mapping)] = (mapping, _compile_by_content(mapping))
    return entry[1]


def _compile_by_content(mapping: dict[str, JSON]) -> Compiled:
    """compile_mapping, shared between equal mappings: a compiled mapping depends only on the
    mapping's content (it keeps no reference into it), and compiling costs far more than the
    JSON text used as the key. Callers that build a fresh but equal mapping per event (say,
    `{**defaults, **mapping}`) then pay for the text, not for a compilation."""
    try:
        key = json.dumps(mapping, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return compile_mapping(mapping)
    compiled = _by_content.get(key)
    if compiled is None:
        if len(_by_content) >= _CACHE_SIZE:
            del _by_content[next(iter(_by_content))]
        compiled = _by_content[key] = compile_mapping(mapping)
    return compiled
