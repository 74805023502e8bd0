"""Retention: after the configured period conversations are gone, and only counts remain."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    select,
)

from gateway import basis_queries, retention
from gateway.store import (
    aggregates,
    basis_records,
    conversations,
    feedback,
    handoff_tickets,
    messages,
    ticket_notes,
)
from tests.conftest import ROOT, rasa_reply
from tests.pg import temporary_database

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=10)
ZONE = ZoneInfo("Europe/Stockholm")


def rasa(request: httpx.Request) -> httpx.Response:
    message = json.loads(request.content)["message"].lower()
    if "human" in message or "människa" in message:
        return httpx.Response(200, json=rasa_reply("Jag kopplar dig.", intent="request_human", topic=None,
                                                   response_id="utter_handoff",
                                                   handoff={"reason": "request_human", "acute": False}))
    if "osäker" in message:
        return httpx.Response(200, json=rasa_reply("Kanske.", confidence=0.4))
    return httpx.Response(200, json=rasa_reply("Du behöver ofta bygglov."))


async def converse(
    client: httpx.AsyncClient, at: datetime, texts: list[str], vote: str | None = None
) -> tuple[str, dict[str, str]]:
    client.app.state.services.turns.clock = lambda: at
    created = (await client.post("/api/conversations")).json()
    cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
    first = None
    for text in texts:
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
        assert response.status_code == 200, response.text
        first = first or response.json()["messages"][0]["basis_id"]
    if vote:
        voted = await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                                  json={"basis_id": first, "value": vote})
        assert voted.status_code == 200
    return cid, auth


def rows_of(conn: Any, table: Any, cid: str) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(table.c.conversation_id == cid)).scalar_one())


def rasa_tracker(url: str, sender_ids: list[str]) -> Any:
    """Rasa's SQL tracker store table, as Rasa creates it, with two events per conversation."""
    engine = create_engine(url)
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True),
                  Column("sender_id", String(255), nullable=False), Column("type_name", String(255)),
                  Column("timestamp", Float), Column("data", Text))
    table.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"sender_id": s, "type_name": t, "timestamp": 0.0, "data": "{}"}
                                     for s in sender_ids for t in ("user", "bot")])
    return engine, table


async def _purge_keeps_counts(client: httpx.AsyncClient, tracker: str) -> None:
    store = client.app.state.services.store
    old, old_auth = await converse(client, OLD, ["Behöver jag bygglov?", "osäker", "jag vill prata med en människa"],
                                   vote="down")
    old2, _ = await converse(client, OLD, ["bygglov för garage?"])
    recent, recent_auth = await converse(client, RECENT, ["Behöver jag bygglov?"])
    # Old, but a staff reply came in yesterday: still active, so it stays.
    active, _ = await converse(client, OLD, ["bygglov?"])
    with store.begin() as conn:
        ticket = conn.execute(select(handoff_tickets.c.id).where(handoff_tickets.c.conversation_id == old)).scalar_one()
        conn.execute(insert(ticket_notes).values(ticket_id=ticket, author="anna", text="ringde upp", created_at=OLD))
        conn.execute(insert(messages).values(
            id="f" * 32, conversation_id=active, seq=99, turn=1, role="staff", text="Hej från Anna",
            language="sv", machine_translated=False, created_at=NOW - timedelta(days=1)))
        before = basis_queries.figures(conn, OLD - timedelta(days=1), OLD + timedelta(days=1), ZONE).as_dict()

    tracker_engine, events = rasa_tracker(tracker, [old, old2, recent, active])

    report = await store.run(lambda: retention.purge(store, 90, now=NOW, tracker=tracker))

    assert (report.conversations, report.records) == (2, 4)
    assert report.tickets == 1
    assert report.tracker_events == 4  # Rasa's copy of the two purged conversations
    with tracker_engine.connect() as conn:
        assert {r.sender_id for r in conn.execute(select(events.c.sender_id))} == {recent, active}
    tracker_engine.dispose()
    with store.connect() as conn:
        for cid in (old, old2):
            for table in (messages, basis_records, feedback, handoff_tickets):
                assert rows_of(conn, table, cid) == 0, (table.name, cid)
            row = conn.execute(select(conversations).where(conversations.c.id == cid)).one()
            assert row.purged_at is not None and row.token_hash == retention.PURGED_TOKEN
        assert conn.execute(select(func.count()).select_from(ticket_notes)).scalar_one() == 0
        for cid in (recent, active):
            assert rows_of(conn, basis_records, cid) == 1
        after = basis_queries.figures(conn, OLD - timedelta(days=1), OLD + timedelta(days=1), ZONE).as_dict()
        day_rows = conn.execute(select(aggregates)).all()
        assert basis_queries.verify(conn).ok  # nothing dangling: a purged conversation has no chain left

    # The same counts, now from the aggregates instead of the deleted records.
    assert after["per_topic"] == [
        {**row, "positive_feedback": 0} for row in before["per_topic"]
    ]
    # 4 answers from the purged conversations' aggregates + 1 still live (the active one)
    assert after["total"]["answers"] == 5 and after["total"]["negative_feedback"] == 1
    assert after["total"]["handoffs"] == 1 and after["total"]["low_confidence"] == 1
    assert {(r.topic, r.answers) for r in day_rows} == {("faq/bygglov", 3), ("request_human", 1)}

    gone = await client.get(f"/api/conversations/{old}/messages", headers=old_auth)
    kept = await client.get(f"/api/conversations/{recent}/messages", headers=recent_auth)
    assert gone.status_code == 404 and kept.status_code == 200

    again = await store.run(lambda: retention.purge(store, 90, now=NOW))
    with store.connect() as conn:
        assert again.conversations == 0
        assert {(r.topic, r.answers) for r in conn.execute(select(aggregates))} == {
            ("faq/bygglov", 3), ("request_human", 1)}  # not counted twice


