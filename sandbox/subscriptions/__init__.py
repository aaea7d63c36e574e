"""Subscriptions: Segment's FQL filter language, the first stage of the flow.

    event ──► parse_subscription(text) ──► matches(condition, event) ──► mapping ...

This reproduces what the destination runs: the lexer of `@segment/fql-ts` 1.10.1 and the parser and
evaluator of `packages/destination-subscriptions` (docs/destination.md §11), quirks included:

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

from sandbox.subscriptions.conditions import Check, Compare, Condition, Group, matches
from sandbox.subscriptions.describe import explain, render, render_leaf
from sandbox.subscriptions.lexer import Token, lex
from sandbox.subscriptions.parser import parse_subscription

__all__ = [
    "Check",
    "Compare",
    "Condition",
    "Group",
    "Token",
    "explain",
    "lex",
    "matches",
    "parse_subscription",
    "render",
    "render_leaf",
]
