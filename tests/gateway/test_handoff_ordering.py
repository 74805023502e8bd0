"""Nothing is lost: a citizen keeps writing while staff claim the ticket, reply and return
the conversation to the bot. Every citizen message is stored once, in order, and handled by
exactly one of staff or Rasa; every staff/system message reaches the citizen's stream once,
in order. Run on one gateway (SQLite) and on two replicas sharing PostgreSQL and Redis,
where the citizen's requests alternate between the replicas like behind a load balancer."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.store import messages
from tests.gateway.staff_helpers import (
    RasaRecorder,
    make_staff,
    served_gateway,
    settings_for,
    sse,
    staff_login,
    start_conversation,
)

MESSAGES = 30


@contextlib.asynccontextmanager
async def replicas(
    kind: str, tmp_path: Path, rasa: RasaRecorder, request: pytest.FixtureRequest
) -> AsyncIterator[list[Any]]:
    if kind == "one":
        async with served_gateway(settings_for(tmp_path), rasa) as gw:
            yield [gw]
        return
    database = request.getfixturevalue("postgres_url")
    common = {"database_url": database, "redis_url": request.getfixturevalue("redis_url")}
    async with served_gateway(settings_for(tmp_path, var_dir=tmp_path / "a", **common), rasa) as a, \
            served_gateway(settings_for(tmp_path, var_dir=tmp_path / "b", **common), rasa) as b:
        yield [a, b]


@pytest.mark.parametrize("kind", ["one", pytest.param("two", marks=[pytest.mark.postgres, pytest.mark.redis])])
async def test_messages_during_claim_and_return_are_all_delivered_in_order_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rasa = RasaRecorder()
    async with replicas(kind, tmp_path, rasa, request) as gateways:
        clients = [httpx.AsyncClient(base_url=g.url, timeout=20) for g in gateways]
        staff = httpx.AsyncClient(base_url=gateways[-1].url, timeout=20)
        try:
            make_staff(gateways[0].services.store)
            await staff_login(staff)
            cid, auth = await start_conversation(clients[0])
            first = await clients[0].post(f"/api/conversations/{cid}/messages", headers=auth,
                                          json={"text": "jag vill prata med en människa"})
            ticket = first.json()["handoff"]["ticket_id"]
            sent = [f"meddelande {n:02d}" for n in range(MESSAGES)]
            progress = asyncio.Event()
            count = 0

            async def citizen() -> None:
                nonlocal count
                for n, text in enumerate(sent):
                    client = clients[n % len(clients)]
                    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                                 json={"text": text})
                    assert response.status_code == 200, response.text
                    count += 1
                    progress.set()

            async def wait_until(n: int) -> None:
                while count < n:
                    progress.clear()
                    await progress.wait()

            async def contact_centre() -> list[str]:
                replies = []
                await wait_until(3)
                assert (await staff.post(f"/staff/api/tickets/{ticket}/claim")).status_code == 200
                for n in range(4):
                    await wait_until(5 + 2 * n)
                    text = f"svar {n}"
                    response = await staff.post(f"/staff/api/tickets/{ticket}/messages", json={"text": text})
                    assert response.status_code == 200, response.text
                    replies.append(text)
                await wait_until(14)
                assert (await staff.post(f"/staff/api/tickets/{ticket}/return")).status_code == 200
                return replies

            async with sse(clients[0], f"/api/conversations/{cid}/events", headers=auth) as stream:
                _, replies = await asyncio.gather(citizen(), contact_centre())

                with gateways[0].services.store.connect() as conn:
                    rows = conn.execute(
                        select(messages).where(messages.c.conversation_id == cid).order_by(messages.c.seq)
                    ).all()
                pushed = [r for r in rows if r.role in ("staff", "system")]
                await stream.wait_for(lambda s: len(s.named("message")) >= len(pushed), timeout=10)
                await asyncio.sleep(0.3)  # and nothing more arrives

            # 1. Every citizen message stored once, in the order sent.
            citizen_texts = [r.text for r in rows if r.role == "citizen"]
            assert citizen_texts == ["jag vill prata med en människa", *sent]

            # 2. Each handled by exactly one side: staff before the return, Rasa after it.
            returned_at = next(r.seq for r in rows if r.role == "system" and "AI-assistenten" in r.text)
            to_staff = [r.text for r in rows if r.role == "citizen" and r.seq < returned_at][1:]
            to_rasa = [r.text for r in rows if r.role == "citizen" and r.seq > returned_at]
            assert to_staff + to_rasa == sent
            assert rasa.seen == ["jag vill prata med en människa", *to_rasa]
            assert len(to_staff) >= 14 and to_rasa, (len(to_staff), len(to_rasa))
            detail = (await staff.get(f"/staff/api/tickets/{ticket}")).json()
            staff_saw = [m["text"] for m in detail["messages"] if m["role"] == "citizen"]
            assert set(to_staff) <= set(staff_saw)

            # 3. Every staff/system message reached the citizen's stream once, in order.
            streamed = stream.named("message")
            assert [m["id"] for m in streamed] == [r.id for r in pushed]
            assert [m["text"] for m in streamed if m["role"] == "staff"] == replies
            ids = [int(i) for n, _, i, _ in stream.events if n == "message" and i]
            assert ids == sorted(ids) and len(ids) == len(set(ids))
        finally:
            for client in [*clients, staff]:
                await client.aclose()


@pytest.mark.postgres
async def test_a_message_racing_a_return_on_another_replica_goes_to_rasa(tmp_path: Path, postgres_url: str) -> None:
    """The exact race: the citizen's turn has seen an open ticket, and another replica is
    closing it right then. The ticket row lock makes the turn wait and re-check, so the
    message goes to Rasa instead of into a closed ticket that nobody reads."""
    import threading
    import time

    from sqlalchemy import create_engine, update

    from gateway.store import handoff_tickets

    rasa = RasaRecorder()
    async with served_gateway(settings_for(tmp_path, database_url=postgres_url), rasa) as gw, \
            httpx.AsyncClient(base_url=gw.url, timeout=20) as client:
        cid, auth = await start_conversation(client)
        first = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                  json={"text": "jag vill prata med en människa"})
        ticket = first.json()["handoff"]["ticket_id"]
        locked = threading.Event()

        def other_replica_returns_the_ticket() -> None:
            engine = create_engine(gw.services.store.url)
            with engine.begin() as conn:
                conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket).with_for_update())
                locked.set()
                time.sleep(0.6)  # the citizen's turn arrives meanwhile
                conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket)
                             .values(status="closed", outcome="returned_to_bot"))
            engine.dispose()

        closer = threading.Thread(target=other_replica_returns_the_ticket)
        closer.start()
        assert locked.wait(5)
        started = time.monotonic()
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "är ni kvar?"})
        waited = time.monotonic() - started
        closer.join(5)

        body = response.json()
        assert waited > 0.3, "the turn must wait for the ticket row"
        assert rasa.seen[-1] == "är ni kvar?"
        assert body["messages"][0]["text"] == "Svar från assistenten."
        assert body["handoff"] is None
