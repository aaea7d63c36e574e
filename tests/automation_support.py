"""The live server the segment and campaign tests send Segment events to: identify through
createUpdatePerson (Convert Timestamps on or off) and track through trackEvent, into a mock with
the given segments and campaigns, its clock at the seed's day."""

from __future__ import annotations

from typing import Any

from sandbox.live import create_live_app
from sandbox.replay.config import parse_config

CONFIG = """
[settings]
siteId = "site"
apiKey = "key"

[[subscriptions]]
name = "Identify"
subscribe = 'type = "identify"'
partnerAction = "createUpdatePerson"
useDefaultMappings = true
[subscriptions.mapping]
convert_timestamp = {convert}

[[subscriptions]]
name = "Track"
subscribe = 'type = "track"'
partnerAction = "trackEvent"
useDefaultMappings = true
"""
SIGNED_UP = {
    "id": 1,
    "name": "Signed up",
    "conditions": {"attribute": {"field": "created_at", "operator": "is_timestamp"}},
}
"""The seed's segment: people whose `created_at` is a Unix timestamp."""


def live_app(segments: list[dict[str, Any]], campaigns: list[dict[str, Any]], convert: bool) -> Any:
    """The live server's app (journal in memory, clock at 2024-03-05T12:00:00Z)."""
    return create_live_app(
        {
            "CIO_DB": ":memory:",
            "CIO_NOW": "2024-03-05T12:00:00Z",
            "CIO_SEGMENTS": segments,
            "CIO_CAMPAIGNS": campaigns,
            "SANDBOX_CONFIG": parse_config(CONFIG.format(convert="true" if convert else "false")),
        }
    )
