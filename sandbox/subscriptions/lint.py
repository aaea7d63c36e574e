"""The subscription linter: FQL and mappings the destination accepts but that cannot be meant.

The reference's FQL parser is lenient: `event == "Order Completed"` parses (as `event = "="`, the
rest skipped), `type = 'track'` compares with the quotes included, a misspelt field such as
`userid = "u1"` is skipped without a word, and `type = "track" and type = "page"` never holds.
Segment runs such subscriptions and they silently match nothing (or everything). `lint_subscription`
reads a subscription the way the parser does (`sandbox.subscriptions.parser`) and says where each of
these is; `cio-sandbox lint` prints them, and `plan` and `run` print them on stderr as warnings.

A warning never changes what runs: the sandbox still does exactly what Segment would do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sandbox.actions import ACTIONS
from sandbox.actions.presets import Subscription
from sandbox.errors import SubscriptionSyntaxError
from sandbox.js.values import JSON
from sandbox.subscriptions.conditions import _FIELDS, _SCOPED, Compare, Condition, _number_of
from sandbox.subscriptions.lexer import Token, _normalize, lex
from sandbox.subscriptions.parser import _PROTOTYPE_NAMES, parse_subscription

SEGMENT_TYPES = ("alias", "group", "identify", "page", "screen", "track")
"""The `type` of every Segment event."""

EVENT_KEYS = frozenset(
    {
        "type",
        "event",
        "name",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "properties",
        "traits",
        "context",
        "integrations",
        "timestamp",
        "originalTimestamp",
        "receivedAt",
        "sentAt",
        "messageId",
        "channel",
        "category",
        "writeKey",
        "projectId",
        "version",
        "_metadata",
    }
)
"""The top-level keys of a Segment event (the Spec's common fields and each call's own)."""

_FIELD_LIST = "type, event, name, userId, properties.…, traits.…, context.…"
_NUMERIC = frozenset({"<", "<=", ">", ">=", "number_equals", "number_not_equals"})


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One thing in a subscription that cannot be meant. `path` is the key (`subscribe`,
    `mapping/name`); `subscription` the subscription's name."""

    subscription: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"subscription {self.subscription!r}: {self.path}: {self.message}"


def lint_subscriptions(subscriptions: Iterable[Subscription]) -> list[LintWarning]:
    """The warnings of every subscription, in order."""
    return [warning for sub in subscriptions for warning in lint_subscription(sub)]


def lint_subscription(sub: Subscription) -> list[LintWarning]:
    """What in one subscription (its FQL and its mapping) cannot be meant."""
    out: list[LintWarning] = []
    if sub.subscribe is not None:
        out.extend(LintWarning(sub.name, "subscribe", text) for text in lint_fql(sub.subscribe))
    out.extend(LintWarning(sub.name, path, text) for path, text in lint_mapping(sub))
    return out


# -- FQL -------------------------------------------------------------------------------------------


def lint_fql(text: str) -> list[str]:
    """Warnings for FQL that parses but cannot be meant; [] for FQL that does not parse (that is
    an error, which `parse_subscription` reports)."""
    try:
        condition = parse_subscription(text)
        tokens = _normalize(lex(text))
    except SubscriptionSyntaxError:
        return []
    out = list(_token_warnings(text, tokens))
    reason = never_true(condition)
    if reason is not None:
        out.append(f"can never be true: {reason}")
    return out


def _column(token: Token) -> str:
    return f"column {token.position + 1}"


def _source(text: str, tokens: Sequence[Token]) -> str:
    """The text the tokens came from (a token's value is its source text, quotes included)."""
    first, last = tokens[0], tokens[-1]
    return " ".join(text[first.position : last.position + len(last.value)].split())


