"""The auditor's view: who may see it, search, a day's export, the figures per topic and
language, and the chain check (API and `make audit-verify`) finding edited and deleted records."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update

from gateway import basis, basis_queries
from gateway.store import audit_events, basis_records
from tests.conftest import ROOT, rasa_reply
from tests.gateway.staff_helpers import make_staff, staff_login
from tests.pg import temporary_database

DAY_1 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY_2 = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)

REPLIES = {
    "osäker": rasa_reply("Kanske bygglov.", confidence=0.45),
    "bygglov": rasa_reply("Du behöver ofta bygglov."),
    "blaha": rasa_reply("Jag förstod inte, kan du säga det på ett annat sätt?", intent="nlu_fallback",
                        topic=None, response_id="utter_default", confidence=0.3),
    "parking": rasa_reply("Parking costs money.", response_id="utter_faq/parkering_avgift",
                          topic="faq/parkering_avgift", confidence=0.88),
    "human": rasa_reply("I will pass you to a person.", intent="request_human", topic=None,
                        response_id="utter_handoff", handoff={"reason": "request_human", "acute": False}),
    "livet": rasa_reply("Du är inte ensam.", intent="sensitive", topic="sensitive/suicide",
                        response_id="utter_sensitive/suicide",
                        handoff={"reason": "sensitive/suicide", "acute": True}),
}


def rasa(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={"ready": True, "model_id": "test-model"})
    message = json.loads(request.content)["message"].lower()
    for keyword, reply in REPLIES.items():
        if keyword in message:
            return httpx.Response(200, json=reply)
    return httpx.Response(200, json=rasa_reply())


async def conversation(
    client: httpx.AsyncClient, language: str, texts: list[str]
) -> tuple[str, dict[str, str], list[str]]:
    created = (await client.post("/api/conversations", json={"language": language})).json()
    cid, auth = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
    basis_ids = []
    for text in texts:
        response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
        assert response.status_code == 200, response.text
        basis_ids += [m["basis_id"] for m in response.json()["messages"]]
    return cid, auth, basis_ids


async def scenario(client: httpx.AsyncClient) -> dict[str, Any]:
    """Day 1: three conversations with known outcomes; day 2: one more."""
    turns = client.app.state.services.turns
    turns.clock = lambda: DAY_1
    a, a_auth, a_ids = await conversation(client, "sv", ["Behöver jag bygglov?", "osäker på bygglov", "blaha blaha"])
    b, b_auth, b_ids = await conversation(client, "en", ["parking fee?", "I want a human"])
    c, _, c_ids = await conversation(client, "sv", ["Jag vill ta livet av mig"])
    turns.clock = lambda: DAY_2
    d, _, d_ids = await conversation(client, "sv", ['=HYPERLINK("http://evil.example")'])
    for cid, auth, basis_id, value in ((a, a_auth, a_ids[0], "up"), (b, b_auth, b_ids[0], "down")):
        voted = await client.post(f"/api/conversations/{cid}/feedback", headers=auth,
                                  json={"basis_id": basis_id, "value": value})
        assert voted.status_code == 200
    return {"a": a, "b": b, "c": c, "d": d, "ids": a_ids + b_ids + c_ids + d_ids}


async def auditor(client: httpx.AsyncClient, role: str = "auditor", username: str = "greta") -> None:
    make_staff(client.app.state.services.store, username, "Greta Granskare", role)
    await staff_login(client, username)


async def test_audit_needs_an_auditor_or_admin_session(gateway_factory: Any) -> None:
    async with gateway_factory(rasa) as client:
        anonymous = await client.get("/staff/api/audit/records")
        await auditor(client, role="staff", username="anna")
        staff = await client.get("/staff/api/audit/records")
        client.cookies.clear()
        await auditor(client, role="admin", username="adam")
        admin = await client.get("/staff/api/audit/records")
        client.cookies.clear()
        await auditor(client)
        allowed = await client.get("/staff/api/audit/records")
    assert anonymous.status_code == 401
    assert staff.status_code == 403 and "auditor" in staff.json()["error"]["message"]
    assert admin.status_code == 200 and allowed.status_code == 200


async def test_search_by_time_topic_language_and_handoff(gateway_factory: Any) -> None:
    async with gateway_factory(rasa) as client:
        await scenario(client)
        await auditor(client)

        async def total(**params: Any) -> int:
            response = await client.get("/staff/api/audit/records", params=params)
            assert response.status_code == 200, response.text
            return int(response.json()["total"])

        assert await total() == 8
        assert await total(day="2026-11-20") == 7
        assert await total(**{"from": "2026-11-21T00:00:00+01:00", "to": "2026-11-22T00:00:00+01:00"}) == 1
        assert await total(topic="faq/bygglov") == 3  # two on day 1, one on day 2
        assert await total(topic="faq/bygglov", day="2026-11-20") == 2
        assert await total(language="en") == 2
        assert await total(handoff="true") == 3  # request_human + safety info and answer
        assert await total(handoff="false", day="2026-11-20") == 4
        page = (await client.get("/staff/api/audit/records", params={"page_size": 3, "page": 3})).json()
        assert len(page["items"]) == 2 and page["total"] == 8
        assert {"record", "topic", "language", "confidence", "handoff_reason", "feedback"} <= set(page["items"][0])
        backwards = await client.get("/staff/api/audit/records", params={"from": "2026-11-22", "to": "2026-11-21"})
        both = await client.get("/staff/api/audit/records", params={"from": "2026-11-21", "day": "2026-11-21"})
        bad_language = await client.get("/staff/api/audit/records", params={"language": "Svenska"})
    assert backwards.status_code == 400 and "must be before" in backwards.json()["error"]["message"]
    assert both.status_code == 400 and "either 'day'" in both.json()["error"]["message"]
    assert bad_language.status_code == 422


async def test_auditor_exports_a_days_records_as_jsonl_and_csv_and_it_is_logged(gateway_factory: Any) -> None:
    async with gateway_factory(rasa) as client:
        ids = (await scenario(client))["ids"]
        await auditor(client)
        jsonl = await client.get("/staff/api/audit/export", params={"day": "2026-11-20", "format": "jsonl"})
        table = await client.get("/staff/api/audit/export", params={"day": "2026-11-21", "format": "csv"})
        unbounded = await client.get("/staff/api/audit/export", params={"format": "csv"})
        with client.app.state.services.store.connect() as conn:
            events = conn.execute(select(audit_events).where(audit_events.c.action == "audit.export")).all()

    assert jsonl.status_code == 200
    assert jsonl.headers["content-disposition"] == 'attachment; filename="basis-20261120.jsonl"'
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert sorted(r["id"] for r in records) == sorted(ids[:7])
    heads: dict[str, str] = {}
    for record in records:  # an auditor can recompute every hash and link from the file alone
        assert basis.record_hash(record) == record["hash"]
        assert record["prev_hash"] == heads.get(record["conversation_id"], basis.GENESIS)
        heads[record["conversation_id"]] = record["hash"]

    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert len(rows) == 1 and rows[0]["id"] == ids[7]
    assert rows[0]["user_text_masked"].startswith("'=HYPERLINK")  # no formula in a spreadsheet
    assert rows[0]["source_title"] == "Bra att veta vid bygglov och anmälan"

    assert unbounded.status_code == 400 and "day=YYYY-MM-DD" in unbounded.json()["error"]["message"]
    assert [(e.actor, e.target, e.detail["records"]) for e in events] == [("greta", "jsonl", 7), ("greta", "csv", 1)]


async def test_figures_count_answers_fallbacks_handoffs_low_confidence_and_negative_feedback(
    gateway_factory: Any,
) -> None:
    async with gateway_factory(rasa) as client:
        await scenario(client)
        await auditor(client)
        response = await client.get("/staff/api/audit/stats",
                                    params={"from": "2026-11-20T00:00", "to": "2026-11-21T00:00"})
    assert response.status_code == 200, response.text
    body = response.json()
    topics = {row.pop("topic"): row for row in body["per_topic"]}
    zero = {"answers": 0, "fallbacks": 0, "handoffs": 0, "low_confidence": 0, "negative_feedback": 0,
            "positive_feedback": 0}
    assert topics == {
        "faq/bygglov": {**zero, "answers": 2, "low_confidence": 1, "positive_feedback": 1},
        "nlu_fallback": {**zero, "answers": 1, "fallbacks": 1, "low_confidence": 1},
        "faq/parkering_avgift": {**zero, "answers": 1, "negative_feedback": 1},
        "request_human": {**zero, "answers": 1, "handoffs": 1},
        # the acute turn shows safety information and the answer: two answers, one handoff
        "sensitive/suicide": {**zero, "answers": 2, "handoffs": 1},
    }
    languages = {row.pop("language"): row for row in body["per_language"]}
    assert languages["sv"] == {**zero, "answers": 5, "fallbacks": 1, "handoffs": 1, "low_confidence": 2,
                               "positive_feedback": 1}
    assert languages["en"] == {**zero, "answers": 2, "handoffs": 1, "negative_feedback": 1}
    assert [d["day"] for d in body["per_day"]] == ["2026-11-20"]


async def _three_answers(client: httpx.AsyncClient) -> str:
    cid, _, _ = await conversation(client, "sv", ["bygglov 1", "bygglov 2", "bygglov 3"])
    return cid


async def test_chain_check_finds_an_edited_and_a_deleted_record(gateway_factory: Any) -> None:
    async with gateway_factory(rasa) as client:
        intact, edited, deleted, tail, column = [await _three_answers(client) for _ in range(5)]
        store = client.app.state.services.store
        await auditor(client)
        before = (await client.get("/staff/api/audit/verify")).json()
        with store.begin() as conn:
            row = conn.execute(select(basis_records).where(
                basis_records.c.conversation_id == edited, basis_records.c.seq == 2)).one()
            changed = dict(row.record)
            changed["response"] = {**changed["response"], "text_sv": "Du behöver aldrig bygglov."}
            conn.execute(update(basis_records).where(basis_records.c.id == row.id).values(record=changed))
            conn.execute(delete(basis_records).where(
                basis_records.c.conversation_id == deleted, basis_records.c.seq == 2))
            conn.execute(delete(basis_records).where(
                basis_records.c.conversation_id == tail, basis_records.c.seq == 3))
            conn.execute(update(basis_records).where(
                basis_records.c.conversation_id == column, basis_records.c.seq == 1).values(topic="faq/annat"))
        after = (await client.get("/staff/api/audit/verify")).json()
        one = (await client.get("/staff/api/audit/verify", params={"conversation_id": edited})).json()
        fine = (await client.get("/staff/api/audit/verify", params={"conversation_id": intact})).json()

    assert before["ok"] is True and before["conversations_checked"] == 5 and before["records_checked"] == 15
    assert after["ok"] is False
    broken = {b["conversation_id"]: (b["first_broken_seq"], b["problem"]) for b in after["broken"]}
    assert broken == {
        edited: (2, "record content changed"),
        deleted: (2, "record missing"),
        tail: (3, "an answer's record is missing"),  # the last record: caught via its answer
        column: (1, "column 'topic' does not match the record"),
    }
    assert one["first_broken"]["conversation_id"] == edited and one["first_broken"]["first_broken_seq"] == 2
    assert fine["ok"] is True


def _answers_in_file(db: Path) -> None:
    """Write three answers into a fresh SQLite file with the real turn code."""
    import asyncio

    from gateway.main import create_app
    from tests.conftest import rasa_reply as _reply  # noqa: F401 - same stand-in as above
    from tests.gateway.staff_helpers import settings_for

    async def run() -> None:
        app = create_app(settings_for(db.parent, database_url=f"sqlite:///{db}"),
                         rasa_transport=httpx.MockTransport(rasa))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
                client.app = app  # type: ignore[attr-defined]
                await _three_answers(client)
                await _three_answers(client)

    asyncio.run(run())


def test_make_audit_verify_exits_nonzero_naming_conversation_and_seq(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    _answers_in_file(db)
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gateway.cli", "audit-verify"]
    ok = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "2 conversations, 6 records: all chains intact" in ok.stdout

    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        victim = conn.execute(select(basis_records).where(basis_records.c.seq == 2).limit(1)).one()
        record = dict(json.loads(victim.record) if isinstance(victim.record, str) else victim.record)
        record["nlu"] = {**record["nlu"], "confidence": 0.99}
        conn.execute(update(basis_records).where(basis_records.c.id == victim.id).values(record=record))
    engine.dispose()
    broken = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert (
        f"BROKEN conversation {victim.conversation_id}: first broken record seq 2 (record content changed)"
        in broken.stderr
    )
    assert "1 broken chain(s)" in broken.stdout


@pytest.mark.postgres
async def test_chain_check_and_figures_on_postgresql(gateway_factory: Any) -> None:
    with temporary_database() as url:
        async with gateway_factory(rasa, database_url=url) as client:
            await scenario(client)
            cid = await _three_answers(client)
            store = client.app.state.services.store
            assert store.dialect == "postgresql"
            with store.begin() as conn:
                conn.execute(delete(basis_records).where(
                    basis_records.c.conversation_id == cid, basis_records.c.seq == 1))
                result = basis_queries.verify(conn)
                figures = basis_queries.figures(conn, DAY_1.replace(hour=0), DAY_2.replace(hour=0),
                                        __import__("zoneinfo").ZoneInfo("Europe/Stockholm"))
    assert [(b.conversation_id, b.first_broken_seq, b.problem) for b in result.broken] == [(cid, 1, "record missing")]
    assert figures.total.answers == 7 and figures.total.handoffs == 2 and figures.total.negative_feedback == 1


def test_audit_verify_without_a_database_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "none" / "gateway.db"
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{missing}")
    assert basis_queries.cli_verify([]) == 0
    assert "there is no database" in capsys.readouterr().out
    assert not missing.exists()
