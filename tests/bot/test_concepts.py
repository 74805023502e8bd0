"""Concept lists (nlu_data/begrepp.yml): words that mean the same give the model the same feature."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.components.concepts import ConceptFeaturizer, concept_pattern, element_pattern

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from validate_data import NluData, Report, check_concepts  # noqa: E402


def _matches(element: str, text: str) -> bool:
    return re.search(element_pattern(element), text, re.IGNORECASE) is not None


@pytest.mark.parametrize(
    "element, text, expected",
    [
        ("barn*", "barnen leker", True),
        ("barn*", "barnmisshandel", True),
        ("barn*", "skolbarn", False),
        ("*barn", "skolbarn i Rud", True),
        ("*våld*", "jag lever med hedersvåldet", True),
        ("son", "min son", True),
        ("son", "en person", False),
        ("ta livet av", "jag vill  ta   livet av mig", True),
        ("ta livet av", "ta livet", False),
        ("jag är 1#", "Jag är 13 och pappa slår mig", True),
        ("jag är 1#", "jag är 130 cm", False),
        ("Sambo", "min SAMBO", True),
        ("i'm 1#", "I'm 15", True),
        ("a.b", "axb", False),  # everything but * # and spaces is literal
    ],
)
def test_editor_syntax(element: str, text: str, expected: bool) -> None:
    assert _matches(element, text) is expected


def test_longer_phrases_are_tried_first() -> None:
    pattern = concept_pattern(["gata", "gatan", "gång- och cykelbana*"])
    assert re.search(pattern, "gång- och cykelbanan", re.I).group(0) == "gång- och cykelbanan"


def test_an_empty_element_is_refused() -> None:
    with pytest.raises(ValueError):
        element_pattern("*")


def _trained(tmp_path: Path) -> ConceptFeaturizer:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("concepts")
    context = ExecutionContext(GraphSchema({}), node_name="concepts")
    featurizer = ConceptFeaturizer.create(
        ConceptFeaturizer.get_default_config(), storage, resource, context
    )
    featurizer.train(load_data(str(ROOT / "nlu_data" / "begrepp.yml")))
    return ConceptFeaturizer.load(ConceptFeaturizer.get_default_config(), storage, resource, context)


def _concepts(featurizer: ConceptFeaturizer, text: str) -> list[str]:
    message = Message(data={TEXT: text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    featurizer.process([message])
    _, sentence = message.get_sparse_features(TEXT)
    names = [p["name"] for p in featurizer.known_patterns]
    if sentence is None:
        return []
    row = np.asarray(sentence.features.todense())[0]
    return [n for n, v in zip(names, row) if v]


def test_swedish_and_english_words_for_the_same_thing_share_a_feature(tmp_path: Path) -> None:
    featurizer = _trained(tmp_path)  # trained, persisted and loaded again, like the live model
    cases: dict[str, list[str]] = {
        "min sambo slår mig": ["begrepp_partner", "begrepp_vald"],
        "my boyfriend hits me": ["begrepp_partner", "begrepp_vald"],
        "jag är 13 och blir slagen hemma": ["begrepp_barn", "begrepp_vald"],
        "I'm 13 and I get beaten at home": ["begrepp_barn", "begrepp_vald"],
        "vad kostar förskolan": ["begrepp_avgift", "begrepp_forskola"],
        "preschool fee": ["begrepp_avgift", "begrepp_forskola"],
    }
    for text, expected in cases.items():
        assert _concepts(featurizer, text) == expected, text


def test_a_message_without_concepts_gets_none(tmp_path: Path) -> None:
    assert _concepts(_trained(tmp_path), "this is a test") == []


def test_validation_refuses_a_wildcard_that_would_match_almost_anything() -> None:
    data = NluData()
    data.lookups["begrepp_sol"] = ("nlu_data/begrepp.yml", ["so*", "solsken"])
    data.lookups["vader"] = ("nlu_data/begrepp.yml", ["regn", "regn"])
    report = Report()
    check_concepts(data, report)
    assert any("'so*'" in e and "för kort" in e for e in report.errors)
    assert any("'vader' används inte" in w for w in report.warnings)
    assert any("'regn' står två gånger" in w for w in report.warnings)
