"""Marks topic questions whose two best topics are too close to pick one.

Runs after the ResponseSelector. A clear topic question keeps the intent ``faq`` and is
answered by Rasa's built-in ``utter_faq`` (no action-server round trip, which costs about
35 ms because Rasa sends the whole domain with every call). When the best topic is not
clearly ahead of the second, the intent becomes ``faq_ambiguous`` and the
``action_answer_faq`` custom action asks "Menade du ...?" with both topics as buttons.
When the closest answer is a sensitive one, the intent becomes ``sensitive``: a person
looks at it rather than the bot guessing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

AMBIGUOUS = "faq_ambiguous"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class TopicAmbiguityDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Ask when the best topic is below `confident` and less than `margin` ahead.
        return {"confident": 0.80, "margin": 0.25}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.confident = float(config.get("confident", 0.80))
        self.margin = float(config.get("margin", 0.25))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicAmbiguityDetector:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != "faq":
                continue
            block = (message.get("response_selector") or {}).get("default") or {}
            ranking = block.get("ranking") or []
            if not ranking:
                continue
            best = ranking[0]
            if str(best.get("intent_response_key", "")).startswith("sensitive/"):
                self._relabel(message, "sensitive", intent)
                continue
            topics = [r for r in ranking if str(r.get("intent_response_key", "")).startswith("faq/")]
            if len(topics) < 2:
                continue
            top, second = topics[0]["confidence"], topics[1]["confidence"]
            if top < self.confident and top - second < self.margin:
                self._relabel(message, AMBIGUOUS, intent)
        return messages

    @staticmethod
    def _relabel(message: Message, name: str, intent: Dict[str, Any]) -> None:
        confidence = intent.get("confidence")
        message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
        # The relabelled intent replaces the original in the ranking; keeping both would
        # make FallbackClassifier see two equally likely intents and fall back.
        replaced = (name, intent.get("name"))
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in replaced]
        message.set(
            INTENT_RANKING_KEY,
            [{"name": name, "confidence": confidence}, *ranking],
            add_to_output=True,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
