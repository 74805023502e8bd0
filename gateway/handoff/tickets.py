"""Handoff tickets: the state machine and the commands that change it (open, escalate,
claim, release, note, reply, close, call-back request), and the status the citizen sees.

The console's read models are in ``views``, opening hours in ``hours``, reasons in ``reasons``.

A ticket is opened by a citizen turn (``turn.py`` step 9) and is *open* while its status is
``waiting`` (in the queue), ``active`` (a staff member has claimed it) or ``after_hours``
(opened outside opening hours: someone calls back). While it is open, the citizen's messages
go to staff instead of Rasa. Staff close it with an outcome; ``returned_to_bot`` hands the
conversation back to the assistant.

Every operation here takes a connection, so the route runs it in one transaction: the
ticket change, the messages the citizen sees and the audit event are written together or
not at all. Ticket rows are locked (``SELECT ... FOR UPDATE`` on PostgreSQL) so a citizen
message and a staff action on the same ticket never interleave.

A danger sign while a ticket is open (the safety lexicon in ``turn.py``) *escalates* it: the
ticket becomes acute (priority 0, so it is first in the queue), the message is listed in the
ticket's ``reasoning["acute_messages"]`` (the console marks it) and an audit event says so.

A call-back request stores the citizen's contact details in the ticket's ``callback`` column
and nowhere else: not in messages, basis records, audit details or logs. The console gets
them only for the staff member who holds (has claimed) the ticket; the queue and everyone
else see that a call-back was asked for. They are deleted with the ticket (``retention.py``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from gateway import audit_trail
from gateway.auth import new_id
from gateway.conversations import StoredMessage, append_messages, from_mapping
from gateway.errors import ConflictError, NotFoundError
from gateway.handoff.hours import OpeningHours
from gateway.handoff.reasons import ACUTE_REASONS, priority_for
from gateway.jsontypes import objects
from gateway.staff_accounts import StaffUser, display_name
from gateway.store import audit_events, aware, handoff_tickets, staff_users, ticket_notes, utcnow

logger = logging.getLogger(__name__)

OPEN_STATUSES = ("waiting", "active", "after_hours")
QUEUED = ("waiting", "after_hours")
# Outcomes staff choose when they close a ticket (Swedish labels for the console).
OUTCOMES: dict[str, str] = {
    "resolved": "Besvarat",
    "referred": "Hänvisat vidare",
    "callback_done": "Uppringd",
    "no_response": "Inget svar från invånaren",
    "returned_to_bot": "Tillbaka till assistenten",
    "other": "Annat",
}


class Ticket(Protocol):
    """A ``handoff_tickets`` row as read here (``gateway.store``)."""

    @property
    def id(self) -> str: ...
    @property
    def conversation_id(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def language(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reasoning(self) -> dict[str, object] | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def claimed_by(self) -> str | None: ...
    @property
    def claimed_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def callback(self) -> dict[str, str | None] | None: ...


# Messages the citizen is sent (``handoff_texts``) and as ``conversations.append_messages`` stored them.
Notice = Sequence[Mapping[str, object]]
StoredMessages = list[StoredMessage]


def _ticket(row: Row[*tuple[object, ...]]) -> Ticket:
    return cast(Ticket, row)


# The conversation's open ticket, newest first: asked on every citizen turn, so the statement
# is built once (SQLAlchemy then finds its compiled form without building a cache key).
_OPEN_TICKET = (
    select(handoff_tickets)
    .where(
        handoff_tickets.c.conversation_id == bindparam("conversation_id"),
        handoff_tickets.c.status.in_(OPEN_STATUSES),
    )
    .order_by(handoff_tickets.c.created_at.desc())
    .limit(1)
)
_OPEN_TICKET_LOCKED = _OPEN_TICKET.with_for_update()


class HandoffQueue:
    def __init__(self, hours: OpeningHours, clock: Callable[[], datetime] = utcnow) -> None:
        self.hours = hours
        self.clock = clock

    # ---- tickets as the citizen turn sees them ---------------------------------------
    def open_ticket(self, conn: Connection, conversation_id: str, lock: bool = False) -> Ticket | None:
        query = _OPEN_TICKET_LOCKED if lock else _OPEN_TICKET
        row = conn.execute(query, {"conversation_id": conversation_id}).first()
        return _ticket(row) if row is not None else None

    def create(
        self,
        conn: Connection,
        *,
        conversation_id: str,
        reason: str,
        acute: bool,
        language: str,
        reasoning: Mapping[str, object],
        now: datetime,
    ) -> Ticket:
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
        return _ticket(conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)).one())

    def escalate(self, conn: Connection, ticket: Ticket, mark: Mapping[str, object], now: datetime) -> Ticket:
        """A danger sign in a message while ``ticket`` is open: the ticket becomes acute
        (priority 0: first in the queue, after acute tickets that waited longer), ``mark``
        (``message_id``, ``reason``, ``detected_by``, ``pattern``; never the citizen's words)
        is added to ``reasoning["acute_messages"]`` so the console marks the message, and an
        audit event records it. A ticket opened for a calmer reason takes the acute reason;
        the earlier one is kept as ``reasoning["reason_before"]``. Returns the updated row."""
        reasoning = dict(ticket.reasoning or {})
        marks: list[object] = [*objects(reasoning.get("acute_messages"))]
        marks.append({**mark, "at": now.isoformat()})
        reasoning["acute_messages"] = marks
        reasoning["escalated_at"] = now.isoformat()
        values: dict[str, object] = {"priority": 0, "reasoning": reasoning}
        if ticket.reason not in ACUTE_REASONS:
            reasoning.setdefault("reason_before", ticket.reason)
            values["reason"] = mark["reason"]
        conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket.id).values(**values))
        audit_trail.record(conn, "citizen", "ticket.escalate", ticket.id,
              {"reason": mark["reason"], "detected_by": mark.get("detected_by"), "pattern": mark.get("pattern"),
               "priority_before": ticket.priority, "status": ticket.status,
               "message_id": mark.get("message_id")}, now)
        logger.warning("handoff: ticket %s escalated to acute reason=%s status=%s priority_before=%s",
                       ticket.id, mark["reason"], ticket.status, ticket.priority)
        return _ticket(conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket.id)).one())

    def position(self, conn: Connection, ticket: Ticket) -> int | None:
        if ticket.status not in QUEUED:
            return None
        ahead = conn.execute(
            select(func.count())
            .select_from(handoff_tickets)
            .where(
                handoff_tickets.c.status.in_(QUEUED),
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

    def status(self, conn: Connection, ticket: Ticket | None) -> dict[str, object] | None:
        """What the citizen's widget shows. A queued ticket reads ``after_hours`` whenever
        the contact centre is closed (someone calls back), ``waiting`` while it is open."""
        if ticket is None:
            return None
        status = ticket.status
        if status in QUEUED:
            status = "waiting" if self.hours.is_open(self.clock()) else "after_hours"
        staff_name = None
        if ticket.claimed_by:
            staff_name = conn.execute(
                select(staff_users.c.display_name).where(staff_users.c.id == ticket.claimed_by)
            ).scalar()
        return {
            "status": status,
            "reason": ticket.reason,
            "position": self.position(conn, ticket),
            "ticket_id": ticket.id,
            "staff_name": staff_name if ticket.status == "active" else None,
            "callback_requested": bool(ticket.callback),
            "outcome": ticket.outcome,
        }

    def latest_status(self, conn: Connection, conversation_id: str) -> dict[str, object] | None:
        """Status of the conversation's newest ticket (open or closed), or None."""
        ticket = conn.execute(
            select(handoff_tickets)
            .where(handoff_tickets.c.conversation_id == conversation_id)
            .order_by(handoff_tickets.c.created_at.desc())
            .limit(1)
        ).first()
        return self.status(conn, ticket)

    # ---- the staff side -----------------------------------------------------------------
    def get(self, conn: Connection, ticket_id: str, lock: bool = False) -> Ticket:
        query = select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(f"Ärendet '{ticket_id[:64]}' finns inte.")
        return _ticket(row)

    def record_view(self, conn: Connection, ticket_id: str, user: StaffUser, now: datetime) -> None:
        """Audit that ``user`` read the transcript (at most once per 10 minutes per ticket)."""
        recent = conn.execute(
            select(audit_events.c.id).where(
                audit_events.c.actor == user.username,
                audit_events.c.action == "ticket.view",
                audit_events.c.target == ticket_id,
                audit_events.c.created_at > now - timedelta(minutes=10),
            ).limit(1)
        ).first()
        if recent is None:
            audit_trail.record(conn, user.username, "ticket.view", ticket_id, None, now)

    def claim(
        self, conn: Connection, ticket_id: str, user: StaffUser, notice: Notice, now: datetime
    ) -> StoredMessages:
        """Take a queued ticket; the citizen is told who answers. Claiming twice is a no-op."""
        ticket = self.get(conn, ticket_id, lock=True)
        if ticket.status == "closed":
            raise ConflictError("Ärendet är redan avslutat.")
        if ticket.status == "active":
            if ticket.claimed_by == user.id:
                return []
            raise ConflictError(f"Ärendet har redan tagits av {display_name(conn, ticket.claimed_by)}.")
        conn.execute(
            update(handoff_tickets)
            .where(handoff_tickets.c.id == ticket_id)
            .values(status="active", claimed_by=user.id, claimed_at=now)
        )
        audit_trail.record(conn, user.username, "ticket.claim", ticket_id, {"waited_s": self._waited(ticket, now)}, now)
        return self.add_messages(conn, ticket.conversation_id, [{"role": "system", **n} for n in notice], now)

    def release(self, conn: Connection, ticket_id: str, user: StaffUser, now: datetime) -> Ticket:
        """Put a claimed ticket back in the queue (keeps its place by creation time)."""
        ticket = self._own(conn, ticket_id, user)
        conn.execute(
            update(handoff_tickets)
            .where(handoff_tickets.c.id == ticket_id)
            .values(status="waiting" if self.hours.is_open(now) else "after_hours",
                    claimed_by=None, claimed_at=None)
        )
        audit_trail.record(conn, user.username, "ticket.release", ticket_id, None, now)
        return ticket

    def add_note(self, conn: Connection, ticket_id: str, user: StaffUser, text: str, now: datetime) -> None:
        self.get(conn, ticket_id)
        conn.execute(
            insert(ticket_notes).values(ticket_id=ticket_id, author=user.display_name, text=text, created_at=now)
        )
        audit_trail.record(conn, user.username, "ticket.note", ticket_id, {"chars": len(text)}, now)

    def reply(
        self, conn: Connection, ticket_id: str, user: StaffUser, text_sv: str,
        rendered: Notice, now: datetime,
    ) -> StoredMessages:
        """Store a staff reply (``rendered`` by :func:`staff_reply_texts`) for the citizen."""
        ticket = self._own(conn, ticket_id, user)
        rows = []
        for item in rendered:
            role = item.get("role", "staff")
            rows.append({**item, "role": role, "author": user.display_name if role == "staff" else None})
        stored = self.add_messages(conn, ticket.conversation_id, rows, now)
        audit_trail.record(conn, user.username, "ticket.reply", ticket_id,
              {"message_id": stored[0]["id"], "language": rendered[0]["language"],
               "machine_translated": rendered[0]["machine_translated"]}, now)
        return stored

    def close(
        self, conn: Connection, ticket_id: str, user: StaffUser, outcome: str,
        notice: Notice, now: datetime,
    ) -> StoredMessages:
        """Close with an outcome; ``returned_to_bot`` hands the conversation back to Rasa."""
        if outcome not in OUTCOMES:
            raise ConflictError(f"Utfallet '{outcome}' finns inte. Välj ett av: {', '.join(OUTCOMES)}.")
        ticket = self.get(conn, ticket_id, lock=True)
        if ticket.status == "closed":
            raise ConflictError("Ärendet är redan avslutat.")
        if ticket.status == "active" and ticket.claimed_by != user.id and user.role != "admin":
            raise ConflictError(f"Ärendet hanteras av {display_name(conn, ticket.claimed_by)}.")
        conn.execute(
            update(handoff_tickets)
            .where(handoff_tickets.c.id == ticket_id)
            .values(status="closed", outcome=outcome, closed_at=now,
                    claimed_by=ticket.claimed_by or user.id, claimed_at=ticket.claimed_at or now)
        )
        stored = self.add_messages(conn, ticket.conversation_id, [{"role": "system", **n} for n in notice], now)
        audit_trail.record(conn, user.username, "ticket.close", ticket_id, {"outcome": outcome}, now)
        return stored

    def request_callback(
        self, conn: Connection, conversation_id: str, details: dict[str, str],
        notice: Notice, now: datetime,
    ) -> StoredMessages:
        ticket = self.open_ticket(conn, conversation_id, lock=True)
        if ticket is None:
            raise ConflictError(
                "There is no open handoff in this conversation, so there is nobody to call you back. "
                "Write \"I want to talk to a human\" first."
            )
        conn.execute(
            update(handoff_tickets)
            .where(handoff_tickets.c.id == ticket.id)
            .values(callback={**details, "requested_at": now.isoformat()})
        )
        audit_trail.record(conn, "citizen", "ticket.callback_requested", ticket.id, None, now)
        return self.add_messages(conn, conversation_id, [{"role": "system", **n} for n in notice], now)

    # ---- helpers ------------------------------------------------------------------------
    def _own(self, conn: Connection, ticket_id: str, user: StaffUser) -> Ticket:
        ticket = self.get(conn, ticket_id, lock=True)
        if ticket.status == "closed":
            raise ConflictError("Ärendet är avslutat. Invånaren pratar med assistenten igen.")
        if ticket.status != "active":
            raise ConflictError("Ta ärendet först (knappen \"Ta ärendet\").")
        if ticket.claimed_by != user.id:
            raise ConflictError(f"Ärendet hanteras av {display_name(conn, ticket.claimed_by)}.")
        return ticket

    @staticmethod
    def _waited(ticket: Ticket, now: datetime) -> int:
        return max(0, int((now - aware(ticket.created_at)).total_seconds()))

    @staticmethod
    def add_messages(
        conn: Connection, conversation_id: str, items: Notice, now: datetime
    ) -> StoredMessages:
        """Append messages after the conversation's last one; returns them with id and seq."""
        return append_messages(conn, conversation_id, None, [from_mapping(item) for item in items], now)
