"""Reading a Segment event the way the classic integration's `segmentio-facade` reads it.

Where it sits: below `mapper.py` and `destination.py`. Only the readers the integration uses:
the user id (required for every call), the email fallback, the event's time, `active`, and the
device fields its later documentation names (`context.device.token`, `context.device.type`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from sandbox.classic.dates import new_date, unix_time
from sandbox.js.numbers import number_to_string

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
"""The email shape the facade's `is-email` check accepts (a practical approximation)."""


def user_id(event: Mapping[str, Any]) -> str | None:
    """`userId` as the URL and body carry it (numbers as JavaScript writes them); None when the
    event has none, which the integration's `.ensure('message.userId')` rejects."""
    value = event.get("userId")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, str) and value:
        return value
    return None


_NOT_KEY: Final = re.compile(r"[^a-zA-Z0-9.]+")


def _normal(key: str) -> str:
    return _NOT_KEY.sub("", key).lower()


def find_key(obj: Mapping[str, Any], name: str) -> str | None:
    """The key the facade's `obj-case` lookup finds for `name`: the first whose letters and digits,
    lower-cased, are `name`'s (`Created`, `created_at` → `createdat`, `E-mail`)."""
    wanted = _normal(name)
    for key in obj:
        if _normal(key) == wanted:
            return key
    return None


def find(obj: Mapping[str, Any], name: str) -> Any:
    key = find_key(obj, name)
    return None if key is None else obj[key]


def is_email(value: Any) -> bool:
    return isinstance(value, str) and _EMAIL.match(value) is not None


def mapping(event: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`event[key]` when it is an object, else {} (the facade's `field(key) || {}`)."""
    value = event.get(key)
    return dict(value) if isinstance(value, dict) else {}


def timestamp_seconds(event: Mapping[str, Any], fallback: float) -> int | None:
    """`unix-time(msg.timestamp())`: the event's `timestamp` in whole seconds. Segment gives every
    event a timestamp on receipt; `fallback` (the receipt time) stands in when it has none."""
    value = event.get("timestamp")
    if value is None or value == "":
        return int(fallback)
    return unix_time(new_date(value))


def active(event: Mapping[str, Any]) -> bool:
    """facade `active()`: false only when the options (`context` on the wire) say `active: false`."""
    for key in ("options", "context"):
        options = event.get(key)
        if isinstance(options, dict) and options.get("active") is False:
            return False
    return True


def device(event: Mapping[str, Any]) -> tuple[str | None, Any]:
    """`context.device.token` (only a non-empty string counts) and `context.device.type`."""
    context = event.get("context")
    found = context.get("device") if isinstance(context, dict) else None
    if not isinstance(found, dict):
        return None, None
    token = found.get("token")
    return (token if isinstance(token, str) and token else None), found.get("type")
