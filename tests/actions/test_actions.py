"""Custom actions, run on tracker fixtures as Rasa would send them (Rasa environment)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq, ActionAnswerTopic
from actions.handoff import ActionFallback, ActionRequestHandoff

FIXTURES = Path(__file__).parent / "fixtures"

DOMAIN: dict[str, Any] = {
    "responses": {
        "utter_faq/bygglov": [{"text": "Bygglov sv", "metadata": {"source": {"title": "Bygglov"}}}],
        "utter_faq/parkeringstillstand": [
            {"text": "Tillstånd sv", "metadata": {"label": "Parkeringstillstånd"}},
            {
                "text": "Permit en",
                "condition": [{"type": "slot", "name": "language", "value": "en"}],
                "metadata": {"label": "Disabled parking permit"},
            },
        ],
        "utter_faq/boendeparkering": [
            {"text": "Boende sv", "metadata": {"label": "Boendeparkering"}},
            {
                "text": "Resident en",
                "condition": [{"type": "slot", "name": "language", "value": "en"}],
                "metadata": {"label": "Resident parking"},
            },
        ],
        "utter_sensitive/suicide": [{"text": "Tack för att du berättar."}],
    }
}


def tracker(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((FIXTURES / f"{name}.json").read_text("utf-8")))


async def run(action: Any, name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(name), DOMAIN)
    return dispatcher.messages, events


@pytest.mark.asyncio
async def test_clear_question_gets_its_topic_answer_and_remembers_topic() -> None:
    messages, events = await run(ActionAnswerFaq(), "faq_clear")
    assert [m["response"] for m in messages] == ["utter_faq/bygglov"]
    assert events == [{"event": "slot", "timestamp": None, "name": "topic", "value": "faq/bygglov"}]


@pytest.mark.asyncio
async def test_close_topics_ask_did_you_mean_with_buttons_in_english() -> None:
    messages, events = await run(ActionAnswerFaq(), "faq_close_en")
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_did_you_mean"
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Disabled parking permit", "Resident parking", "None of these"]
    assert messages[0]["buttons"][1]["payload"] == '/choose_topic{"topic": "faq/boendeparkering"}'
    assert events == []


@pytest.mark.asyncio
async def test_chosen_topic_is_answered() -> None:
    messages, _ = await run(ActionAnswerTopic(), "choose_topic")
    assert [m["response"] for m in messages] == ["utter_faq/boendeparkering"]


@pytest.mark.asyncio
async def test_suicide_hands_over_as_acute_with_acknowledgement() -> None:
    messages, _ = await run(ActionRequestHandoff(), "sensitive_suicide")
    assert messages[0]["response"] == "utter_sensitive/suicide"
    assert messages[1]["custom"] == {"handoff": {"reason": "sensitive/suicide", "acute": True}}


@pytest.mark.asyncio
async def test_second_fallback_in_a_row_offers_a_person() -> None:
    messages, _ = await run(ActionFallback(), "fallback_twice")
    assert messages[0]["response"] == "utter_offer_human"
    assert messages[1]["custom"]["handoff"]["reason"] == "repeated_fallback"


@pytest.mark.asyncio
async def test_first_fallback_asks_to_rephrase() -> None:
    data = json.loads((FIXTURES / "fallback_twice.json").read_text("utf-8"))
    data["events"] = data["events"][-1:]
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, Tracker.from_dict(data), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]
    assert all("custom" not in m or not m["custom"] for m in dispatcher.messages)
