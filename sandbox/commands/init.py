"""`cio-sandbox init [PATH]`: write a commented configuration file to start from.

The file (default `cio-sandbox.toml`) holds placeholder settings and the destination's 15 automatic
presets, each with its full default mapping, so it loads back to exactly what the sandbox runs
without a file. Edit it: change a mapping, switch a subscription off with `enabled = false`, paste
a mapping from Segment's editor as a JSON string. An existing file is kept unless `--force`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from sandbox.errors import InputError
from sandbox.js.values import JSON

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not allowed in TOML literal strings

HEADER = """\
# cio-sandbox configuration: the settings and subscriptions of Segment's Customer.io (Actions)
# destination, as the sandbox plays them. Written by `cio-sandbox init`; `cio-sandbox run`,
# `snapshot`, `check` and `serve` read ./cio-sandbox.toml (or --config FILE).
#
# Each [[subscriptions]] entry is one subscription of the destination:
#   name               shown in summaries and errors; unique
#   subscribe          the trigger, in Segment's FQL; leave it out to match every event
#   partnerAction      the action: createUpdatePerson, trackEvent, ... (see the presets below)
#   enabled            false keeps the subscription here but switches it off
#   useDefaultMappings true lays the action's default mapping under `mapping` (give only overrides)
#   mapping            a table, as below, or the JSON copied from Segment's mapping editor:
#                        mapping = '''{"name": {"@path": "$.event"}}'''
#   enable_batching, batch_size   batch options (mapping fields of the same names; 2..100)
#
# Top level: batch = true delivers in batches, as `run --batch` does.

"""

SETTINGS = """\
batch = false

[settings]
# The destination's settings. The in-process mock accepts any non-empty pair; a live mock with
# declared workspace credentials answers 401 to others.
siteId = {site_id}
apiKey = {api_key}
accountRegion = {region}   # "US" or "EU" (or the destination's "US 🇺🇸" / "EU 🇪🇺")
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write a configuration file with the 15 default presets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        default="cio-sandbox.toml",
        help="where to write (default: %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def target_path(path: str) -> str:
    """Where `init PATH` writes: PATH/cio-sandbox.toml for a directory, for a path ending in `/`
    and for a path without a suffix that does not exist yet (a new directory, created, since
    `run` looks for cio-sandbox.toml in a directory); PATH itself when it ends in `.toml`."""
    folder = path.endswith(("/", os.sep)) or os.path.isdir(path)
    if not folder and not os.path.exists(path) and not os.path.splitext(os.path.basename(path))[1]:
        folder = True
    if folder:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the directory: {exc.strerror or exc}", path) from None
        return os.path.join(path, "cio-sandbox.toml")
    if not path.endswith(".toml"):
        raise InputError("the configuration is TOML: give a name ending in .toml, or a directory", path)
    return path


def run(args: argparse.Namespace) -> int:
    path = target_path(args.path)
    if os.path.exists(path) and not args.force:
        raise InputError("already exists; give --force to overwrite it", path)
    text = render_config()
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path) from None
    print(
        f"wrote {path}: settings and the 15 default subscriptions; edit it, then: cio-sandbox run EVENTS",
        file=sys.stderr,
    )
    return 0


def render_config(subscriptions: Sequence[Any] | None = None, settings: Any = None) -> str:
    """The TOML text of a configuration: the header, settings, then each subscription."""
    from sandbox.actions import ACTIONS
    from sandbox.actions.presets import AUTOMATIC
    from sandbox.replay.config import DEFAULT_SETTINGS

    subs = AUTOMATIC if subscriptions is None else subscriptions
    settings = settings or DEFAULT_SETTINGS
    parts = [
        HEADER,
        SETTINGS.format(
            site_id=toml_string(settings.site_id),
            api_key=toml_string(settings.api_key),
            region=toml_string(_short_region(settings.region)),
        ),
    ]
    for sub in subs:
        action = ACTIONS[sub.partnerAction]
        lines = ["", f"# {action.title}: {action.description}", "[[subscriptions]]"]
        lines.append(f"name = {toml_string(sub.name)}")
        if sub.subscribe is not None:
            lines.append(f"subscribe = {toml_multiline(tidy_fql(sub.subscribe))}")
        lines.append(f"partnerAction = {toml_string(sub.partnerAction)}")
        lines.append("enabled = true")
        lines.append(f"useDefaultMappings = {'true' if sub.useDefaultMappings else 'false'}")
        if _has_null(sub.mapping):
            # TOML has no null: such a mapping is kept as JSON text.
            lines.append(f"mapping = {toml_multiline(json.dumps(sub.mapping, ensure_ascii=False, indent=2))}")
        else:
            lines.append("[subscriptions.mapping]")
            for key, value in sub.mapping.items():
                field = action.fields.get(key)
                note = f"  # {field.label}" if field is not None else ""
                lines.append(f"{toml_key(key)} = {toml_value(value)}{note}")
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


def tidy_fql(text: str) -> str:
    """FQL as a person would write it in the file: no blank first line, no common indentation,
    no trailing spaces (the presets are written so in the destination's source). Whitespace is
    only a separator in FQL, so the condition is the same."""
    import textwrap

    lines = textwrap.dedent(text.strip("\n")).strip().splitlines()
    return "\n".join(line.rstrip() for line in lines)


# -- TOML values -----------------------------------------------------------------------------------


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also wants DEL escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_multiline(text: str) -> str:
    """A multi-line literal string when the text has newlines and no `'''`, else a basic string.
    The newline after the opening quotes is dropped by TOML, so the text comes back unchanged.
    Literal strings cannot hold control characters (tab and newline aside) or a CR."""
    if "\n" in text and "'''" not in text and not text.endswith("'") and not _CONTROL.search(text):
        return "'''\n" + text + "'''"
    if "\n" not in text and "'" not in text and "\t" not in text and not _CONTROL.search(text):
        return f"'{text}'"  # a literal string: FQL's double quotes need no escapes
    return toml_string(text)


def toml_value(value: JSON) -> str:
    """A JSON value (no null) as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _has_null(value: JSON) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def _short_region(region: str) -> str:
    from sandbox.actions.settings import EU_REGION, US_REGION

    return {US_REGION: "US", EU_REGION: "EU"}.get(region, region)
