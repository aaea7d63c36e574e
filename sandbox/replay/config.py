"""The sandbox's configuration file (TOML): destination settings and subscriptions, read once.

It sits before the pipeline: `run`, `snapshot`, `check` and `serve` load a `Config` and hand its
`settings` and `subscriptions` to `sandbox.pipeline`. The file looks like this (`cio-sandbox init`
writes one with the 15 default presets):

```toml
batch = false                      # deliver in batches (run --batch does the same)

[settings]
siteId = "site_123"
apiKey = "key_abc"
accountRegion = "US"               # "US", "EU", "US 🇺🇸" or "EU 🇪🇺"

[[subscriptions]]
name = "Track Event"
subscribe = 'type = "track"'       # FQL; leave it out to match every event
partnerAction = "trackEvent"
enabled = true                     # false keeps the subscription in the file but off
useDefaultMappings = false         # true lays the action's defaults under `mapping`
enable_batching = true             # batch options: the mapping fields of the same names
batch_size = 50
[subscriptions.mapping]            # a TOML table ...
name = { "@path" = "$.event" }
# mapping = '''{"name": {"@path": "$.event"}}'''   ... or JSON pasted from Segment's mapping editor
```

Without a file, the embedded defaults apply: the 15 automatic presets and placeholder settings.
A file without `subscriptions` also gets the presets. Every error is a `ConfigError` naming the
file, the subscription and the key path, e.g.
`cio-sandbox.toml: subscription 'Track Event': mapping/name/@path: should be a string ...`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.actions.settings import EU_REGION, US_REGION, Settings
from sandbox.errors import ConfigError
from sandbox.js import json as js_json
from sandbox.js.values import JSON, json_kind
from sandbox.pipeline import Compiled, CompiledSubscriptions, compile_subscription, compile_subscriptions

DEFAULT_FILE = "cio-sandbox.toml"
DEFAULTS_NAME = "<defaults>"
DEFAULT_SETTINGS = Settings(site_id="sandbox-site", api_key="sandbox-key", region=US_REGION)
"""Placeholder credentials: the mock accepts any non-empty pair unless the workspace declares its own."""

REGIONS = ("US", "EU", US_REGION, EU_REGION)
"""The accepted spellings of accountRegion, in any letter case (as `--workspace SITE:KEY:eu`)."""
_REGION_BY_KEY = {
    name.casefold(): region
    for name, region in (("US", US_REGION), ("EU", EU_REGION), (US_REGION, US_REGION), (EU_REGION, EU_REGION))
}
TOP_KEYS = ("batch", "settings", "subscriptions", "faults", "segments", "campaigns", "source")
SOURCE_KEYS = ("to",)
SETTINGS_KEYS = ("siteId", "apiKey", "accountRegion")
SUBSCRIPTION_KEYS = (
    "name",
    "subscribe",
    "partnerAction",
    "mapping",
    "useDefaultMappings",
    "enabled",
    "enable_batching",
    "batch_size",
)
BATCH_SIZE_RANGE = (2, 100)  # the Batch Size field's minimum and maximum


@dataclass(frozen=True, slots=True)
class Config:
    """A loaded configuration. `file` is the path it came from, or `<defaults>`; `subscriptions`
    holds the enabled ones, in file order; `batch` is the file's batch mode."""

    settings: Settings
    subscriptions: tuple[Subscription, ...]
    batch: bool = False
    file: str = DEFAULTS_NAME
    faults: Mapping[str, JSON] | None = None
    """The `[faults]` table: a mock fault profile (`mock_cio.faults.FaultProfile`), checked."""
    segments: tuple[Mapping[str, JSON], ...] = ()
    """`[[segments]]` (`id`, `name`, `conditions`): the mock's data-driven segments, checked."""
    campaigns: tuple[Mapping[str, JSON], ...] = ()
    """`[[campaigns]]` (`id`, `name`, `trigger`, `filter`, `frequency`): campaign triggers, checked."""
    source_to: str | None = None
    """`[source] to`: the Segment HTTP API `serve` posts the Customer.io source's events to (as
    `--source-to`, which wins over it); checked by the mock's own reader."""
    _compiled: CompiledSubscriptions | None = field(default=None, compare=False, repr=False)

    @property
    def compiled(self) -> CompiledSubscriptions:
        """The subscriptions compiled (validated) once, when the file was read."""
        if self._compiled is not None and len(self._compiled) == len(self.subscriptions):
            return self._compiled
        return compile_subscriptions(self.subscriptions)

    @property
    def is_default(self) -> bool:
        return self.file == DEFAULTS_NAME


