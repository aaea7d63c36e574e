"""The `@liquid` directive's engine: python-liquid, made to print and filter as LiquidJS 10.30 does.

Part of the mapping stage (`@liquid` in compile.py). mapping-kit disables the tags `case`, `for`,
`include`, `layout`, `render` and `tablerow` and a list of array filters; using one is an error
(`tag "for" is disabled`, `filter "map" is disabled`). Templates are limited to 1000 characters
(compile.py checks the length).

python-liquid parses; `{{ }}` and `echo` print with LiquidJS's `stringify` and the filters are
LiquidJS's (liquid_filters.py): JavaScript numbers and `String()`, UTF-16 lengths, `json`. An
unknown filter passes its input through, as in LiquidJS (strictFilters off).

Not emulated: python-liquid's parser and operators are kept (error messages; backslash escapes
in string literals, which LiquidJS reads as `\r`, `\n`...; `==`/`<`/`contains` between values of
different types; `{% cycle %}` printing; LiquidJS's `{% block %}` outside layouts is an unknown
tag here), the `date` filter is python-liquid's, and the 500 ms render limit is replaced
by python-liquid's loop limit and a 1,000,000-character output limit. The memory limit (1e8) is
kept: filters charge their string inputs to it as LiquidJS's do (liquid_filters.MEMORY_LIMIT).
"""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING, Any, Final, NoReturn

from liquid import BoundTemplate, Environment, RenderContext, Tag, TokenStream
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.exceptions import LiquidError, LiquidSyntaxError, OutputStreamLimitError
from liquid.output import LimitedStringIO

from sandbox.js.values import JSON, MISSING
from sandbox.mapping.liquid_filters import (
    _MEMORY,
    FILTERS,
    NOT_IN_LIQUIDJS,
    LiquidFilterError,
    memory_budget,
    read_property,
    stringify,
)

if TYPE_CHECKING:
    from typing import TextIO

MAX_TEMPLATE_LENGTH: Final = 1000

DISABLED_TAGS: Final = ("case", "for", "include", "layout", "render", "tablerow")

# mapping-kit's disabled filters (LiquidJS names; those python-liquid lacks are unknown filters anyway).
DISABLED_FILTERS: Final = (
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
)


class LiquidTemplateError(Exception):
    """A template that does not parse or render; `str()` is the engine's one-line message."""


class _DisabledTag(Tag):
    """A tag that fails to parse: `tag "<name>" is disabled`."""

    def parse(self, stream: TokenStream) -> NoReturn:
        raise LiquidSyntaxError(f'tag "{self.name}" is disabled', token=stream.current)


def _disabled_filter(name: str) -> Any:
    def disabled(*args: object, **kwargs: object) -> NoReturn:
        raise LiquidTemplateError(f'filter "{name}" is disabled')

    return disabled


class _JSOutputNode(OutputNode):
    """`{{ value }}` printed with LiquidJS's stringify (no autoescape: mapping-kit sets no outputEscape)."""

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(stringify(self.expression.evaluate(context)))


class _JSEchoNode(EchoNode):
    """`{% echo value %}` printed as `{{ value }}` is."""

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(stringify(self.expression.evaluate(context)))


class _JSOutput(Output):
    node_class = _JSOutputNode


class _JSEcho(EchoTag):
    node_class = _JSEchoNode


# LiquidJS's memoryLimit (1e8) charges string lengths as filters build them; python-liquid's
# output limit is the guard kept here, counted in characters rather than UTF-8 bytes, so that
# the lone surrogates JavaScript strings may hold (`{{ emoji | last }}`) can be written.
OUTPUT_LIMIT: Final = 1_000_000


class _CharLimitedIO(LimitedStringIO):
    """An output buffer limited in characters; accepts lone surrogates and keeps "\r" as written."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit, newline="")  # python-liquid's None would turn "\r" into "\n"

    def write(self, text: str) -> int:
        if text:
            self.size += len(text)
            if self.size > self.limit:
                raise OutputStreamLimitError("output stream limit reached", token=None)
        return super(LimitedStringIO, self).write(text)


class _Context(RenderContext):
    """Paths read as LiquidJS reads them: `size` in UTF-16 units, no `first`/`last` on strings or objects."""

    def get_item(self, obj: Any, key: Any) -> Any:
        if not isinstance(obj, (dict, list, str)):
            return super().get_item(obj, key)
        found = read_property(obj, key)
        if found is MISSING:
            raise KeyError(key)
        return found

    def get_buffer(self, buf: TextIO | None = None) -> StringIO:
        carry = buf.size if isinstance(buf, LimitedStringIO) else 0
        return _CharLimitedIO(limit=OUTPUT_LIMIT - carry)


class _Template(BoundTemplate):
    context_class = _Context

    def _get_buffer(self) -> StringIO:
        return _CharLimitedIO(limit=OUTPUT_LIMIT)


class _Environment(Environment):
    """python-liquid's environment with LiquidJS's bounds (class attributes in python-liquid 2)."""

    loop_iteration_limit = 10_000
    output_stream_limit = OUTPUT_LIMIT
    context_depth_limit = 30
    template_class = _Template


def _environment() -> Environment:
    env = _Environment(strict_filters=False)
    env.add_tag(_JSOutput)
    env.add_tag(_JSEcho)
    for name in NOT_IN_LIQUIDJS:
        del env.filters[name]
    for name in ("ifchanged", "doc"):  # python-liquid tags LiquidJS lacks ("not found" there)
        del env.tags[name]
    env.filters.update(FILTERS)
    for name in DISABLED_TAGS:
        tag = type(f"Disabled_{name}", (_DisabledTag,), {"name": name, "block": False})(env)
        env.tags[name] = tag
    for name in DISABLED_FILTERS:
        env.filters[name] = _disabled_filter(name)
    return env


_ENV: Final = _environment()


def _message(exc: Exception) -> str:
    if isinstance(exc, LiquidError):
        return str(exc.message)
    return str(exc)


def parse(source: str) -> BoundTemplate:
    """Parse a template; raises LiquidTemplateError."""
    try:
        return _ENV.from_string(source)
    except (LiquidError, LiquidTemplateError) as exc:
        raise LiquidTemplateError(_message(exc)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise LiquidTemplateError(f"liquid template error: {exc}") from None


def render(template: BoundTemplate, data: JSON) -> str:
    """Render with the event's keys as the template's variables; raises LiquidTemplateError."""
    scope = {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}
    budget = _MEMORY.set(memory_budget())
    try:
        result = template.render(**scope)
    except (LiquidError, LiquidTemplateError, LiquidFilterError) as exc:
        raise LiquidTemplateError(_message(exc)) from None
    except (RecursionError, ArithmeticError, ValueError, TypeError, AttributeError) as exc:
        raise LiquidTemplateError(f"liquid template error: {exc}") from None
    except MemoryError:
        raise LiquidTemplateError("memory alloc limit exceeded") from None
    finally:
        _MEMORY.reset(budget)
    return result if isinstance(result, str) else "error"
