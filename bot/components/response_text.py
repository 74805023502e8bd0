"""Keeps the answer texts out of the featurized training data.

Rasa copies a retrieval topic's answer text onto every training example of that topic
(the ``response`` attribute, for a ResponseSelector with ``use_text_as_label: true``), and
every tokenizer and featurizer then processes that long text once per example, and Rasa
fingerprints the resulting features after each step (as text, one line per non-zero
value). Our ResponseSelector learns the topic key (``intent_response_key``, the default
``use_text_as_label: false``), so the answer's features are never read: they only cost
training time (about 2 of the 3 minutes of featurizing and fingerprinting) and memory.

This component runs first in the pipeline and removes the ``response`` attribute from the
training examples. It leaves ``intent_response_key`` (the label) and the answers themselves
(``training_data.responses``, what the selector returns) alone, and does nothing to the
messages the running assistant parses.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import RESPONSE
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class DropAnswerTextFromExamples(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DropAnswerTextFromExamples:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if RESPONSE in example.data and example.get("intent_response_key"):
                del example.data[RESPONSE]
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        return messages
