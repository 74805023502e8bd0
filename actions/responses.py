"""Reading responses from the domain that Rasa sends with every action call."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

FAQ_PREFIX = "faq/"
SENSITIVE_PREFIX = "sensitive/"


def language(tracker: Any) -> str:
    value = tracker.get_slot("language")
    return value if value in ("sv", "en") else "sv"


def variation(domain: Dict[str, Any], response: str, lang: str) -> Optional[Dict[str, Any]]:
    """The variation of ``response`` that Rasa would pick for ``lang``."""
    variations: List[Dict[str, Any]] = domain.get("responses", {}).get(response, [])
    if not variations:
        return None
    for item in variations:
        for cond in item.get("condition") or []:
            if cond.get("name") == "language" and cond.get("value") == lang:
                return item
    for item in variations:
        if not item.get("condition"):
            return item
    return variations[0]


def topic_label(domain: Dict[str, Any], topic: str, lang: str) -> str:
    """A short button label for a topic such as ``faq/bygglov``."""
    item = variation(domain, f"utter_{topic}", lang) or {}
    metadata = item.get("metadata") or {}
    label = metadata.get("label") or (metadata.get("source") or {}).get("title")
    return str(label) if label else topic.split("/", 1)[-1].replace("_", " ").capitalize()


def selector_ranking(tracker: Any) -> List[Dict[str, Any]]:
    """Ranking of the retrieval response selector for the latest message."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    for key in ("default", "faq", "sensitive"):
        block = selector.get(key)
        if block and block.get("ranking"):
            return list(block["ranking"])
    return []
