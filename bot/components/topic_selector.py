"""Picks the topic of a retrieval question with a linear model (issue 14).

Every retrieval topic (``faq/bygglov``, ``sensitive/suicide``) has exactly one answer, so
picking the answer is a classification over the topics. Rasa's ResponseSelector does that
with a second neural network whose wide input layers (every word and character n-gram x
512, updated on every step) were more than half of every training. This component fits a
multinomial logistic regression on the same bag-of-words features instead (scikit-learn,
a few seconds), and writes its result exactly where the ResponseSelector wrote it
(``response_selector.default``: the best topic, its ``utter_action`` and a ranking), so
``utter_faq``, the ambiguity check, the custom actions, the channel and the gateway's basis
records read it unchanged. DIET still decides the intent (``faq``, ``sensitive``, ``greet``,
...) exactly as before.

Not in config.yml yet: measured against the ResponseSelector (docs/nlu-eval.md, "A linear
topic selector instead of the ResponseSelector"), it is as good or better on the paraphrases
and the Swedish and English dev sets, but on the dev sets the model alone misses one acute
message the ResponseSelector caught and hands two more everyday questions to a person.

Features: the sentence-level sparse features of the message text (word counts, character
2-4-gram counts, concept counts), each row scaled to unit length after ``log(1 + count)``,
so a long message does not get surer just by being long.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

logger = logging.getLogger(__name__)

SELECTOR = "response_selector"
DEFAULT = "default"
FILE = "topic_selector.joblib"


def sentence_features(message: Message) -> Optional[scipy.sparse.csr_matrix]:
    """One row: the message's sparse sentence features, log-scaled and unit length."""
    sequence, sentence = message.get_sparse_features(TEXT)
    if sentence is not None:
        row = scipy.sparse.csr_matrix(sentence.features)
    elif sequence is not None:
        row = scipy.sparse.csr_matrix(sequence.features.sum(axis=0))
    else:
        return None
    row = row.astype(np.float64)
    row.data = np.log1p(np.abs(row.data))
    return normalize(row)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearTopicSelector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # C: inverse regularisation strength; ranking_length: topics reported, as Rasa's
        # ResponseSelector does by default.
        return {"C": 1000.0, "max_iter": 2000, "ranking_length": 10, "random_seed": 42}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LogisticRegression] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearTopicSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        rows, labels = [], []
        for example in training_data.training_examples:
            key = example.get(INTENT_RESPONSE_KEY)
            if not key or "/" not in key:
                continue
            row = sentence_features(example)
            if row is not None:
                rows.append(row)
                labels.append(key)
        if len(set(labels)) < 2:
            logger.warning("LinearTopicSelector: fewer than two topics to learn; not trained.")
            return self._resource
        model = LogisticRegression(
            C=float(self.config["C"]),
            max_iter=int(self.config["max_iter"]),
            random_state=int(self.config["random_seed"]),
        )
        model.fit(scipy.sparse.vstack(rows).tocsr(), labels)
        self.model = model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearTopicSelector:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearTopicSelector: no trained model found; it selects nothing.")
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            row = sentence_features(message)
            if row is None or row.nnz == 0:
                continue
            probabilities = self.model.predict_proba(row)[0]
            order = np.argsort(-probabilities)[: int(self.config["ranking_length"])]
            ranking = [
                {"confidence": float(probabilities[i]), INTENT_RESPONSE_KEY: str(self.model.classes_[i])}
                for i in order
            ]
            best = ranking[0]
            selector = message.get(SELECTOR) or {}
            selector["all_retrieval_intents"] = sorted(
                {str(c).split("/", 1)[0] for c in self.model.classes_}
            )
            selector[DEFAULT] = {
                "response": {
                    # The answer itself comes from the domain through ``utter_action``
                    # (Rasa's retrieval action and our custom actions read only that).
                    "responses": [],
                    "confidence": best["confidence"],
                    INTENT_RESPONSE_KEY: best[INTENT_RESPONSE_KEY],
                    "utter_action": f"utter_{best[INTENT_RESPONSE_KEY]}",
                },
                "ranking": ranking,
            }
            message.set(SELECTOR, selector, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