def _token_warnings(text: str, tokens: list[Token]) -> Iterator[str]:
    """Walk the tokens as the parser does (parse-fql.ts): what it reads as a condition, what it
    reads oddly and what it skips."""
    i = 0
    skipped: list[Token] = []
    conditionals: list[str] = []

    def flush() -> Iterator[str]:
        if skipped:
            what = _source(text, skipped)
            head = skipped[0]
            if head.kind == "ident":
                hint = f"{head.value!r} is not a field FQL knows ({_FIELD_LIST})"
                lowered = {f.lower(): f for f in _FIELDS}
                known = lowered.get(head.value.split(".", 1)[0].lower())
                if known is not None:
                    hint += f"; field names are case-sensitive: {known!r}"
            else:
                hint = "it is not part of any condition"
            yield f"{what!r} at {_column(head)} is skipped by the parser: {hint}"
            skipped.clear()

    while i < len(tokens) and tokens[i].kind != "eos":
        token = tokens[i]
        if token.kind == "ident" and (
            token.value.split(".", 1)[0] in _FIELDS or token.value.split(".", 1)[0] in _PROTOTYPE_NAMES
        ):
            yield from flush()
            op, value = tokens[i + 1], tokens[i + 2]
            yield from _leaf_warnings(token, op, value)
            i += 3
        elif token.kind == "ident" and token.value in ("contains", "match"):
            yield from flush()
            yield from _function_warnings(token, tokens[i + 1 : i + 6])
            i += 6
        elif (
            token.kind == "operator"
            and token.value == "!"
            and i + 1 < len(tokens)
            and tokens[i + 1].kind == "ident"
            and tokens[i + 1].value in ("contains", "match")
        ):
            yield from flush()
            yield from _function_warnings(tokens[i + 1], tokens[i + 2 : i + 7])
            i += 7
        elif token.kind == "parenleft":
            yield from flush()
            close = next((j for j in range(i + 1, len(tokens)) if tokens[j].kind == "parenright"), None)
            if close is None:  # cannot happen for text that parsed
                return
            inner = [*tokens[i + 1 : close], Token("eos", "eos", tokens[close].position)]
            yield from _token_warnings(text, inner)
            i = close + 1
        elif token.kind == "conditional":
            yield from flush()
            conditionals.append(token.value)
            i += 1
        else:
            skipped.append(token)
            i += 1
    yield from flush()
    if "and" in conditionals and "or" in conditionals:
        yield (
            f"mixes 'and' and 'or' without parentheses: FQL has no precedence, the last one "
            f"({conditionals[-1]!r}) joins every condition of this level; add parentheses"
        )


def _leaf_warnings(field: Token, op: Token, value: Token) -> Iterator[str]:
    head = field.value.split(".", 1)[0]
    where = f"{field.value} at {_column(field)}"
    if head in _PROTOTYPE_NAMES:
        yield f"{where}: {head!r} is not a field FQL knows ({_FIELD_LIST}); the condition is dropped"
        return
    if head in _SCOPED and "." not in field.value:
        yield f"{where}: {head} needs a name ({head}.plan); this condition never matches"
    if value.kind == "eos":
        yield f'{where}: there is no value after {op.value!r}; this compares with the text "eos"'
        return
    if op.kind != "operator":
        yield f"{where}: {op.value!r} is not an operator (=, !=, <, <=, >, >=); this condition never matches"
        return
    if value.kind == "operator":
        if op.value == "=" and value.value == "=":
            yield (
                f"{where}: '==' is read as '=' followed by the value \"=\" (FQL's equality is a single '='); "
                f'this compares {field.value} with the text "="'
            )
        elif op.value in ("<", ">") and value.value == "=":
            yield (
                f"{where}: '{op.value}=' needs a space after it: it is read as '{op.value}' "
                f'with the value "="'
            )
        else:
            yield f"{where}: the value is the operator {value.value!r}"
        return
    if value.kind == "string" and value.value.startswith("'"):
        plain = value.value[1:-1] if value.value.endswith("'") and len(value.value) > 1 else value.value[1:]
        yield (
            f"{where}: single quotes are part of the value in FQL: this compares with "
            f'{value.value} including the quotes; write "{plain}"'
        )
    elif value.kind == "string" and value.value.startswith('"') and not value.value.endswith('"'):
        yield f"{where}: the string {value.value!r} is not closed"


def _function_warnings(name: Token, parts: Sequence[Token]) -> Iterator[str]:
    if len(parts) < 5:
        return
    arg, value = parts[1], parts[3]
    where = f"{name.value}({arg.value}, …) at {_column(name)}"
    head = arg.value.split(".", 1)[0]
    if not (arg.value in ("event", "name", "userId") or (head in _SCOPED and "." in arg.value)):
        yield f"{where}: {arg.value!r} is not a field {name.value}() looks at (event, name, userId, properties.…, traits.…, context.…); it never matches"
    if value.kind == "string" and value.value.startswith("'"):
        yield f"{where}: single quotes are part of the pattern in FQL; use double quotes"
    if name.value == "match":
        pattern = value.value[1:-1] if len(value.value) >= 2 else value.value
        if not pattern.endswith("*") and not pattern.startswith("*"):
            yield (
                f"{where}: a pattern without '*' is not an exact match: the reference drops its first "
                f'character and tests the end ({pattern[1:]!r}); use = for equality, "x*" or "*x"'
            )


