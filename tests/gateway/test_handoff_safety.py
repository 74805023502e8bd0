"""The safety lexicon: the net under the NLU model. It must catch plain Swedish and English
descriptions of danger, stay quiet on idioms and ordinary municipal questions, and work on
the Swedish translation of any other language — in every state of the conversation,
including while a person is already on the way (or answering)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.safety import ACUTE, SafetyLexicon, safety_info
from tests.gateway.staff_helpers import (
    RasaRecorder,
    make_staff,
    settings_for,
    staff_login,
    start_conversation,
)

ROOT = Path(__file__).resolve().parents[2]
LEXICON = SafetyLexicon()

# Written for this test, not taken from the NLU training data.
DANGER = [
    ("Min sambo slog mig igår och jag är rädd", "sensitive/violence_close_relationship"),
    ("min exman hotar mej hela tiden", "sensitive/violence_close_relationship"),
    ("Jag blev misshandlad av min pojkvän", "sensitive/violence_close_relationship"),
    ("pappa slår mamma när han druckit", "sensitive/violence_close_relationship"),
    ("Han sparkade mig i magen", "sensitive/violence_close_relationship"),
    ("my boyfriend hit me again", "sensitive/violence_close_relationship"),
    ("She choked me last night", "sensitive/violence_close_relationship"),
    ("jag tänker ta livet av mig ikväll", "sensitive/suicide"),
    ("Jag vill inte leva längre.", "sensitive/suicide"),
    ("har självmordstankar hela tiden", "sensitive/suicide"),
    ("I keep hurting myself", "sensitive/suicide"),
    ("i want to die", "sensitive/suicide"),
    ("Mina föräldrar slår min lillebror", "sensitive/child_at_risk"),
    ("jag tror att barnen i huset bredvid far illa", "sensitive/child_at_risk"),
    ("my stepdad hits my little sister", "sensitive/child_at_risk"),
    ("grannen säger att han ska döda mig", "sensitive/threat_or_crime"),
    ("det står en man med en kniv utanför, han har en kniv", "sensitive/threat_or_crime"),
    ("someone is threatening me online", "sensitive/threat_or_crime"),
    ("he says he is going to kill me", "sensitive/threat_or_crime"),
    ("vill int leva mer", "sensitive/suicide"),
    ("she swallowed a whole bottle of pills", "sensitive/suicide"),
    ("min sambo tar hela min pension", "sensitive/violence_close_relationship"),
    ("my husband won't let me leave the flat", "sensitive/violence_close_relationship"),
    ("en vuxen ber min tioåring att skicka bilder", "sensitive/child_at_risk"),
    ("grannbarnen får ingen mat, mamma dricker hela tiden", "sensitive/child_at_risk"),
    ("någon hotar att lägga ut bilder på mig", "sensitive/threat_or_crime"),
    ("a man waving a knife outside the library", "sensitive/threat_or_crime"),
    ("how do I file a report of concern about the boy next door", "sensitive/child_at_risk"),
]
QUIET = [
    "Det slår mig att avgiften har höjts",
    "Tanken slog mig när jag läste om detaljplanen",
    "beats me why the bus is late",
    "she hit me up about the football club",
    "He beat me at chess in the library",
    "Jag kan inte vara med på mötet på torsdag",
    "Hur lång tid tar det att få bygglov?",
    "Var slänger jag en trasig kniv och gamla batterier?",
    "Min man vill veta när soptunnan töms",
    "Kan jag döda ogräs med kokande vatten i kolonilotten?",
    "my son needs a place in preschool",
    "Hur slår man på värmen i föreningslokalen?",
    "the rope swing at the playground is broken",
    "my son sends pictures from his school trips",
    "my kid has bruises after football practice",
    "vi vill skicka bilder på vårt barn till förskolans album",
    "kan jag skicka bilder på hålet i gatan",
    "pushed my bike to the recycling centre, is it open",
    "I want to report a concern about the noise from the building site",
]


@pytest.mark.parametrize("text,reason", DANGER)
def test_danger_is_recognised(text: str, reason: str) -> None:
    hit = LEXICON.match(text)
    assert hit is not None, text
    assert hit.reason == reason and hit.acute


@pytest.mark.parametrize("text", QUIET)
def test_idioms_and_ordinary_questions_stay_quiet(text: str) -> None:
    assert LEXICON.match(text) is None


def test_the_hit_names_a_pattern_not_the_citizens_words() -> None:
    hit = LEXICON.match("min sambo slår mig")
    assert hit is not None and "sambo" not in hit.phrase


def _examples() -> tuple[list[str], list[str]]:
    acute, ordinary = [], []
    for path in sorted((ROOT / "nlu_data").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            intent = item.get("intent")
            if not intent or "examples" not in item:
                continue
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.strip().startswith("- ")]
            if intent in ACUTE:
                acute += lines
            elif not intent.startswith("sensitive/") and intent != "request_human":
                ordinary += lines
    return acute, ordinary


def test_lexicon_catches_most_acute_examples_and_no_ordinary_question() -> None:
    """Measured over the editors' examples in nlu_data/: a safety net under the model (which
    learns these examples) must not fire on the FAQ questions people actually ask."""
    acute, ordinary = _examples()
    assert len(acute) > 100 and len(ordinary) > 500
    caught = [text for text in acute if LEXICON.match(text)]
    false_alarms = [text for text in ordinary if LEXICON.match(text)]
    assert false_alarms == [], false_alarms
    assert len(caught) / len(acute) >= 0.9, f"caught {len(caught)}/{len(acute)}"


def test_safety_information_has_every_number_in_swedish_and_english() -> None:
    for lang in ("sv", "en"):
        text = safety_info(lang)
        for number in ("112", "90101", "020-50 50 50", "1177", "114 14"):
            assert number in text, (lang, number)
    assert "Kvinnofridslinjen" in safety_info("en") and "ring 112" in safety_info("sv")


async def test_danger_in_another_language_is_caught_on_its_swedish_translation(tmp_path: Path) -> None:
    """Arabic text, machine-translated to Swedish (a stand-in translator), with an NLU model
    that misses it: the lexicon on the Swedish text still gives safety information first and
    opens an acute ticket."""
    from gateway.main import create_app, default_translator

    @dataclass
    class Result:
        text: str
        ok: bool = True
        engine: str = "table"
        model: str = "table"
        revision: str = "1"
        score: float | None = 1.0
        reason: str | None = None
        source_lang: str = "ar"
        target_lang: str = "sv"

    class TableTranslator:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def to_swedish(self, text: str, lang: str) -> Result:
            return Result("min man slår mig varje dag") if lang == "ar" else self.real.to_swedish(text, lang)

    rasa = RasaRecorder()
    app = create_app(settings_for(tmp_path), translator_factory=lambda s: TableTranslator(default_translator(s)),
                     rasa_transport=httpx.MockTransport(rasa))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            cid, auth = await start_conversation(client, language="ar")
            body = (await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                      json={"text": "زوجي يضربني كل يوم"})).json()
            assert rasa.seen == ["min man slår mig varje dag"]  # Rasa saw Swedish and missed it
            texts = [m["text"] for m in body["messages"]]
            safety = [i for i, t in enumerate(texts) if "112" in t]
            assert safety and safety[0] == 0, texts
            assert body["handoff"]["reason"] == "sensitive/violence_close_relationship"
            assert body["handoff"]["status"] == "waiting"


# ---- danger while a handoff is open (issue 11, point 1) ---------------------------------
# A citizen who already waits for a person (or talks to one) and then writes about danger
# must get the safety information at once, and the ticket must jump to the front of the
# queue: one test per state the ticket can be in.
SAFETY_NUMBERS = ("112", "90101", "020-50 50 50", "1177", "114 14")


class Recorded:
    """Wraps the turn service's publisher: which staff events a turn sent (and still sends them)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        services = client.app.state.services  # type: ignore[attr-defined]
        self.real = services.turns.publish
        self.events: list[tuple[str, dict[str, Any]]] = []
        services.turns.publish = self

    def __call__(self, channel: str, event: dict[str, Any]) -> None:
        self.events.append((channel, event))
        self.real(channel, event)


