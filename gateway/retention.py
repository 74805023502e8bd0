"""Retention: conversations past the retention period are purged, leaving only counts.

A conversation is purged when nothing has happened in it for ``retention_days`` (its last
citizen message and every staff reply are older). In one transaction per conversation:

1. its basis records (with their feedback) are folded into ``aggregates`` — per local day,
   topic and language: answers, fallbacks, handoffs, low-confidence answers, negative
   feedback — the same counting as the auditor's figures (``basis_queries.record_counts``);
2. its messages, basis records, feedback, handoff tickets (with any call-back details the
   citizen left: they are stored in the ticket and nowhere else) and ticket notes are deleted;
3. the conversation row is kept without its token, marked ``purged_at`` (so its id
   cannot be reused and the citizen's link answers 404).

Then Rasa's copy of the same conversations (the tracker store's ``events`` table, keyed by
``sender_id`` = conversation id) is deleted too, when the gateway can reach it: the same
PostgreSQL database (``DATABASE_URL``), or ``var/rasa_tracker.db`` (see scripts/stack.py).

Claiming the row (``purged_at IS NULL`` → now) comes first, so two gateways running the
job at the same time never count a conversation twice. ``make purge`` runs it by hand;
the gateway runs it once a day (``routes/transparency.py``). See docs/retention.md.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import MetaData, Table, create_engine, delete, exists, inspect, select, update
from sqlalchemy.engine import Connection

from gateway.basis_queries import Counts, counted_rows, record_counts
from gateway.store import (
    Store,
    aggregates,
    basis_records,
    conversations,
    feedback,
    handoff_tickets,
    messages,
    ticket_notes,
    upsert,
    utcnow,
)

if TYPE_CHECKING:
    from gateway.settings import Settings

logger = logging.getLogger(__name__)

PURGED_TOKEN = "purged"
DAY = 24 * 60 * 60


@dataclass
class PurgeReport:
    cutoff: datetime
    conversations: int = 0
    messages: int = 0
    records: int = 0
    tickets: int = 0
    tracker_events: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "conversations": self.conversations,
            "messages": self.messages,
            "basis_records": self.records,
            "tickets": self.tickets,
            "tracker_events": self.tracker_events,
        }


def due(conn: Connection, cutoff: datetime, limit: int) -> list[str]:
    """Conversations whose last activity is before ``cutoff`` and that are not purged yet."""
    recent = exists().where(
        messages.c.conversation_id == conversations.c.id, messages.c.created_at >= cutoff
    )
    rows = conn.execute(
        select(conversations.c.id)
        .where(conversations.c.purged_at.is_(None), conversations.c.last_seen_at < cutoff, ~recent)
        .order_by(conversations.c.last_seen_at)
        .limit(limit)
    )
    return [str(r.id) for r in rows]


def _add_aggregate(conn: Connection, key: tuple[str, str, str], counts: Counts) -> None:
    values = {"day": key[0], "topic": key[1], "language": key[2],
              **{name: getattr(counts, name) for name in
                 ("answers", "fallbacks", "handoffs", "low_confidence", "negative_feedback")}}
    statement = upsert(conn, aggregates).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "topic", "language"],
        set_={
            name: getattr(aggregates.c, name) + getattr(statement.excluded, name)
            for name in ("answers", "fallbacks", "handoffs", "low_confidence", "negative_feedback")
        },
    )
    conn.execute(statement)


def purge_conversation(conn: Connection, conversation_id: str, now: datetime, zone: ZoneInfo) -> dict[str, int]:
    """Fold one conversation into the aggregates and delete it; {} if another job took it."""
    claimed = conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id, conversations.c.purged_at.is_(None))
        .values(purged_at=now, token_hash=PURGED_TOKEN)
    ).rowcount
    if claimed != 1:
        return {}
    totals: dict[tuple[str, str, str], Counts] = defaultdict(Counts)
    rows = counted_rows(conn, basis_records.c.conversation_id == conversation_id)
    for day, topic, language, counts in record_counts(rows, zone):
        totals[(day, topic, language)].add(counts)
    for key, counts in sorted(totals.items()):
        _add_aggregate(conn, key, counts)
    tickets = [r.id for r in conn.execute(
        select(handoff_tickets.c.id).where(handoff_tickets.c.conversation_id == conversation_id)
    )]
    if tickets:
        conn.execute(delete(ticket_notes).where(ticket_notes.c.ticket_id.in_(tickets)))
        conn.execute(delete(handoff_tickets).where(handoff_tickets.c.id.in_(tickets)))
    conn.execute(delete(feedback).where(feedback.c.conversation_id == conversation_id))
    removed_records = conn.execute(
        delete(basis_records).where(basis_records.c.conversation_id == conversation_id)
    ).rowcount
    removed_messages = conn.execute(
        delete(messages).where(messages.c.conversation_id == conversation_id)
    ).rowcount
    return {"messages": removed_messages, "records": removed_records, "tickets": len(tickets)}


def tracker_url(settings: Settings) -> str:
    """Where Rasa keeps its tracker events in this deployment (see scripts/stack.py)."""
    if settings.database_url:
        return str(settings.effective_database_url)
    return f"sqlite:///{settings.var_dir / 'rasa_tracker.db'}"


def purge_tracker(url: str, conversation_ids: list[str]) -> int:
    """Delete Rasa's tracker events of these conversations; 0 if there is no tracker table."""
    if not conversation_ids:
        return 0
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0  # no Rasa tracker file here (and connecting would create one)
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    removed = 0
    try:
        if not inspect(engine).has_table("events"):
            return 0
        events = Table("events", MetaData(), autoload_with=engine)
        if "sender_id" not in events.c:
            return 0
        for start in range(0, len(conversation_ids), 500):
            chunk = conversation_ids[start:start + 500]
            with engine.begin() as conn:
                removed += conn.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount
    finally:
        engine.dispose()
    return removed


