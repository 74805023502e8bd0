"""The handoff queue: tickets that hand a conversation to contact-center staff."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.engine import Connection

from gateway.auth import new_id
from gateway.store import handoff_tickets

logger = logging.getLogger(__name__)

OPEN_STATUSES = ("waiting", "active", "after_hours")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ACUTE_REASONS = frozenset(
    {
        "sensitive/suicide",
        "sensitive/violence_close_relationship",
        "sensitive/child_at_risk",
        "sensitive/threat_or_crime",
    }
)
HIGH_REASONS = frozenset({"sensitive/homeless_emergency"})


class OpeningHoursError(ValueError):
    pass


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours such as ``mon-fri 08:00-17:00``."""

    days: frozenset[int]
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, timezone: str = "Europe/Stockholm") -> OpeningHours:
        match = re.fullmatch(
            r"\s*(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+"
            r"(\d\d):(\d\d)-(\d\d):(\d\d)\s*",
            spec.lower(),
        )
        if not match:
            raise OpeningHoursError(
                f"Opening hours '{spec}' are not understood. Use e.g. 'mon-fri 08:00-17:00'."
            )
        first = DAYS.index(match.group(1))
        last = DAYS.index(match.group(2) or match.group(1))
        days = frozenset(range(first, last + 1))
        start = time(int(match.group(3)), int(match.group(4)))
        end = time(int(match.group(5)), int(match.group(6)))
        return cls(days, start, end, ZoneInfo(timezone))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end


def priority_for(reason: str, acute: bool) -> int:
    if acute or reason in ACUTE_REASONS:
        return 0
    if reason in HIGH_REASONS:
        return 1
    return 2


class HandoffQueue:
    def __init__(self, hours: OpeningHours) -> None:
        self.hours = hours

    def open_ticket(self, conn: Connection, conversation_id: str) -> Any | None:
        return conn.execute(
            select(handoff_tickets)
            .where(
                handoff_tickets.c.conversation_id == conversation_id,
                handoff_tickets.c.status.in_(OPEN_STATUSES),
            )
            .order_by(handoff_tickets.c.created_at.desc())
            .limit(1)
        ).first()

    def create(
        self,
        conn: Connection,
        *,
        conversation_id: str,
        reason: str,
        acute: bool,
        language: str,
        reasoning: dict[str, Any],
        now: datetime,
    ) -> Any:
        existing = self.open_ticket(conn, conversation_id)
        if existing is not None:
            return existing
        status = "waiting" if self.hours.is_open(now) else "after_hours"
        ticket_id = new_id()
        conn.execute(
            insert(handoff_tickets).values(
                id=ticket_id,
                conversation_id=conversation_id,
                reason=reason,
                priority=priority_for(reason, acute),
                language=language,
                status=status,
                reasoning=reasoning,
                created_at=now,
            )
        )
        logger.info("handoff: ticket %s reason=%s language=%s", ticket_id, reason, language)
        return conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)).one()

    def position(self, conn: Connection, ticket: Any) -> int | None:
        if ticket.status not in ("waiting", "after_hours"):
            return None
        ahead = conn.execute(
            select(func.count())
            .select_from(handoff_tickets)
            .where(
                handoff_tickets.c.status.in_(("waiting", "after_hours")),
                or_(
                    handoff_tickets.c.priority < ticket.priority,
                    and_(
                        handoff_tickets.c.priority == ticket.priority,
                        handoff_tickets.c.created_at < ticket.created_at,
                    ),
                ),
            )
        ).scalar_one()
        return int(ahead) + 1

    def status(self, conn: Connection, ticket: Any | None) -> dict[str, Any] | None:
        if ticket is None:
            return None
        return {
            "status": ticket.status,
            "reason": ticket.reason,
            "position": self.position(conn, ticket),
            "ticket_id": ticket.id,
        }

    def latest_status(self, conn: Connection, conversation_id: str) -> dict[str, Any] | None:
        """Status of the conversation's newest ticket (open or closed), or None."""
        ticket = conn.execute(
            select(handoff_tickets)
            .where(handoff_tickets.c.conversation_id == conversation_id)
            .order_by(handoff_tickets.c.created_at.desc())
            .limit(1)
        ).first()
        return self.status(conn, ticket)
