"""Subscriptions: Segment's FQL filter language, the first stage of the flow.

    event ──► parse_subscription(text) ──► matches(condition, event) ──► mapping ...

This reproduces what the destination runs: the lexer of `@segment/fql-ts` 1.10.1 and the parser and
evaluator of `packages/destination-subscriptions` (segment-actions.md §5), quirks included:

* there is no precedence: the last `and`/`or` of a level decides for the whole level;
* parentheses collect tokens up to the *first* `)`, so they cannot nest;
* `!=`, `<=` and `>=` need a terminator after them (`event !="x"` does not parse;
  `properties.a >=5` is `>` with the value `"="`);
* single quotes are kept as part of the value; `match()` without a trailing `*` drops the first
  character of its pattern;
* a missing field satisfies `!=`, and `event != null` compares with the string "null";
* numeric operators only ever match JSON numbers, string operators only strings.

`parse_subscription` raises `SubscriptionSyntaxError` with the column of the problem; `matches`
and `explain` never raise, whatever shape the event has. Conditions are frozen dataclasses that
compile themselves into closures when built, so matching costs a few function calls.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sandbox._types import JSON, MISSING, Event, is_truthy
from sandbox.errors import SubscriptionSyntaxError
from sandbox.validation import js_number, js_string

__all__ = [
    "Check",
    "Compare",
    "Condition",
    "Group",
    "explain",
    "lex",
    "matches",
    "parse_subscription",
    "render",
]

# -- tokens ------------------------------------------------------------------------------------

TokenKind = Literal[
    "ident",
    "dot",
    "operator",
    "conditional",
    "string",
    "number",
    "null",
    "brackleft",
    "brackright",
    "parenleft",
    "parenright",
    "comma",
    "eos",
]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str
    position: int  # 0-based column of the token's first character


_EOS = ""  # what the reader yields past the end (fql-ts uses the flag "-1")
_PUNCTUATION: dict[str, TokenKind] = {
    ".": "dot",
    "[": "brackleft",
    "]": "brackright",
    ",": "comma",
    "(": "parenleft",
    ")": "parenright",
}


def _is_alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_whitespace(c: str) -> bool:
    # fql-ts: space, tab and newline only; a carriage return is an invalid character.
    return c == " " or c == "\t" or c == "\n"


def _is_terminator(c: str) -> bool:
    return c == _EOS or _is_whitespace(c) or c in ",])"


def _is_ident_char(c: str) -> bool:
    return c != _EOS and (_is_alpha(c) or _is_digit(c) or c in "_-\\")


class _Lexer:
    """A character-level port of fql-ts's Lexer, including its rollback rules.

    `accept(word)` consumes `word` only when a terminator follows it; at the end of input it
    returns False *without* giving back what it consumed (so a trailing `an` lexes as `a`), which
    is what the reference does.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int | None = None) -> SubscriptionSyntaxError:
        at = self.pos if position is None else position
        return SubscriptionSyntaxError(message, self.text, min(max(at, 0), len(self.text)))

    def next(self) -> str:
        if self.pos >= len(self.text):
            return _EOS
        c = self.text[self.pos]
        self.pos += 1
        return c

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOS

    def accept(self, word: str) -> bool:
        consumed = 0
        chars = ""
        for _ in word:
            c = self.next()
            if c == _EOS:
                return False
            chars += c
            consumed += 1
            if _is_terminator(c):
                break
        if chars == word and _is_terminator(self.peek()):
            return True
        self.pos -= consumed
        return False

    def lex(self) -> list[Token]:
        tokens: list[Token] = []
        while True:
            start = self.pos
            c = self.next()
            if c == _EOS:
                tokens.append(Token("eos", "eos", start))
                return tokens
            if _is_whitespace(c):
                continue
            if c == "!" and (_is_alpha(self.peek()) or self.peek() == "("):
                tokens.append(Token("operator", "!", start))
                continue
            if _is_alpha(c) or c in "!=<>\\_":
                tokens.append(self._operator_or_word(c, start))
                continue
            if _is_digit(c) or c in "+-":
                tokens.append(self._number(c, start))
                continue
            if c == '"' or c == "'":
                tokens.append(self._string(c, start))
                continue
            kind = _PUNCTUATION.get(c)
            if kind is not None:
                tokens.append(Token(kind, c, start))
                continue
            raise self.error(f"invalid character {c!r}", start)

    def _string(self, quote: str, start: int) -> Token:
        chars: list[str] = []
        while self.peek() != quote:
            c = self.next()
            if c == _EOS:
                raise self.error(f"unterminated string (opened with {quote} at column {start + 1})")
            chars.append(c)
        # The closing quote is eaten only when a terminator follows it; otherwise the next
        # round of the lexer starts a new string at that same quote.
        self.accept(quote)
        return Token("string", f"{quote}{''.join(chars)}{quote}", start)

    def _number(self, first: str, start: int) -> Token:
        chars = [first]
        decimal = False
        while _is_digit(self.peek()) or self.peek() == ".":
            c = self.next()
            chars.append(c)
            if c == ".":
                if _is_terminator(self.peek()):
                    raise self.error("unexpected terminator after decimal point")
                if decimal:
                    raise self.error("multiple decimal points in one number")
                decimal = True
        return Token("number", "".join(chars), start)

    def _operator_or_word(self, first: str, start: int) -> Token:
        if first == "=":
            return Token("operator", "=", start)
        if first == "!":
            if self.accept("="):
                return Token("operator", "!=", start)
            if self.peek() == "=":
                raise self.error("'!=' must be followed by a space, ',' or ')'", start)
            got = self.peek() or "end of input"
            raise self.error(f"expected '=' after '!', got {got!r}", start)
        if first in "<>":
            if self.accept("="):
                return Token("operator", first + "=", start)
            return Token("operator", first, start)
        if first == "a" and self.accept("nd"):
            return Token("conditional", "and", start)
        if first == "o" and self.accept("r"):
            return Token("conditional", "or", start)
        if first == "n" and self.accept("ull"):
            return Token("null", "null", start)
        return self._ident(first, start)

    def _ident(self, first: str, start: int) -> Token:
        chars: list[str] = []
        c = first
        while True:
            if c == "\\":
                if self.peek() == _EOS:
                    raise self.error("expected a character after the escape character, got end of input")
                c = self.next()
            chars.append(c)
            if not _is_ident_char(self.peek()):
                break
            c = self.next()
        after = self.peek()
        if not (_is_terminator(after) or after in ".(=!"):
            raise self.error(
                f"expected a space, ',', ')' or an operator after {''.join(chars)!r}, got {after!r}"
            )
        return Token("ident", "".join(chars), start)


