"""Answer a topic question, or ask "did you mean" when two topics are close."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.responses import (
    FAQ_PREFIX,
    SENSITIVE_PREFIX,
    language,
    selector_ranking,
    topic_label,
)

# Ask instead of guessing when the best topic is not clearly ahead of the second.
AMBIGUITY_MARGIN = 0.25
CONFIDENT = 0.80


def handoff_event(reason: str, acute: bool) -> Dict[str, Any]:
    return {"handoff": {"reason": reason, "acute": acute}}


ACUTE = {
    "sensitive/suicide",
    "sensitive/violence_close_relationship",
    "sensitive/child_at_risk",
    "sensitive/threat_or_crime",
}


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        ranking = selector_ranking(tracker)
        if not ranking:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        best = ranking[0]
        key = best.get("intent_response_key", "")
        if key.startswith(SENSITIVE_PREFIX):
            # The classifier saw a topic question but the closest answer is a
            # sensitive one: a person looks at it rather than the bot guessing.
            dispatcher.utter_message(response=f"utter_{key}")
            dispatcher.utter_message(json_message=handoff_event(key, key in ACUTE))
            return []
        faq = [r for r in ranking if r.get("intent_response_key", "").startswith(FAQ_PREFIX)]
        top = faq[0]
        second = faq[1] if len(faq) > 1 else None
        close = (
            second is not None
            and top["confidence"] < CONFIDENT
            and top["confidence"] - second["confidence"] < AMBIGUITY_MARGIN
        )
        if close and second is not None:
            lang = language(tracker)
            buttons = [
                {
                    "title": topic_label(domain, r["intent_response_key"], lang),
                    "payload": f'/choose_topic{{"topic": "{r["intent_response_key"]}"}}',
                }
                for r in (top, second)
            ]
            none_title = "None of these" if lang == "en" else "Inget av dessa"
            buttons.append({"title": none_title, "payload": "/none_of_these"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
            return []
        dispatcher.utter_message(response=f"utter_{top['intent_response_key']}")
        return [SlotSet("topic", top["intent_response_key"])]


class ActionAnswerTopic(Action):
    """Answers the topic the citizen picked from the "did you mean" buttons."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        if not topic or not topic.startswith(FAQ_PREFIX) or f"utter_{topic}" not in domain.get(
            "responses", {}
        ):
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(response=f"utter_{topic}")
        return [SlotSet("topic", topic)]
