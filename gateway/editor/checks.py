"""What an example must pass before it is saved into a change set.

- **Personal data**: the turn's own masking (``translation.masking.mask_pii``: personnummer
  with check digit, card and account numbers, e-mail, phone) run again on the edited text,
  plus street addresses ("Drottninggatan 12"), which the turn does not mask. The masking
  placeholders themselves (``[telefon]``) are allowed: Rasa sees them in real turns too.
- **Evaluation sets**: an example may not be one of the held-out test sentences
  (``tests/nlu/paraphrases.yml``, ``tests/nlu/independent/*.yml``), nor a near copy of one
  in the same topic: the rule of ``scripts/validate_data.py``, from the module both share
  (``scripts/text_similarity``).
- **Duplicates**: not already an example, in this topic or another.

Every refusal is an :class:`ExampleRefusedError` (422) in Swedish and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.errors import ConflictError, GatewayError
from scripts.text_similarity import near_copy, normalise
from translation.masking import mask_pii

SMALL_TALK = ("greet", "goodbye", "thanks", "affirm", "deny")
STREET_SUFFIX = (r"gatan|gata|vägen|väg|gränd|gränden|stigen|allén|allé|torget|torg|backen|leden|"
                 r"platsen|plan|street|road|avenue|lane")
STREET_ADDRESS = re.compile(
    rf"\b[A-Za-zÅÄÖÉåäöé]{{2,}}(?:{STREET_SUFFIX})\s+\d{{1,4}}\s?[A-Za-z]?\b"
    rf"|\b\d{{1,4}}\s+[A-Z][a-z]+\s+(?:Street|Road|Avenue|Lane)\b",
    re.IGNORECASE,
)
ANNOTATION = re.compile(r"\]\s*[({]")  # Rasa's entity markup: [text](entity) / [text]{...}
MAX_EXAMPLE = 300


class ExampleRefusedError(GatewayError):
    status = 422
    code = "example_refused"


def personal_data(text: str) -> list[str]:
    """The kinds of personal data in ``text`` (empty when there is none)."""
    kinds = list(mask_pii(text).kinds)
    if STREET_ADDRESS.search(text):
        kinds.append("gatuadress")
    return kinds


def check_shape(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ExampleRefusedError("Exemplet är tomt. / The example is empty.")
    if len(text) > MAX_EXAMPLE:
        raise ExampleRefusedError(
            f"Exemplet är för långt ({len(text)} tecken, högst {MAX_EXAMPLE}). Korta det. / "
            f"The example is too long ({len(text)} characters, at most {MAX_EXAMPLE}).")
    if ANNOTATION.search(text):
        raise ExampleRefusedError(
            "Exemplet innehåller ](…) eller ]{…}, som Rasa läser som märkning. Skriv om det. / "
            "The example contains ](…) or ]{…}, which Rasa reads as entity markup.")
    return text


def check_personal_data(text: str) -> None:
    kinds = personal_data(text)
    if kinds:
        raise ExampleRefusedError(
            f"Exemplet innehåller personuppgifter ({', '.join(dict.fromkeys(kinds))}). Ta bort dem "
            f"eller skriv om meningen innan du sparar. / The example contains personal data "
            f"({', '.join(dict.fromkeys(kinds))}): remove it before saving.")


@dataclass(frozen=True)
class TestSentence:
    text: str  # normal form
    topic: str
    file: str


def load_eval_sets(paths: list[Path]) -> list[TestSentence]:
    """The held-out sentences: paraphrases.yml (a list of {text, intent}) and the
    independent sets (``items:`` of {text, topic}); a directory means its *.yml files."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yml")) if path.is_dir() else [path] if path.exists() else [])
    sentences = []
    for file in files:
        content = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        items = content.get("items") or [] if isinstance(content, dict) else content
        for item in items:
            if isinstance(item, dict) and item.get("text"):
                topic = str(item.get("topic") or item.get("intent") or "")
                sentences.append(TestSentence(normalise(str(item["text"])), topic, file.name))
    return sentences


def check_not_a_test_sentence(text: str, topic: str, sentences: list[TestSentence]) -> None:
    key = normalise(text)
    for s in sentences:
        same = s.text == key
        if same or (s.topic == topic and topic not in SMALL_TALK and near_copy(key, s.text)):
            how = "finns i" if same else "är nästan samma mening som en i"
            raise ExampleRefusedError(
                f"Exemplet {how} testmeningarna ({s.file}). Testmeningarna får inte bli "
                f"träningsexempel: skriv frågan med andra ord. / The example is "
                f"{'one of' if same else 'a near copy of one of'} the held-out test sentences "
                f"({s.file}); test sentences must never be trained on. Rephrase it.")


def check_not_a_duplicate(text: str, topic: str, existing: dict[str, str]) -> None:
    """``existing``: normal form of every example -> its topic."""
    found = existing.get(normalise(text))
    if found == topic:
        raise ConflictError(f"Exemplet finns redan i {topic}. / The example is already in {topic}.")
    if found is not None:
        raise ExampleRefusedError(
            f"Exemplet finns redan i ämnet {found}. Samma mening får inte finnas i två ämnen. / "
            f"The example is already in {found}; one sentence cannot belong to two topics.")


def existing_examples(nlu_dir: Path) -> dict[str, str]:
    """Normal form of every example in the topic files -> its intent."""
    found: dict[str, str] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or [] if isinstance(content, dict) else []:
            if isinstance(block, dict) and "intent" in block:
                for line in str(block.get("examples") or "").splitlines():
                    if line.strip().startswith("- "):
                        found.setdefault(normalise(line.strip()[2:]), str(block["intent"]))
    return found
