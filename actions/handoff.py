"""Hand the conversation to a person, and ask again when the bot does not understand."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ACUTE, handoff_event
from actions.responses import SENSITIVE_PREFIX, selector_ranking


def _sensitive_key(tracker: Tracker) -> Optional[str]:
    for item in selector_ranking(tracker):
        key = item.get("intent_response_key", "")
        if key.startswith(SENSITIVE_PREFIX):
            return key
    return None


class ActionRequestHandoff(Action):
    """Acknowledges the request and tells the gateway to open a handoff ticket.

    The gateway adds the safety information (112, 1177, Självmordslinjen,
    Kvinnofridslinjen) in the citizen's language and queues the ticket.
    """

    def name(self) -> Text:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "request_human":
            dispatcher.utter_message(response="utter_handoff")
            dispatcher.utter_message(json_message=handoff_event("request_human", False))
            return []
        key = _sensitive_key(tracker) or "sensitive/unspecified"
        response = f"utter_{key}"
        if response in domain.get("responses", {}):
            dispatcher.utter_message(response=response)
        else:
            dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(json_message=handoff_event(key, key in ACUTE))
        return []


class ActionFallback(Action):
    """First miss: ask again. Second miss in a row: offer a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        users = [e for e in tracker.events if e.get("event") == "user"]
        previous = users[-2] if len(users) >= 2 else None
        previous_intent = ((previous or {}).get("parse_data") or {}).get("intent") or {}
        if previous_intent.get("name") == "nlu_fallback":
            dispatcher.utter_message(response="utter_offer_human")
            dispatcher.utter_message(json_message=handoff_event("repeated_fallback", False))
            return []
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
