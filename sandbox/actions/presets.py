"""Subscriptions and the destination's 21 presets: which events reach which action, with which mapping.

The first stage of the pipeline: a `Subscription` pairs an FQL condition with an action and a
mapping. Without user subscriptions, the 15 automatic presets (`AUTOMATIC`) are used, each with
the mapping `defaultValues(action.fields)`, as the destination's index.ts declares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.actions import ACTIONS
from sandbox.actions.fields import default_values
from sandbox.errors import ConfigError
from sandbox.js.values import JSON, json_kind

PresetType = Literal["automatic", "specificEvent", "custom"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription: `subscribe` is FQL (None matches every event), `partnerAction` an ACTIONS slug.

    `useDefaultMappings` lays the action's field defaults under `mapping` (a shallow merge, as the
    destination's test helper does). `type` and `eventSlug` describe presets: specificEvent presets
    are triggered by a Segment-side event slug, not by FQL.
    """

    name: str
    subscribe: str | None
    partnerAction: str
    mapping: dict[str, JSON]
    useDefaultMappings: bool = False
    type: PresetType = field(default="custom", compare=False)
    eventSlug: str | None = field(default=None, compare=False)

    @property
    def effective_mapping(self) -> dict[str, JSON]:
        """The mapping that runs: the action's defaults under `mapping` when useDefaultMappings is set."""
        if self.useDefaultMappings:
            return {**default_values(ACTIONS[self.partnerAction].fields), **self.mapping}
        return self.mapping

    @classmethod
    def from_dict(cls, data: Any, *, file: str = "", index: int | None = None) -> Subscription:
        """Read `{"name", "subscribe"?, "partnerAction", "mapping", "useDefaultMappings"?}`.

        Raises ConfigError naming the file, the subscription and the key. This checks the object's
        shape only: the FQL, the mapping's keys and mapping-kit's rules are checked once, by
        `sandbox.pipeline.compile_subscription`, the one subscription validator.
        """
        label = f"#{index}" if index is not None else ""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a subscription must be an object, got {_kind(data)}", file, label)
        name = data.get("name", label or "subscription")
        if not isinstance(name, str) or not name:
            raise ConfigError("must be a non-empty string", file, label, "name")
        for key in data:
            if key not in _KEYS:
                raise ConfigError(f"unknown key (expected one of {', '.join(_KEYS)})", file, name, key)
        subscribe = data.get("subscribe")
        if subscribe is not None and not isinstance(subscribe, str):
            raise ConfigError(f"must be an FQL string, got {_kind(subscribe)}", file, name, "subscribe")
        action = data.get("partnerAction")
        if not isinstance(action, str) or action not in ACTIONS:
            raise ConfigError(
                f"must be one of {', '.join(sorted(ACTIONS))}, got {action!r}", file, name, "partnerAction"
            )
        use_defaults = data.get("useDefaultMappings", False)
        if not isinstance(use_defaults, bool):
            raise ConfigError(
                f"must be true or false, got {_kind(use_defaults)}", file, name, "useDefaultMappings"
            )
        mapping = data.get("mapping", {} if use_defaults else None)
        if not isinstance(mapping, dict):
            raise ConfigError(f"must be an object, got {_kind(mapping)}", file, name, "mapping")
        return cls(name, subscribe, action, mapping, use_defaults)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "subscribe": self.subscribe,
            "partnerAction": self.partnerAction,
            "mapping": self.mapping,
            "useDefaultMappings": self.useDefaultMappings,
        }


_KEYS = ("name", "subscribe", "partnerAction", "mapping", "useDefaultMappings")


_kind = json_kind


def _preset(
    name: str, action: str, subscribe: str, overrides: Mapping[str, JSON] | None = None
) -> Subscription:
    mapping = {**default_values(ACTIONS[action].fields), **(overrides or {})}
    return Subscription(name, subscribe, action, mapping, type="automatic")


def _specific(name: str, action: str, slug: str, overrides: Mapping[str, JSON]) -> Subscription:
    mapping = {**default_values(ACTIONS[action].fields), **overrides}
    return Subscription(name, None, action, mapping, type="specificEvent", eventSlug=slug)


_DEVICE_SUBSCRIBE = """
        event = "Application Installed"
        or event = "Application Opened"
        or event = "Device Created or Updated"
      """
_TRACK_SUBSCRIBE = """
        type = "track"
        and event != "Application Installed"
        and event != "Application Opened"
        and event != "Application Uninstalled"
        and event != "Device Created or Updated"
        and event != "Device Deleted"
        and event != "Relationship Deleted"
        and event != "User Deleted"
        and event != "User Suppressed"
        and event != "User Unsuppressed"
        and event != "Object Deleted"
        and event != "Report Delivery Event"
        and event != "Report Content Event"
      """
_PROPERTIES = {"data": {"@path": "$.properties"}}

AUTOMATIC: tuple[Subscription, ...] = (
    _preset("Create or Update Person", "createUpdatePerson", 'type = "identify"'),
    _preset("Create or Update Device", "createUpdateDevice", _DEVICE_SUBSCRIBE),
    _preset("Delete Device", "deleteDevice", 'event = "Application Uninstalled" or event = "Device Deleted"'),
    _preset("Delete Relationship", "deleteRelationship", 'event = "Relationship Deleted"'),
    _preset("Delete Person", "deletePerson", 'event = "User Deleted"'),
    _preset("Delete Object", "deleteObject", 'event = "Object Deleted"'),
    _preset("Track Event", "trackEvent", _TRACK_SUBSCRIBE),
    _preset("Track Page View", "trackPageView", 'type = "page"'),
    _preset("Track Screen View", "trackScreenView", 'type = "screen"'),
    _preset("Create or Update Object", "createUpdateObject", 'type = "group"'),
    _preset("Merge People", "mergePeople", 'type = "alias"'),
    _preset("Suppress Person", "suppressPerson", 'event = "User Suppressed"'),
    _preset("Unsuppress Person", "unsuppressPerson", 'event = "User Unsuppressed"'),
    _preset("Report Delivery Event", "reportDeliveryEvent", 'event = "Report Delivery Event"'),
    _preset("Report Content Event", "reportContentEvent", 'event = "Report Content Event"'),
)
"""The 15 automatic presets: what the sandbox runs when no subscriptions are given."""

PRESETS: tuple[Subscription, ...] = AUTOMATIC + (
    _specific("Associated Entity Added", "trackEvent", "warehouse_entity_added_track", _PROPERTIES),
    _specific("Associated Entity Removed", "trackEvent", "warehouse_entity_removed_track", _PROPERTIES),
    _specific("Entities Audience Entered", "trackEvent", "warehouse_audience_entered_track", _PROPERTIES),
    _specific("Entities Exited", "trackEvent", "warehouse_audience_exited_track", _PROPERTIES),
    _specific(
        "Entities Audience Membership Changed",
        "createUpdatePerson",
        "warehouse_audience_membership_changed_identify",
        {"custom_attributes": {"@path": "$.traits"}},
    ),
    _specific("Journeys Step Transition Track", "trackEvent", "journeys_step_entered_track", _PROPERTIES),
)
"""All 21 presets of the destination, in index.ts order."""
