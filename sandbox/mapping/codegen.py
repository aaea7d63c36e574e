"""The fast path of the mapping stage: a plain mapping object compiled to one Python function.

compile.py turns every mapping node into a closure; for the objects that carry a mapping's keys
(in the clean form, see compile.py) this module writes one function instead, with the common
directives written out inline: constants, `@path` with a literal path, and `@if` on `exists`
whose parts are inline themselves (the shape of every Customer.io preset). Anything else is a
call to the child's closure. A preset mapping then costs one call and a few dict lookups.

The generated code assumes `data` is a dict; any other data (an `@arrayPath` item, say) takes the
closure version, `slow`. Names in the generated source are bound values, never user text, so a
mapping cannot inject code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.js.values import JSON, MISSING, is_truthy
from sandbox.mapping.paths import get_keys, is_root, split_path
from sandbox.mapping.validate import directive_name, is_directive

Fn = Callable[[JSON], JSON]


class _Writer:
    """Collects bound values and fresh local names for one generated function."""

    def __init__(self) -> None:
        self.bindings: dict[str, Any] = {"MISSING": MISSING, "get_keys": get_keys}
        self.count = 0

    def bind(self, value: Any) -> str:
        name = f"b{len(self.bindings)}"
        self.bindings[name] = value
        return name

    def local(self) -> str:
        self.count += 1
        return f"t{self.count}"


def _path_expression(path: str, writer: _Writer) -> str:
    """`get(data, path.replace('$.', ''))` as an expression, for a dict `data`."""
    path = path.replace("$.", "", 1)
    if is_root(path):
        return "data"
    keys = split_path(path)
    if len(keys) == 1:
        return f"data.get({writer.bind(keys[0])}, MISSING)"
    if len(keys) == 2:
        first, second, rest, t = (
            writer.bind(keys[0]),
            writer.bind(keys[1]),
            writer.bind(keys[1:]),
            writer.local(),
        )
        return (
            f"({t}.get({second}, MISSING) if type({t} := data.get({first}, MISSING)) is dict"
            f" else get_keys({t}, {rest}))"
        )
    return f"get_keys(data, {writer.bind(keys)})"


def _expression(node: JSON, writer: _Writer, compiled: Callable[[], Fn]) -> str:
    """An expression for a mapping value (clean form), inline when the shape allows it, else a
    call to its closure, `compiled()`."""
    if type(node) is dict and is_directive(node):
        name = directive_name(node)
        value = node[name]
        if name == "@path" and isinstance(value, str):
            return _path_expression(value, writer)
        if name == "@if" and type(value) is dict and "exists" in value and is_truthy(value["exists"]):
            parts = {key: value.get(key, MISSING) for key in ("exists", "then", "else")}
            if all(_inlinable(part) for part in parts.values()):
                condition = _expression(parts["exists"], writer, compiled)
                then = "MISSING" if parts["then"] is MISSING else _expression(parts["then"], writer, compiled)
                otherwise = (
                    _expression(parts["else"], writer, compiled) if is_truthy(parts["else"]) else "MISSING"
                )
                t = writer.local()
                return f"({then} if ({t} := {condition}) is not MISSING and {t} is not None else {otherwise})"
    elif type(node) not in (dict, list):
        return writer.bind(node)
    return f"{writer.bind(compiled())}(data)"


def _inlinable(node: JSON) -> bool:
    """Constants and literal `@path`s: what an inline `@if` may hold without a call."""
    if node is MISSING or type(node) not in (dict, list):
        return True
    return type(node) is dict and set(node) == {"@path"} and isinstance(node["@path"], str)


def generate_object(node: dict[str, JSON], children: dict[str, Fn], slow: Fn) -> Fn:
    """One function building the clean object for `node` (MISSING values left out); `children`
    are the keys' compiled closures, which `slow` uses too."""
    writer = _Writer()
    writer.bindings["slow"] = slow
    lines = ["def run(data):", "    if type(data) is not dict:", "        return slow(data)", "    out = {}"]
    for key, value in node.items():
        name = writer.bind(key)
        if value is MISSING:
            continue
        expression = _expression(value, writer, lambda key=key: children[key])  # type: ignore[misc]
        if type(value) not in (dict, list):
            lines.append(f"    out[{name}] = {expression}")
        else:
            lines.append(f"    v = {expression}")
            lines.append(f"    if v is not MISSING: out[{name}] = v")
    lines.append("    return out")
    namespace = dict(writer.bindings)
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from bound names only (see module docstring)
    run: Fn = namespace["run"]
    return run
