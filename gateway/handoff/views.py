"""The console's read models of the handoff queue: the open queue, recently closed tickets
and everything shown for one ticket, and the queue's figures for /metrics. Read only; the
changes are in ``tickets``.

The call-back details (name, number, preferred time) appear only in :func:`detail`, and
only for the staff member who holds the ticket; summaries say that a call-back was asked for.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from gateway.errors import NotFoundError
from gateway.handoff.reasons import PRIORITY_LABELS
from gateway.handoff.tickets import OPEN_STATUSES, Ticket
from gateway.jsontypes import obj, objects, text
from gateway.staff_accounts import StaffUser
from gateway.staff_schemas import TicketDetail, TicketSummaryOut
from gateway.store import audit_events, aware, handoff_tickets, messages, staff_users, ticket_notes


class HeldTicket(Ticket, Protocol):
    """A ticket row with the display name of whoever holds it (``_with_holder``)."""

    @property
    def claimed_by_name(self) -> str | None: ...


def _with_holder() -> Select[*tuple[object, ...]]:
    """Ticket rows with the display name of whoever holds them (:class:`HeldTicket`)."""
    return select(handoff_tickets, staff_users.c.display_name.label("claimed_by_name")).outerjoin(
        staff_users, staff_users.c.id == handoff_tickets.c.claimed_by
    )


def queue(conn: Connection, now: datetime) -> list[TicketSummaryOut]:
    """Open tickets, most urgent first, then longest waiting."""
    rows = conn.execute(
        _with_holder()
        .where(handoff_tickets.c.status.in_(OPEN_STATUSES))
        .order_by(handoff_tickets.c.priority, handoff_tickets.c.created_at)
    ).all()
    last = _last_citizen_message(conn, [r.conversation_id for r in rows])
    return [summary(r, now, last.get(r.conversation_id)) for r in rows]


def recent(conn: Connection, now: datetime, limit: int = 20) -> list[TicketSummaryOut]:
    """The most recently closed tickets, newest first."""
    rows = conn.execute(
        _with_holder()
        .where(handoff_tickets.c.status == "closed")
        .order_by(handoff_tickets.c.closed_at.desc())
        .limit(limit)
    ).all()
    return [summary(r, now, None) for r in rows]


def summary(row: HeldTicket, now: datetime, last_message: datetime | None) -> TicketSummaryOut:
    """One ticket as the queue lists it (``staff_schemas.TicketSummaryOut``)."""
    created = aware(row.created_at)
    return TicketSummaryOut(
        id=row.id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        priority=row.priority,
        language=row.language,
        status=row.status,
        created_at=created.isoformat(),
        waiting_seconds=max(0, int((now - created).total_seconds())),
        claimed_by=row.claimed_by,
        claimed_by_name=row.claimed_by_name,
        callback_requested=bool(row.callback),  # the details only in detail(), to the holder
        escalated_at=text(obj(row.reasoning).get("escalated_at")),  # last danger sign while open
        outcome=row.outcome,
        closed_at=aware(row.closed_at).isoformat() if row.closed_at else None,
        last_citizen_message_at=last_message.isoformat() if last_message else None,
    )


def _last_citizen_message(conn: Connection, conversation_ids: list[str]) -> dict[str, datetime]:
    if not conversation_ids:
        return {}
    rows = conn.execute(
        select(messages.c.conversation_id, func.max(messages.c.created_at))
        .where(messages.c.conversation_id.in_(conversation_ids), messages.c.role == "citizen")
        .group_by(messages.c.conversation_id)
    ).all()
    return {cid: aware(at) for cid, at in rows if at is not None}


def detail(conn: Connection, ticket_id: str, now: datetime, viewer: StaffUser | None = None) -> TicketDetail:
    """Everything the console shows for one ticket: reasoning, transcript (messages that
    showed danger marked ``acute``), notes, history. The call-back details are there only
    when ``viewer`` holds the ticket (has claimed it and it is active)."""
    row = conn.execute(_with_holder().where(handoff_tickets.c.id == ticket_id)).first()
    if row is None:
        raise NotFoundError(f"Ärendet '{ticket_id[:64]}' finns inte.")
    transcript = conn.execute(
        select(messages).where(messages.c.conversation_id == row.conversation_id).order_by(messages.c.seq)
    ).all()
    notes = conn.execute(
        select(ticket_notes).where(ticket_notes.c.ticket_id == ticket_id).order_by(ticket_notes.c.id)
    ).all()
    history = conn.execute(
        select(audit_events)
        .where(audit_events.c.target == ticket_id, audit_events.c.action != "ticket.view")
        .order_by(audit_events.c.id)
    ).all()
    holder = viewer is not None and row.status == "active" and row.claimed_by == viewer.id
    acute = {str(mark.get("message_id")): mark for mark in objects(obj(row.reasoning).get("acute_messages"))}
    return TicketDetail.model_validate({
        "ticket": {**summary(row, now, None).model_dump(), "reasoning": row.reasoning,
                   "callback": row.callback if holder else None},
        "messages": [
            {
                "id": m.id,
                "seq": m.seq,
                "role": m.role,
                "text": m.text,
                "text_sv": m.text_sv,
                "language": m.language,
                "machine_translated": bool(m.machine_translated),
                "author": m.author,
                "source": m.source,
                "created_at": aware(m.created_at).isoformat(),
                "acute": ({"reason": acute[m.id].get("reason"), "detected_by": acute[m.id].get("detected_by")}
                          if m.id in acute else None),
            }
            for m in transcript
        ],
        "notes": [
            {"id": n.id, "author": n.author, "text": n.text, "created_at": aware(n.created_at).isoformat()}
            for n in notes
        ],
        "history": [
            {"actor": h.actor, "action": h.action, "detail": h.detail,
             "created_at": aware(h.created_at).isoformat()}
            for h in history
        ],
    })


def queue_figures(conn: Connection, now: datetime) -> tuple[dict[tuple[str, int], int], dict[int, float]]:
    """The queue as /metrics reports it: open tickets by (status, priority), every combination
    included, and by priority how long the longest-waiting unclaimed ticket (status
    ``waiting``) has waited, in seconds since it was opened."""
    counts = {(status, priority): 0 for status in OPEN_STATUSES for priority in PRIORITY_LABELS}
    oldest: dict[int, float] = {}
    rows = conn.execute(
        select(handoff_tickets.c.status, handoff_tickets.c.priority, func.count(),
               func.min(handoff_tickets.c.created_at))
        .where(handoff_tickets.c.status.in_(OPEN_STATUSES))
        .group_by(handoff_tickets.c.status, handoff_tickets.c.priority)
    ).all()
    for status, priority, count, first in rows:
        counts[(str(status), int(priority))] = int(count)
        if status == "waiting" and first is not None:
            oldest[int(priority)] = max(0.0, (now - aware(first)).total_seconds())
    return counts, oldest