def default_config() -> Config:
    """The embedded defaults: the 15 automatic presets with placeholder settings."""
    return Config(DEFAULT_SETTINGS, AUTOMATIC)


def load_config(
    path: str | os.PathLike[str] | None = None, *, cwd: str | os.PathLike[str] | None = None
) -> Config:
    """Load `path`; without one, `cio-sandbox.toml` in `cwd` (default: the working directory) if it
    exists, else the embedded defaults."""
    if path is None:
        candidate = Path(cwd if cwd is not None else os.getcwd()) / DEFAULT_FILE
        if not candidate.is_file():
            return default_config()
        path = candidate
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"byte {exc.start}: not UTF-8 text", name) from None
    return parse_config(text, name)


def parse_config(text: str, file: str = DEFAULT_FILE) -> Config:
    """Parse TOML text as a configuration; `file` names it in errors."""
    import tomllib  # here, not at the top: `plan --settings` never reads TOML (start-up time)

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file) from None
    return config_from_dict(document, file)


def config_from_dict(document: Mapping[str, Any], file: str = DEFAULT_FILE) -> Config:
    """A configuration from its parsed form (TOML tables as dicts)."""
    for key in document:
        if key not in TOP_KEYS:
            raise ConfigError(f"unknown key (expected one of {', '.join(TOP_KEYS)})", file, path=key)
    batch = document.get("batch", False)
    if not isinstance(batch, bool):
        raise ConfigError(f"must be true or false, got {_kind(batch)}", file, path="batch")
    settings = settings_from_dict(document.get("settings"), file)
    faults = _faults(document.get("faults"), file)
    segments, campaigns = _automation(document, file)
    source_to = _source(document.get("source"), file)
    if "subscriptions" not in document:
        return Config(settings, AUTOMATIC, batch, file, faults, segments, campaigns, source_to)
    items = document["subscriptions"]
    if not isinstance(items, list):
        raise ConfigError(
            f"must be an array of tables ([[subscriptions]]), got {_kind(items)}", file, path="subscriptions"
        )
    compiled = compiled_from_list(items, file)
    subscriptions = tuple(c.subscription for c in compiled)
    return Config(settings, subscriptions, batch, file, faults, segments, campaigns, source_to, compiled)


def _faults(table: Any, file: str) -> Mapping[str, JSON] | None:
    """`[faults]` and `[[faults.outages]]`: the mock's fault profile, in its own shape (the admin
    API's `PUT /_mock/faults/profile` body), returned normalised (times in Unix seconds)."""
    if table is None:
        return None
    from mock_cio.faults import FaultError, FaultProfile  # the profile's one definition

    try:
        return FaultProfile.from_dict(table).to_dict()
    except FaultError as exc:
        path, _, message = str(exc).partition(" ")
        raise ConfigError(message, file, path=path.rstrip(":").replace(".", "/")) from None


