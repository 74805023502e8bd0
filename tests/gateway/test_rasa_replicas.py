"""Two Rasa replicas behind one gateway: each conversation goes to one of them (the same one
on every gateway), a replica that fails is left within the same turn, and it gets its
conversations back once it answers again. Every basis record names the replica that answered
and the release of the model it answered with."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.rasa_client import HEALTH_PATH
from gateway.rasa_replicas import RasaReplicas
from gateway.store import basis_records
from tests.conftest import rasa_reply
from tests.gateway.test_releases import model_archive

URLS = ["http://rasa-a:5005", "http://rasa-b:5005"]
HOSTS = ["rasa-a", "rasa-b"]


class TwoRasas:
    """Two fake Rasa servers (by host name), each answering with its own model; a replica
    in ``failing`` fails the way the test says: no connection, HTTP 503 or a timeout."""

    def __init__(self) -> None:
        self.models = {"rasa-a": "model-a", "rasa-b": "model-b"}
        self.failing: dict[str, str] = {}
        self.turns: list[tuple[str, str]] = []  # (host, conversation id), answered or not
        self.status_checks: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.method == "GET" and request.url.path == HEALTH_PATH:
            self.status_checks.append(host)
            if host in self.failing:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(200, json={"ready": True, "model_id": self.models[host]})
        self.turns.append((host, json.loads(request.content)["sender"]))
        failure = self.failing.get(host)
        if failure == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if failure == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if failure == "5xx":
            return httpx.Response(503, json={"error": "not ready"})
        body = rasa_reply("Du behöver bygglov för ett garage.", source=None)
        body["model_id"] = self.models[host]
        return httpx.Response(200, json=body)

    def hosts_for(self, conversation_id: str) -> list[str]:
        return [host for host, cid in self.turns if cid == conversation_id]


async def start(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    created = (await client.post("/api/conversations", json={"language": "sv"})).json()
    return created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}


async def ask(client: httpx.AsyncClient, cid: str, auth: dict[str, str]) -> httpx.Response:
    return await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                             json={"text": "Behöver jag bygglov för ett garage?"})


async def conversation_homed_at(client: httpx.AsyncClient, index: int) -> tuple[str, dict[str, str]]:
    """A new conversation whose first-choice replica is ``index``."""
    replicas: RasaReplicas = client.app.state.services.rasa  # type: ignore[attr-defined]
    for _ in range(40):
        cid, auth = await start(client)
        if replicas.ranking(cid)[0].index == index:
            return cid, auth
    raise AssertionError("40 conversations and none preferred that replica")


def releases_of(client: httpx.AsyncClient, cid: str) -> list[dict[str, Any]]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.store.connect() as conn:
        rows = conn.execute(select(basis_records.c.record).where(basis_records.c.conversation_id == cid)
                            .order_by(basis_records.c.seq)).scalars().all()
    return [dict(row["release"]) for row in rows]


async def test_each_conversation_stays_on_one_replica_and_every_gateway_picks_the_same(
    gateway_factory: Any,
) -> None:
    rasas = TwoRasas()
    async with gateway_factory(rasas, rasa_urls=URLS) as client:
        conversations = [await start(client) for _ in range(12)]
        for _ in range(3):
            for cid, auth in conversations:
                assert (await ask(client, cid, auth)).status_code == 200
        other_gateway = RasaReplicas(list(URLS), "test-token-0123456789")  # a second gateway's view
        used = set()
        for cid, _ in conversations:
            hosts = rasas.hosts_for(cid)
            assert len(hosts) == 3 and len(set(hosts)) == 1, hosts  # all its turns on one replica
            assert hosts[0] == HOSTS[other_gateway.ranking(cid)[0].index]
            assert [r["rasa_replica"] for r in releases_of(client, cid)] == [HOSTS.index(hosts[0])] * 3
            used.add(hosts[0])
        await other_gateway.close()
    assert used == set(HOSTS), "12 conversations should not all hash to one replica"


@pytest.mark.parametrize("failure", ["connect", "5xx", "timeout"])
async def test_a_failing_replica_is_left_within_the_turn_and_the_record_names_who_answered(
    gateway_factory: Any, tmp_path: Path, failure: str
) -> None:
    rasas = TwoRasas()
    model_a = model_archive(tmp_path / "model-aaaa.tar.gz", "model-a", "https://karlstad.se/a")
    model_b = model_archive(tmp_path / "model-bbbb.tar.gz", "model-b", "https://karlstad.se/b")
    async with gateway_factory(rasas, rasa_urls=URLS, model_file=model_a, rasa_retry_after_s=60) as client:
        registry = client.app.state.services.releases  # type: ignore[attr-defined]
        release_a = registry.current_sync()
        release_b = registry.register_sync(model_b, "bbbb", commit=None, change_set_id=None,
                                           author="anna", publisher="bo", figures={})
        cid, auth = await conversation_homed_at(client, 0)
        assert (await ask(client, cid, auth)).status_code == 200

        rasas.failing["rasa-a"] = failure
        started = time.monotonic()
        answered = await ask(client, cid, auth)
        assert answered.status_code == 200, answered.text
        assert answered.json()["messages"][0]["text"] == "Du behöver bygglov för ett garage."
        assert time.monotonic() - started < 2
        assert rasas.hosts_for(cid) == ["rasa-a", "rasa-a", "rasa-b"]  # the same turn went on to b

        again = await ask(client, cid, auth)  # a replica marked down is not asked again at once
        assert again.status_code == 200
        assert rasas.hosts_for(cid)[-1] == "rasa-b" and rasas.hosts_for(cid).count("rasa-a") == 2

        releases = releases_of(client, cid)
        assert [(r["rasa_replica"], r["model_release"]) for r in releases] == [
            (0, release_a.id), (1, release_b.id), (1, release_b.id)]
        assert all("rasa-" not in json.dumps(r) for r in releases)  # no server address for citizens


async def test_a_replica_that_comes_back_gets_its_conversations_back(gateway_factory: Any) -> None:
    rasas = TwoRasas()
    async with gateway_factory(rasas, rasa_urls=URLS, rasa_retry_after_s=0.3) as client:
        cid, auth = await conversation_homed_at(client, 0)
        rasas.failing["rasa-a"] = "connect"
        assert (await ask(client, cid, auth)).status_code == 200
        await asyncio.sleep(0.4)  # past the back-off: checked, still down
        assert (await ask(client, cid, auth)).status_code == 200
        await asyncio.sleep(0.05)
        assert "rasa-a" in rasas.status_checks
        assert rasas.hosts_for(cid)[-1] == "rasa-b"

        rasas.failing.clear()
        back_at = time.monotonic()
        while rasas.hosts_for(cid)[-1] != "rasa-a":
            assert time.monotonic() - back_at < 3, "replica a never got its conversation back"
            assert (await ask(client, cid, auth)).status_code == 200
            await asyncio.sleep(0.1)
        ready = (await client.get("/readyz")).json()["checks"]["rasa"]
        assert [r["ok"] for r in ready["replicas"]] == [True, True]


async def test_with_every_replica_down_the_citizen_gets_a_503_and_nothing_is_stored(gateway_factory: Any) -> None:
    rasas = TwoRasas()
    async with gateway_factory(rasas, rasa_urls=URLS) as client:
        cid, auth = await start(client)
        rasas.failing.update({"rasa-a": "connect", "rasa-b": "5xx"})
        refused = await ask(client, cid, auth)
        assert refused.status_code == 503
        assert refused.json()["error"]["message"]
        assert sorted(rasas.hosts_for(cid)) == HOSTS  # both were tried
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert [m["role"] for m in transcript["messages"]] == ["bot"]  # the welcome only
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["rasa"]["ok"] is False

        rasas.failing.clear()  # both back: the next turn is answered
        assert (await ask(client, cid, auth)).status_code == 200


async def test_the_single_url_setting_still_works(gateway_factory: Any) -> None:
    rasas = TwoRasas()
    async with gateway_factory(rasas, rasa_url="http://rasa-b:5005") as client:
        cid, auth = await start(client)
        assert (await ask(client, cid, auth)).status_code == 200
        assert rasas.hosts_for(cid) == ["rasa-b"]
        assert releases_of(client, cid)[0]["rasa_replica"] == 0


def test_replicas_are_read_from_the_environment_as_a_list_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.settings import Settings

    monkeypatch.setenv("GATEWAY_RASA_URLS", "http://127.0.0.1:5005, http://127.0.0.1:5006")
    assert Settings().effective_rasa_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    monkeypatch.setenv("GATEWAY_RASA_URLS", '["http://127.0.0.1:5007"]')
    assert Settings().effective_rasa_urls == ["http://127.0.0.1:5007"]
    monkeypatch.delenv("GATEWAY_RASA_URLS")
    monkeypatch.setenv("GATEWAY_RASA_URL", "http://127.0.0.1:5008")
    assert Settings().effective_rasa_urls == ["http://127.0.0.1:5008"]
    with pytest.raises(ValueError, match="'127.0.0.1:5009' is not an http"):
        Settings(rasa_urls="http://127.0.0.1:5005,127.0.0.1:5009")
