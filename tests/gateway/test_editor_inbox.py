"""The editors' inbox and the assign/dismiss actions (gateway/editor/, routes/editor.py),
through the real gateway with a Rasa stand-in that misses on purpose."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.editor.tables import change_examples
from tests.gateway.editor_helpers import fakes, login_as, missing_rasa, say, services_of

INBOX = "/staff/api/editor/inbox"


def items_by_text(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["text_sv"].lower().rstrip("?"): i for i in body["items"]}


async def test_inbox_groups_masked_misses_and_leaves_out_sensitive_conversations(
    gateway_factory: Any, tmp_path: Path
) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        await say(client, ["När öppnar det konstiga stället"])
        await say(client, ["när öppnar det konstiga stället?"])
        await say(client, ["ring mig på 070-123 45 67 om tunnan"])
        # Misses in conversations that were, or later became, sensitive never show.
        await say(client, ["vad gäller för skrotbilen på gården", "varför har mitt ärende inte besvarats"])
        await say(client, ["hur funkar grejen med lapparna", "jag vill ta livet av mig"])
        await login_as(client, "eva", "editor")
        response = await client.get(INBOX)
        assert response.status_code == 200, response.text
        items = items_by_text(response.json())

    assert set(items) == {"när öppnar det konstiga stället", "ring mig på [telefon] om tunnan"}
    grouped = items["när öppnar det konstiga stället"]
    assert grouped["count"] == 2 and grouped["reason"] == "fallback" and grouped["language"] == "sv"
    assert set(grouped) >= {"id", "text", "text_sv", "language", "reason", "count", "predicted_topic", "confidence"}
    masked = items["ring mig på [telefon] om tunnan"]
    assert "070" not in masked["text"] and "[telefon]" in masked["text"]


async def test_inbox_reasons_and_filters(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        await say(client, ["jag letar efter en bok om svampar"])  # "Menade du …?" and nothing chosen
        chose = await say(client, ["en bok om fåglar", '/choose_topic{"topic": "faq/bibliotek"}'])
        await say(client, ["när öppnar simhallen i Sundsta"])  # answered, unsure
        voted = await say(client, ["behöver jag bygglov för ett plank"])  # answered, then thumbs down
        basis_id = next(m["basis_id"] for m in voted[0]["messages"] if m.get("basis_id"))
        down = await client.post(f"/api/conversations/{voted[0]['cid']}/feedback", headers=voted[0]["auth"],
                                 json={"basis_id": basis_id, "value": "down"})
        assert down.status_code in (200, 201, 204), down.text
        await say(client, ["where can I find the thing for the bins"], language="en")
        await say(client, ["vem sköter skylten vid torget", "jag vill prata med en människa"])
        await login_as(client, "eva", "editor")
        everything = items_by_text((await client.get(INBOX)).json())
        english = (await client.get(INBOX, params={"language": "en"})).json()["items"]
        thumbs = (await client.get(INBOX, params={"reason": "thumbs_down"})).json()["items"]
        swim = (await client.get(INBOX, params={"topic": "faq/simhall"})).json()["items"]
        future = (await client.get(INBOX, params={"since": "2099-01-01"})).json()["items"]
        bad = await client.get(INBOX, params={"reason": "boredom"})
        quality = (await client.get("/staff/api/editor/quality")).json()["items"]
        assert chose  # the conversation where a topic was picked

    assert everything["jag letar efter en bok om svampar"]["reason"] == "did_you_mean"
    assert "en bok om fåglar" not in everything
    assert everything["när öppnar simhallen i sundsta"]["reason"] == "low_confidence"
    assert everything["när öppnar simhallen i sundsta"]["predicted_topic"] == "faq/simhall"
    assert everything["när öppnar simhallen i sundsta"]["confidence"] == 0.45
    assert everything["behöver jag bygglov för ett plank"]["reason"] == "thumbs_down"
    assert everything["vem sköter skylten vid torget"]["reasons"] == ["fallback", "handoff_after_miss"]
    assert "jag vill prata med en människa" not in everything
    assert [i["language"] for i in english] == ["en"]
    assert [i["text"] for i in thumbs] == ["behöver jag bygglov för ett plank"]
    assert [i["predicted_topic"] for i in swim] == ["faq/simhall"]
    assert future == []
    rows = {(r["topic"], r["language"]): r for r in quality}
    assert rows[("faq/simhall", "sv")]["low_confidence"] == 1 and rows[("faq/simhall", "sv")]["miss_share"] == 1.0
    assert rows[("faq/bygglov", "sv")]["thumbs_down"] == 1
    assert rows[("faq/bibliotek", "sv")]["did_you_mean"] == 1  # the other "Menade du" got a choice
    assert rows[("request_human", "sv")]["handoffs"] == 1
    assert bad.status_code == 422 and "did_you_mean" in bad.json()["error"]["message"]


async def test_assign_refuses_personal_data_and_test_sentences(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        await say(client, ["var lånar man grejer utan att köpa dem"])
        await login_as(client, "eva", "editor")
        item = (await client.get(INBOX)).json()["items"][0]
        url = f"{INBOX}/{item['id']}/assign"
        refusals = {
            "personnummer": await client.post(url, json={"topic": "faq/bibliotek",
                                                          "text": "lånekort till 19121212-1212"}),
            "e-mail": await client.post(url, json={"topic": "faq/bibliotek", "text": "mejla eva@example.com om lån"}),
            "address": await client.post(url, json={"topic": "faq/bibliotek",
                                                    "text": "biblioteket nära Drottninggatan 12"}),
            "test sentence": await client.post(url, json={"topic": "faq/bibliotek",
                                                          "text": "Vilka tider är stadsbiblioteket öppet?"}),
            "near copy": await client.post(url, json={"topic": "faq/bibliotek",
                                                      "text": "vilka tider är stadsbiblioteket öppet idag"}),
            "other topic": await client.post(url, json={"topic": "faq/simhall", "text": "bibliotek?"}),
            "unknown topic": await client.post(url, json={"topic": "faq/finns_inte", "text": "låna grejer"}),
        }
        still_there = [i["id"] for i in (await client.get(INBOX)).json()["items"]]

    for what, response in refusals.items():
        assert response.status_code == 422, (what, response.text)
    messages = {k: r.json()["error"]["message"] for k, r in refusals.items()}
    assert "personuppgifter" in messages["personnummer"] and "personal data" in messages["personnummer"]
    assert "e-post" in messages["e-mail"] and "gatuadress" in messages["address"]
    assert "testmeningarna" in messages["test sentence"] and "held-out" in messages["near copy"]
    assert "faq/bibliotek" in messages["other topic"]
    assert item["id"] in still_there  # nothing was saved


async def test_assigned_text_keeps_no_link_to_the_conversation(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        turns = await say(client, ["var lånar man grejer utan att köpa dem"])
        await say(client, ["var lånar man grejer utan att köpa dem!"])
        await login_as(client, "eva", "editor", "Eva Redaktör")
        item = (await client.get(INBOX)).json()["items"][0]
        assert item["count"] == 2
        assigned = await client.post(f"{INBOX}/{item['id']}/assign",
                                     json={"topic": "faq/bibliotek", "text": "var lånar man saker utan att köpa dem"})
        assert assigned.status_code == 201, assigned.text
        again = await client.post(f"{INBOX}/{item['id']}/assign",
                                  json={"topic": "faq/bibliotek", "text": "något annat om lån"})
        after = (await client.get(INBOX)).json()["items"]
        changes = (await client.get("/staff/api/editor/changes")).json()["items"]
        detail = (await client.get(f"/staff/api/editor/changes/{assigned.json()['change_set']}")).json()
        with services_of(client).store.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(change_examples))]

    assert after == [] and again.status_code == 404
    assert [(c["state"], c["author"]) for c in changes] == [("draft", "Eva Redaktör")]
    assert detail["examples"] == [{"topic": "faq/bibliotek", "language": "sv",
                                   "text": "var lånar man saker utan att köpa dem"}]
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert turns[0]["cid"] not in stored
    assert set(rows[0]) == {"id", "change_set_id", "topic", "language", "text", "author"}


async def test_dismiss_removes_the_item(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        await say(client, ["vad tycker du om fotboll"])
        await login_as(client, "eva", "editor")
        item = (await client.get(INBOX)).json()["items"][0]
        wrong = await client.post(f"{INBOX}/{item['id']}/dismiss", json={"why": "boring"})
        ok = await client.post(f"{INBOX}/{item['id']}/dismiss", json={"why": "out_of_scope"})
        after = (await client.get(INBOX)).json()["items"]
    assert wrong.status_code == 422 and ok.status_code == 200 and after == []


async def test_only_editors_and_publishers_use_the_workspace(gateway_factory: Any, tmp_path: Path) -> None:
    async with gateway_factory(missing_rasa, **fakes(tmp_path).settings()) as client:
        anonymous = await client.get(INBOX)
        results = {}
        for role in ("staff", "auditor", "editor", "publisher", "admin"):
            await login_as(client, f"user-{role}", role)
            results[role] = (await client.get(INBOX)).status_code
        await login_as(client, "user-staff", "staff")
        forbidden = await client.get("/staff/api/editor/changes")
        me = await client.get("/staff/api/me")
    assert anonymous.status_code == 401
    assert results == {"staff": 403, "auditor": 403, "editor": 200, "publisher": 200, "admin": 200}
    assert "editor" in forbidden.json()["error"]["message"]
    assert me.status_code == 200


async def test_a_fallback_shows_the_topic_the_model_leaned_towards_not_the_threshold(
        gateway_factory: Any, tmp_path: Path) -> None:
    """Rasa's fallback reports the threshold (0.45) as its confidence; the inbox shows the best
    guess behind it: the faq intent's 0.31 and the selector's best topic."""
    import httpx

    from tests.conftest import rasa_reply

    def leaning(request: httpx.Request) -> httpx.Response:
        body = rasa_reply("Jag är inte säker på att jag förstod.", response_id="utter_ask_rephrase",
                          intent="nlu_fallback", topic=None, confidence=0.45)
        body["parse"]["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.45},
                                           {"name": "faq", "confidence": 0.31}, {"name": "greet", "confidence": 0.2}]
        body["parse"]["response_selector"]["ranking"] = [{"topic": "faq/bibliotek", "confidence": 0.62},
                                                         {"topic": "faq/simhall", "confidence": 0.2}]
        return httpx.Response(200, json=body)

    async with gateway_factory(leaning, **fakes(tmp_path).settings()) as client:
        await say(client, ["vilken hylla har deckarna"])
        await login_as(client, "eva", "editor")
        items = (await client.get("/staff/api/editor/inbox")).json()["items"]
    assert [(i["reason"], i["predicted_topic"], i["confidence"]) for i in items] == [
        ("fallback", "faq/bibliotek", 0.31)]