def _source(table: Any, file: str) -> str | None:
    """`[source]`: `to`, the URL `--source-to` takes, checked by the mock's one reader of it."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"must be a table ([source]), got {_kind(table)}", file, path="source")
    for key in table:
        if key not in SOURCE_KEYS:
            raise ConfigError(f"unknown key (expected {', '.join(SOURCE_KEYS)})", file, path=f"source/{key}")
    if "to" not in table:
        raise ConfigError("is required: the Segment HTTP API URL to post to", file, path="source/to")
    from mock_cio.source import SourceError, parse_target

    try:
        parse_target(table["to"], "to")
    except SourceError as exc:
        raise ConfigError(str(exc).removeprefix("to: "), file, path="source/to") from None
    return str(table["to"]).strip()


def _automation(document: Mapping[str, Any], file: str) -> tuple[tuple[Mapping[str, JSON], ...], ...]:
    """`[[segments]]` and `[[campaigns]]`: the mock's definitions, in its own shape (the admin
    API's `PUT /_mock/segments/<id>` bodies with their `id`), checked by the mock's one reader."""
    from mock_cio.segments import SegmentError, read_campaigns, read_segments

    out = []
    for key, read in (("segments", read_segments), ("campaigns", read_campaigns)):
        items = document.get(key)
        if items is not None and not isinstance(items, list):
            raise ConfigError(f"must be an array of tables ([[{key}]]), got {_kind(items)}", file, path=key)
        try:
            out.append(tuple(item.to_dict() for item in read(items, key)))
        except SegmentError as exc:
            path, _, message = str(exc).partition(": ")
            raise ConfigError(message, file, path=path.replace(".", "/")) from None
    return out[0], out[1]


def subscriptions_from_list(items: Iterable[Any], file: str = DEFAULT_FILE) -> tuple[Subscription, ...]:
    """The enabled subscriptions of a list of subscription tables (TOML) or objects (JSON), checked
    as a config file's are: `plan`'s `--subscriptions` file and plan document use this too."""
    return tuple(c.subscription for c in compiled_from_list(items, file))


def compiled_from_list(items: Iterable[Any], file: str = DEFAULT_FILE) -> CompiledSubscriptions:
    """`subscriptions_from_list`, compiled: each one checked (and its FQL parsed) exactly once."""
    compiled: list[Compiled] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        one, enabled = _subscription(item, index, file)
        if one.subscription.name in seen:
            raise ConfigError("another subscription has the same name", file, one.subscription.name, "name")
        seen.add(one.subscription.name)
        if enabled:
            compiled.append(one)
    return compile_subscriptions(compiled)


# -- settings --------------------------------------------------------------------------------------


def settings_from_dict(table: Any, file: str = DEFAULT_FILE) -> Settings:
    """The destination's settings from `[settings]` (or a plan document's `settings` object);
    None gives the placeholder settings."""
    if table is None:
        return DEFAULT_SETTINGS
    if not isinstance(table, dict):
        raise ConfigError(f"must be a table ([settings]), got {_kind(table)}", file, path="settings")
    for key in table:
        if key not in SETTINGS_KEYS:
            raise ConfigError(
                f"unknown key (expected one of {', '.join(SETTINGS_KEYS)})", file, path=f"settings/{key}"
            )
    values: dict[str, str] = {}
    for key in ("siteId", "apiKey"):
        value = table.get(key)
        if value is None:
            raise ConfigError("is required", file, path=f"settings/{key}")
        _check_non_empty(value, lambda message, key=key: ConfigError(message, file, path=f"settings/{key}"))
        values[key] = value
    return Settings(site_id=values["siteId"], api_key=values["apiKey"], region=region_of(table, file))


def region_of(table: Mapping[str, Any], file: str = DEFAULT_FILE) -> str:
    """accountRegion as the destination spells it ("US 🇺🇸" or "EU 🇪🇺"); "US", "EU" and any
    letter case are accepted. Anything else is refused: the destination would silently send it
    to the US host."""
    region = table.get("accountRegion")
    if region is None:
        return US_REGION
    known = _REGION_BY_KEY.get(region.strip().casefold()) if isinstance(region, str) else None
    if known is None:
        raise ConfigError(
            f"must be one of {', '.join(json.dumps(r, ensure_ascii=False) for r in REGIONS)}"
            f" (any letter case), got {_show(region)}",
            file,
            path="settings/accountRegion",
        )
    return known


def _check_non_empty(value: Any, fail: Any) -> None:
    if not isinstance(value, str):
        raise fail(f"must be a non-empty string, got {_kind(value)}")
    if not value.strip():
        raise fail("must not be empty" if not value else "must not be blank (only whitespace)")


# -- subscriptions ---------------------------------------------------------------------------------


def _subscription(item: Any, index: int, file: str) -> tuple[Compiled, bool]:
    label = f"#{index + 1}"
    if not isinstance(item, dict):
        raise ConfigError(f"must be a table ([[subscriptions]]), got {_kind(item)}", file, label)
    name = item.get("name")
    if name is None:
        raise ConfigError("is required", file, label, "name")
    _check_non_empty(name, lambda message: ConfigError(message, file, label, "name"))
    for key in item:
        if key not in SUBSCRIPTION_KEYS:
            raise ConfigError(
                f"unknown key (expected one of {', '.join(SUBSCRIPTION_KEYS)})", file, name, key
            )

    def fail(path: str, message: str) -> ConfigError:
        return ConfigError(message, file, name, path)

    from sandbox.actions import ACTIONS

    action = item.get("partnerAction")
    if action is None:
        raise fail("partnerAction", f"is required (one of {', '.join(sorted(ACTIONS))})")
    if action not in ACTIONS:
        raise fail("partnerAction", f"must be one of {', '.join(sorted(ACTIONS))}, got {_show(action)}")
    for key in ("enabled", "useDefaultMappings", "enable_batching"):
        if key in item and not isinstance(item[key], bool):
            raise fail(key, f"must be true or false, got {_kind(item[key])}")
    subscribe = item.get("subscribe")
    if subscribe is not None and not isinstance(subscribe, str):
        raise fail("subscribe", f"must be an FQL string, got {_kind(subscribe)}")
    use_defaults = item.get("useDefaultMappings", False)
    mapping = _mapping(item.get("mapping"), use_defaults, fail)
    for key in ("enable_batching", "batch_size"):
        if key in item:
            if key in mapping and mapping[key] != item[key]:
                raise fail(key, f"conflicts with mapping/{key} ({_show(mapping[key])}); give it once")
            mapping[key] = item[key]
    size = mapping.get("batch_size")
    if size is not None and not isinstance(size, dict):
        where = "batch_size" if "batch_size" in item else "mapping/batch_size"
        low, high = BATCH_SIZE_RANGE
        if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
            raise fail(where, f"must be a whole number from {low} to {high}, got {_show(size)}")
    sub = Subscription.from_dict(
        {
            "name": name,
            "subscribe": subscribe,
            "partnerAction": action,
            "mapping": mapping,
            "useDefaultMappings": use_defaults,
        },
        file=file,
    )
    # the FQL, the mapping's keys and mapping-kit's rules: the one subscription validator
    return compile_subscription(sub, file), bool(item.get("enabled", True))


def _mapping(value: Any, use_defaults: bool, fail: Any) -> dict[str, JSON]:
    """The mapping as a dict: a TOML table, or a JSON object given as a string."""
    if value is None:
        if use_defaults:
            return {}
        raise fail(
            "mapping", "is required (a table, or a JSON object as a string); or set useDefaultMappings = true"
        )
    if isinstance(value, str):
        # JSON.parse's numbers, as Segment reads a mapping (and plan reads a JSON file): `1.0` is 1.
        try:
            parsed = js_json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail(
                "mapping", f"not valid JSON (line {exc.lineno}, column {exc.colno} of the string): {exc.msg}"
            ) from None
        except ValueError as exc:  # NaN, Infinity
            raise fail("mapping", f"not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise fail("mapping", f"the JSON must be an object, got {_kind(parsed)}")
        return parsed
    if not isinstance(value, dict):
        raise fail("mapping", f"must be a table or a JSON string, got {_kind(value)}")
    _check_json(value, "mapping", fail)
    return _as_js_numbers(value)


def _as_js_numbers(value: Any) -> Any:
    """A TOML value with JavaScript's numbers, as if it were read with JSON.parse: the float
    `1.0` is the number 1 and an integer beyond 2^53 loses what a double cannot hold, so a mapping
    means the same whether written as a TOML table or as JSON text."""
    if isinstance(value, dict):
        return {key: _as_js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_js_numbers(item) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return js_json.parse_int(str(value))
    if isinstance(value, float):
        return js_json.parse_float(repr(value))
    return value


def _check_json(value: Any, path: str, fail: Any) -> None:
    """TOML has values JSON has not (dates and times); a mapping must be JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(item, f"{path}/{key}", fail)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_json(item, f"{path}/{position}", fail)
    elif isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        raise fail(path, f"a TOML date or time ({value.isoformat()}) is not JSON; write it as a string")
    elif isinstance(value, float) and not math.isfinite(value):
        raise fail(path, f"{value} is not a JSON number")


def _kind(value: Any) -> str:
    """json_kind in TOML's words: no value is "nothing", an object "a table", and TOML's dates."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return "a date or time"
    return json_kind(value)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _kind(value) if isinstance(value, (dict, list)) or value is None else str(value).lower()
