"""Live updates: the brokers, the citizen's and the console's event streams, and two
gateway replicas sharing PostgreSQL and Redis."""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from pathlib import Path

import httpx
import pytest

from gateway.pubsub import LocalBroker, PubSubError, RedisBroker
from tests.gateway.staff_helpers import (
    make_staff,
    served_gateway,
    settings_for,
    sse,
    staff_login,
    start_conversation,
    warm_up,
)

# The fixtures ``redis_url`` and ``postgres_url`` (tests/gateway/conftest.py) use the real
# servers and fail, saying how to start them, when they are not running: CI has both.


# ---- brokers --------------------------------------------------------------------------
async def test_local_broker_delivers_to_subscribers_of_the_channel_only() -> None:
    broker = LocalBroker()
    await broker.start()
    async with broker.subscribe("conversation:a") as a, broker.subscribe("staff", "queue") as staff:
        broker.publish("conversation:a", {"n": 1})
        broker.publish("staff", {"n": 2})
        broker.publish("queue", {"n": 3})
        assert await a.get(1) == ("conversation:a", {"n": 1})
        assert await a.get(0.05) is None
        assert await staff.get(1) == ("staff", {"n": 2})
        assert await staff.get(1) == ("queue", {"n": 3})
        # From a worker thread (e.g. code running in store.run) it still arrives.
        threading.Thread(target=broker.publish, args=("staff", {"n": 4})).start()
        assert await staff.get(1) == ("staff", {"n": 4})
    broker.publish("staff", {"n": 5})  # nobody listening: dropped, no error
    await broker.close()


@pytest.mark.redis
async def test_redis_brokers_share_events_once_each_and_namespaces_stay_apart(redis_url: str) -> None:
    namespace = secrets.token_hex(4)
    one, two, other = RedisBroker(redis_url, namespace), RedisBroker(redis_url, namespace), RedisBroker(
        redis_url, namespace + "x")
    for broker in (one, two, other):
        await broker.start()
    try:
        async with one.subscribe("staff") as s1, two.subscribe("staff") as s2, other.subscribe("staff") as s3:
            for n in range(5):
                one.publish("staff", {"n": n})
            for subscription in (s1, s2):
                got = [await subscription.get(2) for _ in range(5)]
                assert [g[1]["n"] for g in got if g] == [0, 1, 2, 3, 4]
                assert await subscription.get(0.2) is None  # exactly once
            assert await s3.get(0.3) is None
    finally:
        for broker in (one, two, other):
            await broker.close()


async def test_unreachable_redis_is_a_clear_start_up_error() -> None:
    broker = RedisBroker("redis://127.0.0.1:1/0", "x")
    with pytest.raises(PubSubError, match="not reachable"):
        await broker.start()


# ---- streams on one gateway -------------------------------------------------------------
async def test_citizen_stream_needs_the_conversations_own_token(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        mine, _ = await start_conversation(client)
        _, other_auth = await start_conversation(client)
        no_token = await client.get(f"/api/conversations/{mine}/events")
        assert no_token.status_code == 401
        wrong = await client.get(f"/api/conversations/{mine}/events", headers=other_auth)
        assert wrong.status_code == 403
        assert wrong.json()["error"]["message"] == "This token does not belong to this conversation."


async def test_staff_reply_and_status_changes_stream_to_the_citizen(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path)) as gw, \
            httpx.AsyncClient(base_url=gw.url, timeout=10) as citizen, \
            httpx.AsyncClient(base_url=gw.url, timeout=10) as staff:
        await warm_up(citizen)
        cid, auth = await start_conversation(citizen)
        make_staff(gw.services.store)
        await staff_login(staff)
        async with sse(staff, "/staff/api/events") as console, \
                sse(citizen, f"/api/conversations/{cid}/events", headers=auth) as stream:
            await stream.wait_for(lambda s: len(s.named("handoff")) == 1)
            assert stream.named("handoff") == [None]

            sent = time.monotonic()
            body = (await citizen.post(f"/api/conversations/{cid}/messages", headers=auth,
                                       json={"text": "min sambo slår mig"})).json()
            ticket = body["handoff"]["ticket_id"]
            arrived = await console.wait_for(lambda s: any(e.get("ticket_id") == ticket for e in s.named("ticket")))
            assert arrived - sent < 1.0
            await stream.wait_for(lambda s: (s.named("handoff")[-1] or {}).get("status") == "waiting")

            await staff.post(f"/staff/api/tickets/{ticket}/claim")
            await stream.wait_for(lambda s: (s.named("handoff")[-1] or {}).get("status") == "active")
            posted = time.monotonic()
            reply = (await staff.post(f"/staff/api/tickets/{ticket}/messages",
                                      json={"text": "Hej, jag heter Anna. Är du i säkerhet nu?"})).json()
            arrived = await stream.wait_for(lambda s: any(m["role"] == "staff" for m in s.named("message")))
            assert arrived - posted < 1.0
            claimed, staff_reply = stream.named("message")
            assert "Nu pratar du med Anna" in claimed["text"] and claimed["role"] == "system"
            assert staff_reply == reply["messages"][0]
            assert staff_reply["author"] == "Anna" and staff_reply["created_at"]

            await staff.post(f"/staff/api/tickets/{ticket}/return")
            await stream.wait_for(lambda s: (s.named("handoff")[-1] or {}).get("status") == "closed")
            assert "AI-assistenten" in stream.named("message")[-1]["text"]


