"""The handoff: a conversation handed from the assistant to contact-centre staff.

- ``tickets``: the ticket state machine and its commands (``HandoffQueue``) and the status
  the citizen sees;
- ``views``: the console's read models (queue, recently closed, one ticket in detail);
- ``hours``: the contact centre's opening hours;
- ``reasons``: why a conversation is handed over, with the console's label and priority.
"""
from __future__ import annotations

from gateway.handoff.hours import OpeningHours, OpeningHoursError
from gateway.handoff.tickets import OPEN_STATUSES, OUTCOMES, QUEUED, HandoffQueue

__all__ = ["OPEN_STATUSES", "OUTCOMES", "QUEUED", "HandoffQueue", "OpeningHours", "OpeningHoursError"]