def purge(
    store: Store,
    retention_days: int,
    *,
    timezone: str = "Europe/Stockholm",
    now: datetime | None = None,
    batch: int = 200,
    tracker: str | None = None,
) -> PurgeReport:
    """Purge everything past the retention period; each conversation is all-or-nothing.

    ``tracker``: database URL of Rasa's tracker store, whose events of the purged
    conversations are deleted afterwards (see :func:`tracker_url`).
    """
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    report = PurgeReport(cutoff=now - timedelta(days=retention_days))
    purged: list[str] = []
    while True:
        with store.connect() as conn:
            ids = due(conn, report.cutoff, batch)
        if not ids:
            break
        for conversation_id in ids:
            with store.begin() as conn:
                removed = purge_conversation(conn, conversation_id, now, zone)
            if removed:
                purged.append(conversation_id)
                report.conversations += 1
                report.messages += removed["messages"]
                report.records += removed["records"]
                report.tickets += removed["tickets"]
        if len(ids) < batch:
            break
    if tracker and purged:
        try:
            report.tracker_events = purge_tracker(tracker, purged)
        except Exception:  # noqa: BLE001 - the gateway's part is done; say clearly what is left
            logger.exception("retention: Rasa's tracker events of %d purged conversations were NOT "
                             "deleted; delete events with these sender ids by hand", len(purged))
    logger.info(
        "retention: purged %d conversations (%d messages, %d records, %d tickets, %d tracker events) "
        "older than %s",
        report.conversations, report.messages, report.records, report.tickets, report.tracker_events,
        report.cutoff.date().isoformat(),
    )
    return report


async def run_daily(store: Store, retention_days: int, timezone: str, *, tracker: str | None = None,
                    first_delay: float = 60.0, interval: float = DAY) -> None:
    """The gateway's scheduled purge: shortly after start, then once a day, until cancelled."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            await store.run(lambda: purge(store, retention_days, timezone=timezone, tracker=tracker))
        except Exception:  # noqa: BLE001 - logged; the next day's run tries again
            logger.exception("retention: the scheduled purge failed; it runs again in %.0f s", interval)
        await asyncio.sleep(interval)


class _Overrides(TypedDict, total=False):
    """Settings given on the command line of ``make purge``."""

    database_url: str
    retention_days: int


def cli_purge(argv: list[str]) -> int:
    """``make purge``: purge conversations older than the retention period now."""
    from gateway.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m gateway.cli purge",
        description="Delete conversations, messages, basis records, feedback and tickets past the "
                    "retention period, keeping aggregate counts.",
    )
    parser.add_argument("--days", type=int, help="retention period in days (default: GATEWAY_RETENTION_DAYS, 90)")
    parser.add_argument("--database-url", help="default: GATEWAY_DATABASE_URL / DATABASE_URL or var/gateway.db")
    args = parser.parse_args(argv)
    overrides: _Overrides = {}
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.days is not None:
        overrides["retention_days"] = args.days
    try:
        settings = Settings(**overrides)  # validates --days (1-3650) like the environment
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"purge: nothing was deleted; the settings are not valid: {problems}", file=sys.stderr)
        return 2
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"purge: there is no database at {url.removeprefix('sqlite:///')}; nothing to purge.")
        return 0
    store = Store(url)
    try:
        store.create_all()
        report = purge(store, settings.retention_days, timezone=settings.timezone,
                       tracker=tracker_url(settings))
    finally:
        store.dispose()
    print(
        f"purge: retention {settings.retention_days} days (before {report.cutoff:%Y-%m-%d %H:%M} UTC): "
        f"{report.conversations} conversations, {report.messages} messages, "
        f"{report.records} basis records, {report.tickets} tickets, {report.tracker_events} Rasa tracker "
        "events removed; counts kept in aggregates."
    )
    return 0
