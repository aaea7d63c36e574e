"""A model of the classic (cloud-mode) Customer.io destination, for comparing it with the Actions one.

`classic_plan(event, settings, now)` turns a Segment event into the v1 Track API requests the
classic destination sends (destination.py, with mapper.py, message.py and dates.py below it).
`sandbox.classic.compare` replays events through it and through the Actions destination into two
mocks, `sandbox.classic.differences` sorts what differs into classes, `sandbox.classic.endstate`
compares what the two mocks hold at the end, and `sandbox.classic.report` renders it all for
`cio-sandbox migrate`. docs/classic.md lists each modelled behaviour and its public source.
"""

from sandbox.classic.destination import ClassicCall, ClassicPlan, classic_plan

__all__ = ["ClassicCall", "ClassicPlan", "classic_plan"]
