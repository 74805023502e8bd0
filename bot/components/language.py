"""Copies the citizen's answer language from the message metadata into an entity.

The gateway decides the language (it detects it, and translates other languages to
Swedish before they reach Rasa) and sends it as ``metadata.language``. This component
turns it into the ``language`` entity, which fills the ``language`` slot every turn, so
that conditional response variations answer in Swedish or English.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

SUPPORTED = ("sv", "en")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class LanguageFromMetadata(GraphComponent, EntityExtractorMixin):
    """Adds a ``language`` entity (sv or en) taken from the message metadata."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageFromMetadata:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            metadata = message.get("metadata") or {}
            language = metadata.get("language") if isinstance(metadata, dict) else None
            if language not in SUPPORTED:
                language = "sv"
            entities = [
                e for e in message.get(ENTITIES, []) if e.get("entity") != "language"
            ]
            entities.append(
                {
                    "entity": "language",
                    "value": language,
                    "start": 0,
                    "end": 0,
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
