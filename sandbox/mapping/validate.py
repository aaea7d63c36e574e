"""mapping-kit's validate.ts: the static check of a mapping, run once per subscription.

Part of the mapping stage: subscription loading → **validate_mapping** → (per event) resolve.

Every problem is `/<path/segments> <text>.` in mapping-kit's words, e.g.
`/x/@path should be a string or a mapping directive but it is a number.` Problems found in several
keys of one object (or several fields of one directive) are all reported: validate.ts throws an
AggregateError there; here they become one MappingError whose message is the messages joined with
one space (as ajv-human joins its messages), and whose `path` is the first problem's.

What validate.ts checks, and so what this checks: directive shape (one `@` key, besides
`_metadata`), known directive names, and each directive's option fields. Like validate.ts it does
not look inside arrays, nor inside raw objects given as directive options (`@literal`'s value,
`@if`'s `then`); those are only found when resolved (see `compile`).

One deliberate difference: validate.ts checks `@merge`'s `objects` items without their location
(its message starts with `/ `); here they carry it (`/x/@merge/objects/1 ...`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from sandbox.errors import MappingError
from sandbox.js.values import JSON, MISSING, real_type_of
from sandbox.mapping.jsvalues import json_stringify

ROOT_MAPPING_FIELD_KEY: Final = "__segment_internal_directive"
MAX_PATTERN_LENGTH: Final = 10
MAX_REPLACEMENT_LENGTH: Final = 10

Stack = tuple[str, ...]
Validator = Callable[[JSON, Stack], None]


class _Problems(Exception):
    """One or more validation problems (validate.ts' ValidationError and AggregateError)."""

    def __init__(self, problems: Sequence[tuple[Stack, str]]) -> None:
        super().__init__()
        self.problems = list(problems)


def _fail(text: str, stack: Stack) -> _Problems:
    return _Problems([(stack, text)])


def _article(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def is_directive(value: JSON) -> bool:
    """A plain object with an `@` key and no keys but `@…` and `_metadata` (is-directive.ts)."""
    if type(value) is not dict or not value:
        return False
    has_directive = False
    for key in value:
        if type(key) is str and key.startswith("@"):
            has_directive = True
        elif key != "_metadata":
            return False
    return has_directive


def directive_name(value: dict[str, JSON]) -> str:
    """The first `@` key, the one mapping-kit runs."""
    return next(key for key in value if type(key) is str and key.startswith("@"))


def _type_or_directive(value: JSON) -> str:
    kind = real_type_of(value)
    if kind == "object" and any(type(key) is str and key.startswith("@") for key in value):
        return "directive"
    return kind


def _check_directive(obj: JSON, stack: Stack) -> None:
    if not is_directive(obj) and type(obj) is not dict:
        kind = real_type_of(obj)
        raise _fail(f"should be a directive object but it is {_article(kind)} {kind}", stack)
    keys = [str(key) for key in obj]
    directive_keys = [key for key in keys if key.startswith("@")]
    if len(directive_keys) > 1:
        raise _fail(f"should only have one @-prefixed key but it has {len(directive_keys)} keys", stack)
    if any(not key.startswith("@") and key != "_metadata" for key in keys):
        raise _fail(f"should only have one @-prefixed key but it has {len(keys)} keys", stack)
    name = directive_keys[0] if directive_keys else "undefined"
    check = _DIRECTIVES.get(name)
    if check is None:
        raise _fail(f"has an invalid directive: {name}", stack)
    check(obj[name], (*stack, name))


def _directive_or_raw(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _check_directive(value, stack)
    elif kind not in ("object", "array", "boolean", "string", "number", "null"):
        raise _fail(f"should be a mapping directive or a JSON value but it is {_article(kind)} {kind}", stack)


def _directive_or_string(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _check_directive(value, stack)
    elif kind != "string":
        raise _fail(f"should be a string or a mapping directive but it is {_article(kind)} {kind}", stack)


def _directive_or_object(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _check_directive(value, stack)
    elif kind == "object":
        _check_object(value, stack)
    else:
        # "a object" is validate.ts' wording.
        raise _fail(f"should be a object or a mapping directive but it is {_article(kind)} {kind}", stack)


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def _string_length(low: int, high: int) -> Validator:
    def check(value: JSON, stack: Stack) -> None:
        if isinstance(value, str) and _utf16_length(value) < low:
            raise _fail(f"should be a string of length {low} or greater", stack)
        if isinstance(value, str) and _utf16_length(value) > high:
            raise _fail(f"should be a string of length {high} or less", stack)

    return check


def _string(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind != "string":
        raise _fail(f"should be a string but it is {_article(kind)} {kind}", stack)


def _one_of(*allowed: str) -> Validator:
    def check(value: JSON, stack: Stack) -> None:
        _string(value, stack)
        if value.lower() not in allowed:
            raise _fail(f"should be one of {', '.join(allowed)} but it is {json_stringify(value)}", stack)

    return check


def _boolean(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind != "boolean":
        raise _fail(f"should be a boolean but it is {_article(kind)} {kind}", stack)


def _chain(*checks: Validator) -> Validator:
    def check(value: JSON, stack: Stack) -> None:
        for one in checks:
            one(value, stack)

    return check


def _check_object(value: JSON, stack: Stack) -> None:
    kind = _type_or_directive(value)
    if kind != "object":
        raise _fail(f"should be an object but it is {_article(kind)} {kind}", stack)
    problems: list[tuple[Stack, str]] = []
    for key, item in value.items():
        try:
            check_mapping(item, (*stack, str(key)))
        except _Problems as exc:
            problems.extend(exc.problems)
    if problems:
        raise _Problems(problems)


def _check_fields(value: JSON, stack: Stack, fields: dict[str, tuple[bool, Validator]]) -> None:
    """validateObjectWithFields: the options object, then each (required?, check) field in order."""
    _check_object(value, stack)
    problems: list[tuple[Stack, str]] = []
    for name, (required, check) in fields.items():
        item = value.get(name, MISSING)
        try:
            if required and item is MISSING:
                raise _fail(f"should have field {json_stringify(name)} but it doesn't", stack)
            if item is not MISSING:
                check(item, (*stack, name))
        except _Problems as exc:
            problems.extend(exc.problems)
    if problems:
        raise _Problems(problems)


def _check_array(value: JSON, stack: Stack) -> None:
    kind = real_type_of(value)
    if kind != "array":
        raise _fail(f"should be an array but it is {_article(kind)} {kind}", stack)


REQUIRED, OPTIONAL = True, False


def _if(value: JSON, stack: Stack) -> None:
    raw = (OPTIONAL, _directive_or_raw)
    _check_fields(value, stack, {"exists": raw, "then": raw, "else": raw})


def _case(value: JSON, stack: Stack) -> None:
    _check_fields(value, stack, {"operator": (OPTIONAL, _string), "value": (OPTIONAL, _directive_or_string)})


def _replace(value: JSON, stack: Stack) -> None:
    fields = {
        "pattern": (REQUIRED, _chain(_string, _string_length(1, MAX_PATTERN_LENGTH))),
        "replacement": (OPTIONAL, _chain(_string, _string_length(0, MAX_REPLACEMENT_LENGTH))),
        "value": (REQUIRED, _directive_or_string),
        "ignorecase": (OPTIONAL, _boolean),
        "global": (OPTIONAL, _boolean),
    }
    _check_fields(value, stack, fields)


def _array_path(value: JSON, stack: Stack) -> None:
    _check_array(value, stack)
    _directive_or_string(value[0] if value else MISSING, stack)
    check_mapping(value[1] if len(value) > 1 else MISSING, stack)


def _json(value: JSON, stack: Stack) -> None:
    fields = {"value": (REQUIRED, _directive_or_raw), "mode": (REQUIRED, _one_of("encode", "decode"))}
    _check_fields(value, stack, fields)


def _flatten(value: JSON, stack: Stack) -> None:
    _check_fields(value, stack, {"separator": (OPTIONAL, _string), "value": (REQUIRED, _directive_or_raw)})


def _merge(value: JSON, stack: Stack) -> None:
    fields = {"direction": (OPTIONAL, _one_of("left", "right")), "objects": (REQUIRED, _check_array)}
    _check_fields(value, stack, fields)
    for position, item in enumerate(value["objects"]):
        _directive_or_object(item, (*stack, "objects", str(position)))


def _transform(value: JSON, stack: Stack) -> None:
    fields: dict[str, tuple[bool, Validator]] = {
        "apply": (REQUIRED, _directive_or_object),
        "mapping": (REQUIRED, _directive_or_object),
    }
    _check_fields(value, stack, fields)


_DIRECTIVES: Final[dict[str, Validator]] = {
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@path": _directive_or_string,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@template": _directive_or_string,
    "@literal": _directive_or_raw,
    "@transform": _transform,
    "@excludeWhenNull": _directive_or_raw,
    "@liquid": _string,
}


def check_mapping(mapping: JSON, stack: Stack = ()) -> None:
    """validate.ts' `validate`: raises _Problems. Arrays are type-checked only, as upstream."""
    kind = _type_or_directive(mapping)
    if kind == "directive":
        _check_directive(mapping, stack)
    elif kind == "object":
        _check_object(mapping, stack)


def mapping_to_process(mapping: dict[str, JSON]) -> JSON:
    """getMappingToProcess: with `__segment_internal_directive`, its one directive object becomes
    the mapping, and the other keys are given to that directive as its `mapping` option.

    Never mutates `mapping`. Raises MappingError for a root value that is not a one-key object
    holding an object.
    """
    if ROOT_MAPPING_FIELD_KEY not in mapping:
        return mapping
    where = (ROOT_MAPPING_FIELD_KEY,)
    root = mapping[ROOT_MAPPING_FIELD_KEY]
    if isinstance(root, (dict, list, str)) and len(root) > 1:
        raise MappingError("The root mapping must only have a single directive object", where)
    if not isinstance(root, dict) or not root:
        raise MappingError("The root directive must be an object", where)
    name, options = next(iter(root.items()))
    if isinstance(options, list):
        return root  # JavaScript sets `mapping` as an array property, which no JSON shows.
    if not isinstance(options, dict):
        raise MappingError("The root directive must be an object", (*where, str(name)))
    others = {key: value for key, value in mapping.items() if key != ROOT_MAPPING_FIELD_KEY}
    return {name: {**options, "mapping": others}}


def problems_error(problems: Sequence[tuple[Stack, str]]) -> MappingError:
    """One MappingError for validate.ts' errors: messages joined by a space, path of the first."""
    message = " ".join(f"/{'/'.join(stack)} {text}." for stack, text in problems)
    return MappingError(message, problems[0][0])


def validate_mapping(mapping: JSON) -> None:
    """Check a subscription's mapping as mapping-kit does before resolving; raise MappingError."""
    if not isinstance(mapping, dict):
        kind = real_type_of(mapping)
        raise MappingError(f"/ should be an object but it is {_article(kind)} {kind}.", ())
    try:
        check_mapping(mapping_to_process(mapping))
    except _Problems as exc:
        raise problems_error(exc.problems) from None
    except RecursionError:
        raise MappingError("/ the mapping is nested too deeply to check.", ()) from None
