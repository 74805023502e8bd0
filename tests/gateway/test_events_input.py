"""Odd event ids on the citizen's event stream, as a careless client or a proxy sends them.

What a client can expect (decided here, documented in gateway/routes/events.py):
- ``?after=`` is written by the client's own code, so anything but 1-18 ASCII digits is a
  400 that names the value and says what to send; never a 5xx, never a stream that breaks.
- ``Last-Event-ID`` is sent by an EventSource on its own, from the ids we gave it. A value
  we cannot have sent ("²", which ``str.isdigit`` calls a digit; 5,000 digits; 30 nines) is
  ignored: the stream opens from now, as on a first connection, and live updates keep
  coming. A 400 there would make the EventSource stop reconnecting for good.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.staff_helpers import (
    RasaRecorder,
    make_staff,
    served_gateway,
    settings_for,
    sse,
    staff_login,
    start_conversation,
)


@pytest.mark.parametrize(
    "after",
    ["\u00b2", "\u0663", "9" * 30, "1" * 5000, "9" * 19, "-1", "+5", " 5", "5.0", "0x10", ""],
    ids=["superscript-two", "arabic-indic-three", "30-nines", "5000-digits", "19-digits", "negative",
         "plus", "space", "decimal", "hex", "empty"],
)
async def test_after_that_is_not_an_event_id_is_a_clear_400(tmp_path: Path, after: str) -> None:
    async with served_gateway(settings_for(tmp_path)) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            cid, auth = await start_conversation(client)
            response = await client.get(f"/api/conversations/{cid}/events", params={"after": after}, headers=auth)
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["code"] == "invalid_event_id"
            assert f"after='{after[:40]}' is not an event id" in error["message"]
            assert "1-18 digits" in error["message"] and "leave it out" in error["message"]


@pytest.mark.parametrize(
    "header",
    [b"\xb2", b"1" * 5000, b"9" * 30, b"abc"],
    ids=["superscript-two", "5000-digits", "30-nines", "letters"],
)
async def test_a_last_event_id_we_never_sent_is_ignored_and_the_stream_works(tmp_path: Path, header: bytes) -> None:
    async with served_gateway(settings_for(tmp_path), RasaRecorder()) as served:
        make_staff(served.services.store)
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            cid, auth = await start_conversation(client)
            turn = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                     json={"text": "jag vill prata med en människa"})
            ticket = turn.json()["handoff"]["ticket_id"]
            async with sse(client, f"/api/conversations/{cid}/events",
                           headers={**auth, "Last-Event-ID": header}) as stream:
                await stream.wait_for(lambda s: bool(s.named("handoff")))
                assert stream.named("handoff")[0]["status"] == "waiting"
                assert stream.named("message") == []  # from now: nothing replayed
                async with httpx.AsyncClient(base_url=served.url, timeout=10) as console:
                    await staff_login(console)
                    claimed = await console.post(f"/staff/api/tickets/{ticket}/claim")
                    assert claimed.status_code == 200, claimed.text
                await stream.wait_for(lambda s: any(m["role"] == "system" for m in s.named("message")))


async def test_a_valid_after_still_resumes_where_the_client_left_off(tmp_path: Path) -> None:
    async with served_gateway(settings_for(tmp_path), RasaRecorder()) as served:
        make_staff(served.services.store)
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            cid, auth = await start_conversation(client)
            turn = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                     json={"text": "jag vill prata med en människa"})
            ticket = turn.json()["handoff"]["ticket_id"]
            async with httpx.AsyncClient(base_url=served.url, timeout=10) as console:
                await staff_login(console)
                assert (await console.post(f"/staff/api/tickets/{ticket}/claim")).status_code == 200
            events: list[Any] = []
            for after in ("0", "000000000000000000"):  # 18 digits, leading zeros: still an id
                async with sse(client, f"/api/conversations/{cid}/events", params={"after": after},
                               headers=auth) as stream:
                    await stream.wait_for(lambda s: bool(s.named("message")))
                    events.append(stream.named("message"))
            assert events[0] == events[1] and events[0][0]["role"] == "system"