async def _send(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ticket(client: httpx.AsyncClient, ticket_id: str) -> Any:
    from sqlalchemy import select

    from gateway.store import handoff_tickets

    with client.app.state.services.store.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)).one()


def _records(client: httpx.AsyncClient, cid: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from gateway.store import basis_records

    with client.app.state.services.store.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(basis_records).where(basis_records.c.conversation_id == cid)
                            .order_by(basis_records.c.seq)).all()
    return [dict(r.record) for r in rows]


def _audit(client: httpx.AsyncClient, ticket_id: str) -> list[Any]:
    from sqlalchemy import select

    from gateway.store import audit_events

    with client.app.state.services.store.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(select(audit_events).where(audit_events.c.target == ticket_id)
                                 .order_by(audit_events.c.id)).all())


async def _assert_escalated(
    client: httpx.AsyncClient, body: dict[str, Any], cid: str, ticket_id: str, *, lang: str, status: str,
    reason: str, before: dict[str, Any], rasa: RasaRecorder, rasa_calls: int, recorded: Recorded,
) -> None:
    """What the citizen, the queue, the basis record, the audit trail and the consoles show
    after a danger sign in a conversation whose ticket was already open."""
    # The citizen: safety information first, in their language, in this very response.
    first = body["messages"][0]
    assert first["language"] == lang and first["safety"] is True, body["messages"]
    assert all(number in first["text"] for number in SAFETY_NUMBERS), first["text"]
    assert first["source"]["url"] == "https://karlstad.se/omsorg-och-hjalp/akut-hjalp/"
    assert body["handoff"]["status"] == status and body["handoff"]["ticket_id"] == ticket_id
    # The message stays with staff: it never reaches the assistant.
    assert len(rasa.seen) == rasa_calls, rasa.seen
    # The ticket: acute, first in the queue.
    ticket = _ticket(client, ticket_id)
    assert ticket.priority == 0 and ticket.reason == reason
    if before["reason"] != reason:
        assert ticket.reasoning["reason_before"] == before["reason"]
    queue = (await client.get("/staff/api/queue")).json()["open"]
    assert queue[0]["id"] == ticket_id and queue[0]["priority"] == 0 and queue[0]["escalated_at"]
    if status != "active":
        assert body["handoff"]["position"] == 1
    # The basis record of the safety information says why.
    [record] = [r for r in _records(client, cid) if r["id"] == first["basis_id"]]
    assert record["handoff"] == {"reason": reason, "acute": True}
    safety = record["safety"]
    assert safety["reason"] == reason and safety["detected_by"] == ["lexicon"] and safety["pattern"]
    assert safety["ticket_action"] == "escalated" and safety["sent_to_assistant"] is False
    assert safety["ticket_before"] == before
    # The audit trail and the consoles.
    [event] = [e for e in _audit(client, ticket_id) if e.action == "ticket.escalate"]
    assert event.actor == "citizen" and event.detail["priority_before"] == before["priority"]
    assert ("staff", {"type": "escalated", "conversation_id": cid, "ticket_id": ticket_id}) in recorded.events
    assert ("queue", {"type": "queue"}) in recorded.events
    detail = (await client.get(f"/staff/api/tickets/{ticket_id}")).json()
    marked = [m for m in detail["messages"] if m["acute"]]
    assert [m["role"] for m in marked] == ["citizen"] and marked[0]["acute"]["reason"] == reason
    assert marked[0]["id"] == event.detail["message_id"]
    assert "escalate" in [h["action"].split(".")[-1] for h in detail["history"]]


