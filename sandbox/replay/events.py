"""Reading Segment events from files, streamed: the first stage of `run`, `snapshot` and `check`.

The flow: file(s) or stdin → UTF-8 chunks → top-level JSON values (a JSON array is streamed element
by element) → messages (a Segment HTTP API `{"batch": [...]}` payload expands to its items) →
`Located(event, source, line)`. Nothing is read ahead of what the consumer asks for, so a
million-event file replays in the memory of one chunk plus one event.

Accepted forms, in any mix inside one file:

- a JSON array of events (`[{...}, {...}]`), streamed element by element;
- JSON lines, or any whitespace-separated sequence of JSON values;
- a Segment HTTP Tracking API payload: `{"batch": [...], "context"?, "integrations"?}` (the
  batch's context and integrations apply to each item, the item's own keys win) or a single call's
  body (`/v1/track` and friends). A single call's body has no `type` (its endpoint gives it); the
  reader infers it when the body says which call it was: `previousId` → alias, `groupId` → group,
  `event` → track, only `traits` → identify; otherwise it asks for a `type`;
- gzip-compressed files (`.gz`), as Segment's storage exports are;
- a directory: its `.json`, `.jsonl`, `.ndjson` files (optionally `.gz`), in name order;
- a Segment storage archive (`segment-logs/<source-id>/<received-day>/*.gz`), its partitions
  picked by a `Selection` (sandbox.replay.archive);
- any fsspec URL (`s3://`, `gs://`, `file://`) of a file, a directory or an archive;
- `-`: standard input.

Every error names the file and the line and column (or the byte, for text that is not UTF-8).
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from sandbox.errors import InputError
from sandbox.js import json as js_json
from sandbox.js.values import JSON, Event, json_kind
from sandbox.replay import archive
from sandbox.replay.archive import Selection

CHUNK_SIZE = 64 * 1024
"""Characters read at a time."""

MAX_VALUE_CHARS = 256 * 1024 * 1024
"""A single top-level value (an event, or a whole `{"batch": [...]}` document) larger than this is
refused rather than buffered: a file that size should be a JSON array or JSON lines, which stream."""

EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

_WHITESPACE = re.compile(r"[ \t\n\r]*")


# Numbers are read as Segment's Node.js runtime reads them (doubles: 89.0 is 89), see sandbox.js.json;
# NaN and Infinity raise js_json.NotJsonError.
_DECODER = js_json.decoder()
_read_fast, _NOT_READ = js_json.read_fast, js_json.NOT_READ


@dataclass(frozen=True, slots=True)
class Located:
    """One event and where it was read: `source` names the file (`<stdin>` for `-`), `line` is
    the 1-based line where its JSON value starts (for a batch item: where the batch starts)."""

    event: Event
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


# -- public entry points ---------------------------------------------------------------------------


def read_located(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    selection: Selection | None = None,
) -> Iterator[Located]:
    """Every event in `paths` (files, directories, archives, URLs, `-`), in order, with where it
    came from. `selection` picks an archive's partitions (default: all of them)."""
    for file in input_files(paths, selection):
        yield from read_file(file)


def input_files(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    selection: Selection | None = None,
) -> list[str]:
    """The files `read_located` reads, in order: the partitions of a parallel job."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return archive.expand([os.fspath(p) for p in paths], selection or Selection())


def read_events(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    selection: Selection | None = None,
) -> Iterator[Event]:
    """Every event in `paths`, in order (see `read_located`)."""
    for located in read_located(paths, selection):
        yield located.event


def expand_path(path: str | os.PathLike[str]) -> list[str]:
    """A file as itself, `-` as itself, a directory as its event files in name order."""
    text = os.fspath(path)
    if text == "-":
        return ["-"]
    target = Path(text)
    if target.is_dir():
        files = sorted(
            str(child)
            for child in target.iterdir()
            if child.is_file() and not child.name.startswith(".") and _is_event_file(child.name)
        )
        if not files:
            hint = ""
            if any(child.name.endswith(".gz") or child.is_dir() for child in target.iterdir()):
                hint = f"; a Segment archive is read from the directory that holds {archive.ARCHIVE_DIR}/"
            raise InputError(
                f"no event files in this directory (looked for {', '.join(EVENT_SUFFIXES)}, optionally .gz){hint}",
                text,
            )
        return files
    if not target.exists():
        raise InputError("no such file or directory", text)
    return [text]


def read_file(path: str) -> Iterator[Located]:
    """The events of one file (`-` for standard input; `.gz` is decompressed)."""
    yield from parse_chunks(_file_chunks(path), _source_name(path))


def read_file_events(path: str) -> Iterator[Event]:
    """`read_file`'s events without where they were read (for `plan`, which needs no more)."""
    yield from parse_events(_file_chunks(path), _source_name(path))


