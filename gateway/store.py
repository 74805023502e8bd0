"""The gateway's database: one schema for SQLite (default) and PostgreSQL.

Tables are SQLAlchemy Core; modules that own a concept (conversations here, handoff in
``handoff.py``, basis records in ``basis.py``) run their queries through :class:`Store`.
All methods are synchronous; async callers use ``await store.run(fn, ...)``.
"""
from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)
T = TypeVar("T")

metadata = MetaData()


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime. Everything is stored in UTC, but SQLite
    returns naive datetimes; this is the one place that says so."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("language", String(8), nullable=False, default="sv"),
    Column("language_explicit", Boolean, nullable=False, default=False),
    Column("turns", Integer, nullable=False, default=0),
    Column("purged_at", DateTime(timezone=True), nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("turn", Integer, nullable=False),
    Column("role", String(16), nullable=False),  # citizen | bot | staff | system
    Column("text", Text, nullable=False),  # what the citizen wrote / saw (masked)
    Column("text_sv", Text, nullable=True),  # the Swedish version staff and Rasa see
    Column("language", String(8), nullable=False),
    Column("machine_translated", Boolean, nullable=False, default=False),
    Column("response_id", String(128), nullable=True),
    Column("source", JSON, nullable=True),
    Column("buttons", JSON, nullable=True),
    Column("basis_id", String(64), nullable=True),
    Column("author", String(128), nullable=True),  # staff display name for staff replies
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
)

basis_records = Table(
    "basis_records",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # position in the conversation's chain
    Column("turn", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("topic", String(128), nullable=True),
    Column("language", String(8), nullable=False),
    Column("confidence", String(16), nullable=True),
    Column("handoff_reason", String(64), nullable=True),
    Column("fallback", Boolean, nullable=False, default=False),
    Column("record", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("conversation_id", "seq", name="uq_basis_conversation_seq"),
    Index("ix_basis_created_at", "created_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("basis_id", String(64), nullable=False),
    Column("conversation_id", String(64), nullable=False),
    Column("value", Integer, nullable=False),  # +1 / -1
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("basis_id", name="uq_feedback_basis"),
)

handoff_tickets = Table(
    "handoff_tickets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("priority", Integer, nullable=False),  # 0 = acute, 1 = high, 2 = normal
    Column("language", String(8), nullable=False),
    Column("status", String(16), nullable=False),  # waiting | active | after_hours | closed
    Column("reasoning", JSON, nullable=True),  # intents considered, sources shown
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(64), nullable=True),
    Column("callback", JSON, nullable=True),  # contact details left outside opening hours
    Index("ix_tickets_status", "status"),
)

ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # staff | auditor | editor | publisher | admin
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(128), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("csrf_token", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # How the session was opened: password | password+totp | oidc (added later; NULL = password).
    Column("method", String(16), nullable=True),
)

staff_totp = Table(  # the TOTP second factor of a local account (gateway/totp.py)
    "staff_totp",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("secret", String(64), nullable=False),  # base32
    Column("confirmed_at", DateTime(timezone=True), nullable=True),  # NULL = enrolment not finished
    Column("last_step", Integer, nullable=True),  # the last accepted time step (no replay)
    Column("created_at", DateTime(timezone=True), nullable=False),
)

staff_identities = Table(  # an account's identity at the municipality's OIDC provider
    "staff_identities",
    metadata,
    Column("issuer", String(256), primary_key=True),
    Column("subject", String(256), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("issuer", "user_id", name="uq_identity_issuer_user"),
)

sso_logins = Table(  # single sign-on logins under way: state (hashed), nonce, PKCE verifier
    "sso_logins",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("nonce", String(128), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=True),
    Column("detail", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

gateway_keys = Table(  # random secrets the gateway keeps for itself, made on first use
    "gateway_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

aggregates = Table(
    "aggregates",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("topic", String(128), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("answers", Integer, nullable=False, default=0),
    Column("fallbacks", Integer, nullable=False, default=0),
    Column("handoffs", Integer, nullable=False, default=0),
    Column("low_confidence", Integer, nullable=False, default=0),
    Column("negative_feedback", Integer, nullable=False, default=0),
)


def upsert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``table`` that can take ``ON CONFLICT DO UPDATE`` on this
    connection's database (PostgreSQL or SQLite, the two the gateway runs on)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"The gateway supports SQLite and PostgreSQL, not {dialect}.")


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit is on disk (the WAL is synced) before the answer leaves the gateway,
    # so a turn the citizen saw survives a power cut, not only a crash of the process. With
    # NORMAL, WAL mode syncs only at checkpoints and a power cut can take the last turns
    # (their answers and basis records) back. Costs one fsync per commit (~0.7 ms here).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """Owns the engine. ``begin()`` gives one transaction: all of it or nothing.

    Engines are made with ``hide_parameters=True``: a database error names the statement but
    not its values, so an error during a turn cannot carry the citizen's text into a log.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, bytes] = {}
        if url.startswith("sqlite"):
            if url in ("sqlite://", "sqlite:///:memory:"):
                self.engine: Engine = create_engine(
                    url,
                    connect_args={"check_same_thread": False},
                    poolclass=StaticPool,
                    hide_parameters=True,
                )
            else:
                self.engine = create_engine(
                    url, connect_args={"check_same_thread": False}, pool_size=8, hide_parameters=True
                )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(
                url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_all(self) -> None:
        metadata.create_all(self.engine)
        self._add_new_columns()

    def _add_new_columns(self) -> None:
        """Columns added to a table after it was first created (all nullable): ``create_all``
        makes missing tables only, so a database from an earlier version gets them here."""
        from sqlalchemy import inspect, text

        inspector = inspect(self.engine)
        existing_tables = set(inspector.get_table_names())
        with self.engine.begin() as conn:
            for table in metadata.sorted_tables:
                if table.name not in existing_tables:
                    continue
                present = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in present and column.nullable:
                        kind = column.type.compile(dialect=self.engine.dialect)
                        # Two replicas starting at once on PostgreSQL: the second adds nothing.
                        guard = "IF NOT EXISTS " if self.dialect == "postgresql" else ""
                        conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {guard}"{column.name}" {kind}'))
                        logger.info("database: added column %s.%s", table.name, column.name)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(fn, *args)

    def key(self, name: str) -> bytes:
        """A random 32-byte secret kept in this database under ``name``, made on first use;
        every replica sharing the database gets the same one."""
        cached = self._keys.get(name)
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            value = conn.execute(select(gateway_keys.c.value).where(gateway_keys.c.name == name)).scalar()
        if value is None:
            try:
                with self.engine.begin() as conn:
                    value = secrets.token_hex(32)
                    conn.execute(insert(gateway_keys).values(name=name, value=value, created_at=utcnow()))
            except IntegrityError:  # another replica made it first: use theirs
                with self.engine.connect() as conn:
                    value = conn.execute(
                        select(gateway_keys.c.value).where(gateway_keys.c.name == name)
                    ).scalar_one()
        self._keys[name] = key = bytes.fromhex(str(value))
        return key

    def ping(self) -> bool:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
