"""The topic of a retrieval question is picked by a logistic regression over the message's
features and reported where Rasa's ResponseSelector reported it
(bot/components/topic_selector.py)."""
from __future__ import annotations

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.topic_ambiguity import TopicAmbiguityDetector
from bot.components.topic_selector import LinearTopicSelector

EXAMPLES = {
    "faq/bygglov": ["behöver jag bygglov för ett garage", "hur söker jag bygglov",
                    "bygglov för altan", "do I need a building permit", "bygglov tillbyggnad"],
    "faq/bibliotek": ["när öppnar biblioteket", "kan jag låna böcker på biblioteket",
                      "bibliotekets öppettider", "library opening hours", "låna ljudböcker"],
    "sensitive/suicide": ["jag vill inte leva längre", "jag tänker ta mitt liv",
                          "I want to end my life", "jag orkar inte leva", "livet är meningslöst"],
}


def _featurize(messages: list[Message], data: TrainingData | None, tmp_path: Path,
               cvf: list[CountVectorsFeaturizer]) -> None:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    if data is not None:
        tokenizer.process_training_data(data)
        (tmp_path / "cvf").mkdir()
        storage = LocalModelStorage(tmp_path / "cvf")
        featurizer = CountVectorsFeaturizer.create(
            CountVectorsFeaturizer.get_default_config(), storage, Resource("cvf"),
            ExecutionContext(GraphSchema({}), node_name="cvf"))
        featurizer.train(data)
        featurizer.process_training_data(data)
        cvf.append(featurizer)
    else:
        tokenizer.process(messages)
        cvf[0].process(messages)


def _trained(tmp_path: Path, examples: dict[str, list[str]]) -> tuple[LinearTopicSelector, list]:
    messages = [Message(data={"text": t, "intent": k.split("/")[0], "intent_response_key": k})
                for k, texts in examples.items() for t in texts]
    messages.append(Message(data={"text": "hej", "intent": "greet"}))
    data = TrainingData(messages)
    cvf: list[CountVectorsFeaturizer] = []
    _featurize(messages, data, tmp_path, cvf)
    (tmp_path / "selector").mkdir()
    storage = LocalModelStorage(tmp_path / "selector")
    resource = Resource("topics")
    context = ExecutionContext(GraphSchema({}), node_name="topics")
    config = LinearTopicSelector.get_default_config()
    LinearTopicSelector.create(config, storage, resource, context).train(data)
    # what the running assistant does: load the persisted selector
    return LinearTopicSelector.load(config, storage, resource, context), cvf


def _parse(selector: LinearTopicSelector, cvf: list, text: str, tmp_path: Path) -> Message:
    message = Message(data={"text": text})
    _featurize([message], None, tmp_path, cvf)
    selector.process([message])
    return message


def test_a_question_gets_its_topic_and_the_action_that_answers_it(tmp_path: Path) -> None:
    selector, cvf = _trained(tmp_path, EXAMPLES)
    message = _parse(selector, cvf, "måste jag ha bygglov för en carport", tmp_path)
    block = message.get("response_selector")["default"]
    assert block["response"]["intent_response_key"] == "faq/bygglov"
    assert block["response"]["utter_action"] == "utter_faq/bygglov"  # what utter_faq runs
    keys = [r["intent_response_key"] for r in block["ranking"]]
    assert sorted(keys) == sorted(EXAMPLES)  # every topic ranked, best first
    confidences = [r["confidence"] for r in block["ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert abs(sum(confidences) - 1.0) < 1e-6


def test_a_sensitive_message_ranks_the_sensitive_topic_first_and_is_handed_on(tmp_path: Path) -> None:
    selector, cvf = _trained(tmp_path, EXAMPLES)
    message = _parse(selector, cvf, "jag vill inte leva", tmp_path)
    assert message.get("response_selector")["default"]["ranking"][0]["intent_response_key"] == \
        "sensitive/suicide"
    # DIET said faq; the ambiguity check reads the selector and hands the message to a person
    message.set("intent", {"name": "faq", "confidence": 0.9})
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.9}])
    TopicAmbiguityDetector(TopicAmbiguityDetector.get_default_config()).process([message])
    assert message.get("intent")["name"] == "sensitive"


def test_a_message_with_no_known_word_is_left_alone(tmp_path: Path) -> None:
    selector, cvf = _trained(tmp_path, EXAMPLES)
    message = _parse(selector, cvf, "", tmp_path)
    assert message.get("response_selector") is None


def test_without_two_topics_nothing_is_trained_or_selected(tmp_path: Path) -> None:
    selector, cvf = _trained(tmp_path, {"faq/bygglov": EXAMPLES["faq/bygglov"]})
    assert selector.model is None
    message = _parse(selector, cvf, "bygglov", tmp_path)
    assert message.get("response_selector") is None
