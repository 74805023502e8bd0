"""Per-conversation limits on the citizen endpoints besides sending a message: call-back,
feedback, language, transcript and the event stream. Past a limit: 429, a message that names
the limit and how long to wait, and a Retry-After header. A repeated identical call-back
request changes nothing and pokes no staff console."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.gateway.staff_helpers import (
    RasaRecorder,
    served_gateway,
    settings_for,
    start_conversation,
)

NEVER_OPEN = "mon 00:00-00:00"


def limit_of(client: httpx.AsyncClient, kind: str) -> int:
    return int(client.app.state.services.conversation_limits.limits[kind].limit)  # type: ignore[attr-defined]


def assert_limited(response: httpx.Response, what: str) -> None:
    assert response.status_code == 429, response.text
    message = response.json()["error"]["message"]
    assert what in message and "in this conversation" in message and "Wait" in message, message
    assert int(response.headers["Retry-After"]) >= 1


async def handed_over_after_hours(client: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, Any]]:
    cid, auth = await start_conversation(client)
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                 json={"text": "jag vill prata med en människa"})
    body = response.json()
    assert body["handoff"]["status"] == "after_hours", body
    return cid, auth, body


async def test_35_identical_call_back_requests_save_one_and_poke_the_consoles_once(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder(), opening_hours=NEVER_OPEN) as client:
        cid, auth, _ = await handed_over_after_hours(client)
        broker = client.app.state.services.broker  # type: ignore[attr-defined]
        url = f"/api/conversations/{cid}/callback"
        async with broker.subscribe("staff") as consoles:
            answers = [await client.post(url, headers=auth, json={"phone": "070-123 45 67"}) for _ in range(35)]
            pokes = []
            while (poke := await consoles.get(0.2)) is not None:
                pokes.append(poke)
        allowed = limit_of(client, "callback")
        assert [a.status_code for a in answers] == [200] * allowed + [429] * (35 - allowed)
        assert len(answers[0].json()["messages"]) == 1  # "we will call you back"
        assert all(a.json()["messages"] == [] for a in answers[1:allowed])  # repeats: nothing new
        assert all(a.json()["handoff"]["callback_requested"] for a in answers[:allowed])
        assert_limited(answers[-1], "call-back requests")
        assert "10 minutes" in answers[-1].json()["error"]["message"]
        assert [p[1]["type"] for p in pokes] == ["callback"]

        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        system = [m for m in transcript["messages"] if m["role"] == "system" and "ringer upp" in m["text"]]
        assert len(system) == 1


async def test_a_changed_call_back_request_is_saved_again(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder(), opening_hours=NEVER_OPEN) as client:
        cid, auth, _ = await handed_over_after_hours(client)
        url = f"/api/conversations/{cid}/callback"
        first = await client.post(url, headers=auth, json={"phone": "070-123 45 67"})
        again = await client.post(url, headers=auth, json={"phone": "070-123 45 67"})
        changed = await client.post(url, headers=auth, json={"phone": "070-123 45 67", "preferred_time": "efter 9"})
        assert [len(r.json()["messages"]) for r in (first, again, changed)] == [1, 0, 1]


@pytest.mark.parametrize(
    ("kind", "method", "path", "what"),
    [
        ("feedback", "POST", "/feedback", "votes on answers"),
        ("language", "POST", "/language", "language changes"),
        ("transcript", "GET", "/messages", "transcript requests"),
    ],
)
async def test_repeated_requests_are_limited_per_conversation(
    gateway_factory: Any, kind: str, method: str, path: str, what: str
) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_conversation(client)
        turn = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": "bygglov?"})
        basis_id = turn.json()["messages"][0]["basis_id"]
        body = {"feedback": {"basis_id": basis_id, "value": "up"}, "language": {"language": "sv"}}.get(kind)
        url = f"/api/conversations/{cid}{path}"
        allowed = limit_of(client, kind)
        answers = [await client.request(method, url, headers=auth, json=body) for _ in range(allowed + 3)]
        assert [a.status_code for a in answers] == [200] * allowed + [429] * 3
        assert_limited(answers[-1], what)

        other, other_auth = await start_conversation(client)  # another conversation is not affected
        other_body = body
        if kind == "feedback":
            turn = await client.post(f"/api/conversations/{other}/messages", headers=other_auth, json={"text": "hej"})
            other_body = {"basis_id": turn.json()["messages"][0]["basis_id"], "value": "down"}
        response = await client.request(method, f"/api/conversations/{other}{path}", headers=other_auth,
                                        json=other_body)
        assert response.status_code == 200, response.text


async def test_opening_the_event_stream_is_limited_per_conversation(tmp_path: Any) -> None:
    async with served_gateway(settings_for(tmp_path)) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            cid, auth = await start_conversation(client)
            allowed = int(served.services.conversation_limits.limits["events"].limit)
            statuses = []
            for _ in range(allowed + 2):
                async with client.stream("GET", f"/api/conversations/{cid}/events", headers=auth) as response:
                    statuses.append(response.status_code)
                    if response.status_code == 429:
                        await response.aread()
                        assert_limited(response, "event-stream connections")
            assert statuses == [200] * allowed + [429] * 2
