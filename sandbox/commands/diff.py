"""`cio-sandbox diff OLD.toml NEW.toml EVENTS`: what a config change would change, on your own events.

The events are read once and replayed through both configs (single mode) into two fresh
in-process mocks on the same clock. The report, per subscription and action: requests added,
removed, changed and unchanged; for changed requests, which body fields changed, in how many
requests, with up to 3 example messageIds each; errors introduced and fixed. Then the end states:
people and objects whose attributes, events, devices, relationships or identifiers differ, or that
exist with one config only (cio_ids, event ids and receipt times are normalised away).

EVENTS are read as `run` reads them: files, directories, Segment archives (--source, --since,
--until pick partitions), fsspec URLs, - for stdin.

--workers N / --scheduler ADDRESS / --resume DIR partition the events by identity as `run` does
(docs/scale.md): over files and URLs each worker reads its own events and compares both configs'
requests itself, and the driver never holds the events; the report is the same.

Exit status: 0 when both configs give the same requests, errors and end state; 1 when they differ
(as `check`); 2 for unusable input or config.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sandbox.commands._replaying import (
    add_parallel_arguments,
    add_resume_argument,
    add_selection_arguments,
    files_mapper,
    is_parallel,
    partition_runner,
    print_report,
    readable,
    reporter,
    selection,
    source_label,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare two configs on the same events: requests, body fields, errors, end state",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("old", metavar="OLD", help="the config in use (cio-sandbox.toml)")
    parser.add_argument("new", metavar="NEW", help="the changed config")
    parser.add_argument(
        "events",
        metavar="EVENTS",
        nargs="+",
        help="Segment events: files, directories, Segment archives, fsspec URLs, - for stdin",
    )
    add_selection_arguments(parser)
    add_parallel_arguments(parser)
    add_resume_argument(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument(
        "--format", choices=("text", "markdown"), default="text", help="text (default) or markdown"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sandbox.replay.config import load_config
    from sandbox.replay.diffing import compare_configs, compare_partitioned
    from sandbox.replay.diffparts import compare_files
    from sandbox.replay.events import input_files, read_file
    from sandbox.replay.partitioned import check

    old = load_config(args.old)
    new = load_config(args.new)
    _note_what_is_not_compared(args, old, new)
    files = input_files(args.events, selection(args))
    label = source_label(args.events)
    names = (args.old, args.new)
    events = (located for file in files for located in read_file(file))
    if is_parallel(args) or args.resume is not None:
        for config in (old, new):
            check(config, batch=False)
        if readable(files):
            with files_mapper(args, args.resume) as (mapper, count):
                report = compare_files(
                    files, old, new, partitions=count, mapper=mapper, resume=args.resume,
                    report=reporter(args), source=label, names=names,
                )  # fmt: skip
        else:
            with partition_runner(args, args.resume) as (runner, count):
                report = compare_partitioned(
                    events, old, new, partitions=count, runner=runner, source=label, names=names
                )
    else:
        report = compare_configs(events, old, new, source=label, names=names)
    return print_report(args, report, render_text, render_markdown)


def _note_what_is_not_compared(args: argparse.Namespace, old: Any, new: Any) -> None:
    """Say on stderr what of the two configs diff leaves out, so "no difference" is not misread:
    a [faults] profile (both sides replay with perfect delivery) and the credentials (requests
    are compared without their Authorization header)."""
    for config, name in ((old, args.old), (new, args.new)):
        if config.faults:
            print(
                f"cio-sandbox diff: note: {name}: [faults] is not applied (both sides replay without faults)",
                file=sys.stderr,
            )
    if (old.settings.site_id, old.settings.api_key) != (new.settings.site_id, new.settings.api_key):
        print(
            "cio-sandbox diff: note: siteId/apiKey differ; requests are compared without their credentials",
            file=sys.stderr,
        )


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _examples(ids: tuple[str, ...]) -> str:
    return ", ".join(ids)


def render_text(report: Any) -> str:
    lines = [
        f"{report.events} events from {report.source}: {report.old} → {report.new}",
        f"  requests  {report.requests_old} with old · {report.requests_new} with new",
    ]
    if report.equal:
        lines.append("  no difference: the same requests, errors and end state")
        return "\n".join(lines) + "\n"
    for sub in report.subscriptions:
        if not sub.differs:
            continue
        lines.append(
            f"  {sub.subscription} ({sub.action}): {sub.changed} changed · {sub.added} added · "
            f"{sub.removed} removed · {sub.same} same"
        )
        if sub.added:
            lines.append(f"      added in e.g. {_examples(sub.added_examples)}")
        if sub.removed:
            lines.append(f"      removed in e.g. {_examples(sub.removed_examples)}")
        for change in sub.fields:
            lines.append(
                f"      field {change.field}: {change.count} request(s), e.g. {_examples(change.examples)}"
            )
        for error in sub.errors_introduced:
            lines.append(
                f"      error introduced ({error.count}): {error.message}, e.g. {_examples(error.examples)}"
            )
        for error in sub.errors_fixed:
            lines.append(
                f"      error fixed ({error.count}): {error.message}, e.g. {_examples(error.examples)}"
            )
    if report.state:
        lines.append("  end state:")
        for group in report.state:
            lines.append(f"    {group.kind} · {group.aspect}: {group.count}")
            for example in group.examples:
                what = f"{example.entity} {example.field}".rstrip()
                lines.append(f"        {what}: {_short(example.classic)} → {_short(example.actions)}")
    else:
        lines.append("  end state: the same")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Any) -> str:
    out = [
        f"### cio-sandbox diff: `{report.old}` → `{report.new}`",
        "",
        f"{report.events} events from `{report.source}`; {report.requests_old} requests with old, "
        f"{report.requests_new} with new.",
        "",
    ]
    if report.equal:
        out.append("**No difference**: the same requests, errors and end state.")
        return "\n".join(out) + "\n"
    out += [
        "| Subscription | Action | Changed | Added | Removed | Same |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for sub in report.subscriptions:
        if sub.differs:
            out.append(
                f"| {_cell(sub.subscription)} | `{sub.action}` | {sub.changed} | {sub.added} | {sub.removed} | {sub.same} |"
            )
    fields = [(sub, f) for sub in report.subscriptions for f in sub.fields]
    if fields:
        out += ["", "| Subscription | Field | Requests | Examples (messageId) |", "|---|---|---:|---|"]
        for sub, change in fields:
            examples = ", ".join(f"`{e}`" for e in change.examples)
            out.append(f"| {_cell(sub.subscription)} | `{change.field}` | {change.count} | {examples} |")
    errors = [
        (sub, kind, e)
        for sub in report.subscriptions
        for kind, group in (("introduced", sub.errors_introduced), ("fixed", sub.errors_fixed))
        for e in group
    ]
    if errors:
        out += ["", "| Subscription | Error | | Events | Examples |", "|---|---|---|---:|---|"]
        for sub, kind, error in errors:
            examples = ", ".join(f"`{e}`" for e in error.examples)
            out.append(
                f"| {_cell(sub.subscription)} | {_cell(error.message)} | {kind} | {error.count} | {examples} |"
            )
    out.append("")
    if report.state:
        out += ["**End state**", "", "| Kind | Differs in | Count | Example |", "|---|---|---:|---|"]
        for group in report.state:
            example = group.examples[0]
            what = _cell(f"{example.entity} {example.field}".rstrip())
            shown = _cell(f"{_short(example.classic, 60)} → {_short(example.actions, 60)}")
            out.append(f"| {group.kind} | {group.aspect} | {group.count} | {what}: `{shown}` |")
    else:
        out.append("**End state**: the same.")
    return "\n".join(out) + "\n"
