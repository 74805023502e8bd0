"""When the detector cannot tell two languages of one script apart (Amharic/Tigrinya,
Serbian/Russian/Ukrainian), the citizen is asked which one they write, in those languages,
with a button per language, instead of being answered in a guessed language (issue 17).
Real gateway, real detector and notices; Rasa is an httpx mock that counts its messages."""
from __future__ import annotations

from typing import Any

import httpx

from gateway.language_question import choice_payload
from tests.conftest import rasa_reply
from translation.notices import Notices

GREETING = "ሰላም"  # "hello" in both Amharic and Tigrinya
TIGRINYA = "ሓገዝ የድልየኒ እዩ"  # "I need help": Tigrinya-only word shapes


def counting_rasa(sent: list[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": "test-model"})
        sent.append(request.content.decode())
        return httpx.Response(200, json=rasa_reply())

    return handler


async def start(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    created = (await client.post("/api/conversations")).json()
    return created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}


async def say(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def question_buttons(messages: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {m["language"]: b for m in messages for b in m["buttons"]
            if b["payload"].startswith("/choose_language")}


async def test_unsure_between_amharic_and_tigrinya_asks_in_both_and_answers_the_choice(
    gateway_factory: Any,
) -> None:
    notices = Notices.load()
    sent: list[str] = []
    async with gateway_factory(counting_rasa(sent)) as client:
        names = {lang["code"]: lang["name"] for lang in (await client.get("/api/languages")).json()["languages"]}
        cid, auth = await start(client)
        asked = await say(client, cid, auth, GREETING)

        # Asked, not answered: nothing went to Rasa, the conversation keeps its language.
        assert sent == []
        assert asked["language"]["code"] == "sv" and asked["language"]["method"] == "unsure"
        buttons = question_buttons(asked["messages"])
        assert set(buttons) == {"am", "ti"}
        for code in ("am", "ti"):
            line = next(m for m in asked["messages"] if m["language"] == code)
            assert line["text"] == notices.get("choose_language", code)
            assert buttons[code] == {"title": names[code], "payload": choice_payload(code)}
        # ... with the question in Swedish and English beside the unchecked lines.
        said = [(m["language"], m["text"]) for m in asked["messages"]]
        assert ("sv", notices.get("choose_language", "sv")) in said
        assert ("en", notices.get("choose_language", "en")) in said

        # The citizen presses "አማርኛ": Amharic is now their language and the greeting is
        # handled in it (no models here, so the honest no-translation path), not asked again.
        chosen = await say(client, cid, auth, choice_payload("am"))
        assert chosen["language"]["code"] == "am" and chosen["language"]["method"] == "explicit"
        assert chosen["messages"] and not question_buttons(chosen["messages"])
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert transcript["language"]["code"] == "am"
        again = await say(client, cid, auth, GREETING)
        assert again["language"]["code"] == "am" and not question_buttons(again["messages"])


async def test_conversation_language_among_the_choices_is_kept_without_asking(gateway_factory: Any) -> None:
    async with gateway_factory(counting_rasa([])) as client:
        cid, auth = await start(client)
        first = await say(client, cid, auth, TIGRINYA)
        assert first["language"]["code"] == "ti"
        greeting = await say(client, cid, auth, GREETING)
    assert greeting["language"]["code"] == "ti"
    assert not question_buttons(greeting["messages"])


async def test_a_typed_payload_naming_no_offered_language_is_an_ordinary_message(gateway_factory: Any) -> None:
    sent: list[str] = []
    async with gateway_factory(counting_rasa(sent)) as client:
        cid, auth = await start(client)
        reply = await say(client, cid, auth, '/choose_language{"language":"xx"}')
    assert len(sent) == 1 and reply["language"]["code"] != "xx"
