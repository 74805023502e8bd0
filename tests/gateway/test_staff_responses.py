"""The staff API's response models (gateway/staff_schemas.py) carry what the console shows:
a ticket that Rasa and the safety lexicon both flagged opens in the console."""
from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import rasa_reply
from tests.gateway.staff_helpers import make_staff, staff_login, start_conversation

REASON = "sensitive/violence_close_relationship"


def _rasa_sees_danger(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=rasa_reply(
        "Du är inte ensam.", intent="sensitive", topic=REASON, response_id=f"utter_{REASON}",
        handoff={"reason": REASON, "acute": True}))


async def test_a_ticket_flagged_by_rasa_and_the_lexicon_opens_with_the_message_marked(
    gateway_factory: Any,
) -> None:
    async with gateway_factory(_rasa_sees_danger) as client:
        make_staff(client.app.state.services.store)
        await staff_login(client)
        cid, auth = await start_conversation(client)
        sent = await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                 json={"text": "min sambo slår mig"})
        assert sent.json()["handoff"]["reason"] == REASON
        [ticket] = (await client.get("/staff/api/queue")).json()["open"]
        detail = await client.get(f"/staff/api/tickets/{ticket['id']}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["ticket"]["priority"] == 0 and body["ticket"]["reason"] == REASON
    [marked] = [m for m in body["messages"] if m["acute"]]
    assert marked["role"] == "citizen" and marked["text"] == "min sambo slår mig"
    assert marked["acute"]["reason"] == REASON
    assert "lexicon" in marked["acute"]["detected_by"]
