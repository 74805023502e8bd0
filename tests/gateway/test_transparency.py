"""What a citizen sees of the transparency log: "Varför fick jag det här svaret?", the
download of their own records, feedback on an answer, and the AI disclosure."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from gateway.store import basis_records, feedback, messages
from tests.conftest import rasa_reply

REQUIRED_KEYS = {
    "id", "conversation_id", "turn", "created_at", "language", "translation_in", "nlu", "policy",
    "response", "translation_out", "handoff", "release", "prev_hash", "hash",
}


async def start(client: httpx.AsyncClient, language: str | None = None) -> tuple[str, dict[str, str], dict[str, Any]]:
    response = await client.post("/api/conversations", json={"language": language} if language else None)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}, data


async def start_in(client: httpx.AsyncClient, language: str) -> tuple[str, dict[str, str]]:
    """A conversation where the citizen picked ``language`` in the widget."""
    cid, auth, _ = await start(client)
    chosen = await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": language})
    assert chosen.status_code == 200, chosen.text
    return cid, auth


async def ask(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_text(replies: dict[str, dict[str, Any]]) -> Any:
    """A Rasa stand-in that answers by the first keyword found in the message."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": "test-model"})
        message = json.loads(request.content)["message"].lower()
        for keyword, reply in replies.items():
            if keyword in message:
                return httpx.Response(200, json=reply)
        return httpx.Response(200, json=rasa_reply())

    return handler


def points(explanation: dict[str, Any]) -> dict[str, str]:
    return {p["key"]: p["text"] for p in explanation["points"]}


async def test_every_answer_has_a_complete_basis_record(gateway_factory: Any) -> None:
    rasa = by_text({
        "bygglov": rasa_reply("Du behöver ofta bygglov."),
        "hej": rasa_reply("Hej! Vad kan jag hjälpa till med?", intent="greet", topic=None,
                          response_id="utter_greet"),
        "blaha": rasa_reply("Jag förstod inte.", intent="nlu_fallback", topic=None,
                            response_id="utter_default", confidence=0.31),
    })
    async with gateway_factory(rasa) as client:
        cid, auth, _ = await start(client)
        for text in ("Hej", "Behöver jag bygglov?", "blaha blaha", "Jag vill ta livet av mig"):
            await ask(client, cid, auth, text)
        with client.app.state.services.store.connect() as conn:
            answers = conn.execute(
                select(messages).where(messages.c.role == "bot", messages.c.turn >= 1)
            ).all()
            records = {r.id: r.record for r in conn.execute(select(basis_records))}
    assert len(answers) >= 5  # the safety turn adds safety information to the answer
    assert all(a.basis_id in records for a in answers), "an answer without its record"
    assert len(records) == len(answers)
    for record in records.values():
        assert REQUIRED_KEYS <= set(record), REQUIRED_KEYS - set(record)
        assert {"code", "confidence", "method"} <= set(record["language"])
        assert {"model_id", "intent", "confidence", "ranking", "topic", "entities"} <= set(record["nlu"])
        assert {"id", "text_sv", "source"} <= set(record["response"])
        assert {"version", "training_data"} <= set(record["release"])


