"""The citizen API: what a widget (or anyone) sees when it talks to the gateway."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import rasa_reply

SOURCE = {
    "title": "Bygglov",
    "url": "https://karlstad.se/bygga-bo-och-miljo/bygga-nytt-andra-eller-riva",
    "owner": "Stadsbyggnadsförvaltningen",
    "reviewed": "2026-11-29",
}


async def start(client: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/conversations", json=body or None)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def test_new_conversation_opens_with_ai_disclosure(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        response = await client.post("/api/conversations")
        assert response.status_code == 201
        data = response.json()
        assert len(data["token"]) >= 32 and len(data["conversation_id"]) == 32
        welcome = data["messages"][0]["text"]
        assert "AI-assistent" in welcome and "inte en människa" in welcome
        assert "054-540 00 00" in welcome

        english = (await client.post("/api/conversations", json={"language": "en"})).json()
        assert "AI assistant" in english["messages"][0]["text"]
        assert english["messages"][0]["language"] == "en"


async def test_swedish_question_gets_swedish_answer_with_source(gateway_factory: Any) -> None:
    seen: list[dict[str, Any]] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.headers["Authorization"] == "Bearer test-token-0123456789"
        return httpx.Response(200, json=rasa_reply("Du behöver ofta bygglov.", source=SOURCE))

    async with gateway_factory(rasa) as client:
        cid, auth = await start(client)
        response = await client.post(
            f"/api/conversations/{cid}/messages",
            headers=auth,
            json={"text": "Behöver jag bygglov för ett garage?"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["language"]["code"] == "sv"
        assert body["handoff"] is None
        [answer] = body["messages"]
        assert answer["text"] == "Du behöver ofta bygglov."
        assert answer["source"]["url"] == SOURCE["url"]
        assert answer["machine_translated"] is False
        assert answer["basis_id"]
        assert seen[0]["metadata"] == {"language": "sv"}
        assert seen[0]["sender"] == cid

        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        roles = [m["role"] for m in transcript["messages"]]
        assert roles == ["bot", "citizen", "bot"]
        assert transcript["messages"][1]["text"] == "Behöver jag bygglov för ett garage?"


async def test_personal_numbers_are_masked_before_rasa_and_storage(gateway_factory: Any) -> None:
    seen: list[str] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=rasa_reply("Svar."))

    async with gateway_factory(rasa) as client:
        cid, auth = await start(client)
        text = "Mitt personnummer är 19811218-9876 och min mejl är anna@example.com"
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
        assert response.status_code == 200
        assert "19811218-9876" not in seen[0] and "anna@example.com" not in seen[0]
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        stored = transcript["messages"][1]["text"]
        assert "19811218-9876" not in stored and "anna@example.com" not in stored


async def test_missing_wrong_and_foreign_tokens_are_refused(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start(client)
        other_cid, other_auth = await start(client)
        url = f"/api/conversations/{cid}/messages"

        missing = await client.post(url, json={"text": "hej"})
        assert missing.status_code == 401
        assert "Authorization: Bearer" in missing.json()["error"]["message"]

        wrong = await client.post(url, headers={"Authorization": "Bearer nope"}, json={"text": "hej"})
        assert wrong.status_code == 403

        foreign = await client.get(url, headers=other_auth)
        assert foreign.status_code == 403
        assert "does not belong" in foreign.json()["error"]["message"]

        unknown = await client.get("/api/conversations/" + "0" * 32 + "/messages", headers=auth)
        assert unknown.status_code == 404
        assert "does not exist" in unknown.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   "}, 422, "spaces"),
        ({"text": "a" * 2001}, 413, "2000"),
        ({"txt": "hej"}, 422, "text"),
        ({"text": 42}, 422, "string"),
    ],
)
async def test_bad_messages_get_clear_errors_and_nothing_is_stored(
    gateway_factory: Any, body: dict[str, Any], status: int, phrase: str
) -> None:
    async with gateway_factory() as client:
        cid, auth = await start(client)
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json=body)
        assert response.status_code == status
        assert phrase in response.json()["error"]["message"]
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert [m["role"] for m in transcript["messages"]] == ["bot"]


async def test_malformed_json_is_a_clear_422(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start(client)
        response = await client.post(
            f"/api/conversations/{cid}/messages",
            headers={**auth, "Content-Type": "application/json"},
            content=b'{"text": "hej"',
        )
        assert response.status_code == 422
        assert "not valid JSON" in response.json()["error"]["message"]


async def test_rasa_down_is_503_with_a_message_and_loses_nothing(gateway_factory: Any) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with gateway_factory(down) as client:
        cid, auth = await start(client)
        response = await client.post(
            f"/api/conversations/{cid}/messages", headers=auth, json={"text": "När töms soporna?"}
        )
        assert response.status_code == 503
        assert "Försök igen" in response.json()["error"]["message"]
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert [m["role"] for m in transcript["messages"]] == ["bot"]  # nothing half-written


async def test_english_answer_keeps_swedish_text_for_the_record(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["metadata"]["language"] == "en"
        return httpx.Response(
            200, json=rasa_reply("Answer.", response_id="utter_greet", intent="greet", topic=None)
        )

    async with gateway_factory(rasa) as client:
        cid, auth = await start(client, language="en")
        body = (
            await client.post(
                f"/api/conversations/{cid}/messages", headers=auth, json={"text": "Hello there"}
            )
        ).json()
        assert body["language"]["code"] == "en"
        assert body["messages"][0]["language"] == "en"


async def test_unsupported_language_choice_names_the_supported_ones(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        response = await client.post("/api/conversations", json={"language": "xx"})
        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert "'xx' is not supported" in message and "sv" in message


async def test_rate_limit_says_to_wait(gateway_factory: Any) -> None:
    async with gateway_factory(rate_limit_per_minute=2) as client:
        cid, auth = await start(client)
        url = f"/api/conversations/{cid}/messages"
        for _ in range(2):
            assert (await client.post(url, headers=auth, json={"text": "hej"})).status_code == 200
        limited = await client.post(url, headers=auth, json={"text": "hej"})
        assert limited.status_code == 429
        assert "Wait" in limited.json()["error"]["message"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60  # when the oldest message leaves the minute
