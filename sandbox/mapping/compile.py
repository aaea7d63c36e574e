"""mapping-kit's `resolve`, compiled: a mapping becomes a tree of closures, built once.

Part of the mapping stage: validate_mapping (once) → **compile** (once) → call per event.

Each mapping node compiles to a function of the event. Two flavours exist, because mapping-kit
first resolves with `undefined` kept (`raw`) and only then runs removeUndefined over the result:

* raw: JavaScript's intermediate value. Objects built by the mapping keep MISSING values, arrays
  keep MISSING items. Directive operands are compiled raw, since some directives see the
  difference (`@merge` copies undefined keys over defined ones, `@flatten` turns `[undefined]`
  into a key that disappears, `@arrayPath` resolves its shape against an undefined item).
* clean: `removeUndefined(raw)` with MISSING array items turned into None, the final shape.
  Plain objects and arrays from the root down, `@path`, `@template`, `@if` and `@literal` compile
  straight to the clean form, so a preset mapping never walks its output a second time; other
  directives clean their raw result.

Values that `@path` takes from the event are returned as they are (shared, not copied): the
event is JSON and holds no MISSING. Runtime failures raise MappingError with the mapping-kit text
and, as `path`, where in the mapping the failing directive sits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

import orjson

from sandbox.errors import MappingError
from sandbox.js.json import js_keys
from sandbox.js.strings import trim, utf16_length, utf16_units
from sandbox.js.values import JSON, MISSING, is_truthy, typeof
from sandbox.mapping.codegen import generate_object
from sandbox.mapping.jsvalues import (
    json_parse,
    json_stringify,
    loosely_equals_empty_string,
    real_type_of,
    to_string,
)
from sandbox.mapping.paths import get_keys, is_root, split_path
from sandbox.mapping.validate import (
    MAX_PATTERN_LENGTH,
    MAX_REPLACEMENT_LENGTH,
    _Problems,
    check_mapping,
    directive_name,
    is_directive,
    mapping_to_process,
    problems_error,
)

Fn = Callable[[JSON], JSON]
Where = tuple[str, ...]
Builder = Callable[[JSON, Where, bool], Fn]


def compile_node(node: JSON, where: Where = (), clean: bool = True) -> Fn:
    """The function that resolves `node` against an event (see the module docstring for `clean`)."""
    if type(node) is dict:
        if is_directive(node):
            name = directive_name(node)
            build = _DIRECTIVES.get(name)
            if build is None:
                return _raiser(f"{name} is not a valid directive, got undefined", (*where, name))
            return build(node[name], (*where, name), clean)
        return _compile_object(node, where, clean)
    if type(node) is list:
        return _compile_array(node, where, clean)
    return _constant(node)


def _constant(value: JSON) -> Fn:
    return lambda data: value


def _raiser(message: str, where: Where) -> Fn:
    def fail(data: JSON) -> JSON:
        raise MappingError(message, where)

    return fail


def _compile_object(node: dict[str, JSON], where: Where, clean: bool) -> Fn:
    if "__proto__" in node:
        # resolve() builds with `resolved[key] = ...`: for "__proto__" that sets the prototype
        # (dropped again by removeUndefined's copy) rather than a key. The value is still resolved.
        inner = _compile_object({k: v for k, v in node.items() if k != "__proto__"}, where, clean)
        proto = compile_node(node["__proto__"], (*where, "__proto__"), clean)

        def without_proto(data: JSON) -> JSON:
            result: JSON = MISSING
            for key in node:
                if key == "__proto__":
                    proto(data)
                elif result is MISSING:
                    result = inner(data)
            return {} if result is MISSING else result

        return without_proto
    children = {key: compile_node(value, (*where, str(key)), clean) for key, value in node.items()}
    items = tuple(children.items())
    if not clean:
        return lambda data: {key: fn(data) for key, fn in items}

    def slow(data: JSON) -> JSON:
        return {key: value for key, fn in items if (value := fn(data)) is not MISSING}

    return generate_object(node, children, slow)


def _compile_array(node: list[JSON], where: Where, clean: bool) -> Fn:
    fns = tuple(compile_node(value, (*where, str(index)), clean) for index, value in enumerate(node))
    if clean:
        return lambda data: [None if (value := fn(data)) is MISSING else value for fn in fns]
    return lambda data: [fn(data) for fn in fns]


def remove_undefined(value: JSON) -> JSON:
    """removeUndefined, then MISSING array items as None: the clean form of a raw value.

    removeUndefined copies each object with `Object.assign({}, value)`, so an own `__proto__` key
    is not copied but assigned: see `own_properties`."""
    if type(value) is dict:
        if "__proto__" in value:
            return _own_properties(value)
        return {key: remove_undefined(item) for key, item in value.items() if item is not MISSING}
    if type(value) is list:
        return [None if item is MISSING else remove_undefined(item) for item in value]
    return value


_orjson_dumps = orjson.dumps


class NonPlainObject(dict[str, JSON]):
    """An object whose prototype is not Object.prototype: what `Object.assign({}, value)` makes of
    a `value` holding an own `"__proto__"` key whose value is an object (or array). The key is gone
    (it set the copy's prototype instead), and, since lodash's isPlainObject now says no, the
    destination's convertAttributeTimestamps leaves it, and every timestamp inside it, as it is.
    It holds the own properties only; the prototype's are invisible to JSON.stringify."""

    __slots__ = ()


def own_properties(value: JSON) -> JSON:
    """See `_own_properties`; values without a `__proto__` key anywhere (nearly all) are found so
    by orjson's text of them, which holds `"__proto__"` wherever such a key is (a string equal to
    it only costs the walk), else by a walk without recursion, so data nested deeper than
    Python's stack (or holding MISSING, or what orjson refuses) still passes through."""
    cls = type(value)
    if cls is dict or cls is list:
        try:
            text = _orjson_dumps(value)
        except TypeError:
            pass
        else:
            if b'"__proto__"' not in text:
                return value
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        cls = type(item)
        if cls is dict or cls is NonPlainObject:
            if "__proto__" in item:
                return _own_properties(value)
            extend(item.values())
        elif cls is list:
            extend(item)
    return value


def _own_properties(value: JSON) -> JSON:
    """`value` after removeUndefined's copies, as far as `__proto__` keys go: every object holding
    an own `"__proto__"` key loses it, and becomes a NonPlainObject when the key held an object or
    an array (null makes a prototype-less object, which is still plain; a primitive is ignored).
    MISSING members are dropped and MISSING array items become None, as in remove_undefined.
    Objects without such a key anywhere inside are returned as they are (not copied)."""
    cls = type(value)
    if cls is list:
        items = [_own_properties(item) for item in value]
        if any(new is not old or new is MISSING for new, old in zip(items, value, strict=True)):
            return [None if item is MISSING else item for item in items]
        return value
    if cls is not dict and cls is not NonPlainObject:
        return value
    members = {key: _own_properties(item) for key, item in value.items() if item is not MISSING}
    if "__proto__" in members:
        prototype = members.pop("__proto__")
        if type(prototype) in (dict, list, NonPlainObject):
            return NonPlainObject(members)
        return members
    if len(members) == len(value) and all(members[key] is value[key] for key in members):
        return value
    return NonPlainObject(members) if cls is NonPlainObject else members


def _cleaned(fn: Fn, clean: bool) -> Fn:
    """`fn` when a raw result is wanted, else `fn` followed by remove_undefined."""
    if not clean:
        return fn
    return lambda data: remove_undefined(fn(data))


# --- @path, @template -----------------------------------------------------------------------


def _path_getter(path: str) -> Fn:
    """`get(data, path.replace('$.', ''))` with the path split once; fast paths for 1 and 2 keys."""
    path = path.replace("$.", "", 1)
    if is_root(path):
        return lambda data: data
    keys = split_path(path)
    if len(keys) == 1:
        (first,) = keys
        return lambda data: data.get(first, MISSING) if type(data) is dict else get_keys(data, keys)
    if len(keys) == 2:
        first, second = keys
        rest = keys[1:]

        def get2(data: JSON) -> JSON:
            if type(data) is dict:
                value = data.get(first, MISSING)
                if type(value) is dict:
                    return value.get(second, MISSING)
                return get_keys(value, rest)
            return get_keys(data, keys)

        return get2
    return lambda data: get_keys(data, keys)


@lru_cache(maxsize=4096)
def _cached_path_getter(path: str) -> Fn:
    return _path_getter(path)


def _string_operand(name: str, value: JSON, where: Where, use: Callable[[str], Fn]) -> Fn:
    """registerStringDirective: a literal string is used at compile time, a directive must resolve
    to a string when run (`<name>: expected string, got <type>`)."""
    if isinstance(value, str):
        return use(value)
    operand = compile_node(value, where, clean=False)

    def run(data: JSON) -> JSON:
        text = operand(data)
        if not isinstance(text, str):
            raise MappingError(f"{name}: expected string, got {real_type_of(text)}", where)
        return use(text)(data)

    return run


def _build_path(value: JSON, where: Where, clean: bool) -> Fn:
    return _string_operand("@path", value, where, _cached_path_getter)


_TRIPLE: Final = re.compile(r"\{\{\{([^}]+)\}\}\}")
_DOUBLE: Final = re.compile(r"\{\{([^}]+)\}\}")


def _placeholder(inner: str) -> tuple[str, ...] | None:
    """The keys a `{{ inner }}` placeholder reads; None for the root (`""` or `"."`)."""
    path = trim(inner)
    return None if is_root(path) else split_path(path)


def _placeholder_value(data: JSON, keys: tuple[str, ...] | None) -> str:
    value = data if keys is None else get_keys(data, keys)
    if value is None or value is MISSING:
        return ""
    return value if type(value) is str else to_string(value)


def render(template: str, data: JSON) -> str:
    """placeholders.ts `render`: `{{{ p }}}` first, then `{{ p }}` over that result; no escaping."""
    once = _TRIPLE.sub(lambda m: _placeholder_value(data, _placeholder(m.group(1))), template)
    return _DOUBLE.sub(lambda m: _placeholder_value(data, _placeholder(m.group(1))), once)


@lru_cache(maxsize=4096)
def _template_renderer(template: str) -> Fn:
    """render() specialised to one template. Without `{{{…}}}` the second pass only sees the
    template itself, so it is split into literal text and placeholder keys once."""
    if _TRIPLE.search(template):
        return lambda data: render(template, data)
    parts: list[str | tuple[str, ...] | None] = []
    position = 0
    for match in _DOUBLE.finditer(template):
        if match.start() > position:
            parts.append(template[position : match.start()])
        parts.append(_placeholder(match.group(1)))
        position = match.end()
    if position < len(template):
        parts.append(template[position:])
    if not parts:
        return lambda data: ""
    if len(parts) == 1:
        (only,) = parts
        if isinstance(only, str):
            return lambda data: only
        return lambda data: _placeholder_value(data, only)
    frozen = tuple(parts)
    return lambda data: "".join(
        part if type(part) is str else _placeholder_value(data, part)  # type: ignore[arg-type]
        for part in frozen
    )


def _build_template(value: JSON, where: Where, clean: bool) -> Fn:
    return _string_operand("@template", value, where, _template_renderer)


# --- @if, @literal, @case ----------------------------------------------------------------------


def _build_if(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@if requires an object with an "exists" key', where)
    if not is_truthy(options.get("exists", MISSING)) and not is_truthy(options.get("blank", MISSING)):
        return _raiser('@if requires an "exists" key or a "blank" key', where)
    exists = "exists" in options
    condition = compile_node(
        options["exists" if exists else "blank"], (*where, "exists" if exists else "blank"), False
    )
    then = compile_node(options["then"], (*where, "then"), clean) if "then" in options else None
    otherwise = (
        compile_node(options["else"], (*where, "else"), clean) if is_truthy(options.get("else")) else None
    )

    def run(data: JSON) -> JSON:
        value = condition(data)
        if exists:
            holds = value is not MISSING and value is not None
        else:
            holds = value is not MISSING and value is not None and not loosely_equals_empty_string(value)
        if holds:
            return then(data) if then is not None else MISSING
        return otherwise(data) if otherwise is not None else MISSING

    return run


def _build_literal(value: JSON, where: Where, clean: bool) -> Fn:
    return compile_node(value, where, clean)


def _build_case(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@case requires an object with a "operator" key', where)
    operator = options.get("operator", MISSING)
    if not is_truthy(operator):
        return _raiser('@case requires a "operator" key', where)
    if not is_truthy(options.get("value", MISSING)):
        return _constant(MISSING)
    operand = compile_node(options["value"], (*where, "value"), False)

    def run(data: JSON) -> JSON:
        value = operand(data)
        if isinstance(value, str):
            if operator == "lower":
                return value.lower()
            if operator == "upper":
                return value.upper()
            raise MappingError('operator key should have a value of "lower" or "upper"', where)
        return value

    return _cleaned(run, clean)


# --- @replace ----------------------------------------------------------------------------------


def _canonical(char: str) -> str:
    """Canonicalize of a non-unicode JavaScript regex with the i flag (ES §22.2.2.7.3)."""
    upper = char.upper()
    if len(upper) != 1 or (ord(char) >= 128 and ord(upper) < 128):
        return char
    return upper


MAX_STRING_LENGTH: Final = 2**29 - 24
"""V8's longest string (UTF-16 units): a longer @replace result is JavaScript's RangeError."""


@lru_cache(maxsize=256)
def _substitution_parts(replacement: str) -> tuple[str, ...]:
    """GetSubstitution for a pattern without groups, parsed once: literal text, and `$&`, `` $` ``,
    `$'` as the one-character tokens "&", "`", "'" (`$$` is a literal "$"). Literals are
    prefixed with "=" to tell them from tokens."""
    parts: list[str] = []
    literal: list[str] = []
    index = 0
    while index < len(replacement):
        char = replacement[index]
        follow = replacement[index + 1 : index + 2]
        if char == "$" and follow in ("$", "&", "`", "'"):
            if follow == "$":
                literal.append("$")
            else:
                if literal:
                    parts.append("=" + "".join(literal))
                    literal = []
                parts.append(follow)
            index += 2
        else:
            literal.append(char)
            index += 1
    if literal:
        parts.append("=" + "".join(literal))
    return tuple(parts)


def _substitute(parts: tuple[str, ...], text: str, start: int, end: int, out: list[str]) -> int:
    """Append the substitution of the match text[start:end] to `out`; return its length. Only the
    slices a token asks for are made, so a replacement without `` $` `` / `$'` costs O(its size)."""
    size = 0
    for part in parts:
        if part[0] == "=":
            piece = part[1:]
        elif part == "&":
            piece = text[start:end]
        elif part == "`":
            piece = text[:start]
        else:
            piece = text[end:]
        out.append(piece)
        size += len(piece)
    return size


def _replace_literal(
    text: str, pattern: str, replacement: str, ignorecase: bool, every: bool, where: Where
) -> str:
    """performReplace: `pattern` matched literally (it is regex-escaped upstream), flags g and i.
    Linear in the result's size; a result longer than JavaScript's longest string is refused
    before it is built (V8's "Invalid string length")."""
    if utf16_length(pattern) > MAX_PATTERN_LENGTH:
        raise MappingError(f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters', where)
    if utf16_length(replacement) > MAX_REPLACEMENT_LENGTH:
        raise MappingError(
            f'@replace requires a "replacement" less than {MAX_REPLACEMENT_LENGTH} characters', where
        )
    parts = (
        _substitution_parts(replacement)
        if "$" in replacement
        else ("=" + replacement,)
        if replacement
        else ()
    )
    haystack = "".join(map(_canonical, text)) if ignorecase else text
    needle = "".join(map(_canonical, pattern)) if ignorecase else pattern
    out: list[str] = []
    position = 0
    size = 0
    while True:
        found = haystack.find(needle, position)
        if found < 0:
            break
        end = found + len(needle)
        out.append(text[position:found])
        size += found - position
        for part in parts:  # the size first: a result too long for JavaScript is never built
            if part[0] == "=":
                size += len(part) - 1
            elif part == "&":
                size += end - found
            elif part == "`":
                size += found
            else:
                size += len(text) - end
        if size > MAX_STRING_LENGTH:
            raise MappingError("@replace: Invalid string length (the result would be longer than "
                               f"JavaScript's {MAX_STRING_LENGTH} characters)", where)  # fmt: skip
        _substitute(parts, text, found, end, out)
        position = end
        if not every:
            break
    out.append(text[position:])
    return "".join(out)


def _build_replace(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@replace requires an object with a "pattern" key', where)
    if not is_truthy(options.get("pattern", MISSING)):
        return _raiser('@replace requires a "pattern" key', where)
    pattern = options["pattern"]
    replacement = options.get("replacement")
    replacement = "" if replacement is None else replacement
    pattern2 = options.get("pattern2", MISSING)
    replacement2 = options.get("replacement2")
    if is_truthy(pattern2) and replacement2 is None:
        replacement2 = ""
    ignorecase = options.get("ignorecase")
    ignorecase = False if ignorecase is None else ignorecase
    every = options.get("global")
    every = True if every is None else every
    if not is_truthy(options.get("value", MISSING)):
        return _constant(MISSING)
    operand = compile_node(options["value"], (*where, "value"), False)
    usable = (
        isinstance(pattern, str)
        and isinstance(replacement, str)
        and isinstance(ignorecase, bool)
        and isinstance(every, bool)
    )
    second = isinstance(pattern2, str) and pattern2 != "" and isinstance(replacement2, str)
    pattern2_text = pattern2 if isinstance(pattern2, str) else ""
    replacement2_text = replacement2 if isinstance(replacement2, str) else ""

    def run(data: JSON) -> JSON:
        value = operand(data)
        if isinstance(value, (bool, int, float)):
            value = to_string(value)
        if not (usable and isinstance(value, str)):
            return ""
        result = _replace_literal(value, pattern, replacement, ignorecase, every, where)
        if second:
            result = _replace_literal(result, pattern2_text, replacement2_text, ignorecase, every, where)
        return result

    return run


# --- @arrayPath, @flatten, @json, @merge ----------------------------------------------------------


def _build_array_path(value: JSON, where: Where, clean: bool) -> Fn:
    if type(value) is not list:
        return _raiser(f"@arrayPath expected array, got {real_type_of(value)}", where)
    path = value[0] if value else MISSING
    shape = value[1] if len(value) > 1 else MISSING
    root = _cached_path_getter(path) if isinstance(path, str) else compile_node(path, where, False)
    if type(shape) is not dict or not shape:
        return _cleaned(root, clean)
    item_fn = compile_node(shape, where, False)

    def run(data: JSON) -> JSON:
        found = root(data)
        if type(found) is dict:
            return [item_fn(found)]
        if type(found) is list:
            return [item_fn(item) for item in found]
        return found

    return _cleaned(run, clean)


def flatten_object(value: JSON, prefix: str, separator: str, ignore_arrays: bool) -> dict[str, JSON]:
    """flatten.ts `flattenObject`: nested keys joined by `separator`; a primitive gives `{prefix: v}`.
    An object's keys in JavaScript's order (integer-like keys first, ascending), as its loop over
    the object takes them."""
    if type(value) is dict:
        entries: Any = [(key, value[key]) for key in js_keys(value)]
    elif type(value) is list and not ignore_arrays:
        entries = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    out: dict[str, JSON] = {}
    for key, item in entries:
        out.update(
            flatten_object(
                item, f"{prefix}{separator}{key}" if prefix else str(key), separator, ignore_arrays
            )
        )
    return out


def _build_flatten(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@flatten requires an object with a "separator" key', where)
    if not is_truthy(options.get("separator", MISSING)):
        return _raiser('@flatten requires a "separator" key', where)
    separator_fn = compile_node(options["separator"], (*where, "separator"), False)
    value_fn = compile_node(options.get("value", MISSING), (*where, "value"), False)
    omit_arrays = is_truthy(options.get("omitArrays", MISSING))

    def run(data: JSON) -> JSON:
        separator = separator_fn(data)
        if not isinstance(separator, str):
            raise MappingError("@flatten requires a string separator", where)
        return flatten_object(value_fn(data), "", separator, omit_arrays)

    return _cleaned(run, clean)


def _build_json(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@json requires an object with a "value" key', where)
    mode = options.get("mode", MISSING)
    if not is_truthy(mode):
        return _raiser('@json requires a "mode" key', where)
    if not is_truthy(options.get("value", MISSING)):
        return _raiser('@json requires a "value" key', where)
    value_fn = compile_node(options["value"], (*where, "value"), False)
    if mode == "encode" and type(mode) is str:
        return lambda data: json_stringify(value_fn(data))
    if mode != "decode" or type(mode) is not str:
        return lambda data: (value_fn(data), MISSING)[1]

    def decode(data: JSON) -> JSON:
        value = value_fn(data)
        if isinstance(value, str):
            try:
                return json_parse(value)
            except (ValueError, RecursionError):
                return value
        return value

    return _cleaned(decode, clean)


def _assign(target: dict[str, JSON], source: JSON) -> None:
    """One source of `Object.assign`: own enumerable properties; primitives other than strings have none."""
    if type(source) is dict or type(source) is NonPlainObject:
        target.update(source)
        if "__proto__" in source:  # [[Set]] of __proto__: it sets the prototype, no own key
            del target["__proto__"]
    elif type(source) is list:
        target.update((str(index), item) for index, item in enumerate(source))
    elif isinstance(source, str):
        units = source if source.isascii() else utf16_units(source)
        target.update((str(index), unit) for index, unit in enumerate(units))


def _build_merge(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@merge requires an object with an "objects" key and a "direction" key', where)
    if not is_truthy(options.get("direction", MISSING)):
        return _raiser('@merge requires a "direction" key', where)
    direction_fn = compile_node(options["direction"], (*where, "direction"), False)
    objects = options.get("objects", MISSING)
    if not is_truthy(objects) or type(objects) is not list:
        message = (
            '@merge requires a "objects" key'
            if not is_truthy(objects)
            else f"@merge: expected opts.array, got {typeof(objects)}"
        )

        def fail(data: JSON) -> JSON:
            direction_fn(data)
            raise MappingError(message, where)

        return fail
    object_fns = tuple(
        compile_node(item, (*where, "objects", str(i)), False) for i, item in enumerate(objects)
    )

    def run(data: JSON) -> JSON:
        direction = direction_fn(data)
        resolved = [fn(data) for fn in object_fns]
        if direction == "left" and type(direction) is str:
            resolved.reverse()
        merged: dict[str, JSON] = {}
        for source in resolved:
            _assign(merged, source)
        return merged

    return _cleaned(run, clean)


# --- @transform, @excludeWhenNull, @liquid -------------------------------------------------------


def compile_transform(mapping: JSON, where: Where = ()) -> Fn:
    """mapping-kit `transform(mapping, data)`: data must be an object; the mapping (after root
    injection) is validated, resolved and cleaned. Validation problems are raised when run."""
    try:
        to_process = mapping_to_process(mapping) if type(mapping) is dict else mapping
        check_mapping(to_process)
    except MappingError as exc:
        return _checked_data(_raiser(exc.message, (*where, *exc.path)), where)
    except _Problems as exc:
        error = problems_error([((*where, *stack), text) for stack, text in exc.problems])
        return _checked_data(_raiser(error.message, error.path), where)
    return _checked_data(compile_node(to_process, where, True), where)


def _checked_data(fn: Fn, where: Where) -> Fn:
    def run(data: JSON) -> JSON:
        if type(data) is not dict:
            raise MappingError(f"data must be an object, got {real_type_of(data)}", where)
        return fn(data)

    return run


def _build_transform(options: JSON, where: Where, clean: bool) -> Fn:
    if type(options) is not dict:
        return _raiser('@transform requires an object with an "apply" key and a "mapping" key', where)
    if not is_truthy(options.get("mapping", MISSING)):
        return _raiser('@transform requires a "mapping" key', where)
    if not is_truthy(options.get("apply", MISSING)):
        return _raiser('@transform requires a "apply" key', where)
    if type(options["apply"]) is not dict:
        return _raiser('@transform "apply" key should be an object', where)
    apply = compile_transform(options["apply"], (*where, "apply"))
    then = compile_node(options["mapping"], (*where, "mapping"), clean)
    return lambda data: then(apply(data))


def clean_nulls(value: JSON) -> JSON:
    """cleanNulls: null values of an object become undefined, through nested objects, not arrays."""
    if type(value) is not dict:
        return value
    return {
        key: MISSING if item is None else clean_nulls(item) if type(item) is dict else item
        for key, item in value.items()
    }


def _build_exclude_when_null(value: JSON, where: Where, clean: bool) -> Fn:
    operand = compile_node(value, where, False)

    def run(data: JSON) -> JSON:
        resolved = operand(data)
        return MISSING if resolved is None else clean_nulls(resolved)

    return _cleaned(run, clean)


def _build_liquid(value: JSON, where: Where, clean: bool) -> Fn:
    from sandbox.mapping import liquid  # python-liquid loads only for mappings that use @liquid

    if not isinstance(value, str):
        return _raiser("liquid template value must be a string", where)
    if value == "":
        return _constant("")
    if utf16_length(value) > liquid.MAX_TEMPLATE_LENGTH:
        return _raiser("liquid template values are limited to 1000 characters", where)
    try:
        template = liquid.parse(value)
    except liquid.LiquidTemplateError as exc:
        return _raiser(str(exc), where)

    def run(data: JSON) -> JSON:
        try:
            return liquid.render(template, data)
        except liquid.LiquidTemplateError as exc:
            raise MappingError(str(exc), where) from None

    return run


_DIRECTIVES: Final[dict[str, Builder]] = {
    "@if": _build_if,
    "@case": _build_case,
    "@replace": _build_replace,
    "@arrayPath": _build_array_path,
    "@path": _build_path,
    "@template": _build_template,
    "@literal": _build_literal,
    "@flatten": _build_flatten,
    "@json": _build_json,
    "@merge": _build_merge,
    "@transform": _build_transform,
    "@excludeWhenNull": _build_exclude_when_null,
    "@liquid": _build_liquid,
}
