"""Concept features from the editors' word lists (nlu_data/begrepp.yml).

A bag-of-words model only knows the words it saw in its training examples. A concept list
tells it which words mean the same thing, in Swedish and English alike: "sambo", "min man",
"husband" and "boyfriend" all say *partner*; "tolvåring", "jag går i sjuan" and "my
daughter" all say *a child*. The featurizer adds one feature per concept that occurs in the
message, so an example about "min sambo" also teaches the model about "my girlfriend".

The lists are ordinary Rasa lookup tables whose name starts with ``begrepp_``, written in
a small syntax editors can use without knowing regular expressions:

* ``barn*``   a word that starts with "barn" (barn, barnen, barnmisshandel)
* ``*barn``   a word that ends with "barn" (skolbarn, bonusbarn)
* ``*våld*``  a word that contains "våld"
* ``ta livet av``  these words in this order (any amount of space between them)
* ``#``       one digit ("jag är 1#" matches "jag är 13")

Matching ignores case. Everything else is literal. Other lookup tables and regexes in the
training data are left to Rasa's own RegexFeaturizer, if the pipeline has one.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.training_data.training_data import TrainingData

PREFIX = "begrepp_"
_WORD = r"\w*"


def element_pattern(element: Text) -> Text:
    """The regular expression for one list element in the editors' syntax."""
    text = " ".join(element.split())
    if not any(ch.isalnum() or ch == "#" for ch in text):
        raise ValueError(f"empty concept element: {element!r}")
    parts: List[Text] = []
    for ch in text:
        if ch == "*":
            parts.append(_WORD)
        elif ch == "#":
            parts.append(r"\d")
        elif ch == " ":
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts)
    start = "" if text.startswith("*") else r"\b"
    end = "" if text.endswith("*") else r"\b"
    return f"{start}{body}{end}"


def concept_pattern(elements: Iterable[Text]) -> Text:
    """One alternation for a whole concept; longest elements first so phrases win."""
    unique = sorted({" ".join(e.split()) for e in elements if e and e.strip()},
                    key=lambda e: (-len(e), e))
    return "(?:" + "|".join(element_pattern(e) for e in unique) + ")"


def concept_patterns(training_data: TrainingData) -> List[Dict[Text, Text]]:
    patterns = []
    for table in training_data.lookup_tables or []:
        name = str(table.get("name", ""))
        elements = table.get("elements")
        if not name.startswith(PREFIX) or not isinstance(elements, list):
            continue
        patterns.append({"name": name, "pattern": concept_pattern(elements)})
    return sorted(patterns, key=lambda p: p["name"])


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class ConceptFeaturizer(RegexFeaturizer):
    """RegexFeaturizer whose patterns are the ``begrepp_*`` lookup tables."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**RegexFeaturizer.get_default_config(), "case_sensitive": False}

    def train(self, training_data: TrainingData) -> Resource:
        self.known_patterns = concept_patterns(training_data)
        self._persist()
        return self._resource
