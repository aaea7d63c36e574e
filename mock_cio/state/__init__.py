"""The mock's state: pure domain code (no Flask), one verb per Customer.io operation.

The HTTP layer calls `CioState().workspace(site_id).<verb>(..., now)`; each verb returns an
`Outcome(notes, changes)` for the journal. Verbs are deterministic given their arguments and `now`,
so replaying the journal rebuilds the state. `CioState` (cio.py) holds the workspaces;
`WorkspaceState` (workspace.py) holds one workspace's data and gathers its verbs, one module per
noun (identify.py, activity.py, relationships.py, devices.py, segments.py, lifecycle.py). People, objects and
anonymous events are kept by people.py, objects.py and anonymous.py (which has the merge window);
views.py turns them into the admin API's JSON.

How the mock decides (docs/decisions.md §2 wins; the choices below fill what it leaves open):

- Identify resolution (v1 rules of docs/track-api.md §3.1): the path identifier is looked up
  first; if it matches nobody, an `id`/`email` in the attributes may match someone, who is updated
  and given the path identifier. If the path and the attributes name different people, or the
  attributes' `id` and `email` belong to two people, nothing is applied (200, noted: Customer.io's
  "Attribute Update Failure"; the mock does not auto-merge).
- Identifier changes: addressed as `cio_<cio_id>`, `id` and `email` may be set, changed or (with
  `""`/`null`) removed. Otherwise an identifier that is not set yet is set; an email may change when
  the person is matched by id (workspace setting `email_updates_by_id`, on by default, Customer.io's
  "Allow updates to email using ID"); an id changes only when a new path id meets an existing
  email (Customer.io's "new id + existing email" rule). Any other change drops the whole identify
  (noted). `""`/`null` for `id`/`email` without `cio_` addressing is ignored (noted).
- `id` and `email` are identifiers, shown under `identifiers`, not under `attributes`;
  `anonymous_id` is both a claim and an ordinary attribute. `cio_id` in attributes is ignored.
- Attributes: `""` and `null` remove (for people too, though Customer.io only documents it for
  objects); each attribute remembers the time of its last applied update (the request's
  `timestamp`/`_timestamp`, else the receipt time); an older update of that attribute is dropped
  (noted); equal times apply (the later request wins).
- Events: a person addressed by `id` or `email` who does not exist is created; a `cio_id` that
  does not exist drops the request. `name` is trimmed. An event can trigger campaigns when its
  timestamp is at most 72 hours before its receipt. Events are listed in the order they reached the
  person. The event `id` dedup scope is the workspace, for ever (anonymous events included).
- Anonymous events (anonymous.py has the window): an event whose id a person claimed goes straight
  to that person when it is received within the claim's window, else it is stored anonymous.
  A v2 event addressed by `identifiers.anonymous_id` is an anonymous event. An `anonymous_id` on an
  identified person's event is kept as event data and is not a claim (Customer.io documents
  identify as the trigger); the outcome notes it. Re-identifying with the same `anonymous_id`
  refreshes the claim. A claim dies with its person (delete, suppress); a merge hands the
  secondary's claims to the primary. With anonymous merge off, identify claims nothing, and
  `identify_anonymous` relationships stay with the anonymous id too.
- Devices: a token belongs to one person; adding it to another person moves it. A device's
  `last_used` defaults to the receipt time; a non-Unix value is replaced by it (noted).
- Objects: relating to a person by `id`/`email` who does not exist creates the person (as events
  do); an unknown `cio_object_id`/`cio_id` is skipped (noted). Relating an object to an anonymous
  id that a person has already claimed relates it to that person at once.
- Merge: a missing primary or secondary, or the same person on both sides, does nothing (noted).
  The primary keeps its identifiers and gains those it lacks, keeps its non-empty attributes, gains
  the secondary's other attributes, events whose timestamp is within 30 days of the merge (marked
  `can_trigger: false`), devices and relationships it lacks, and the secondary's manual segments.
- Manual segments (segments.py): `add_to_segment`/`remove_from_segment` name people by id, email
  or cio_id; nobody is created, and a person who does not exist or is suppressed is skipped
  (noted). Any positive int32 is a segment id (the mock has no app in which segments are created,
  so every one exists and is manual). Adding a member again, or removing a non-member, changes
  nothing (noted). As Customer.io documents, the API removes only people who have an `id`; a person
  without one stays in the segment (noted). Deleting or suppressing a person ends their
  memberships; a merge adds the secondary's segments to the primary. A person's view has
  `segments` only when they are in one (the Segment destination never calls these routes, so
  views and golden files of everyone else keep their shape).
- Suppress: deletes the person and blocks their id and email; suppressing an identifier nobody has
  blocks it anyway. Any later verb naming a blocked identifier (path, body `id`/`email`, merge side,
  relationship) is ignored (noted). Unsuppress frees the identifiers suppressed together.
- Deleting a person who does not exist is a no-op (noted). Event ids they sent stay "seen".

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
- `added_to_segment` {person, segment[, from_person]} (from_person: the secondary of a merge);
  `removed_from_segment` {person, segment}
- `people_merged` {primary, secondary, attributes, events, devices, relationships, anonymous_ids}
- `identifiers_suppressed` / `identifiers_unsuppressed` {identifiers: [{kind, value}]}
- `metric_recorded` {delivery_id, metric}

Notes are sentences that say what was dropped or ignored and why, e.g. "event id 'x' already seen:
ignored".
"""

from __future__ import annotations

from .anonymous import can_trigger, claimable, expired, expires_at
from .cio_state import CioState, find_person
from .verb_io import Ident, ObjectIdent, Outcome, StateError, unix_seconds
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
