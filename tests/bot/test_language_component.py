"""The language entity that makes Rasa answer in Swedish or English (Rasa environment)."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.components.language import LanguageFromMetadata


def _language_of(metadata: object) -> list[str]:
    message = Message(data={"text": "hej", "metadata": metadata})
    LanguageFromMetadata().process([message])
    return [e["value"] for e in message.get("entities", []) if e["entity"] == "language"]


def test_english_metadata_becomes_english_entity() -> None:
    assert _language_of({"language": "en"}) == ["en"]


def test_swedish_is_the_default_for_missing_or_other_languages() -> None:
    assert _language_of(None) == ["sv"]
    assert _language_of({"language": "ar"}) == ["sv"]


def test_only_one_language_entity_is_kept() -> None:
    message = Message(
        data={
            "text": "hi",
            "metadata": {"language": "en"},
            "entities": [{"entity": "language", "value": "sv", "start": 0, "end": 0}],
        }
    )
    LanguageFromMetadata().process([message])
    assert [e["value"] for e in message.get("entities") if e["entity"] == "language"] == ["en"]
