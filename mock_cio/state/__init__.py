"""The mock's state: pure domain code (no Flask), one verb per Customer.io operation.

The HTTP layer calls `CioState().workspace(site_id).<verb>(..., now)`; each verb returns an
`Outcome(notes, changes)` for the journal. The rules are in workspace.py's docstring ("How the mock
decides") and anonymous.py (the merge window).

Change vocabulary (`Outcome.changes`, each a dict with a "kind"; `person` is a cio_id, `object` a
cio_object_id):

- `person_created` {person, identifiers}; `person_deleted` {person, identifiers, reason: delete |
  suppress | merge}
- `identifier_set` {person, name: id | email, old, new}
- `attribute_set` {person, name, old, new}; `attribute_removed` {person, name, old}
- `event_added` {person, event_id, name, type, merged_from_anonymous, can_trigger}
- `anonymous_event_stored` {anonymous_id, event_id, name, expires_at};
  `anonymous_events_expired` {anonymous_id, count}
- `anonymous_id_claimed` {person, anonymous_id, at}; `events_merged` {person, anonymous_id, count,
  can_trigger}
- `device_added` / `device_updated` {person, token, platform}; `device_deleted` {person, token}
- `object_created` {object, object_type_id, object_id}; `object_attribute_set` {object, name, old,
  new}; `object_attribute_removed` {object, name, old}; `object_deleted` {object, object_type_id,
  object_id, relationships}
- `relationship_added` / `relationship_updated` {person, object, attributes[, from_anonymous_id]};
  `relationship_removed` {person, object}; `anonymous_relationship_added` / `_updated` {object,
  anonymous_id, attributes}; `anonymous_relationship_removed` {object, anonymous_id}
- `people_merged` {primary, secondary, attributes, events, devices, relationships, anonymous_ids}
- `identifiers_suppressed` / `identifiers_unsuppressed` {identifiers: [{kind, value}]}
- `metric_recorded` {delivery_id, metric}

Notes are sentences that say what was dropped or ignored and why, e.g. "event id 'x' already seen:
ignored".
"""

from __future__ import annotations

from .anonymous import can_trigger, claimable, expired, expires_at
from .cio import CioState, find_person
from .values import Ident, ObjectIdent, Outcome, StateError, unix_seconds
from .workspace import WorkspaceSettings, WorkspaceState

__all__ = [
    "CioState",
    "Ident",
    "ObjectIdent",
    "Outcome",
    "StateError",
    "WorkspaceSettings",
    "WorkspaceState",
    "can_trigger",
    "claimable",
    "expired",
    "expires_at",
    "find_person",
    "unix_seconds",
]
