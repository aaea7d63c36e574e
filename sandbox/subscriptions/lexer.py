"""FQL lexing: a character-level port of @segment/fql-ts 1.10.1's Lexer, and the ident merging of
destination-subscriptions (`properties` `.` `plan` becomes one ident)."""

from __future__ import annotations

from typing import Literal, NamedTuple

from sandbox.errors import SubscriptionSyntaxError

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


class Token(NamedTuple):  # not a dataclass: nothing to generate at import
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
