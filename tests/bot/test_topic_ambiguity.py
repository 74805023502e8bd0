"""Close topics are asked about ("Menade du ...?"), clear ones answered, sensitive ones handed on."""
from __future__ import annotations

from typing import Any

from rasa.shared.nlu.training_data.message import Message

from bot.components.topic_ambiguity import TopicAmbiguityDetector


def _message(intent: str, ranking: list[tuple[str, float]]) -> Message:
    return Message(
        data={
            "text": "parkering",
            "intent": {"name": intent, "confidence": 0.97},
            "intent_ranking": [{"name": intent, "confidence": 0.97}, {"name": "greet", "confidence": 0.02}],
            "response_selector": {
                "default": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in ranking]}
            },
        }
    )


def _run(message: Message) -> Any:
    TopicAmbiguityDetector(TopicAmbiguityDetector.get_default_config()).process([message])
    return message


def test_close_topics_become_a_did_you_mean_question() -> None:
    message = _run(_message("faq", [("faq/parkering_avgift", 0.41), ("faq/boendeparkering", 0.29)]))
    assert message.get("intent")["name"] == "faq_ambiguous"
    names = [r["name"] for r in message.get("intent_ranking")]
    assert names == ["faq_ambiguous", "greet"]  # no tie with "faq" left for the fallback check


def test_clear_topic_stays_a_direct_answer() -> None:
    message = _run(_message("faq", [("faq/bygglov", 0.94), ("faq/attefall_friggebod", 0.03)]))
    assert message.get("intent")["name"] == "faq"


def test_sensitive_answer_on_top_goes_to_a_person() -> None:
    message = _run(_message("faq", [("sensitive/suicide", 0.52), ("faq/simhall", 0.30)]))
    assert message.get("intent")["name"] == "sensitive"


def test_other_intents_are_left_alone() -> None:
    message = _run(_message("greet", [("faq/parkering_avgift", 0.41), ("faq/boendeparkering", 0.40)]))
    assert message.get("intent")["name"] == "greet"