async def test_danger_while_waiting_in_the_queue_gets_safety_info_and_the_front_of_the_queue(
    gateway_factory: Any,
) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        earlier, earlier_auth = await start_conversation(client)
        await _send(client, earlier, earlier_auth, "jag vill prata med en människa")
        cid, auth = await start_conversation(client)
        waiting = await _send(client, cid, auth, "jag vill prata med en människa")
        ticket_id = waiting["handoff"]["ticket_id"]
        assert waiting["handoff"]["position"] == 2
        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        recorded = Recorded(client)

        body = await _send(client, cid, auth, "jag tänker ta livet av mig")

        await _assert_escalated(client, body, cid, ticket_id, lang="sv", status="waiting",
                                reason="sensitive/suicide",
                                before={"status": "waiting", "priority": 2, "reason": "request_human"},
                                rasa=rasa, rasa_calls=2, recorded=recorded)
        # The one who waited longer is now second.
        again = await _send(client, earlier, earlier_auth, "hallå?")
        assert again["handoff"]["position"] == 2 and again["messages"] == []


async def test_danger_after_hours_gets_safety_info_and_an_acute_call_back_ticket(gateway_factory: Any) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa, opening_hours="mon 00:00-00:00") as client:
        cid, auth = await start_conversation(client, language="en")
        waiting = await _send(client, cid, auth, "I want to talk to a human")
        assert waiting["handoff"]["status"] == "after_hours"
        ticket_id = waiting["handoff"]["ticket_id"]
        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        recorded = Recorded(client)

        body = await _send(client, cid, auth, "nobody answers and I want to die")

        assert "call 112" in body["messages"][0]["text"]
        await _assert_escalated(client, body, cid, ticket_id, lang="en", status="after_hours",
                                reason="sensitive/suicide",
                                before={"status": "after_hours", "priority": 2, "reason": "request_human"},
                                rasa=rasa, rasa_calls=1, recorded=recorded)