def lex(text: str) -> list[Token]:
    """Split FQL text into tokens, ending with an `eos` token; raises SubscriptionSyntaxError."""
    return _Lexer(text).lex()


def _normalize(tokens: list[Token]) -> list[Token]:
    """Merge `ident . ident` into one ident (`properties.plan`), as destination-subscriptions does."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        current = tokens[i]
        if (
            out
            and out[-1].kind == "ident"
            and current.kind == "dot"
            and i + 1 < len(tokens)
            and tokens[i + 1].kind == "ident"
        ):
            previous = out.pop()
            out.append(Token("ident", f"{previous.value}.{tokens[i + 1].value}", previous.position))
            i += 2
        else:
            out.append(current)
            i += 1
    return out


# -- the condition tree ------------------------------------------------------------------------

Field = Literal["type", "event", "name", "userId", "properties", "traits", "context"]
_SCOPED = ("properties", "traits", "context")
_FIELDS = ("type", "event", "name", "userId", *_SCOPED)

Operator = str
"""`=`, `!=`, `<`, `<=`, `>`, `>=`, `number_equals`, `number_not_equals`, `contains`,
`not_contains`, `starts_with`, `not_starts_with`, `ends_with`, `not_ends_with`, `exists`,
`not_exists`, `is_true`, `is_false`; any other text (from odd input) never matches."""


@dataclass(frozen=True, slots=True)
class Compare:
    """One leaf: `field` (and for properties/traits/context, the `name` path inside it), an
    operator and a value (None for the operators that take none)."""

    field: Field
    op: Operator
    value: str | float | bool | None = None
    name: str | None = None
    test: Callable[[Event], bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile_compare(self))


@dataclass(frozen=True, slots=True)
class Group:
    op: Literal["and", "or"]
    children: tuple[Condition, ...]
    test: Callable[[Event], bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile_group(self))


Condition = Compare | Group


@dataclass(frozen=True, slots=True)
class Check:
    """One leaf of a subscription checked against one event: its text, the outcome and the value seen."""

    text: str
    passed: bool
    actual: JSON


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
        number = js_number(token.value)
        return math.nan if number is None else number
    if token.kind == "ident" and token.value in ("true", "false"):
        return token.value == "true"
    return token.value


def _js_str(value: str | float | bool | None) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return js_string(value)


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
    field_name = token.value.split(".", 1)[0]
    op = op_token.value
    raw = value_token.value
    if field_name in ("type", "event"):
        return Compare(field_name, op, _js_str(_token_value(value_token)))  # type: ignore[arg-type]
    is_exists = op == "!=" and raw == "null"
    is_not_exists = op == "=" and raw == "null"
    if field_name == "name" or field_name == "userId":
        if is_exists:
            return Compare(field_name, "exists")
        if is_not_exists:
            return Compare(field_name, "not_exists")
        if field_name == "userId" and op == "=" and raw in ("true", "false"):
            return Compare("userId", "is_true" if raw == "true" else "is_false")
        return Compare(field_name, op, _js_str(_token_value(value_token)))  # type: ignore[arg-type]
    name = _strip_scope(token.value, field_name)
    if is_exists:
        return Compare(field_name, "exists", name=name)  # type: ignore[arg-type]
    if is_not_exists:
        return Compare(field_name, "not_exists", name=name)  # type: ignore[arg-type]
    if op == "=" and raw in ("true", "false"):
        return Compare(field_name, "is_true" if raw == "true" else "is_false", name=name)  # type: ignore[arg-type]
    if value_token.kind == "number" and op in ("=", "!="):
        op = "number_equals" if op == "=" else "number_not_equals"
    return Compare(field_name, op, _token_value(value_token), name=name)  # type: ignore[arg-type]


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


# -- evaluation -------------------------------------------------------------------------------


def _lookup(container: Any, name: str) -> Any:
    """destination-subscriptions' get(): split on `.`, `[` and `]`; `acc && acc[key]`."""
    if not name:
        return MISSING
    pieces = [p for p in name.replace("[", ".").replace("]", ".").split(".") if p]
    if not pieces:
        return MISSING
    value = container
    for piece in pieces:
        if not is_truthy(value):
            return value
        value = _member(value, piece)
    return value