async def test_why_this_answer_explains_topic_certainty_source_in_swedish(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth, _ = await start(client)
        [answer] = (await ask(client, cid, auth, "Behöver jag bygglov? Ring 070-123 45 67"))["messages"]
        response = await client.get(f"/api/conversations/{cid}/basis/{answer['basis_id']}", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    [explanation] = body["explanations"]
    assert explanation["language"] == "sv" and explanation["machine_translated"] is False
    assert explanation["title"] == "Varför fick du det här svaret?"
    said = points(explanation)
    assert "Bygglov" in said["understood"]  # the topic's human label, not 'faq/bygglov'
    assert said["certainty"] == "Hur säker jag var: mycket säker (93 %)."
    assert "Bra att veta vid bygglov och anmälan" in said["source"]
    # who stands behind the text: exactly what the content file says, nothing more
    signed = client.app.state.services.catalogue.get("utter_faq/bygglov").source
    assert f"skriven av {signed.author}" in said["author"]
    if signed.reviewed_by:
        assert signed.reviewed_by in said["author"]
    else:
        assert "ännu inte granskad av kommunen" in said["author"]
    assert "Stadsbyggnadsförvaltningen" not in said["source"] + said["author"]  # nobody signed for it
    assert "av kommunen" not in said["translation_out"]
    assert "inte maskinöversatt" in said["translation_out"]
    assert "lämnades inte över" in said["handoff"]
    assert "togs bort" in said["personal_data"]
    assert "fattar aldrig beslut" in said["decision"]
    record = body["record"]
    assert record["id"] == answer["basis_id"]
    assert "070-123 45 67" not in json.dumps(record) and "123 45 67" not in json.dumps(record)  # only the masked text
    assert record["user_text_masked"] == "Behöver jag bygglov? Ring [telefon]"


async def test_low_confidence_and_handoff_are_explained_in_english(gateway_factory: Any) -> None:
    unsure = rasa_reply("Maybe this helps.", confidence=0.45, response_id="utter_faq/bygglov",
                        handoff={"reason": "request_human", "acute": False})
    async with gateway_factory(lambda request: httpx.Response(200, json=unsure)) as client:
        cid, auth, _ = await start(client, "en")
        turn = await ask(client, cid, auth, "permit garage?")
        basis_id = turn["messages"][0]["basis_id"]
        response = await client.get(f"/api/conversations/{cid}/basis/{basis_id}", headers=auth)
    assert response.status_code == 200
    said = points(response.json()["explanations"][0])
    assert said["certainty"].startswith("How sure I was: unsure (45%). The answer may therefore be wrong.")
    assert "passed to a person" in said["handoff"] and "you asked to talk to a person" in said["handoff"]
    assert "Building permits" in said["understood"]


async def test_other_language_without_translation_gets_swedish_and_english(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_in(client, "ar")
        turn = await ask(client, cid, auth, "كيف أحصل على رخصة بناء؟")
        basis_id = turn["messages"][0]["basis_id"]
        response = await client.get(f"/api/conversations/{cid}/basis/{basis_id}", headers=auth)
    assert response.status_code == 200
    explanations = response.json()["explanations"]
    assert [e["language"] for e in explanations] == ["sv", "en"]
    said = points(explanations[0])
    assert "kunde inte översättas" in said["translation_in"]
    assert "frågan kunde inte översättas" in said["handoff"]  # handed to a person with an interpreter
    assert response.json()["record"]["handoff"]["reason"] == "language_support"


@dataclass
class _Result:
    text: str
    ok: bool = True


class _Translating:
    """Wraps the real translator; from_swedish marks the text instead of translating it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def from_swedish(self, text: str, lang: str) -> _Result:
        return _Result(f"[{lang}] {text}")

    def languages(self) -> list[Any]:
        return list(self.inner.languages())


async def test_other_language_with_translation_gets_one_machine_translated_explanation(
    gateway_factory: Any,
) -> None:
    async with gateway_factory() as client:
        cid, auth = await start_in(client, "ar")
        turn = await ask(client, cid, auth, "كيف أحصل على رخصة بناء؟")
        services = client.app.state.services
        services.translator = _Translating(services.translator)
        basis_id = turn["messages"][0]["basis_id"]
        response = await client.get(f"/api/conversations/{cid}/basis/{basis_id}", headers=auth)
    [explanation] = response.json()["explanations"]
    assert explanation["language"] == "ar" and explanation["dir"] == "rtl"
    assert explanation["machine_translated"] is True
    assert all(p["text"].startswith("[ar] ") for p in explanation["points"])


async def test_basis_of_another_conversation_is_not_found(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        mine, my_auth, _ = await start(client)
        theirs, their_auth, _ = await start(client)
        their_answer = (await ask(client, theirs, their_auth, "bygglov?"))["messages"][0]["basis_id"]
        foreign = await client.get(f"/api/conversations/{mine}/basis/{their_answer}", headers=my_auth)
        garbage = await client.get(f"/api/conversations/{mine}/basis/not-an-id", headers=my_auth)
        wrong_token = await client.get(f"/api/conversations/{theirs}/basis/{their_answer}", headers=my_auth)
        no_token = await client.get(f"/api/conversations/{theirs}/basis/{their_answer}")
        bad_lang = await client.get(f"/api/conversations/{theirs}/basis/{their_answer}?lang=xx",
                                    headers=their_auth)
    assert foreign.status_code == 404
    assert "no answer with basis id" in foreign.json()["error"]["message"]
    assert garbage.status_code == 404
    assert wrong_token.status_code == 403
    assert no_token.status_code == 401
    assert bad_lang.status_code == 400
    assert "Language 'xx' is not supported" in bad_lang.json()["error"]["message"]


async def test_citizen_downloads_all_records_of_their_conversation(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth, _ = await start(client)
        other, other_auth, _ = await start(client)
        await ask(client, other, other_auth, "bygglov?")
        ids = [(await ask(client, cid, auth, text))["messages"][0]["basis_id"] for text in ("a?", "b?", "c?")]
        await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                          json={"basis_id": ids[1], "value": "down"})
        response = await client.get(f"/api/conversations/{cid}/basis", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="ai-underlag-{cid}.json"'
    body = json.loads(response.content)
    assert [r["id"] for r in body["records"]] == ids  # only this conversation's, in order
    assert [r["feedback"] for r in body["records"]] == [None, "down", None]
    assert body["chain"]["ok"] is True and body["chain"]["records"] == 3
    assert body["records"][1]["prev_hash"] == body["records"][0]["hash"]


async def test_citizen_downloads_their_records_as_readable_text(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth, _ = await start(client)
        ids = [(await ask(client, cid, auth, text))["messages"][0]["basis_id"]
               for text in ("Behöver jag bygglov? Ring 070-123 45 67", "Och för ett plank?")]
        await client.post(f"/api/conversations/{cid}/feedback", headers=auth, json={"basis_id": ids[1], "value": "up"})
        text = await client.get(f"/api/conversations/{cid}/basis", params={"format": "text"}, headers=auth)
        as_json = await client.get(f"/api/conversations/{cid}/basis", params={"format": "json"}, headers=auth)
        en_cid, en_auth, _ = await start(client, "en")
        await ask(client, en_cid, en_auth, "Do I need a building permit?")
        english = await client.get(f"/api/conversations/{en_cid}/basis", params={"format": "text"}, headers=en_auth)
        other = await client.get(f"/api/conversations/{en_cid}/basis", params={"format": "text"}, headers=auth)
        bad = await client.get(f"/api/conversations/{cid}/basis", params={"format": "pdf"}, headers=auth)
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-disposition"] == f'attachment; filename="ai-underlag-{cid}.txt"'
    body = text.text
    assert body.startswith("Underlag för ditt samtal med Karlstads kommuns AI-assistent")
    assert "Kontrollsummorna stämmer: ingen post har ändrats (2 poster)." in body
    assert "Du skrev: Behöver jag bygglov? Ring [telefon]" in body and "070-123" not in body
    assert "Jag tolkade din fråga som att den handlar om: Bygglov." in body  # the explanation itself
    assert "Ditt omdöme: tummen upp" in body
    records = json.loads(as_json.content)["records"]
    assert [f"Kontrollsumma: {r['hash']}" in body for r in records] == [True, True]  # text and JSON match
    assert english.text.startswith("The basis of your conversation") and "You wrote: Do I need" in english.text
    assert other.status_code == 403
    assert bad.status_code == 422 and "format" in bad.json()["error"]["message"]


async def test_feedback_is_one_vote_per_answer_and_can_be_changed(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        cid, auth, _ = await start(client)
        basis_id = (await ask(client, cid, auth, "bygglov?"))["messages"][0]["basis_id"]
        up = await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                               json={"basis_id": basis_id, "value": "up"})
        down = await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                                 json={"basis_id": basis_id, "value": "down"})
        bad = await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                                json={"basis_id": basis_id, "value": "meh"})
        other, other_auth, _ = await start(client)
        foreign = await client.post(f"/api/conversations/{other}/feedback", headers=other_auth,
                                    json={"basis_id": basis_id, "value": "down"})
        with client.app.state.services.store.connect() as conn:
            votes = conn.execute(select(feedback.c.basis_id, feedback.c.value)).all()
            total = conn.execute(select(func.count()).select_from(feedback)).scalar_one()
    assert up.status_code == 200 and up.json() == {"basis_id": basis_id, "value": "up"}
    assert down.status_code == 200 and down.json()["value"] == "down"
    assert bad.status_code == 422 and "value" in bad.json()["error"]["message"]
    assert foreign.status_code == 404
    assert total == 1 and votes[0].value == -1


async def test_first_message_says_it_is_an_ai_in_swedish_and_english(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        _, _, swedish = await start(client)
        _, _, english = await start(client, "en")
    sv = swedish["messages"][0]
    assert sv["language"] == "sv" and sv["role"] == "bot"
    assert "AI-assistent" in sv["text"] and "inte en människa" in sv["text"]
    assert "kan vara fel" in sv["text"] and "054-540 00 00" in sv["text"]
    en = english["messages"][0]
    assert en["language"] == "en"
    assert "AI assistant" in en["text"] and "not a human" in en["text"]
    assert "can be wrong" in en["text"] and "540 00 00" in en["text"]
