"""Destination settings (siteId, apiKey, accountRegion): where requests go and how they authenticate.

The pipeline's last stage reads them: `track_url` picks the host the way the destination's
`trackApiEndpoint` does, `authorization` is the Basic header actions-core derives from
`extendRequest` (username siteId, password apiKey).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import InputError
from sandbox.js.json import join_surrogates
from sandbox.js.values import json_kind

US_REGION = "US 🇺🇸"
EU_REGION = "EU 🇪🇺"
US_HOST = "https://track.customer.io"
EU_HOST = "https://track-eu.customer.io"

# The short spellings are a convenience of the sandbox; the destination itself only knows the
# emoji values, and treats every value but exactly "EU 🇪🇺" as US.
_ALIASES = {"US": US_REGION, "EU": EU_REGION, "us": US_REGION, "eu": EU_REGION}


@dataclass(frozen=True, slots=True)
class Settings:
    """The destination's settings. `region` keeps the raw accountRegion value (default "US 🇺🇸")."""

    site_id: str
    api_key: str
    region: str = US_REGION
    authorization: str = field(init=False, repr=False, compare=False)
    track_url: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        region = _ALIASES.get(self.region, self.region)
        object.__setattr__(self, "region", region)
        # Mirrors trackApiEndpoint: only the exact EU value selects the EU host.
        object.__setattr__(self, "track_url", EU_HOST if region == EU_REGION else US_HOST)
        object.__setattr__(self, "authorization", basic_authorization(self.site_id, self.api_key))

    @classmethod
    def from_dict(cls, data: Any, source: str = "settings") -> Settings:
        """Read `{"siteId", "apiKey", "accountRegion"?}`; raise InputError naming the bad key."""
        if not isinstance(data, Mapping):
            raise InputError(f"settings must be an object, got {_kind(data)}", source)
        values: dict[str, str] = {}
        for key in ("siteId", "apiKey"):
            if key not in data:
                raise InputError(f"settings.{key} is required", source)
            if not isinstance(data[key], str):
                raise InputError(f"settings.{key} must be a string, got {_kind(data[key])}", source)
            values[key] = data[key]
        region = data.get("accountRegion", US_REGION)
        if region is None:
            region = US_REGION
        if not isinstance(region, str):
            raise InputError(f"settings.accountRegion must be a string, got {_kind(region)}", source)
        return cls(site_id=values["siteId"], api_key=values["apiKey"], region=region)

    def to_dict(self) -> dict[str, str]:
        return {"siteId": self.site_id, "apiKey": self.api_key, "accountRegion": self.region}


_kind = json_kind


def basic_authorization(username: str, password: str) -> str:
    """actions-core's addBasicAuthHeader: no header ("") when both are empty; otherwise Basic with
    btoa-lite over `username:password`, which on Node is `new Buffer(text)`: UTF-8, with a lone
    surrogate written as U+FFFD."""
    if not username and not password:
        return ""
    text = join_surrogates(f"{username}:{password}")
    raw = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


_SURROGATE = re.compile("[\ud800-\udfff]")
