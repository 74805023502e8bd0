"""Two gateways on one Redis and one PostgreSQL (as behind the load balancer) share their rate
limits and conversation locks: the limit is not doubled, a turn waits for the other gateway's
turn of the same conversation, and a gateway that dies holding a lock blocks the conversation
only until its lease expires."""
from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.coordination import shared_prefix
from tests.conftest import ROOT, rasa_reply

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class SlowRasa:
    """Answers each message with itself after ``delay`` s; records when each turn was inside."""

    def __init__(self, delay: float = 0.15) -> None:
        self.delay = delay
        self.inside: list[tuple[float, float, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        entered = time.monotonic()
        await asyncio.sleep(self.delay)
        self.inside.append((entered, time.monotonic(), message))
        return httpx.Response(200, json=rasa_reply(f"Svar på: {message}", source=None))


@contextlib.asynccontextmanager
async def two_gateways(gateway_factory: Any, rasa: Any, **settings: Any) -> AsyncIterator[tuple[Any, Any]]:
    async with gateway_factory(rasa, **settings) as first, gateway_factory(rasa, **settings) as second:
        yield first, second


async def start(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/conversations", json={"language": "sv"})
    assert response.status_code == 201, response.text
    created = response.json()
    return created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}


def question(n: int) -> str:
    return f"Hur lång tid tar det att få bygglov för ett garage, fråga nummer {n}?"


async def test_two_gateways_share_one_limit_for_new_conversations(
    gateway_factory: Any, redis_url: str, postgres_url: str
) -> None:
    async with two_gateways(gateway_factory, SlowRasa(0), redis_url=redis_url, database_url=postgres_url,
                            create_rate_limit_per_minute=4) as (first, second):
        codes = [(await gw.post("/api/conversations", json={})).status_code
                 for gw in (first, second, first, second, first, second)]
        assert codes == [201, 201, 201, 201, 429, 429]  # in-process limits would allow 8


async def test_two_gateways_share_one_message_limit_per_conversation(
    gateway_factory: Any, redis_url: str, postgres_url: str
) -> None:
    async with two_gateways(gateway_factory, SlowRasa(0), redis_url=redis_url, database_url=postgres_url,
                            rate_limit_per_minute=3) as (first, second):
        cid, auth = await start(first)
        codes = [(await gw.post(f"/api/conversations/{cid}/messages", headers=auth,
                                json={"text": question(n)})).status_code
                 for n, gw in enumerate((first, second, first, second))]
        assert codes == [200, 200, 200, 429]
        other, other_auth = await start(second)  # another conversation has its own budget
        assert (await first.post(f"/api/conversations/{other}/messages", headers=other_auth,
                                 json={"text": question(9)})).status_code == 200


async def test_turns_of_one_conversation_on_two_gateways_run_one_at_a_time(
    gateway_factory: Any, redis_url: str, postgres_url: str
) -> None:
    rasa = SlowRasa(0.15)
    async with two_gateways(gateway_factory, rasa, redis_url=redis_url, database_url=postgres_url) as (first, second):
        cid, auth = await start(first)
        started = time.monotonic()
        answers = await asyncio.gather(*(
            gw.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": question(n)})
            for n, gw in enumerate([first, second] * 4)
        ))
        elapsed = time.monotonic() - started
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]

        inside = sorted(rasa.inside)
        assert len(inside) == 8
        for (_, left, _), (entered, _, _) in zip(inside, inside[1:], strict=False):
            assert entered >= left, "two turns of one conversation were inside Rasa at once"
        assert elapsed >= 8 * 0.15

        transcript = (await second.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        said = [(m["role"], m["text"]) for m in transcript["messages"]][1:]  # after the welcome
        assert len(said) == 16
        for (role, text), (answer_role, answer) in zip(said[::2], said[1::2], strict=True):
            assert role == "citizen" and answer_role == "bot" and answer == f"Svar på: {text}"
        assert [text for role, text in said if role == "citizen"] == [m for _, _, m in inside]


async def test_a_lock_held_on_one_gateway_makes_the_other_wait(
    gateway_factory: Any, redis_url: str, postgres_url: str
) -> None:
    async with two_gateways(gateway_factory, SlowRasa(0), redis_url=redis_url, database_url=postgres_url,
                            conversation_lock_wait_s=0.5) as (first, second):
        cid, auth = await start(first)
        url = f"/api/conversations/{cid}/messages"
        locks = first.app.state.services.locks  # type: ignore[attr-defined]
        async with locks.get(cid):  # e.g. a slow turn, or a staff action, on the first gateway
            refused = await second.post(url, headers=auth, json={"text": question(1)})
            assert refused.status_code == 503
            assert "busy" in refused.json()["error"]["message"]
            waiting = asyncio.create_task(second.post(url, headers=auth, json={"text": question(2)}))
            await asyncio.sleep(0.2)
            assert not waiting.done()
        answered = await waiting
        assert answered.status_code == 200
        transcript = (await first.get(url, headers=auth)).json()["messages"]
        assert [m["text"] for m in transcript if m["role"] == "citizen"] == [question(2)]  # the 503 stored nothing


HOLDER = """
import asyncio, sys
import redis.asyncio as redis
from gateway.conversation_locks import RedisConversationLocks

async def main() -> None:
    locks = RedisConversationLocks(redis.from_url(sys.argv[1]), sys.argv[2], ttl_s=1.0)
    async with locks.get(sys.argv[3]):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_gateway_that_dies_holding_a_lock_blocks_the_conversation_only_until_the_lease_expires(
    gateway_factory: Any, redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    async with gateway_factory(SlowRasa(0), redis_url=redis_url, database_url=postgres_url,
                               conversation_lock_ttl_s=1, conversation_lock_wait_s=10) as gateway:
        cid, auth = await start(gateway)
        prefix = shared_prefix(gateway.app.state.services.settings.effective_database_url)  # type: ignore[attr-defined]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url, prefix, cid], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            await asyncio.sleep(1.5)  # longer than the lease: the holder renews it while alive
            turn = asyncio.create_task(gateway.post(f"/api/conversations/{cid}/messages", headers=auth,
                                                    json={"text": question(1)}))
            await asyncio.sleep(0.5)
            assert not turn.done(), "the turn did not wait for the other gateway's lock"
            holder.kill()  # the gateway dies: no release, no renewal
            holder.wait()
            died = time.monotonic()
            answered = await turn
            waited = time.monotonic() - died
        finally:
            holder.kill()
            holder.wait()
    assert answered.status_code == 200, answered.text
    assert waited <= 1.0 + 0.5, waited  # the lease's ttl, and a little


async def test_two_gateways_share_the_staff_login_throttle(
    gateway_factory: Any, redis_url: str, postgres_url: str
) -> None:
    """Password guesses alternate between the gateways: the account's delay starts after five
    failures in all (each gateway alone would have seen only three), and the address's cap of
    20 failures counts both gateways' attempts."""
    from tests.gateway.staff_helpers import make_staff

    async with two_gateways(gateway_factory, SlowRasa(0), redis_url=redis_url,
                            database_url=postgres_url) as (first, second):
        make_staff(first.app.state.services.store, "anna", "Anna", "staff")  # type: ignore[attr-defined]
        wrong = {"username": "anna", "password": "fel-lösenord-0123"}
        codes = [(await gw.post("/staff/api/login", json=wrong)).status_code
                 for gw in (first, second, first, second, first, second)]
        assert codes == [401, 401, 401, 401, 401, 429], codes
        refused = await first.post("/staff/api/login", json=wrong)
        assert refused.status_code == 429 and "Vänta" in refused.json()["error"]["message"]
        guesses = [(await gw.post("/staff/api/login", json={"username": f"gissning{n}", "password": "x" * 12}))
                   .status_code for n, gw in zip(range(16), [first, second] * 8, strict=True)]
    assert guesses == [401] * 15 + [429], guesses  # 5 + 15 failures from this address: the cap is 20
