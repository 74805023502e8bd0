"""The staff console's API: login, roles, CSRF, claiming, replying (translated), notes,
returning to the bot, closing, and the audit trail of who did what."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway import staff_sessions as sessions
from gateway.store import Store, audit_events, messages, staff_sessions, staff_users
from tests.gateway.staff_helpers import (
    PASSWORD,
    RasaRecorder,
    make_staff,
    staff_login,
    start_conversation,
)

ROOT = Path(__file__).resolve().parents[2]


def store_of(client: httpx.AsyncClient) -> Store:
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    return store


async def handed_over(client: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, str], str]:
    cid, auth = await start_conversation(client, **body)
    text = "I want to talk to a human" if body.get("language") == "en" else "jag vill prata med en människa"
    response = await client.post(f"/api/conversations/{cid}/messages", headers=auth, json={"text": text})
    assert response.json()["handoff"]["status"] == "waiting", response.text
    return cid, auth, response.json()["handoff"]["ticket_id"]


def audit_actions(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    with store_of(client).connect() as conn:
        return [(r.actor, r.action) for r in conn.execute(select(audit_events).order_by(audit_events.c.id))]


# ---- accounts and sessions ----------------------------------------------------------
async def test_login_sets_a_strict_httponly_cookie_and_wrong_password_is_refused(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        make_staff(store_of(client))
        wrong = await client.post("/staff/api/login", json={"username": "anna", "password": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["message"] == "Fel användarnamn eller lösenord."

        ok = await client.post("/staff/api/login", json={"username": "Anna", "password": PASSWORD})
        assert ok.status_code == 200
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert ok.json()["user"]["display_name"] == "Anna" and len(ok.json()["csrf_token"]) > 30

        me = await client.get("/staff/api/me")
        assert me.status_code == 200 and me.json()["csrf_token"] == ok.json()["csrf_token"]

        with store_of(client).connect() as conn:
            stored = conn.execute(select(staff_sessions.c.id_hash)).scalars().all()
            password_hash = conn.execute(select(staff_users.c.password_hash)).scalar_one()
        session_id = client.cookies["staff_session"]
        assert session_id not in stored and sessions.hash_session_id(session_id) in stored
        assert password_hash.startswith("$argon2id$")
        assert ("anna", "staff.login_failed") in audit_actions(client)
        assert ("anna", "staff.login") in audit_actions(client)


async def test_console_api_needs_a_staff_session_not_a_citizen_token(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        _, auth, ticket = await handed_over(client)
        for path in ("/staff/api/queue", f"/staff/api/tickets/{ticket}", "/staff/api/me", "/staff/api/events"):
            response = await client.get(path, headers=auth)
            assert response.status_code == 401, path
            assert "Logga in" in response.json()["error"]["message"]
        claim = await client.post(f"/staff/api/tickets/{ticket}/claim", headers=auth)
        assert claim.status_code == 401


async def test_auditor_cannot_use_the_console(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        make_staff(store_of(client), "revisor", "Revisorn", "auditor")
        await staff_login(client, "revisor")
        response = await client.get("/staff/api/queue")
        assert response.status_code == 403
        assert "auditor" in response.json()["error"]["message"]


async def test_state_changes_need_the_csrf_token(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        _, _, ticket = await handed_over(client)
        make_staff(store_of(client))
        token = (await staff_login(client))["csrf_token"]
        del client.headers["X-CSRF-Token"]
        refused = await client.post(f"/staff/api/tickets/{ticket}/claim")
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
        forged = await client.post(f"/staff/api/tickets/{ticket}/claim", headers={"X-CSRF-Token": "x" * 43})
        assert forged.status_code == 403
        ok = await client.post(f"/staff/api/tickets/{ticket}/claim", headers={"X-CSRF-Token": token})
        assert ok.status_code == 200


async def test_expired_and_logged_out_sessions_stop_working(gateway_factory: Any) -> None:
    async with gateway_factory() as client:
        store = store_of(client)
        make_staff(store)
        session = sessions.login(store, "anna", PASSWORD)
        assert sessions.lookup(store, session.id) is not None
        later = session.expires_at + timedelta(seconds=1)
        assert sessions.lookup(store, session.id, now=later) is None

        await staff_login(client)
        assert (await client.post("/staff/api/logout")).status_code == 200
        client.cookies.clear()
        assert (await client.get("/staff/api/me")).status_code == 401


def test_staff_user_command_creates_an_account(tmp_path: Path) -> None:
    env = {**os.environ, "GATEWAY_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    env.pop("GATEWAY_DATABASE_URL", None)
    command = [sys.executable, "-m", "gateway.cli", "staff-user", "--username", "bo",
               "--display-name", "Bo på Kontaktcenter", "--role", "staff", "--password-stdin"]
    created = subprocess.run(command, input=PASSWORD + "\n", env=env, cwd=ROOT, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert "Created staff account 'bo'" in created.stdout
    again = subprocess.run(command, input=PASSWORD + "\n", env=env, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr
    short = subprocess.run([*command[:5], "cy", "--password-stdin"], input="kort\n", env=env, cwd=ROOT,
                           capture_output=True, text=True)
    assert short.returncode == 2 and "at least 12" in short.stderr

    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    assert sessions.login(store, "bo", PASSWORD).user.display_name == "Bo på Kontaktcenter"
    store.dispose()


# ---- working a ticket ---------------------------------------------------------------
async def test_claim_tells_the_citizen_who_answers_and_a_colleague_cannot_take_it(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        cid, auth, ticket = await handed_over(client)
        make_staff(store_of(client))
        make_staff(store_of(client), "bo", "Bo")
        await staff_login(client)
        claimed = await client.post(f"/staff/api/tickets/{ticket}/claim")
        assert claimed.status_code == 200
        assert claimed.json()["handoff"]["status"] == "active"
        assert claimed.json()["handoff"]["staff_name"] == "Anna"

        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert transcript["messages"][-1]["role"] == "system"
        assert "Nu pratar du med Anna på Kontaktcenter" in transcript["messages"][-1]["text"]
        assert transcript["handoff"]["status"] == "active"

        async with httpx.AsyncClient(transport=client._transport, base_url="http://gateway") as colleague:
            await staff_login(colleague, "bo")
            taken = await colleague.post(f"/staff/api/tickets/{ticket}/claim")
            assert taken.status_code == 409
            assert taken.json()["error"]["message"] == "Ärendet har redan tagits av Anna."
            reply = await colleague.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej"})
            assert reply.status_code == 409


async def test_staff_reply_reaches_a_swedish_citizen_with_the_staff_name(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        cid, auth, ticket = await handed_over(client)
        make_staff(store_of(client))
        await staff_login(client)
        not_yet = await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej!"})
        assert not_yet.status_code == 409 and "Ta ärendet först" in not_yet.json()["error"]["message"]
        await client.post(f"/staff/api/tickets/{ticket}/claim")
        blank = await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "   "})
        assert blank.status_code == 422

        sent = await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej, jag heter Anna."})
        assert sent.status_code == 200, sent.text
        [reply] = sent.json()["messages"]
        assert reply["role"] == "staff" and reply["author"] == "Anna" and reply["machine_translated"] is False

        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert transcript["messages"][-1]["text"] == "Hej, jag heter Anna."


async def test_reply_to_english_without_a_translation_model_is_swedish_with_a_note(gateway_factory: Any) -> None:
    # No sv->en model on disk here: the citizen must still get the reply, honestly labelled.
    async with gateway_factory(RasaRecorder()) as client:
        cid, auth, ticket = await handed_over(client, language="en")
        make_staff(store_of(client))
        await staff_login(client)
        await client.post(f"/staff/api/tickets/{ticket}/claim")
        sent = (await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej! Hur mår du?"})).json()
        reply, note = sent["messages"]
        assert reply["text"] == "Hej! Hur mår du?" and reply["language"] == "sv"
        assert note["role"] == "system" and note["language"] == "en"
        assert "could not be translated" in note["text"]
        with store_of(client).connect() as conn:
            stored = conn.execute(select(messages).where(messages.c.id == reply["id"])).one()
        assert stored.text_sv == "Hej! Hur mår du?" and stored.author == "Anna"


async def test_reply_is_machine_translated_into_the_citizens_language(tmp_path: Path) -> None:
    """Uses a stand-in translator (sv->ar by a lookup table) to check what the gateway does
    with a translation: deliver it labelled, keep the Swedish original. The translation
    engines themselves are tested with real (tiny) Marian models in tests/translation."""
    from dataclasses import dataclass

    from gateway.main import create_app, default_translator
    from tests.gateway.staff_helpers import settings_for

    @dataclass
    class Result:
        text: str
        ok: bool = True
        engine: str = "table"
        model: str = "table"
        revision: str = "1"
        score: float | None = 1.0
        reason: str | None = None
        source_lang: str = "sv"
        target_lang: str = "ar"

    class TableTranslator:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def from_swedish(self, text: str, lang: str) -> Result:
            if lang == "ar":
                return Result(text="[ar] " + text)
            return self.real.from_swedish(text, lang)

    settings = settings_for(tmp_path)
    app = create_app(settings, translator_factory=lambda s: TableTranslator(default_translator(s)),
                     rasa_transport=httpx.MockTransport(RasaRecorder()))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            cid, auth, ticket = await handed_over(client)
            await client.post(f"/api/conversations/{cid}/language", headers=auth, json={"language": "ar"})
            make_staff(store_of(client))
            await staff_login(client)
            claimed = (await client.post(f"/staff/api/tickets/{ticket}/claim")).json()
            assert claimed["messages"][0]["text"].startswith("[ar] Nu pratar du med Anna")
            sent = (await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej!"})).json()
            [reply] = sent["messages"]
            assert reply == {**reply, "text": "[ar] Hej!", "language": "ar", "machine_translated": True,
                             "author": "Anna", "dir": "rtl"}
            detail = (await client.get(f"/staff/api/tickets/{ticket}")).json()
            assert detail["messages"][-1]["text_sv"] == "Hej!"


async def test_notes_canned_replies_and_history_show_who_did_what(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        cid, auth, ticket = await handed_over(client)
        make_staff(store_of(client))
        await staff_login(client)
        canned = (await client.get("/staff/api/canned")).json()["replies"]
        assert canned and all(r["title"] and r["text"] for r in canned)

        await client.post(f"/staff/api/tickets/{ticket}/claim")
        noted = await client.post(f"/staff/api/tickets/{ticket}/notes", json={"text": "Vill bli uppringd."})
        assert noted.status_code == 201
        await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": canned[0]["text"]})

        detail = (await client.get(f"/staff/api/tickets/{ticket}")).json()
        assert detail["notes"][0]["text"] == "Vill bli uppringd." and detail["notes"][0]["author"] == "Anna"
        assert [h["action"] for h in detail["history"]] == ["ticket.claim", "ticket.note", "ticket.reply"]
        assert {h["actor"] for h in detail["history"]} == {"anna"}
        # The citizen never sees internal notes.
        transcript = (await client.get(f"/api/conversations/{cid}/messages", headers=auth)).json()
        assert all("uppringd" not in m["text"] for m in transcript["messages"])
        assert ("anna", "ticket.view") in audit_actions(client)


async def test_return_to_bot_resumes_the_assistant(gateway_factory: Any) -> None:
    rasa = RasaRecorder()
    async with gateway_factory(rasa) as client:
        cid, auth, ticket = await handed_over(client)
        make_staff(store_of(client))
        await staff_login(client)
        await client.post(f"/staff/api/tickets/{ticket}/claim")
        returned = await client.post(f"/staff/api/tickets/{ticket}/return")
        assert returned.status_code == 200
        assert returned.json()["handoff"]["status"] == "closed"
        assert returned.json()["handoff"]["outcome"] == "returned_to_bot"
        assert "AI-assistenten" in returned.json()["messages"][0]["text"]

        body = (await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                  json={"text": "Hur ansöker jag om bygglov?"})).json()
        assert rasa.seen[-1] == "Hur ansöker jag om bygglov?"
        assert body["messages"][0]["text"] == "Svar från assistenten."
        assert body["handoff"] is None
        assert (await client.get("/staff/api/queue")).json()["open"] == []
        again = await client.post(f"/staff/api/tickets/{ticket}/messages", json={"text": "Hej"})
        assert again.status_code == 409 and "avslutat" in again.json()["error"]["message"]


async def test_close_with_an_outcome_and_unknown_outcomes_are_refused(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        _, _, ticket = await handed_over(client)
        make_staff(store_of(client))
        await staff_login(client)
        await client.post(f"/staff/api/tickets/{ticket}/claim")
        bad = await client.post(f"/staff/api/tickets/{ticket}/close", json={"outcome": "vet inte"})
        assert bad.status_code == 422 and "resolved" in bad.json()["error"]["message"]
        ok = await client.post(f"/staff/api/tickets/{ticket}/close", json={"outcome": "resolved"})
        assert ok.status_code == 200 and ok.json()["handoff"]["outcome"] == "resolved"
        queue = (await client.get("/staff/api/queue")).json()
        assert queue["open"] == [] and queue["recent"][0]["claimed_by_name"] == "Anna"
        assert queue["recent"][0]["outcome"] == "resolved"
        missing = await client.post("/staff/api/tickets/" + "0" * 32 + "/claim")
        assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/staff", "/staff/console.js", "/staff/console.css"])
async def test_console_page_is_served_with_a_strict_content_security_policy(gateway_factory: Any, path: str) -> None:
    async with gateway_factory() as client:
        response = await client.get(path)
        assert response.status_code == 200
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