def _source_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _file_chunks(path: str) -> Iterator[str]:
    """The text of one file as chunks, opened when the first is asked for (errors name the file)."""
    if path == "-":
        stdin: Any = sys.stdin
        binary = getattr(stdin, "buffer", None)
        if binary is not None:  # each read takes what has come, so a live stream's events go on as they come
            yield from _decoded_chunks(binary, "<stdin>", CHUNK_SIZE, live=True)
        else:  # a replaced sys.stdin that only has text
            yield from _text_chunks(stdin, "<stdin>")
        return
    if archive.is_url(path):
        with archive.open_binary(path) as remote:
            yield from _decoded_chunks(remote, path, CHUNK_SIZE)
        return
    try:
        handle = cast(IO[bytes], gzip.open(path, "rb")) if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    with handle:
        yield from _decoded_chunks(handle, path, CHUNK_SIZE)


def read_stream(stream: IO[bytes], source: str, chunk_size: int = CHUNK_SIZE) -> Iterator[Located]:
    """The events of a binary stream of UTF-8 text (a BOM is allowed)."""
    yield from parse_chunks(_decoded_chunks(stream, source, chunk_size), source)


def parse_text(text: str, source: str = "<text>") -> list[Located]:
    """The events of a whole text (for tests and small inputs)."""
    return list(parse_chunks([text], source))


def parse_chunks(chunks: Iterable[str], source: str) -> Iterator[Located]:
    """The events of a text given as chunks, cut anywhere. The law: the events do not depend on
    where the text is cut."""
    for value, line in _Scanner(iter(chunks), source).values():
        if is_plain_event(value):
            yield Located(value, source, line)  # expand_message's common case, without a generator
        else:
            yield from expand_message(value, source, line)


def parse_events(chunks: Iterable[str], source: str) -> Iterator[Event]:
    """`parse_chunks`'s events alone."""
    for value, line in _Scanner(iter(chunks), source).values():
        if is_plain_event(value):
            yield value
        else:
            for located in expand_message(value, source, line):
                yield located.event


def is_plain_event(value: JSON) -> bool:
    """Whether `value` is one event as it is: what expand_message gives unchanged (an object
    with a `type` and no `writeKey`)."""
    return type(value) is dict and "type" in value and "writeKey" not in value


def expand_message(value: JSON, source: str, line: int) -> Iterator[Located]:
    """One top-level value as events: an event, a single call's body, or a `{"batch": [...]}`."""
    if not isinstance(value, dict):
        raise InputError(
            f"line {line}: expected a Segment event (a JSON object), got {json_kind(value)}", source
        )
    if "type" not in value and isinstance(value.get("batch"), list):
        shared = {k: value[k] for k in ("context", "integrations") if isinstance(value.get(k), dict)}
        for position, item in enumerate(value["batch"]):
            where = f"line {line}: batch[{position}]"
            if not isinstance(item, dict):
                raise InputError(
                    f"{where}: expected a Segment event (a JSON object), got {json_kind(item)}", source
                )
            if "type" not in item:
                raise InputError(f'{where}: a batch item needs a "type" ({", ".join(EVENT_TYPES)})', source)
            yield Located(with_batch_context(item, shared), source, line)
        return
    if "type" not in value:
        value = _typed(value, source, line)
    elif "writeKey" in value:
        value = {k: v for k, v in value.items() if k != "writeKey"}
    yield Located(value, source, line)


# -- the scanner -----------------------------------------------------------------------------------