def never_true(condition: Condition) -> str | None:
    """Why `condition` can never hold for any event, or None when it can (as far as a reading of
    its leaves tells: a warning is given only when no event at all can match)."""
    if isinstance(condition, Compare):
        return _never_leaf(condition)
    reasons = [never_true(child) for child in condition.children]
    if condition.op == "or":
        if reasons and all(r is not None for r in reasons):
            return reasons[0]
        return None
    for reason in reasons:
        if reason is not None:
            return reason
    equal: dict[tuple[str, str | None], set[str]] = {}
    unequal: dict[tuple[str, str | None], set[str]] = {}
    for child in condition.children:
        if isinstance(child, Compare) and isinstance(child.value, str):
            key = (child.field, child.name)
            if child.op == "=":
                equal.setdefault(key, set()).add(child.value)
            elif child.op == "!=":
                unequal.setdefault(key, set()).add(child.value)
    for (field, name), values in equal.items():
        label = field if name is None else f"{field}.{name}"
        if len(values) > 1:
            shown = " and ".join(f'"{v}"' for v in sorted(values))
            return f"{label} cannot be both {shown} ('and' needs every condition)"
        both = values & unequal.get((field, name), set())
        if both:
            return f'{label} cannot be "{next(iter(both))}" and not "{next(iter(both))}"'
    return None


def _never_leaf(leaf: Compare) -> str | None:
    value = leaf.value
    label = leaf.field if leaf.name is None else f"{leaf.field}.{leaf.name}"
    if leaf.field == "type" and leaf.op == "=" and isinstance(value, str) and value not in SEGMENT_TYPES:
        return f'type is never "{value}" (Segment\'s types: {", ".join(SEGMENT_TYPES)})'
    if leaf.op in _NUMERIC and math.isnan(_number_of(value)):
        return f"{label} {leaf.op} compares with a value that is not a number"
    if leaf.field in _SCOPED and not leaf.name:
        return f"{leaf.field} has no name to look up"
    known = {
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "number_equals",
        "number_not_equals",
        "contains",
        "not_contains",
        "starts_with",
        "not_starts_with",
        "ends_with",
        "not_ends_with",
        "exists",
        "not_exists",
        "is_true",
        "is_false",
    }
    if leaf.op not in known:
        return f"{label} has no operator ({leaf.op!r} is not one)"
    return None


# -- mappings ----------------------------------------------------------------------------------------


def lint_mapping(sub: Subscription) -> list[tuple[str, str]]:
    """(path, warning) for a mapping that cannot be meant: a required field nothing fills, a
    literal string that looks like a path, a @path into a key Segment events do not have."""
    action = ACTIONS.get(sub.partnerAction)
    if action is None:
        return []
    mapping = sub.effective_mapping
    out: list[tuple[str, str]] = []
    for key, field in action.fields.items():
        if field.required and key not in mapping:
            out.append(
                (
                    f"mapping/{key}",
                    f"the required field {key!r} ({field.label}) is not mapped: {sub.partnerAction} refuses every payload",
                )
            )
    for key, value in mapping.items():
        out.extend(_value_warnings(value, f"mapping/{key}"))
    return out


def _value_warnings(value: JSON, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.startswith("$.") and " " not in value:
            yield (
                path,
                f'the text {value!r} is sent as it is; for the event\'s value write {{"@path": "{value}"}}',
            )
        return
    if isinstance(value, list):
        for position, item in enumerate(value):
            yield from _value_warnings(item, f"{path}/{position}")
        return
    if not isinstance(value, dict):
        return
    target = value.get("@path")
    if isinstance(target, str) and len(value) == 1:
        yield from _path_warnings(target, f"{path}/@path")
        return
    for key, item in value.items():
        yield from _value_warnings(item, f"{path}/{key}")


def _path_warnings(target: str, path: str) -> Iterator[tuple[str, str]]:
    if not target.startswith("$."):
        return
    first = target[2:].replace("[", ".").split(".", 1)[0]
    if first and first not in EVENT_KEYS:
        lowered = {k.lower(): k for k in EVENT_KEYS}
        near = lowered.get(first.lower()) or next(
            (k for k in EVENT_KEYS if k.startswith(first) or first.startswith(k)), None
        )
        hint = f"; did you mean $.{near}?" if near else ""
        yield (path, f"Segment events have no top-level {first!r}: this is always empty{hint}")
