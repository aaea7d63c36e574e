"""FQL parsing: destination-subscriptions' parse-fql.ts over the lexer's tokens, quirks included."""

from __future__ import annotations

import functools
import math
from typing import Literal, cast

from sandbox.errors import SubscriptionSyntaxError
from sandbox.js.numbers import to_number
from sandbox.subscriptions.conditions import _FIELDS, _SCOPED, Compare, Condition, Field, Group, _js_str
from sandbox.subscriptions.lexer import Token, _normalize, lex

# -- parsing ----------------------------------------------------------------------------------

# JavaScript looks field names up in a plain object, so these inherited names are "found" too:
# the reference then consumes the operator and the value and produces no condition.
_PROTOTYPE_NAMES = frozenset(
    {
        "constructor",
        "__proto__",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)


def _token_value(token: Token) -> str | float | bool:
    """destination-subscriptions' getTokenValue."""
    if token.kind == "string":
        text = token.value
        if text.startswith('"'):
            text = text[1:]
        if text.endswith('"'):
            text = text[:-1]
        return text
    if token.kind == "number":
        number = to_number(token.value)
        return math.nan if number is None else number
    if token.kind == "ident" and token.value in ("true", "false"):
        return token.value == "true"
    return token.value


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def error(self, message: str, token: Token | None = None) -> SubscriptionSyntaxError:
        if token is not None:
            position = token.position
        else:  # the end of this token list: the text's end, or the `)` closing a group
            position = self.tokens[-1].position if self.tokens else len(self.text)
        return SubscriptionSyntaxError(message, self.text, position)

    def shift(self) -> Token | None:
        if self.i >= len(self.tokens):
            return None
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Condition | None:
        nodes: list[Condition | None] = []
        operator: Literal["and", "or"] = "and"
        token = self.shift()
        while token is not None and token.kind != "eos":
            if token.kind == "ident":
                head = token.value.split(".", 1)[0]
                if head in _FIELDS or head in _PROTOTYPE_NAMES:
                    op_token = self.shift()
                    if op_token is None:
                        raise self.error(f"Operator token is missing after {token.value!r}")
                    value_token = self.shift()
                    if value_token is None:
                        what = "an operator and a value" if op_token.kind == "eos" else "a value"
                        raise self.error(f"Value token is missing: expected {what} after {token.value!r}")
                    if head in _FIELDS:
                        nodes.append(_leaf(token, op_token, value_token))
                if token.value in ("contains", "match"):
                    nodes.extend(self.function(token.value, token, negate=False))
            elif token.kind == "operator" and token.value == "!":
                following = self.tokens[self.i] if self.i < len(self.tokens) else None
                if following is None:
                    raise self.error("expected contains(...) or match(...) after '!'", token)
                if following.kind == "ident" and following.value in ("contains", "match"):
                    self.i += 1
                    nodes.extend(self.function(following.value, following, negate=True))
            elif token.kind == "parenleft":
                group: list[Token] = []
                inner = self.shift()
                while inner is None or inner.kind != "parenright":
                    if inner is None:
                        raise self.error("'(' is never closed (parentheses cannot nest)", token)
                    group.append(inner)
                    inner = self.shift()
                group.append(Token("eos", "eos", inner.position))
                sub = _Parser(self.text, group).parse()
                if sub is None:
                    raise self.error("no condition inside these parentheses", token)
                nodes.append(sub)
            elif token.kind == "conditional":
                operator = "and" if token.value == "and" else "or"
            token = self.shift()
        if len(nodes) > 1:
            return Group(operator, tuple(n for n in nodes if n is not None))
        return nodes[0] if nodes else None

    def function(self, name: str, at: Token, *, negate: bool) -> list[Condition]:
        self.shift()  # "("
        arg = self.shift()
        if arg is None:
            raise self.error(f"{name}() is missing a 1st argument", at)
        self.shift()  # ","
        value_token = self.shift()
        if value_token is None:
            raise self.error(f"{name}() is missing a 2nd argument", at)
        self.shift()  # ")"
        raw = _js_str(_token_value(value_token))
        if name == "contains":
            op = "not_contains" if negate else "contains"
            value = raw
        elif value_token.value.endswith('*"'):
            op = "not_starts_with" if negate else "starts_with"
            value = raw[:-1]
        else:
            op = "not_ends_with" if negate else "ends_with"
            value = raw[1:]
        out: list[Condition] = []
        if arg.value in ("event", "name", "userId"):
            out.append(Compare(arg.value, op, value))  # type: ignore[arg-type]
        for scope in _SCOPED:
            if arg.value.startswith(scope):
                out.append(Compare(scope, op, value, name=_strip_scope(arg.value, scope)))  # type: ignore[arg-type]
        return out


def _strip_scope(ident: str, scope: str) -> str:
    prefix = scope + "."
    return ident[len(prefix) :] if ident.startswith(prefix) else ident


def _leaf(token: Token, op_token: Token, value_token: Token) -> Compare:
    field_name = cast(Field, token.value.split(".", 1)[0])  # an unknown word never matches
    op = op_token.value
    raw = value_token.value
    if field_name in ("type", "event"):
        return Compare(field_name, op, _js_str(_token_value(value_token)))
    is_exists = op == "!=" and raw == "null"
    is_not_exists = op == "=" and raw == "null"
    if field_name == "name" or field_name == "userId":
        if is_exists:
            return Compare(field_name, "exists")
        if is_not_exists:
            return Compare(field_name, "not_exists")
        if field_name == "userId" and op == "=" and raw in ("true", "false"):
            return Compare("userId", "is_true" if raw == "true" else "is_false")
        return Compare(field_name, op, _js_str(_token_value(value_token)))
    name = _strip_scope(token.value, field_name)
    if is_exists:
        return Compare(field_name, "exists", name=name)
    if is_not_exists:
        return Compare(field_name, "not_exists", name=name)
    if op == "=" and raw in ("true", "false"):
        return Compare(field_name, "is_true" if raw == "true" else "is_false", name=name)
    if value_token.kind == "number" and op in ("=", "!="):
        op = "number_equals" if op == "=" else "number_not_equals"
    return Compare(field_name, op, _token_value(value_token), name=name)


@functools.lru_cache(maxsize=512)
def parse_subscription(text: str) -> Condition:
    """Parse FQL such as `type = "track" and event != "User Deleted"` into a condition tree.

    The result is always an `and`/`or` Group at the top, as parseFql returns. Raises
    SubscriptionSyntaxError (with `.position`, the 0-based column) for text the reference
    would not accept.
    """
    if not isinstance(text, str):
        raise SubscriptionSyntaxError(f"a subscription must be a string, got {type(text).__name__}", "", 0)
    tokens = _normalize(lex(text))
    ast = _Parser(text, tokens).parse()
    if ast is None:
        first = next((t for t in tokens if t.kind != "eos"), None)
        where = first.position if first is not None else 0
        raise SubscriptionSyntaxError(
            'no condition found: expected something like type = "track" or event = "Signed Up"',
            text,
            where,
        )
    if isinstance(ast, Group):
        return ast
    return Group("and", (ast,))
