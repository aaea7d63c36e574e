"""A workspace's settings: region, anonymous merge, declared credentials, rate limit, email updates.

Where it sits: `CioState.configure` (cio.py) and `WorkspaceState.configure` (workspace.py) build these
from the app's `CIO_WORKSPACES` or the admin API; the verbs read `anonymous_merge` and
`email_updates_by_id`, the HTTP layer the rest (auth, region, rate limiting).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .verb_io import JSON, StateError

_REGIONS = ("us", "eu")


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """A workspace's settings. Auth and rate limiting are done by the HTTP layer from these values."""

    region: Literal["us", "eu"] = "us"
    anonymous_merge: bool = True
    api_key: str | None = None
    """Declared credentials: when set, only this api_key is accepted for the workspace's site_id."""
    rate_limit: float | None = None
    """Requests per second, or None for no limit."""
    email_updates_by_id: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.region, str) and self.region.lower() in _REGIONS:
            object.__setattr__(self, "region", self.region.lower())  # "US"/"EU" as the sandbox spells them
        if self.region not in _REGIONS:
            raise StateError(f"region must be 'us' or 'eu', got {self.region!r}")
        for name in ("anonymous_merge", "email_updates_by_id"):
            if not isinstance(getattr(self, name), bool):
                raise StateError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key):
            raise StateError(f"api_key must be a non-empty string or null, got {self.api_key!r}")
        rate = self.rate_limit
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0):
            raise StateError(
                f"rate_limit must be a positive number of requests per second or null, got {rate!r}"
            )

    def to_dict(self) -> dict[str, JSON]:
        return dataclasses.asdict(self)


def check_setting_names(names: Iterable[str]) -> None:
    """Raise StateError naming every name that is not a `WorkspaceSettings` field."""
    unknown = set(names) - {f.name for f in dataclasses.fields(WorkspaceSettings)}
    if unknown:
        raise StateError(f"unknown workspace setting(s): {', '.join(sorted(unknown))}")
