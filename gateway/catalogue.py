"""The answers content editors wrote, read from the same YAML files Rasa trains on.

The gateway needs them for four things: the Swedish text of an answer that Rasa gave in
English (for the basis record and the staff console), each answer's source and who stands
behind it (author, owner, reviewer: docs/topic-format.md), the list of fixed answers to
pre-translate, and the training-data hash of the content (scripts/data_hash.py, the same
definition train.sh and evaluate.py use). Only YAML is read; nothing from Rasa is imported.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scripts.data_hash import training_data_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """The page an answer is based on, and who stands behind the answer's text.

    ``author`` wrote the text and ``checked`` is when they last compared it with the page.
    ``owner`` (a unit at the municipality that keeps the answer correct) and ``reviewed_by``
    / ``reviewed`` (who at the municipality reviewed it, and when) are None until someone
    has signed for it in the content file.
    """

    title: str
    url: str
    author: str | None = None
    checked: str | None = None
    owner: str | None = None
    reviewed_by: str | None = None
    reviewed: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"title": self.title, "url": self.url, "author": self.author, "checked": self.checked,
                "owner": self.owner, "reviewed_by": self.reviewed_by, "reviewed": self.reviewed}


@dataclass(frozen=True)
class Provenance:
    """Who stands behind the topic answers, counted from the content files."""

    answers: int
    authors: dict[str, int]
    reviewed: int  # answers with reviewed_by
    owned: int  # answers with an owner
    reviewers: dict[str, int]
    owners: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        return {"answers": self.answers, "authors": self.authors, "reviewed": self.reviewed,
                "owned": self.owned, "reviewers": self.reviewers, "owners": self.owners}


@dataclass
class Answer:
    response_id: str
    texts: dict[str, str] = field(default_factory=dict)  # language -> text
    source: Source | None = None
    label: dict[str, str] = field(default_factory=dict)

    def text(self, language: str) -> str | None:
        return self.texts.get(language)


def parse_source(metadata: object) -> Source | None:
    if not isinstance(metadata, dict):
        return None
    raw = metadata.get("source")
    if not isinstance(raw, dict) or not raw.get("url") or not raw.get("title"):
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        return (str(value).strip() or None) if value is not None else None

    return Source(
        title=str(raw["title"]),
        url=str(raw["url"]),
        author=text("author"),
        checked=text("checked"),
        owner=text("owner"),
        reviewed_by=text("reviewed_by"),
        reviewed=text("reviewed") if text("reviewed_by") else None,  # a date without a reviewer says nothing
    )


def _variation_language(item: dict[str, object]) -> str:
    conditions = item.get("condition")
    for cond in conditions if isinstance(conditions, list) else []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond.get("value"))
    return "sv"


def _add_responses(answers: dict[str, Answer], responses: dict[str, object]) -> None:
    """Adds each response's first text per language, its source and its label."""
    for name, variations in responses.items():
        answer = answers.setdefault(str(name), Answer(str(name)))
        for item in variations if isinstance(variations, list) else []:
            if not isinstance(item, dict) or "text" not in item:
                continue
            lang = _variation_language(item)
            answer.texts.setdefault(lang, str(item["text"]))
            meta = item.get("metadata")
            answer.source = answer.source or parse_source(meta)
            if isinstance(meta, dict) and meta.get("label"):
                answer.label.setdefault(lang, str(meta["label"]))


class Catalogue:
    """Response id (``utter_faq/bygglov``) → texts per language and source."""

    def __init__(self, answers: dict[str, Answer], data_hash: str) -> None:
        self.answers = answers
        self.data_hash = data_hash

    @classmethod
    def load(cls, *dirs: Path, root: Path | None = None) -> Catalogue:
        """Answers from ``dirs`` (nlu_data/, then bot/domain/); the training-data hash of the
        content under ``root`` (default: the parent of the first directory)."""
        answers: dict[str, Answer] = {}
        for directory in dirs:
            if not directory.exists():
                continue
            for path in sorted(directory.glob("*.yml")):
                raw = path.read_bytes()
                try:
                    content = yaml.safe_load(raw) or {}
                except yaml.YAMLError as exc:
                    logger.error("catalogue: cannot parse %s: %s", path.name, exc)
                    continue
                responses = content.get("responses") if isinstance(content, dict) else None
                if isinstance(responses, dict):
                    _add_responses(answers, responses)
        logger.info("catalogue: %d responses loaded", len(answers))
        content_root = root or (dirs[0].parent if dirs else Path("."))
        return cls(answers, training_data_hash(content_root))

    @classmethod
    def from_responses(cls, responses: dict[str, object], data_hash: str) -> Catalogue:
        """Answers from a domain's ``responses`` mapping (a model archive's domain, as the
        release registry reads it), for content trained under ``data_hash``."""
        answers: dict[str, Answer] = {}
        _add_responses(answers, responses)
        return cls(answers, data_hash)

    def get(self, response_id: str | None) -> Answer | None:
        return self.answers.get(response_id) if response_id else None

    def topics(self) -> list[str]:
        return sorted(
            name.removeprefix("utter_")
            for name in self.answers
            if name.startswith("utter_faq/")
        )

    def swedish_texts(self) -> list[str]:
        return [a.texts["sv"] for a in self.answers.values() if "sv" in a.texts]

    def provenance(self) -> Provenance:
        """Who wrote, owns and reviewed the topic answers (faq/*, sensitive/*)."""
        sources = [a.source for name, a in self.answers.items()
                   if name.startswith(("utter_faq/", "utter_sensitive/"))]
        signed = [s for s in sources if s is not None]
        return Provenance(
            answers=len(sources),
            authors=dict(Counter(s.author or "" for s in signed)),
            reviewed=sum(1 for s in signed if s.reviewed_by),
            owned=sum(1 for s in signed if s.owner),
            reviewers=dict(Counter(s.reviewed_by for s in signed if s.reviewed_by)),
            owners=dict(Counter(s.owner for s in signed if s.owner)),
        )