class _Scanner:
    """Top-level JSON values from text chunks, with the line each starts on.

    `json.JSONDecoder.raw_decode` (C-accelerated) parses each value from a buffer; when a value is
    cut by the end of the buffer, more text is read and the value parsed again from its start. A
    top-level array is not parsed whole: its elements are yielded one by one. Consumed text is
    dropped, keeping the line and column of the buffer's start for error messages.
    """

    def __init__(self, chunks: Iterator[str], source: str) -> None:
        self.chunks = chunks
        self.source = source
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1  # line number of buf[0]
        self.col_base = 0  # 0-based column of buf[0] on its line
        self.mark = 0  # newlines in buf are counted up to here (values start further on, in order)
        self.mark_line = 1  # the line number at buf[mark]
        self.one_by_one = 0  # values starting before this index of buf are read one at a time

    # buffer management

    def _refill(self, at_least: int = 1) -> bool:
        """Append text until `at_least` more characters arrived; False at the end of input."""
        if self.eof:
            return False
        got = 0
        while got < at_least:
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.eof = True
                return got > 0
            self.buf += chunk
            got += len(chunk)
        return True

    def _compact(self) -> None:
        pos = self.pos
        if pos < 4096 or pos * 2 < len(self.buf):
            return
        newlines = self.buf.count("\n", 0, pos)
        if newlines:
            self.line_base += newlines
            self.col_base = pos - self.buf.rfind("\n", 0, pos) - 1
        else:
            self.col_base += pos
        self.buf = self.buf[pos:]
        self.pos = 0
        self.mark, self.mark_line = 0, self.line_base
        self.one_by_one = max(0, self.one_by_one - pos)

    def _skip_ws(self) -> bool:
        """Move past whitespace; False at the end of input."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return True
            self._compact()
            if not self._refill():
                return False

    def _line(self, at: int) -> int:
        """The line number at `at`, counting only the newlines since the last value's start (the
        values come in order), not again from the buffer's start for each one."""
        if at < self.mark:
            return self._line_col(at)[0]
        self.mark_line += self.buf.count("\n", self.mark, at)
        self.mark = at
        return self.mark_line

    def _line_col(self, at: int) -> tuple[int, int]:
        newlines = self.buf.count("\n", 0, at)
        if newlines:
            return self.line_base + newlines, at - self.buf.rfind("\n", 0, at)
        return self.line_base, self.col_base + at + 1

    def _error(self, at: int, message: str) -> InputError:
        line, col = self._line_col(at)
        return InputError(f"line {line}, column {col}: {message}", self.source)

    # values

    def values(self) -> Iterator[tuple[JSON, int]]:
        if not self._refill():
            return
        if self.buf.startswith("\ufeff"):
            self.pos = 1
        while self._skip_ws():
            if self.buf[self.pos] == "[":
                yield from self._array()
            elif (block := self._lines()) is not None:
                yield from block
            else:
                line = self._line(self.pos)
                yield self._decode(), line
            self._compact()

    def _lines(self) -> Iterator[tuple[JSON, int]] | None:
        """JSON lines, the common text, a buffer at a time: the values of the whole lines from
        `pos` to the buffer's last newline, with their line numbers, when each line is one
        object that read_fast reads (js_json.read_fast_lines), as `_decode` would read them
        one after another (each alone on the rest of its line) and the scanner would go on
        after the last one's line. A line the buffer cuts is read on first (more text). Else
        None, and the values that start in those lines are read one at a time; the next buffer
        is tried again."""
        pos = self.pos
        if pos < self.one_by_one:
            return None
        end = self.buf.rfind("\n", pos)
        if end < 0:  # the rest of a line cut by the buffer's end: read on to the next newline
            if not self._refill():
                return None
            end = self.buf.rfind("\n", pos)
            if end < 0:
                return None
        values = js_json.read_fast_lines(self.buf[pos:end])
        if values is None or not all([type(value) is dict for value in values]):
            self.one_by_one = end
            return None
        first = self._line(pos)
        self.pos = self.mark = end
        self.mark_line = first + len(values) - 1
        return zip(values, range(first, first + len(values)), strict=True)

    def _array(self) -> Iterator[tuple[JSON, int]]:
        """Elements of a top-level array, one at a time."""
        self.pos += 1
        first = True
        while True:
            if not self._skip_ws():
                raise self._error(len(self.buf), "the JSON array is not closed (expected ']')")
            char = self.buf[self.pos]
            if char == "]":
                self.pos += 1
                return
            if not first:
                if char != ",":
                    raise self._error(self.pos, "expected ',' or ']' after an array element")
                self.pos += 1
                if not self._skip_ws():
                    raise self._error(len(self.buf), "the JSON array is not closed (expected a value)")
                if self.buf[self.pos] == "]":
                    raise self._error(self.pos, "a trailing comma before ']' is not JSON")
            first = False
            line = self._line(self.pos)
            yield self._decode(), line
            self._compact()

    def _decode(self) -> JSON:
        """Parse the value at `pos`, reading more text while it is cut by the end of the buffer.
        The common value, alone on the rest of its line, is read by js_json.read_fast: the same
        value, and the scanner goes on after the line's whitespace as it would after the value."""
        newline = self.buf.find("\n", self.pos)
        if newline > 0:
            value = _read_fast(self.buf[self.pos : newline])
            if value is not _NOT_READ:
                self.pos = newline
                return value
        want = CHUNK_SIZE
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and _maybe_cut(exc, len(self.buf)):
                    self._grow(want)
                    want *= 2
                    continue
                raise self._error(exc.pos, _message(exc)) from None
            except js_json.NotJsonError as exc:
                raise self._error(self.pos, f"{exc} (in the value starting here)") from None
            except RecursionError:
                raise self._error(self.pos, "the value is nested too deeply") from None
            if end == len(self.buf) and not self.eof and not isinstance(value, (dict, list, str)):
                # a number or literal may go on in the next chunk
                self._grow(want)
                continue
            self.pos = end
            return value

    def _grow(self, want: int) -> None:
        if len(self.buf) - self.pos > MAX_VALUE_CHARS:
            line, col = self._line_col(self.pos)
            raise InputError(
                f"line {line}, column {col}: a single JSON value larger than {MAX_VALUE_CHARS // 2**20} MiB "
                "(is it malformed? large inputs should be a JSON array or JSON lines, which are streamed)",
                self.source,
            )
        self._refill(want)


