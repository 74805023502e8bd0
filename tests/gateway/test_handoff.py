"""Sensitive conversations reach a person: detection, safety information, the ticket,
the queue, and what the citizen sees while they wait (or outside opening hours)."""
from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from gateway.store import handoff_tickets
from tests.conftest import rasa_reply
from tests.gateway.staff_helpers import (
    RasaRecorder,
    handoff_reply,
    make_staff,
    staff_login,
    start_conversation,
)

CRISIS_NUMBERS = ("112", "90101", "020-50 50 50", "1177")
NEVER_OPEN = "mon 00:00-00:00"


async def send(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tickets(client: httpx.AsyncClient) -> list[Any]:
    with client.app.state.services.store.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(select(handoff_tickets).order_by(handoff_tickets.c.created_at)).all())


async def test_violence_missed_by_nlu_gets_safety_info_first_then_a_waiting_ticket(gateway_factory: Any) -> None:
    # Rasa (mocked) mistakes the message for a FAQ question: the lexicon still hands over.
    async with gateway_factory() as client:
        cid, auth = await start_conversation(client)
        body = await send(client, cid, auth, "min sambo slår mig")

        first = body["messages"][0]
        assert all(number in first["text"] for number in CRISIS_NUMBERS), first["text"]
        assert first["source"]["url"] == "https://karlstad.se/omsorg-och-hjalp/akut-hjalp/"
        assert body["handoff"]["status"] == "waiting"
        assert body["handoff"]["reason"] == "sensitive/violence_close_relationship"
        assert body["handoff"]["position"] == 1

        [ticket] = tickets(client)
        assert ticket.priority == 0 and ticket.language == "sv"
        assert ticket.reasoning["safety_lexicon"] == "sensitive/violence_close_relationship"
        assert ticket.reasoning["intent_ranking"][0]["name"] == "faq"  # what the bot considered


async def test_english_self_harm_gets_english_safety_info(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_conversation(client, language="en")
        body = await send(client, cid, auth, "I don't want to live anymore")
        first = body["messages"][0]
        assert first["language"] == "en" and "call 112" in first["text"]
        assert body["handoff"]["reason"] == "sensitive/suicide"


async def test_idiom_is_not_mistaken_for_violence(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_conversation(client)
        body = await send(client, cid, auth, "Det slår mig att avgiften för bygglov är hög")
        assert body["handoff"] is None
        assert tickets(client) == []


async def test_request_human_is_queued_behind_acute_tickets(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        calm, calm_auth = await start_conversation(client)
        first = await send(client, calm, calm_auth, "jag vill prata med en människa")
        assert first["handoff"]["status"] == "waiting" and first["handoff"]["reason"] == "request_human"
        assert not any("112" in m["text"] for m in first["messages"]), "no crisis numbers for a plain request"
        assert first["handoff"]["position"] == 1

        acute, acute_auth = await start_conversation(client)
        urgent = await send(client, acute, acute_auth, "min pojkvän misshandlar mig")
        assert urgent["handoff"]["position"] == 1  # acute goes first

        again = await send(client, calm, calm_auth, "hallå?")
        assert again["handoff"]["position"] == 2


async def test_while_handed_over_messages_go_to_staff_not_rasa(gateway_factory: Any) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        cid, auth = await start_conversation(client)
        await send(client, cid, auth, "jag vill prata med en människa")
        assert len(rasa.seen) == 1
        body = await send(client, cid, auth, "Det gäller min mammas hemtjänst")
        assert rasa.seen == ["jag vill prata med en människa"]
        assert body["messages"] == []
        assert body["handoff"]["status"] == "waiting" and body["handoff"]["position"] == 1

        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        [ticket] = (await client.get("/staff/api/queue")).json()["open"]
        detail = (await client.get(f"/staff/api/tickets/{ticket['id']}")).json()
        assert detail["messages"][-1]["text"] == "Det gäller min mammas hemtjänst"
        assert detail["messages"][-1]["role"] == "citizen"


async def test_after_hours_the_ticket_exists_and_the_citizen_can_leave_a_number(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder(), opening_hours=NEVER_OPEN) as client:
        cid, auth = await start_conversation(client)
        body = await send(client, cid, auth, "jag vill prata med en människa")
        assert body["handoff"]["status"] == "after_hours"
        assert body["handoff"]["callback_requested"] is False

        later = await send(client, cid, auth, "är någon där?")
        assert later["handoff"]["status"] == "after_hours"  # never null, never silence

        bad = await client.post(f"/api/conversations/{cid}/callback", headers=auth, json={"phone": "ring mig"})
        assert bad.status_code == 422 and "phone" in bad.json()["error"]["message"]

        saved = await client.post(
            f"/api/conversations/{cid}/callback", headers=auth,
            json={"phone": "070-123 45 67", "name": "Sara", "preferred_time": "efter 9"},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["handoff"]["callback_requested"] is True
        [thanks] = saved.json()["messages"]
        assert thanks["role"] == "system" and "ringer upp dig" in thanks["text"]

        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        [ticket] = (await client.get("/staff/api/queue")).json()["open"]
        assert ticket["callback_requested"] is True and "070-123 45 67" not in json.dumps(ticket)
        # The number reaches the person who takes the ticket (tests/gateway/test_callback_privacy.py
        # shows it reaches nobody else).
        assert (await client.post(f"/staff/api/tickets/{ticket['id']}/claim")).status_code == 200
        mine = (await client.get(f"/staff/api/tickets/{ticket['id']}")).json()["ticket"]
        assert mine["callback"]["phone"] == "070-123 45 67"
        assert mine["callback"]["preferred_time"] == "efter 9"


async def test_callback_without_an_open_handoff_is_refused(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_conversation(client)
        response = await client.post(
            f"/api/conversations/{cid}/callback", headers=auth, json={"phone": "054-540 00 00"}
        )
        assert response.status_code == 409
        assert "no open handoff" in response.json()["error"]["message"]


async def test_repeated_fallback_from_rasa_opens_a_normal_priority_ticket(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        json.loads(request.content)
        return httpx.Response(200, json=rasa_reply(
            "Jag förstår inte. Vill du prata med en person?", response_id="utter_offer_human",
            intent="nlu_fallback", topic=None, handoff={"reason": "repeated_fallback", "acute": False}))

    async with gateway_factory(rasa) as client:
        cid, auth = await start_conversation(client)
        body = await send(client, cid, auth, "blorf gnarp")
        assert body["handoff"]["reason"] == "repeated_fallback"
        [ticket] = tickets(client)
        assert ticket.priority == 2


async def test_acute_handoff_from_rasa_gets_safety_info_before_the_bot_answer(gateway_factory: Any) -> None:
    def rasa(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=handoff_reply("sensitive/suicide", True, "Tack för att du berättar."))

    async with gateway_factory(rasa) as client:
        cid, auth = await start_conversation(client)
        body = await send(client, cid, auth, "allt känns mörkt")
        texts = [m["text"] for m in body["messages"]]
        assert "90101" in texts[0] and texts[-1] == "Tack för att du berättar."
        assert body["handoff"]["reason"] == "sensitive/suicide"
