"""`plan`'s output: one JSON line per PlanLine, and single mode's fast way to the same lines.

Where it sits: the last stage of `cio-sandbox plan` (in process, sandbox.commands.plan) and of each
partition's task on Dask (sandbox.replay.parallel). `LineEncoder` turns a PlanLine into its line;
`single_mode_tails` / `single_mode_lines` give single mode's lines straight from the pipeline's
bodies (`sandbox.pipeline.plan_bodies`), without a PlanLine or a CioRequest per line;
`write_by_subscription` writes batch mode's lines as they come, streamed (in process past 50,000
events, `write_batch_streamed`, and from the driver on Dask), in batch mode's order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from sandbox.js.json import dumps, escape_lone_surrogates

LINES_PER_WRITE = 256
"""Lines a write when the output is not a live answer (stdout may be unbuffered: one system call a write)."""


def write_lines(lines: Iterable[str], out: IO[str], per_write: int) -> None:
    """Write the lines (JSON texts, one a line), `per_write` lines a write; what was produced
    before an error is written all the same."""
    chunk: list[str] = []
    try:
        for line in lines:
            chunk.append(line)
            if len(chunk) >= per_write:
                chunk.append("")
                out.write("\n".join(chunk))
                chunk.clear()
    finally:
        if chunk:
            chunk.append("")
            out.write("\n".join(chunk))


class LineEncoder:
    """A PlanLine as one JSON line: `encode(line.to_dict())` with ", " and ": " separators, except
    the body, which is the request body TEXT exactly as it goes on the wire (JSON.stringify's: key
    order, number spelling, escapes), so the line holds the bytes Segment would send. Lone
    surrogates are escaped, so any event can be written as UTF-8.

    For a request line, the part between the event index and the body (subscription, action,
    method, url, headers) is the same for every line of one subscription and settings; it is
    encoded once and kept (a bounded table: its size depends on the configuration, not the events).
    So is everything after the index of an error line, per subscription, action and error (bounded
    the same way: a table cleared when full).
    """

    _LIMIT = 1024

    def __init__(self) -> None:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
        self.encode = lambda value: escape_lone_surrogates(dumps(value))
        self._befores: dict[tuple[Any, ...], str] = {}
        self._errors: dict[tuple[str, ...], str] = {}
        from sandbox.pipeline import error_dict

        self._error_dict = error_dict

    def __call__(self, line: Any) -> str:
        index = line.event_index
        if type(index) is int:
            return f"{INDEX_PREFIX}{index}{self.tail(line)}"
        return self._whole(line)

    def tail(self, line: Any) -> str:
        """The line after its event index, which must be an int (single mode): the line is
        `{"event_index": ` + the index + this, so a partition's lines can be written with their
        indexes moved (sandbox.replay.parallel) without encoding them again."""
        req = line.request
        index = line.event_index
        error = line.error
        if error is not None or req is None:
            if error is None:
                whole = self.encode(line.to_dict())
                return whole[len(INDEX_PREFIX) + len(str(index)) :]
            # The same refusal repeats across events (a missing field, say): everything after
            # the event index is encoded once per subscription, action and error.
            described = self._error_dict(error)
            error_key = (line.subscription, line.action, described["name"], described["message"])
            rest = self._errors.get(error_key)
            if rest is None:
                rest = self.encode(line.to_dict())
                rest = rest[rest.index(", ") :]
                if len(self._errors) >= self._LIMIT:
                    self._errors.clear()
                self._errors[error_key] = rest
            return rest
        body = req.body_text()
        headers = req.headers
        key = (
            line.subscription,
            line.action,
            req.method,
            req.url,
            headers.get("authorization"),
            "content-type" in headers,
            headers.get("content-type"),
        )
        before = self._befores.get(key)
        if before is None:
            before = self.before_body(line.subscription, line.action, req)
            if len(self._befores) >= self._LIMIT:
                self._befores.clear()
            self._befores[key] = before
        return f"{before}{'null' if body is None else body}}}"

    def before_body(self, subscription: str, action: str, request: Any) -> str:
        """What a request line of `subscription`'s holds between its event index and its body
        text: `, "subscription": …, "headers": {…}, "body": ` (it depends on the request's method,
        URL and headers, not on its body)."""
        from sandbox.pipeline import PlanLine

        head = PlanLine(0, subscription, action, request).to_dict()
        del head["event_index"], head["body"]
        return f', {self.encode(head)[1:-1]}, "body": '

    def _whole(self, line: Any) -> str:
        """A line whose event index is not an int (a batch request's list of indexes)."""
        if line.error is not None or line.request is None:
            return self.encode(line.to_dict())
        body = line.request.body_text()
        head = line.to_dict()
        del head["body"]
        return f'{self.encode(head)[:-1]}, "body": {"null" if body is None else body}}}'


INDEX_PREFIX = '{"event_index": '
"""How every plan line starts (LineEncoder.tail)."""


def single_mode_tails(
    events: Iterable[Any],
    settings: Any,
    subscriptions: Sequence[Any | Mapping[str, Any]] | None,
    *,
    now: float | None,
    encoder: LineEncoder,
) -> Iterator[tuple[int, str]]:
    """`(line.event_index, encoder.tail(line)) for line in plan(events, settings, subscriptions,
    now=now)` (single mode), made without the PlanLines and CioRequests (`plan_bodies`): each
    subscription's text before the body is encoded once, and each line is that text, the body's
    JSON.stringify text and a brace. About a fifth less CPU per event than encoding `plan`'s
    lines; tests/test_plan_output.py checks the two give the same lines."""
    from sandbox.pipeline import PlanLine, plan_bodies

    befores: dict[int, str] = {}
    for index, sub, body, error in plan_bodies(events, settings, subscriptions, now=now):
        if error is not None:
            yield index, encoder.tail(PlanLine(index, sub.subscription.name, sub.action.slug, None, error))
            continue
        before = befores.get(id(sub))
        if before is None:
            request = sub.action.request(None, settings)
            before = befores[id(sub)] = encoder.before_body(sub.subscription.name, sub.action.slug, request)
        yield index, f"{before}{'null' if body is None else dumps(body)}}}"


def single_mode_lines(
    events: Iterable[Any],
    settings: Any,
    subscriptions: Sequence[Any | Mapping[str, Any]] | None,
    *,
    now: float | None,
) -> Iterator[str]:
    """Single mode's lines, each `LineEncoder()(line)` of a line of `plan` (single_mode_tails)."""
    tails = single_mode_tails(events, settings, subscriptions, now=now, encoder=LineEncoder())
    return (f"{INDEX_PREFIX}{index}{tail}" for index, tail in tails)


SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Characters of one subscription's batch lines kept in memory before they go to a file."""


def write_batch_streamed(
    events: Iterable[Any],
    settings: Any,
    subscriptions: Sequence[Any | Mapping[str, Any]] | None,
    out: IO[str],
    *,
    now: float | None,
) -> None:
    """Batch mode's lines written to `out` without holding the events: `plan_batch_streamed`'s
    lines, written by subscription (`write_by_subscription`)."""
    from sandbox.pipeline import plan_batch_streamed

    write_by_subscription(plan_batch_streamed(events, settings, subscriptions, now=now), out)


def write_by_subscription(lines: Iterable[tuple[int, Any]], out: IO[str]) -> None:
    """Batch mode's (subscription position, line or Stopped) as they come, written as batch mode
    gives them: each subscription's lines, encoded, go to a temporary file of their own (held in
    memory up to SPOOL_IN_MEMORY characters), and once `lines` ends the files are written to
    `out` in subscription order. Memory: SPOOL_IN_MEMORY characters per subscription at most;
    disk: the rest of the output. As in process, nothing is written when `lines` raises (an
    input that cannot be read to its end); where a subscription stopped, the lines of those
    before it and its own before the stop are written, then its error raised."""
    import shutil
    import tempfile

    from sandbox.pipeline import Stopped

    encode = LineEncoder()
    with tempfile.TemporaryDirectory(prefix="cio-sandbox-batch-") as folder:
        spools: dict[int, IO[str]] = {}
        stopped: tuple[int, Any] | None = None
        try:
            for position, line in lines:
                if isinstance(line, Stopped):
                    stopped = (position, line.error)  # each one comes at a position before the last
                    continue
                spool = spools.get(position)
                if spool is None:
                    spool = spools[position] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                        SPOOL_IN_MEMORY, "w+", encoding="utf-8", newline="", dir=folder
                    )
                spool.write(encode(line))
                spool.write("\n")
            for position in sorted(spools):
                if stopped is not None and position > stopped[0]:
                    break
                spool = spools[position]
                spool.seek(0)
                shutil.copyfileobj(spool, out)
        finally:
            for spool in spools.values():
                spool.close()
    if stopped is not None:
        raise stopped[1]
