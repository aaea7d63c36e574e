"""Data-driven segments and campaign triggers: what Customer.io would do with the state the mock keeps.

Where it sits: after the state verbs. `Automation` (engine.py) holds the segment and campaign
definitions and, per workspace, who is in which segment and who entered which campaign. `MockCio`
calls it after every request's verb (with the verb's `Outcome`, to which it adds the membership and
entry changes) and after every clock move; a restart replays the journal through the same calls,
so the memberships and entries come back the same.

- conditions.py: the definition format (Customer.io's App API filter, extended) and its checks
- timestamps.py: what a Unix-seconds value is, and relative times (`{"days_ago": N}`)
- evaluate.py: one condition against one person at one time (and the timestamp warnings)
- definitions.py: `Segment` and `Campaign` values, read from config, env and the admin API
- engine.py: memberships, entries, re-evaluation, the views the admin API serves
"""

from .conditions import SegmentError, check_conditions
from .definitions import Campaign, Segment, read_campaigns, read_segments
from .engine import Automation

__all__ = [
    "Automation",
    "Campaign",
    "Segment",
    "SegmentError",
    "check_conditions",
    "read_campaigns",
    "read_segments",
]
