"""Answer texts are kept out of the featurized training examples, labels and answers are not."""
from __future__ import annotations

from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.response_text import DropAnswerTextFromExamples

ANSWER = "Bygglov söker du hos stadsbyggnadsförvaltningen; läs mer på karlstad.se."


def _data() -> TrainingData:
    topic = Message(data={"text": "hur söker jag bygglov", "intent": "faq",
                          "intent_response_key": "faq/bygglov"})
    greet = Message(data={"text": "hej", "intent": "greet"})
    data = TrainingData([topic, greet], responses={"utter_faq/bygglov": [{"text": ANSWER}]})
    # What Rasa's reader does: the answer text is copied onto each example of the topic.
    assert topic.get("response") == ANSWER
    return data


def test_the_answer_text_is_removed_from_topic_examples_before_tokenizing() -> None:
    data = DropAnswerTextFromExamples().process_training_data(_data())
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    topic, greet = data.training_examples
    assert topic.get("response") is None
    assert topic.get("response_tokens") is None  # nothing left to featurize
    assert topic.get("text_tokens")  # the example itself is still tokenized
    assert topic.get("intent_response_key") == "faq/bygglov"  # the selector's label
    assert greet.get("intent") == "greet"
    assert data.responses["utter_faq/bygglov"][0]["text"] == ANSWER  # what the selector returns


def test_parsed_messages_are_left_alone() -> None:
    message = Message(data={"text": "bygglov", "response": "kept"})
    assert DropAnswerTextFromExamples().process([message])[0].get("response") == "kept"
