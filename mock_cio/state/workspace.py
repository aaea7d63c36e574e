"""One Customer.io workspace: its settings, its data, and every verb that changes it.

Where it sits: the HTTP layer validates a request's shape, then calls one verb here with the
receipt time `now`; the verb returns an `Outcome` (notes, changes) that goes into the journal. Verbs
are deterministic given their arguments and `now`, so replaying the journal rebuilds the state.
The state is not thread-safe: the caller holds one lock per `CioState`.

`WorkspaceState` is the data (base.py) plus one mixin per noun, the way moto splits a large backend:

- identify.py: `identify` (identifier rules, attribute times)
- activity.py: `track`, `expire`, `report_metric` (events, anonymous events and claims, metrics)
- relationships.py: `identify_object`, `delete_object`, `add_relationships`, `delete_relationships`,
  `add_object_relationships`, `delete_object_relationships`
- devices.py: `add_device`, `delete_device`
- segments.py: `add_to_segment`, `remove_from_segment` (manual segments)
- lifecycle.py: `delete_person`, `suppress`, `unsuppress`, `merge`

The rules they follow are in the package docstring (mock_cio/state/__init__.py, "How the mock
decides").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .devices import DeviceVerbs
from .identify import IdentifyVerbs
from .lifecycle import LifecycleVerbs
from .segments import SegmentVerbs
from .settings import WorkspaceSettings, check_setting_names

__all__ = ["WorkspaceSettings", "WorkspaceState"]


class WorkspaceState(IdentifyVerbs, DeviceVerbs, SegmentVerbs, LifecycleVerbs):
    """The people, events, devices, objects, anonymous activity and metrics of one site_id, and the
    verbs that change them (`IdentifyVerbs` brings the activity and relationship verbs along)."""

    def configure(self, **changes: Any) -> WorkspaceSettings:
        """Change settings (`region`, `anonymous_merge`, `api_key`, `rate_limit`, `email_updates_by_id`)."""
        check_setting_names(changes)
        self.settings = dataclasses.replace(self.settings, **changes)
        return self.settings
