"""Conversations and their messages: the one place that writes and reads them.

A conversation is created with its welcome (:func:`create`); every message anyone adds --
the citizen, the assistant, staff, the system -- goes through :func:`append_messages`, which
numbers it after the conversation's last one (``seq``) in the caller's transaction. The
routes read the transcript (:func:`transcript`), what came after an event id
(:func:`messages_since`) and a ticket's conversation language (:func:`language_of_ticket`)
here instead of running SQL themselves.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypedDict

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Row, RowMapping

from gateway.auth import new_id
from gateway.jsontypes import text
from gateway.store import conversations, handoff_tickets, messages

# What every citizen turn runs, built once: SQLAlchemy finds the compiled statement without
# building it and its cache key again on each call.
_GET = select(conversations).where(conversations.c.id == bindparam("conversation_id"))
_TOUCH = (
    update(conversations)
    .where(conversations.c.id == bindparam("conversation_id"))
    .values(turns=bindparam("new_turns"), language=bindparam("new_language"), last_seen_at=bindparam("now"))
)
_LAST_SEQ = select(func.max(messages.c.seq)).where(messages.c.conversation_id == bindparam("conversation_id"))
_INSERT_MESSAGES = insert(messages)


class ConversationState(Protocol):
    """What a turn reads of a conversation (its row)."""

    @property
    def id(self) -> str: ...
    @property
    def turns(self) -> int: ...
    @property
    def language(self) -> str: ...
    @property
    def language_explicit(self) -> bool: ...


@dataclass(frozen=True)
class Conversation:
    """A conversation as the routes and the turn read it."""

    id: str
    token_hash: str
    created_at: datetime
    last_seen_at: datetime
    language: str
    language_explicit: bool
    turns: int
    purged_at: datetime | None


class StoredMessage(TypedDict):
    """A ``messages`` row as :func:`append_messages` writes it and the readers return it."""

    id: str
    conversation_id: str
    seq: int
    turn: int
    role: str
    text: str
    text_sv: str | None
    language: str
    machine_translated: bool
    response_id: str | None
    source: dict[str, object] | None
    buttons: list[dict[str, str]] | None
    basis_id: str | None
    author: str | None
    created_at: datetime


def _stored(row: RowMapping) -> StoredMessage:
    return {
        "id": row["id"], "conversation_id": row["conversation_id"], "seq": row["seq"],
        "turn": row["turn"], "role": row["role"], "text": row["text"], "text_sv": row["text_sv"],
        "language": row["language"], "machine_translated": row["machine_translated"],
        "response_id": row["response_id"], "source": row["source"], "buttons": row["buttons"],
        "basis_id": row["basis_id"], "author": row["author"], "created_at": row["created_at"],
    }


@dataclass
class Outgoing:
    """A message the citizen sees, with everything the widget needs to show it."""

    text: str
    language: str
    role: str = "bot"
    source: dict[str, object] | None = None
    machine_translated: bool = False
    response_id: str | None = None
    text_sv: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    basis: dict[str, object] | None = None  # filled for answers; becomes the basis record
    id: str = field(default_factory=new_id)
    basis_id: str | None = None
    author: str | None = None


def create(
    conn: Connection, conversation_id: str, token_hash: str, language: str, explicit: bool, now: datetime
) -> None:
    """A new conversation row (no turns yet)."""
    conn.execute(
        insert(conversations).values(
            id=conversation_id, token_hash=token_hash, created_at=now, last_seen_at=now,
            language=language, language_explicit=explicit, turns=0,
        )
    )


def get(conn: Connection, conversation_id: str) -> Conversation | None:
    """The conversation, or None."""
    row = conn.execute(_GET, {"conversation_id": conversation_id}).first()
    if row is None:
        return None
    return Conversation(
        id=str(row.id), token_hash=str(row.token_hash), created_at=row.created_at,
        last_seen_at=row.last_seen_at, language=str(row.language),
        language_explicit=bool(row.language_explicit), turns=int(row.turns), purged_at=row.purged_at,
    )


def set_language(conn: Connection, conversation_id: str, language: str) -> None:
    """The citizen chose ``language``: it stays until they choose another."""
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(language=language, language_explicit=True)
    )


def touch(conn: Connection, conversation_id: str, turn: int, language: str, now: datetime) -> None:
    """After a turn: its number, the language it was in, and when."""
    conn.execute(_TOUCH, {"conversation_id": conversation_id, "new_turns": turn, "new_language": language, "now": now})


def last_seq(conn: Connection, conversation_id: str) -> int:
    """The ``seq`` of the conversation's newest message, 0 if it has none."""
    value = conn.execute(_LAST_SEQ, {"conversation_id": conversation_id}).scalar()
    return int(value or 0)


def append_messages(
    conn: Connection, conversation_id: str, turn: int | None, items: Sequence[Outgoing], now: datetime
) -> list[StoredMessage]:
    """Append ``items`` after the conversation's last message, in order; returns the stored
    rows. ``turn`` None means "the conversation's current turn" (messages from staff or the
    system between the citizen's turns)."""
    if turn is None:
        current = conn.execute(
            select(conversations.c.turns).where(conversations.c.id == conversation_id)
        ).scalar()
        turn = int(current or 0)
    seq = last_seq(conn, conversation_id) + 1
    rows: list[StoredMessage] = [
        {
            "id": m.id,
            "conversation_id": conversation_id,
            "seq": seq + offset,
            "turn": turn,
            "role": m.role,
            "text": m.text,
            "text_sv": m.text_sv,
            "language": m.language,
            "machine_translated": m.machine_translated,
            "response_id": m.response_id,
            "source": m.source,
            "buttons": m.buttons or None,
            "basis_id": m.basis_id,
            "author": m.author,
            "created_at": now,
        }
        for offset, m in enumerate(items)
    ]
    if rows:
        conn.execute(_INSERT_MESSAGES, rows)
    return rows


def from_mapping(item: Mapping[str, object], role: str = "system") -> Outgoing:
    """A message given as a mapping (staff replies, system notices) as an :class:`Outgoing`."""
    return Outgoing(
        text=str(item["text"]), language=str(item["language"]), role=str(item.get("role") or role),
        text_sv=text(item.get("text_sv")), machine_translated=bool(item.get("machine_translated")),
        author=text(item.get("author")),
    )


def transcript(conn: Connection, conversation_id: str) -> list[StoredMessage]:
    """Every message of the conversation, in order."""
    return [_stored(row) for row in conn.execute(
        select(messages).where(messages.c.conversation_id == conversation_id).order_by(messages.c.seq)
    ).mappings()]


def messages_since(conn: Connection, conversation_id: str, after: int) -> list[StoredMessage]:
    """The conversation's messages with ``seq`` after ``after``, in order."""
    return [_stored(row) for row in conn.execute(
        select(messages)
        .where(messages.c.conversation_id == conversation_id, messages.c.seq > after)
        .order_by(messages.c.seq)
    ).mappings()]


def recent(conn: Connection, conversation_id: str, limit: int) -> list[Row[str, str, str | None]]:
    """The conversation's last ``limit`` messages, newest first."""
    return list(conn.execute(
        select(messages.c.role, messages.c.text, messages.c.response_id)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.seq.desc()).limit(limit)
    ).all())


def language_of_ticket(conn: Connection, ticket_id: str) -> str:
    """The language of the conversation a ticket belongs to (Swedish if there is none)."""
    language = conn.execute(
        select(conversations.c.language)
        .join(handoff_tickets, handoff_tickets.c.conversation_id == conversations.c.id)
        .where(handoff_tickets.c.id == ticket_id)
    ).scalar()
    return str(language or "sv")