async def test_danger_while_an_agent_answers_gets_safety_info_and_marks_the_message(gateway_factory: Any) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        cid, auth = await start_conversation(client)
        waiting = await _send(client, cid, auth, "jag vill prata med en människa")
        ticket_id = waiting["handoff"]["ticket_id"]
        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        assert (await client.post(f"/staff/api/tickets/{ticket_id}/claim")).status_code == 200
        calm, calm_auth = await start_conversation(client)
        await _send(client, calm, calm_auth, "jag vill prata med en människa")  # another one, waiting
        recorded = Recorded(client)

        body = await _send(client, cid, auth, "min sambo slår mig när han druckit")

        assert body["handoff"]["staff_name"] == "Anna"
        await _assert_escalated(client, body, cid, ticket_id, lang="sv", status="active",
                                reason="sensitive/violence_close_relationship",
                                before={"status": "active", "priority": 2, "reason": "request_human"},
                                rasa=rasa, rasa_calls=2, recorded=recorded)
        # Another danger sign in the same ticket: safety information again, marked again.
        second = await _send(client, cid, auth, "han säger att han ska döda mig")
        assert all(n in second["messages"][0]["text"] for n in SAFETY_NUMBERS)
        detail = (await client.get(f"/staff/api/tickets/{ticket_id}")).json()
        assert len([m for m in detail["messages"] if m["acute"]]) == 2
        assert detail["ticket"]["reason"] == "sensitive/violence_close_relationship"  # the first acute reason


async def test_ordinary_message_in_an_open_ticket_changes_nothing(gateway_factory: Any) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        cid, auth = await start_conversation(client)
        waiting = await _send(client, cid, auth, "jag vill prata med en människa")
        body = await _send(client, cid, auth, "Det slår mig att kön är lång")  # an idiom, not violence
        assert body["messages"] == [] and rasa.seen == ["jag vill prata med en människa"]
        ticket = _ticket(client, waiting["handoff"]["ticket_id"])
        assert ticket.priority == 2 and ticket.reason == "request_human"
        assert len(_records(client, cid)) == 1  # only the first answer's record


async def test_danger_in_another_language_while_waiting_is_caught_on_its_swedish_translation(tmp_path: Path) -> None:
    """Arabic, translated to Swedish by a stand-in translator: the lexicon on the Swedish text
    escalates the open ticket, and the citizen gets the safety information (in Swedish and
    English here: no Arabic model on this machine)."""
    from gateway.main import create_app, default_translator

    @dataclass
    class Result:
        text: str
        ok: bool = True
        engine: str = "table"
        model: str = "table"
        revision: str = "1"
        score: float | None = 1.0
        reason: str | None = None
        source_lang: str = "ar"
        target_lang: str = "sv"

    class TableTranslator:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def to_swedish(self, text: str, lang: str) -> Result:
            table = {"أريد التحدث مع إنسان": "jag vill prata med en människa",
                     "زوجي يضربني كل يوم": "min man slår mig varje dag"}
            return Result(table[text]) if lang == "ar" else self.real.to_swedish(text, lang)

    rasa = RasaRecorder()
    app = create_app(settings_for(tmp_path), translator_factory=lambda s: TableTranslator(default_translator(s)),
                     rasa_transport=httpx.MockTransport(rasa))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            cid, auth = await start_conversation(client, language="ar")
            first = await _send(client, cid, auth, "أريد التحدث مع إنسان")
            ticket_id = first["handoff"]["ticket_id"]
            body = await _send(client, cid, auth, "زوجي يضربني كل يوم")
            assert rasa.seen == ["jag vill prata med en människa"]
            safety = [m for m in body["messages"] if m["safety"]]
            assert safety and safety == body["messages"], body["messages"]
            assert all(n in safety[0]["text"] for n in SAFETY_NUMBERS)
            ticket = _ticket(client, ticket_id)
            assert ticket.priority == 0 and ticket.reason == "sensitive/violence_close_relationship"
            [record] = [r for r in _records(client, cid) if r["id"] == safety[0]["basis_id"]]
            assert record["safety"]["texts_checked"] == ["original", "swedish"]
            assert record["text_sv"] == "min man slår mig varje dag"
