"""The same conversation path on SQLite (default) and PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gateway.basis import verify_chain
from gateway.store import basis_records, messages
from tests.pg import temporary_database


async def _conversation(client: Any) -> str:
    created = (await client.post("/api/conversations")).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    cid = created["conversation_id"]
    for text in ("Behöver jag bygglov?", "Tack!"):
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
        assert response.status_code == 200, response.text
    return cid


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_turns_answers_and_records_are_stored(gateway_factory: Any, backend: str) -> None:
    if backend == "sqlite":
        async with gateway_factory() as client:
            await _check(client)
        return
    with temporary_database() as url:
        async with gateway_factory(database_url=url) as client:
            assert client.app.state.services.store.dialect == "postgresql"
            await _check(client)


async def _check(client: Any) -> None:
    cid = await _conversation(client)
    store = client.app.state.services.store
    with store.connect() as conn:
        roles = [r.role for r in conn.execute(
            select(messages.c.role).where(messages.c.conversation_id == cid).order_by(messages.c.seq)
        )]
        records = conn.execute(select(basis_records).where(basis_records.c.conversation_id == cid)).all()
        report = verify_chain(conn, cid)
    assert roles == ["bot", "citizen", "bot", "citizen", "bot"]
    assert len(records) == 2  # one basis record per answer
    assert report.ok and report.records == 2
