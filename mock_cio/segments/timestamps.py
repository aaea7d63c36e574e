"""Timestamps as Customer.io's segment builder reads them: Unix seconds only.

Customer.io's "Timestamp conditions" page: `is a timestamp` holds as soon as the value is a valid
Unix timestamp, and every timestamp rule needs one (10 digits, seconds). An ISO-8601 string, or a
millisecond number (13 digits), is no timestamp: the rule does not match, and the mock says why.
"""

from __future__ import annotations

import math
import re
from typing import Any

DAY = 86400
MAX_SECONDS = 10**10
"""Unix seconds have at most 10 digits (until the year 2286); 13 digits are milliseconds."""
_DIGITS = re.compile(r"[0-9]{1,10}(\.[0-9]+)?")


def unix_seconds(value: Any) -> float | None:
    """`value` as Unix seconds when it is one (a number, or a string of digits, from 0 to under
    10**10), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = float(value)
    else:
        return None
    if not math.isfinite(number) or not 0 <= number < MAX_SECONDS:
        return None
    return number


def why_not(value: Any) -> str:
    """Why `value` is not Unix seconds, in words for a warning."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "not a finite number"
        if value >= MAX_SECONDS:
            return "a number of more than 10 digits (milliseconds?)"
        return "a negative number"
    if isinstance(value, str):
        if re.fullmatch(r"[0-9]{11,}(\.[0-9]+)?", value):
            return "a string of more than 10 digits (milliseconds?)"
        if re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return "an ISO-8601 date string (Convert Timestamps off?)"
        return "a string that is not a number"
    return f"a {type(value).__name__ if not isinstance(value, dict | list) else ('object' if isinstance(value, dict) else 'list')}"


def reference_time(value: Any, now: float) -> float:
    """A rule's checked time value: Unix seconds, or `{"days_ago": N}` / `{"days_from_now": N}`."""
    if isinstance(value, dict):
        if "days_ago" in value:
            return now - float(value["days_ago"]) * DAY
        return now + float(value["days_from_now"]) * DAY
    return float(value)


def is_relative(value: Any) -> bool:
    return isinstance(value, dict)