def _member(value: Any, key: str) -> Any:
    """JavaScript's `value[key]` for JSON values (objects, arrays and strings)."""
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, (list, str)):
        if key == "length":
            return len(value)
        if key.isdigit() and (key == "0" or not key.startswith("0")) and key.isascii():
            index = int(key)
            return value[index] if index < len(value) else MISSING
    return MISSING


def _getter(cmp: Compare) -> Callable[[Event], Any]:
    if cmp.field in _SCOPED:
        scope, name = cmp.field, cmp.name or ""
        return lambda event: _lookup(event.get(scope, MISSING), name)
    key = cmp.field
    return lambda event: event.get(key, MISSING)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_of(value: Any) -> float:
    """JavaScript's Number(expected) for the values a parsed condition can hold."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        number = js_number(value)
        return math.nan if number is None else number
    return math.nan


def _predicate(op: str, expected: Any) -> Callable[[Any], bool]:
    text = _js_str(expected)
    number = _number_of(expected)
    if op == "=":
        return lambda a: isinstance(a, str) and a == text
    if op == "!=":
        return lambda a: not (isinstance(a, str) and a == text)
    if op == "number_equals":
        return lambda a: _is_number(a) and a == number
    if op == "number_not_equals":
        return lambda a: _is_number(a) and a != number
    if op == "<":
        return lambda a: _is_number(a) and a < number
    if op == "<=":
        return lambda a: _is_number(a) and a <= number
    if op == ">":
        return lambda a: _is_number(a) and a > number
    if op == ">=":
        return lambda a: _is_number(a) and a >= number
    if op == "contains":
        return lambda a: isinstance(a, str) and text in a
    if op == "not_contains":
        return lambda a: isinstance(a, str) and text not in a
    if op == "starts_with":
        return lambda a: isinstance(a, str) and a.startswith(text)
    if op == "not_starts_with":
        return lambda a: isinstance(a, str) and not a.startswith(text)
    if op == "ends_with":
        return lambda a: isinstance(a, str) and a.endswith(text)
    if op == "not_ends_with":
        return lambda a: isinstance(a, str) and not a.endswith(text)
    if op == "exists":
        return lambda a: a is not MISSING and a is not None
    if op == "not_exists":
        return lambda a: a is MISSING or a is None
    if op == "is_true":
        return lambda a: a is True
    if op == "is_false":
        return lambda a: a is False
    return lambda a: False


def _compile_compare(cmp: Compare) -> Callable[[Event], bool]:
    get = _getter(cmp)
    check = _predicate(cmp.op, cmp.value)
    if cmp.field not in _SCOPED:
        key = cmp.field
        # The common case (type/event/userId against a string) in one call.
        # Only a str ever equals a str among JSON values, so `==` is JavaScript's `===` here.
        if cmp.op == "=":
            text = _js_str(cmp.value)
            return lambda event: event.get(key) == text
        if cmp.op == "!=":
            text = _js_str(cmp.value)
            return lambda event: event.get(key) != text
    return lambda event: check(get(event))


def _compile_group(group: Group) -> Callable[[Event], bool]:
    tests = _fused_tests(group)
    if group.op == "and":

        def every(event: Event) -> bool:
            for test in tests:
                if not test(event):
                    return False
            return True

        return every
    if group.op == "or":

        def some(event: Event) -> bool:
            for test in tests:
                if test(event):
                    return True
            return False

        return some
    return lambda event: False


def _fused_tests(group: Group) -> tuple[Callable[[Event], bool], ...]:
    """The children's tests, with same-key string leaves fused into one set lookup.

    `event != "A" and event != "B" ...` (the Track Event preset) becomes one "not in" test, and
    `event = "A" or event = "B"` one "in" test. Leaves are side-effect free, so the result is the
    same as testing them one by one.
    """
    fusable = "!=" if group.op == "and" else "="
    by_key: dict[str, set[str]] = {}
    tests: list[Callable[[Event], bool]] = []
    for child in group.children:
        if isinstance(child, Compare) and child.field not in _SCOPED and child.op == fusable:
            if child.field not in by_key:
                by_key[child.field] = set()
                tests.append(_set_test(child.field, by_key[child.field], negate=fusable == "!="))
            by_key[child.field].add(_js_str(child.value))
        else:
            tests.append(child.test)
    return tuple(tests)


def _set_test(key: str, texts: set[str], *, negate: bool) -> Callable[[Event], bool]:
    if negate:
        return lambda event: not ((value := event.get(key)).__class__ is str and value in texts)
    return lambda event: (value := event.get(key)).__class__ is str and value in texts


def matches(condition: Condition, event: Any) -> bool:
    """Whether `event` satisfies `condition`, exactly as the destination decides. Never raises."""
    if not isinstance(event, dict):
        return False
    return condition.test(event)


def explain(condition: Condition, event: Any) -> list[Check]:
    """One Check per leaf, in order: its FQL text, whether it held, and the value it looked at.

    Whether the whole condition matched is `matches(condition, event)`; for an `and` group every
    check must pass, for an `or` group one is enough.
    """
    checks: list[Check] = []
    source = event if isinstance(event, dict) else {}

    def walk(node: Condition) -> None:
        if isinstance(node, Group):
            for child in node.children:
                walk(child)
            return
        actual = _getter(node)(source)
        passed = node.test(source) if isinstance(event, dict) else False
        checks.append(Check(render_leaf(node), passed, None if actual is MISSING else actual))

    walk(condition)
    return checks


# -- rendering --------------------------------------------------------------------------------


def _render_name(name: str) -> str:
    """An ident path that lexes back to `name`: escape what the lexer would not take as is."""
    segments = []
    for segment in name.split("."):
        out = []
        for i, c in enumerate(segment):
            plain = _is_alpha(c) or c == "_" or (i > 0 and (_is_digit(c) or c == "-"))
            out.append(c if plain else "\\" + c)
        text = "".join(out)
        if segment in ("and", "or", "null"):
            text = "\\" + text
        segments.append(text)
    return ".".join(segments)


def _render_number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text


def _render_value(value: str | float | bool | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _render_number(value)
    if value is None:
        return "null"
    if '"' not in value:
        return f'"{value}"'
    return value  # a single-quoted value such as 'a"b' keeps its quotes, as the reference does


def render_leaf(cmp: Compare) -> str:
    target = cmp.field if cmp.field not in _SCOPED else f"{cmp.field}.{_render_name(cmp.name or '')}"
    op, value = cmp.op, cmp.value
    if op == "exists":
        return f"{target} != null"
    if op == "not_exists":
        return f"{target} = null"
    if op == "is_true":
        return f"{target} = true"
    if op == "is_false":
        return f"{target} = false"
    if op in ("number_equals", "number_not_equals"):
        symbol = "=" if op == "number_equals" else "!="
        return f"{target} {symbol} {_render_number(_number_of(value))}"
    if op in ("contains", "not_contains"):
        bang = "!" if op == "not_contains" else ""
        return f"{bang}contains({target}, {_render_value(_js_str(value))})"
    if op in ("starts_with", "not_starts_with", "ends_with", "not_ends_with"):
        bang = "!" if op.startswith("not_") else ""
        pattern = f"{_js_str(value)}*" if op.endswith("starts_with") else f"*{_js_str(value)}"
        return f'{bang}match({target}, "{pattern}")'
    return f"{target} {op} {_render_value(value)}"


def render(condition: Condition) -> str:
    """FQL text for a condition; parsing it gives the condition back for trees the parser can
    produce: parenthesised groups one level deep, holding no function calls, and values without a
    double quote. Not every tree round-trips: FQL has no escape for `"`, an `ends_with` pattern
    that is empty or ends in `*` reads back as `starts_with` (the same test), and an operator the
    parser only keeps from odd input (such as a lone `!`) renders as text that does not parse."""
    if isinstance(condition, Compare):
        return render_leaf(condition)
    parts = []
    for child in condition.children:
        parts.append(f"({render(child)})" if isinstance(child, Group) else render(child))
    return f" {condition.op} ".join(parts)