async def test_queue_position_updates_live_when_the_ticket_ahead_is_taken(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url, timeout=10) as c:
        first, first_auth = await start_conversation(c)
        second, second_auth = await start_conversation(c)
        one = (await c.post(f"/api/conversations/{first}/messages", headers=first_auth,
                            json={"text": "jag vill prata med en människa"})).json()
        two = (await c.post(f"/api/conversations/{second}/messages", headers=second_auth,
                            json={"text": "jag vill prata med en människa"})).json()
        assert two["handoff"]["position"] == 2
        make_staff(gw.services.store)
        async with httpx.AsyncClient(base_url=gw.url, timeout=10) as staff:
            await staff_login(staff)
            async with sse(c, f"/api/conversations/{second}/events", headers=second_auth) as stream:
                await stream.wait_for(lambda s: bool(s.named("handoff")))
                assert stream.named("handoff")[0]["position"] == 2
                await staff.post(f"/staff/api/tickets/{one['handoff']['ticket_id']}/claim")
                await stream.wait_for(lambda s: s.named("handoff")[-1]["position"] == 1)


async def test_a_dropped_stream_resumes_with_last_event_id_without_gaps_or_repeats(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url, timeout=10) as c:
        cid, auth = await start_conversation(c)
        body = (await c.post(f"/api/conversations/{cid}/messages", headers=auth,
                             json={"text": "jag vill prata med en människa"})).json()
        ticket = body["handoff"]["ticket_id"]
        make_staff(gw.services.store)
        async with httpx.AsyncClient(base_url=gw.url, timeout=10) as staff:
            await staff_login(staff)
            await staff.post(f"/staff/api/tickets/{ticket}/claim")
            async with sse(c, f"/api/conversations/{cid}/events", headers=auth) as stream:
                await staff.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Ett"})
                await stream.wait_for(lambda s: len(s.named("message")) == 1)
                last_id = stream.events[-1][2]
            # Offline now: two replies are written while nobody listens.
            for text in ("Två", "Tre"):
                await staff.post(f"/staff/api/tickets/{ticket}/messages", json={"text": text})
            async with sse(c, f"/api/conversations/{cid}/events", headers={**auth, "Last-Event-ID": last_id}) as again:
                await again.wait_for(lambda s: len(s.named("message")) == 2)
                assert [m["text"] for m in again.named("message")] == ["Två", "Tre"]
                await asyncio.sleep(0.3)
                assert len(again.named("message")) == 2


# ---- two replicas ------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.redis
async def test_two_replicas_share_the_queue_and_live_updates_through_redis(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    common = {"database_url": postgres_url, "redis_url": redis_url}
    async with served_gateway(settings_for(tmp_path, var_dir=tmp_path / "a", **common)) as a, \
            served_gateway(settings_for(tmp_path, var_dir=tmp_path / "b", **common)) as b, \
            httpx.AsyncClient(base_url=a.url, timeout=10) as citizen, \
            httpx.AsyncClient(base_url=b.url, timeout=10) as staff:
        assert a.services.store.dialect == "postgresql"
        make_staff(b.services.store)
        await staff_login(staff)
        await warm_up(citizen)
        cid, auth = await start_conversation(citizen)  # the citizen's requests land on replica A
        async with sse(staff, "/staff/api/events") as console, \
                sse(citizen, f"/api/conversations/{cid}/events", headers=auth) as stream:
            await stream.wait_for(lambda s: bool(s.named("handoff")))
            sent = time.monotonic()
            body = (await citizen.post(f"/api/conversations/{cid}/messages", headers=auth,
                                       json={"text": "jag vill inte leva längre"})).json()
            ticket = body["handoff"]["ticket_id"]
            queued = await console.wait_for(lambda s: any(e.get("ticket_id") == ticket for e in s.named("ticket")))
            assert queued - sent < 1.0
            assert [t["id"] for t in (await staff.get("/staff/api/queue")).json()["open"]] == [ticket]

            await staff.post(f"/staff/api/tickets/{ticket}/claim")
            posted = time.monotonic()
            await staff.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Jag finns här. Var är du nu?"})
            arrived = await stream.wait_for(lambda s: any(m["role"] == "staff" for m in s.named("message")))
            assert arrived - posted < 1.0

            await citizen.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "hemma"})
            await console.wait_for(lambda s: bool(s.named("citizen_message")))
            detail = (await staff.get(f"/staff/api/tickets/{ticket}")).json()
            assert detail["messages"][-1]["text"] == "hemma"