async def test_purge_deletes_old_conversations_and_keeps_the_counts(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(rasa) as client:
        await _purge_keeps_counts(client, f"sqlite:///{tmp_path / 'rasa_tracker.db'}")


@pytest.mark.postgres
async def test_purge_on_postgresql(gateway_factory: Any) -> None:
    with temporary_database() as url:
        async with gateway_factory(rasa, database_url=url) as client:
            assert client.app.state.services.store.dialect == "postgresql"
            # Rasa's tracker store lives in the same database in this set-up (scripts/stack.py)
            await _purge_keeps_counts(client, url.replace("postgresql://", "postgresql+psycopg://"))


async def test_the_gateway_runs_the_purge_on_its_own(gateway_factory: Any) -> None:
    async with gateway_factory(rasa, retention_days=30) as client:
        services = client.app.state.services
        assert services.retention_task is not None and not services.retention_task.done()  # started by the lifespan
        old, _ = await converse(client, datetime.now(UTC) - timedelta(days=31), ["bygglov?"])
        job = asyncio.create_task(retention.run_daily(services.store, 30, "Europe/Stockholm", first_delay=0))
        try:
            for _ in range(100):
                with services.store.connect() as conn:
                    if rows_of(conn, basis_records, old) == 0:
                        break
                await asyncio.sleep(0.05)
            with services.store.connect() as conn:
                assert rows_of(conn, basis_records, old) == 0
                assert conn.execute(select(func.sum(aggregates.c.answers))).scalar_one() == 1
        finally:
            job.cancel()
    assert services.retention_task is None  # stopped with the gateway


def test_make_purge_from_the_command_line(tmp_path: Path) -> None:
    from gateway.main import create_app
    from tests.gateway.staff_helpers import settings_for

    db = tmp_path / "gateway.db"

    async def fill() -> None:
        app = create_app(settings_for(tmp_path, database_url=f"sqlite:///{db}"),
                         rasa_transport=httpx.MockTransport(rasa))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
                client.app = app  # type: ignore[attr-defined]
                await converse(client, datetime.now(UTC) - timedelta(days=40), ["bygglov?", "osäker"])
                await converse(client, datetime.now(UTC) - timedelta(days=5), ["bygglov?"])

    asyncio.run(fill())
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    refused = subprocess.run([sys.executable, "-m", "gateway.cli", "purge", "--days", "0"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "nothing was deleted" in refused.stderr and "retention_days" in refused.stderr
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "purge", "--days", "30"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "retention 30 days" in done.stdout
    assert "1 conversations, 5 messages, 2 basis records, 0 tickets, 0 Rasa tracker events removed" in done.stdout
