"""Rendering a `MigrationReport`: plain text for a terminal, Markdown for a pull request.

Where it sits: `cio-sandbox migrate` prints one of these (or the report's JSON). Both show, per
difference class, what changes, how many events and people it touches, their messageIds, and one
example with the two destinations' requests side by side and the two person views; then whether
the two mocks end in the same state, and what was normalised to compare them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sandbox.classic.migration import NORMALISED, ClassTally, Example, MigrationReport

JSON = Any
COLUMN = 72
MAX_IDS = 12
MAX_END = 40


def render_text(report: MigrationReport) -> str:
    lines = [
        f"{report.events} events from {report.source}: classic (v1, {report.requests['classic']} requests) "
        f"vs Actions ({report.requests['actions']} requests), each into a fresh mock",
        f"  identical  {_n(report.identical, 'event')} end the same in both",
        f"  differ     {_n(report.differing, 'event')}, in {_n(len(report.classes), 'class', 'classes')}",
        f"  people     classic {report.people['classic']} · Actions {report.people['actions']}",
    ]
    for tally in report.classes:
        lines += ["", *_class_text(tally)]
    lines += ["", *_end_text(report)]
    return "\n".join(lines) + "\n"


def _class_text(tally: ClassTally) -> list[str]:
    k = tally.klass
    lines = [
        f"■ {k.title} [{k.key}]: {_n(tally.events, 'event')} · {_n(len(tally.people), 'person', 'people')}",
        f"  {k.what}",
        f"  messageIds: {_ids(tally.message_ids)}",
    ]
    for example in tally.examples:
        lines += _example_text(example)
    return lines


def _example_text(example: Example) -> list[str]:
    head = f"  example: event {example.index}" + (f" ({example.message_id})" if example.message_id else "")
    left = _side_lines("classic", example.classic, example.classic_dropped, ())
    right = _side_lines("Actions", example.actions, None, example.actions_refused)
    lines = [head, *_columns(left, right)]
    if example.person is not None:
        lines.append(f"  {example.person} afterwards:")
        lines += _columns(
            _wrapped(_compact(example.views.get("classic"))), _wrapped(_compact(example.views.get("actions")))
        )
    return lines


def _side_lines(
    label: str,
    requests: tuple[dict[str, JSON], ...],
    dropped: str | None,
    refused: tuple[dict[str, JSON], ...],
    wrap: bool = True,
) -> list[str]:
    _wrap = _wrapped if wrap else _whole
    lines = [f"{label}:"]
    if dropped:
        lines += _wrap(f"(nothing sent: {dropped})")
    for request in requests:
        lines += _wrap(f"{request['method']} {_path(request['url'])} → {request['status']}")
        if request.get("body") is not None:
            lines += _wrap("  " + _compact(request["body"]))
    for item in refused:
        lines += _wrap(f"(refused by {item['action']}: {item['error']})")
    if len(lines) == 1:
        lines.append("(nothing sent)")
    return lines


def _columns(left: list[str], right: list[str]) -> list[str]:
    rows = max(len(left), len(right))
    left = left + [""] * (rows - len(left))
    right = right + [""] * (rows - len(right))
    return [f"    {a:<{COLUMN}} │ {b}".rstrip() for a, b in zip(left, right, strict=True)]


def _whole(text: str) -> list[str]:
    return [text]


def _wrapped(text: str) -> list[str]:
    return [text[i : i + COLUMN] for i in range(0, max(len(text), 1), COLUMN)]


def _end_text(report: MigrationReport) -> list[str]:
    if report.equal:
        lines = ["End state: the two mocks hold the same people, objects, events and suppressions."]
    else:
        lines = [f"End state: {len(report.end)} differences (classic │ Actions)"]
        for d in report.end[:MAX_END]:
            where = f"{d.entity} {d.field}".rstrip()
            lines.append(f"  {where}: {_compact(d.classic)} │ {_compact(d.actions)}")
        if len(report.end) > MAX_END:
            lines.append(f"  … and {len(report.end) - MAX_END} more (--json has them all)")
    lines.append("Normalised before comparing:")
    lines += [f"  - {n}" for n in NORMALISED]
    return lines


# -- markdown --------------------------------------------------------------------------------------


def render_markdown(report: MigrationReport) -> str:
    out = [
        f"## Classic → Actions: {report.events} events from `{report.source}`",
        "",
        "| | classic | Actions |",
        "|---|---|---|",
        f"| requests | {report.requests['classic']} | {report.requests['actions']} |",
        f"| people at the end | {report.people['classic']} | {report.people['actions']} |",
        "",
        f"{_n(report.identical, 'event')} end the same in both; {report.differing} "
        f"{'differs' if report.differing == 1 else 'differ'}:",
        "",
        "| class | events | people | messageIds |",
        "|---|---|---|---|",
    ]
    for t in report.classes:
        out.append(f"| {t.klass.title} | {t.events} | {len(t.people)} | {_ids(t.message_ids)} |")
    for t in report.classes:
        out += ["", f"### {t.klass.title}", "", t.klass.what + "."]
        for example in t.examples:
            out += _example_markdown(example)
    out += ["", "### End state", ""]
    if report.equal:
        out.append("The two mocks hold the same people, objects, events and suppressions.")
    else:
        out += ["| where | classic | Actions |", "|---|---|---|"]
        for d in report.end[:MAX_END]:
            where = f"{d.entity} {d.field}".rstrip()
            out.append(f"| {_cell(where)} | {_cell(_compact(d.classic))} | {_cell(_compact(d.actions))} |")
        if len(report.end) > MAX_END:
            out.append(f"\n… and {len(report.end) - MAX_END} more (`--json` has them all).")
    out += ["", "Normalised before comparing: " + "; ".join(NORMALISED) + "."]
    return "\n".join(out) + "\n"


def _example_markdown(example: Example) -> list[str]:
    title = f"Event {example.index}" + (f" (`{example.message_id}`)" if example.message_id else "")
    left = "<br>".join(
        _cell(x) for x in _side_lines("classic", example.classic, example.classic_dropped, (), wrap=False)[1:]
    )
    right = "<br>".join(
        _cell(x)
        for x in _side_lines("Actions", example.actions, None, example.actions_refused, wrap=False)[1:]
    )
    rows = [
        "",
        f"{title}:",
        "",
        "| | classic | Actions |",
        "|---|---|---|",
        f"| requests | {left} | {right} |",
    ]
    if example.person is not None:
        rows.append(
            f"| `{example.person}` afterwards | {_cell(_compact(example.views.get('classic')))} "
            f"| {_cell(_compact(example.views.get('actions')))} |"
        )
    return rows


# -- helpers ---------------------------------------------------------------------------------------


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:MAX_IDS]) or "(none)"
    return shown + (f" … (+{len(ids) - MAX_IDS})" if len(ids) > MAX_IDS else "")


def _compact(value: JSON) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _cell(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text not in ("—", "") else "—"


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path or url
