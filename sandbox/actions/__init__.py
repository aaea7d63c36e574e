"""The destination's 15 actions, keyed by their TypeScript slug (`ACTIONS["trackEvent"]`).

Each module holds one action's fields and mapPayload, like the TypeScript folders; `build`
holds buildPayload and the request builders they share.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.actions.create_update_device import CREATE_UPDATE_DEVICE
from sandbox.actions.create_update_object import CREATE_UPDATE_OBJECT
from sandbox.actions.create_update_person import CREATE_UPDATE_PERSON
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.delete_device import DELETE_DEVICE
from sandbox.actions.delete_object import DELETE_OBJECT
from sandbox.actions.delete_person import DELETE_PERSON
from sandbox.actions.delete_relationship import DELETE_RELATIONSHIP
from sandbox.actions.merge_people import MERGE_PEOPLE
from sandbox.actions.report_content_event import REPORT_CONTENT_EVENT
from sandbox.actions.report_delivery_event import REPORT_DELIVERY_EVENT
from sandbox.actions.suppress_person import SUPPRESS_PERSON
from sandbox.actions.track_event import TRACK_EVENT
from sandbox.actions.track_page_view import TRACK_PAGE_VIEW
from sandbox.actions.track_screen_view import TRACK_SCREEN_VIEW
from sandbox.actions.unsuppress_person import UNSUPPRESS_PERSON

EMULATED_DESTINATION = "@segment/action-destinations 3.497.0"
"""The published destination this port reproduces, byte for byte (the differential tests run it:
tests/reference/package.json pins the same version)."""

ACTIONS: Mapping[str, ActionDefinition] = {
    action.slug: action
    for action in (
        CREATE_UPDATE_DEVICE,
        DELETE_DEVICE,
        DELETE_RELATIONSHIP,
        DELETE_PERSON,
        DELETE_OBJECT,
        CREATE_UPDATE_PERSON,
        TRACK_EVENT,
        TRACK_PAGE_VIEW,
        TRACK_SCREEN_VIEW,
        CREATE_UPDATE_OBJECT,
        MERGE_PEOPLE,
        SUPPRESS_PERSON,
        UNSUPPRESS_PERSON,
        REPORT_CONTENT_EVENT,
        REPORT_DELIVERY_EVENT,
    )
}

__all__ = ["ACTIONS", "ActionDefinition"]
