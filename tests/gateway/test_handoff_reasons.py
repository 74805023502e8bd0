"""Handoff reasons live in one place (gateway.handoff_reasons) and reach the console from the API:
staff see a Swedish label and a priority for every reason a ticket can get."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway import explain, safety
from gateway.handoff import reasons as handoff_reasons
from tests.gateway.staff_helpers import RasaRecorder, make_staff, staff_login, start_conversation

ROOT = Path(__file__).resolve().parents[2]


async def test_the_console_gets_a_label_and_priority_for_every_reason_a_ticket_can_get(
    gateway_factory: Any,
) -> None:
    async with gateway_factory() as client:
        make_staff(client.app.state.services.store)
        session = await staff_login(client)
        me = (await client.get("/staff/api/me")).json()
    for body in (session, me):
        reasons = body["reasons"]
        possible = set(safety.PATTERNS) | set(explain.HANDOFF_REASONS) | {"language_support"}
        assert possible <= set(reasons), possible - set(reasons)
        assert reasons["sensitive/suicide"] == {"label": "Självmordstankar eller självskada", "priority": 0}
        assert reasons["sensitive/homeless_emergency"]["priority"] == 1
        assert reasons["request_human"] == {"label": "Vill prata med en person", "priority": 2}
        assert body["priorities"] == {"0": "Akut", "1": "Hög", "2": "Normal"}


async def test_a_ticket_is_queued_with_the_priority_the_console_is_told(gateway_factory: Any) -> None:
    async with gateway_factory(RasaRecorder()) as client:
        make_staff(client.app.state.services.store)
        reasons = (await staff_login(client))["reasons"]
        cid, auth = await start_conversation(client)
        answer = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                   json={"text": "jag vill prata med en människa"})
        assert answer.json()["handoff"]["reason"] == "request_human"
        [ticket] = (await client.get("/staff/api/queue")).json()["open"]
    assert ticket["reason"] == "request_human"
    assert ticket["priority"] == reasons["request_human"]["priority"]


def test_the_console_script_keeps_no_list_of_reasons_of_its_own() -> None:
    script = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "gateway" / "staff").glob("*.js"))
    for reason in handoff_reasons.REASONS:
        assert f'"{reason.code}"' not in script, reason.code
        assert reason.label not in script, reason.label
    assert not re.search(r"\bAkut\b\"?\s*,\s*1\s*:", script)


def test_unknown_reasons_queue_as_normal_and_show_their_code() -> None:
    assert handoff_reasons.priority_for("something_new", acute=False) == handoff_reasons.NORMAL
    assert handoff_reasons.priority_for("something_new", acute=True) == handoff_reasons.ACUTE
    assert handoff_reasons.label("something_new") == "something_new"
