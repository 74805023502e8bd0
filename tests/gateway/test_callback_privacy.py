"""A call-back number reaches the person who will call, and nobody else (issue 11, point 4).

The call-back form is the one channel for a phone number (chat text is masked). Its details
are stored with the ticket only: the staff member who holds the ticket sees them; colleagues,
the queue, the transcript, the basis records (and their export), the audit trail, Rasa and
the logs never do; retention deletes them with the ticket.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from gateway import retention
from gateway.store import handoff_tickets
from tests.gateway.staff_helpers import RasaRecorder, make_staff, staff_login, start_conversation

PHONE = "070-987 65 43"
NAME = "Sara Exempelsdotter"
WHEN = "efter kl. 15"
SECRETS = (PHONE, "0709876543", "987 65 43", NAME, WHEN)


def leaks(value: Any) -> list[str]:
    """Which of the call-back details appear in ``value`` (any JSON-able thing or text)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return [secret for secret in SECRETS if secret in text or secret in text.replace(" ", "").replace("-", "")]


def every_row(store: Any) -> dict[str, list[str]]:
    """Every stored value of every table, as text per table."""
    tables = MetaData()
    tables.reflect(store.engine)
    found: dict[str, list[str]] = {}
    with store.connect() as conn:
        for table in tables.sorted_tables:
            found[table.name] = [json.dumps(list(row), ensure_ascii=False, default=str)
                                 for row in conn.execute(select(table))]
    return found


async def colleague(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    """A second logged-in console on the same gateway (its own cookies)."""
    other = httpx.AsyncClient(transport=client._transport, base_url="http://gateway")  # noqa: SLF001
    await staff_login(other, username)
    return other


async def test_the_call_back_number_is_shown_only_to_the_agent_who_holds_the_ticket(
    gateway_factory: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        cid, auth = await start_conversation(client)
        handed = (await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                    json={"text": "jag vill prata med en människa"})).json()
        ticket = handed["handoff"]["ticket_id"]
        saved = await client.post(f"/api/conversations/{cid}/callback", headers=auth,
                                  json={"phone": PHONE, "name": NAME, "preferred_time": WHEN})
        assert saved.status_code == 200, saved.text
        assert saved.json()["handoff"]["callback_requested"] is True
        assert leaks(saved.json()) == [], "the citizen's answer does not repeat the details"

        make_staff(store, "anna", "Anna")
        make_staff(store, "bertil", "Bertil")
        make_staff(store, "revisor", "Revisor", role="auditor")
        await staff_login(client, "anna")
        bertil = await colleague(client, "bertil")
        auditor = await colleague(client, "revisor")
        try:
            # The queue says that someone wants a call, not who or where.
            for console in (client, bertil):
                queue = (await console.get("/staff/api/queue")).json()
                [item] = queue["open"]
                assert item["callback_requested"] is True and leaks(queue) == []
            # Opening the ticket before taking it: still no number.
            before = (await client.get(f"/staff/api/tickets/{ticket}")).json()
            assert before["ticket"]["callback"] is None and leaks(before) == []

            # Anna takes the ticket: now she sees the number, the name and the time.
            assert (await client.post(f"/staff/api/tickets/{ticket}/claim")).status_code == 200
            mine = (await client.get(f"/staff/api/tickets/{ticket}")).json()["ticket"]["callback"]
            assert (mine["phone"], mine["name"], mine["preferred_time"]) == (PHONE, NAME, WHEN)
            # Her colleague opening the same ticket sees none of it.
            theirs = (await bertil.get(f"/staff/api/tickets/{ticket}")).json()
            assert theirs["ticket"]["callback"] is None and theirs["ticket"]["callback_requested"] is True
            assert leaks(theirs) == []

            # Anna puts it back; whoever takes it next sees the number, Anna no longer does.
            assert (await client.post(f"/staff/api/tickets/{ticket}/release")).status_code == 200
            assert (await client.get(f"/staff/api/tickets/{ticket}")).json()["ticket"]["callback"] is None
            assert (await bertil.post(f"/staff/api/tickets/{ticket}/claim")).status_code == 200
            assert (await bertil.get(f"/staff/api/tickets/{ticket}")).json()["ticket"]["callback"]["phone"] == PHONE
            assert leaks((await client.get(f"/staff/api/tickets/{ticket}")).json()) == []

            # Nowhere else: transcript, basis records (citizen's download, auditor's export),
            # messages, audit trail, Rasa, logs.
            transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
            assert leaks(transcript) == []
            download = await client.get(f"/api/conversations/{cid}/basis", headers=auth)
            assert download.status_code == 200 and leaks(download.text) == []
            export = await auditor.get(
                "/staff/api/audit/export",
                params={"format": "jsonl", "conversation_id": cid,
                        "from": "2000-01-01T00:00", "to": "2100-01-01T00:00"},
            )
            assert export.status_code == 200, export.text
            assert cid in export.text and leaks(export.text) == []
            stored = every_row(store)
            assert {name for name, rows in stored.items() if leaks(rows)} == {"handoff_tickets"}
            assert rasa.seen == ["jag vill prata med en människa"]
            assert [r.name for r in caplog.records if leaks(r.getMessage())] == []
        finally:
            await bertil.aclose()
            await auditor.aclose()

        # Retention deletes the details with the ticket.
        later = client.app.state.services.handoff.clock() + timedelta(days=120)  # type: ignore[attr-defined]
        report = await store.run(lambda: retention.purge(store, 90, now=later))
        assert report.conversations == 1 and report.tickets == 1
        with store.connect() as conn:
            assert conn.execute(select(handoff_tickets)).all() == []
        assert {name for name, rows in every_row(store).items() if leaks(rows)} == set()


async def test_the_canned_call_back_reply_points_to_the_form_not_the_chat(gateway_factory: Any) -> None:
    """Chat text is masked ([telefon]), so a number typed there never reaches staff: the
    canned reply must send the citizen to the call-back form instead."""
    async with gateway_factory() as client:
        make_staff(client.app.state.services.store)  # type: ignore[attr-defined]
        await staff_login(client)
        replies = (await client.get("/staff/api/canned")).json()["replies"]
        [callback] = [r for r in replies if r["title"] == "Ringa upp"]
        text = callback["text"]
        assert "Bli uppringd" in text, text  # the widget's button (widget.js, T.sv.cbTitle)
        assert "inte" in text and "chatten" in text, "it says not to write the number in the chat"
        assert "Skriv ditt telefonnummer" not in text