def _maybe_cut(exc: json.JSONDecodeError, length: int) -> bool:
    """Could this error be the end of the buffer rather than bad JSON? Only an unterminated string
    reports its start; every other cut value fails within a few characters of the end."""
    return exc.msg.startswith("Unterminated string") or length - exc.pos <= 32


def _message(exc: json.JSONDecodeError) -> str:
    if exc.msg.startswith("Unterminated string"):
        return "a string is not closed (missing '\"')"
    if exc.msg == "Extra data":
        return "unexpected text after a JSON value"
    return exc.msg


# -- chunks ----------------------------------------------------------------------------------------


def _decoded_chunks(stream: IO[bytes], source: str, chunk_size: int, live: bool = False) -> Iterator[str]:
    """The stream's UTF-8 text, `chunk_size` bytes a read; `live`: a read returns what has
    arrived (`read1`) instead of waiting for the whole chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    read = getattr(stream, "read1", stream.read) if live else stream.read
    while True:
        try:
            data = read(chunk_size)
        except gzip.BadGzipFile as exc:
            if str(exc).startswith("Not a gzipped file"):
                what = "not a gzip file, or one with something else after its data"
            else:
                what = "corrupt gzip data"
            raise InputError(f"cannot read: {what}{_after(offset)} ({exc})", source) from None
        except (EOFError, zlib.error) as exc:
            raise InputError(
                f"cannot read: corrupt or cut gzip data{_after(offset)} ({exc})", source
            ) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc}", source) from None
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a remote filesystem's read error
            raise InputError(f"cannot read: {archive._reason(exc)}", source) from None
        final = not data
        pending = decoder.getstate()[0]  # a character's first bytes, from the read before
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # the text before the bad byte first (its events come out), then the error
            before = (pending + data)[: exc.start].decode("utf-8")
            if before:
                yield before
            raise InputError(f"byte {offset - len(pending) + exc.start}: not UTF-8 text", source) from None
        offset += len(data)
        if text:
            yield text
        if final:
            return


def _after(offset: int) -> str:
    """Where a read failed, as far as it is known: after the text the reads before it gave."""
    return f" after {offset:,} bytes of text" if offset else ""


def _text_chunks(stream: IO[str], source: str) -> Iterator[str]:
    while True:
        try:
            text = stream.read(CHUNK_SIZE)
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", source) from None
        if not text:
            return
        yield text


# -- messages --------------------------------------------------------------------------------------


def with_batch_context(item: dict[str, JSON], shared: Mapping[str, JSON]) -> dict[str, JSON]:
    """A batch's top-level context/integrations apply to each item; the item's own keys win."""
    if not shared and "writeKey" not in item:
        return item
    out = {k: v for k, v in item.items() if k != "writeKey"}
    for key, value in shared.items():
        own = out.get(key)
        if own is None:
            out[key] = dict(value)
        elif isinstance(own, dict):
            out[key] = {**value, **own}
    return out


def _typed(body: dict[str, JSON], source: str, line: int) -> dict[str, JSON]:
    """A single call's body (no `type`): infer the call when the body leaves no doubt."""
    if "previousId" in body:
        kind = "alias"
    elif "groupId" in body:
        kind = "group"
    elif "event" in body:
        kind = "track"
    elif "traits" in body and "name" not in body and "properties" not in body:
        kind = "identify"
    else:
        raise InputError(
            f'line {line}: the message has no "type" and its keys do not say which call it is; '
            f'add "type": one of {", ".join(EVENT_TYPES)}',
            source,
        )
    out = {"type": kind}
    out.update((k, v) for k, v in body.items() if k != "writeKey")
    return out


def _is_event_file(name: str) -> bool:
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(EVENT_SUFFIXES)
