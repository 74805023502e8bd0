"""The answers content editors wrote, read from the same YAML files Rasa trains on.

The gateway needs them for three things: the Swedish text of an answer that Rasa gave in
English (for the basis record and the staff console), each answer's source, and the list
of fixed answers to pre-translate. Only YAML is read; nothing from Rasa is imported.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    owner: str | None = None
    reviewed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url, "owner": self.owner, "reviewed": self.reviewed}


@dataclass
class Answer:
    response_id: str
    texts: dict[str, str] = field(default_factory=dict)  # language -> text
    source: Source | None = None
    label: dict[str, str] = field(default_factory=dict)

    def text(self, language: str) -> str | None:
        return self.texts.get(language)


def parse_source(metadata: Any) -> Source | None:
    if not isinstance(metadata, dict):
        return None
    raw = metadata.get("source")
    if not isinstance(raw, dict) or not raw.get("url") or not raw.get("title"):
        return None
    reviewed = raw.get("reviewed")
    return Source(
        title=str(raw["title"]),
        url=str(raw["url"]),
        owner=str(raw["owner"]) if raw.get("owner") else None,
        reviewed=str(reviewed) if reviewed else None,
    )


def _variation_language(item: dict[str, Any]) -> str:
    for cond in item.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond.get("value"))
    return "sv"


class Catalogue:
    """Response id (``utter_faq/bygglov``) → texts per language and source."""

    def __init__(self, answers: dict[str, Answer], data_hash: str) -> None:
        self.answers = answers
        self.data_hash = data_hash

    @classmethod
    def load(cls, *dirs: Path) -> Catalogue:
        answers: dict[str, Answer] = {}
        digest = hashlib.sha256()
        for directory in dirs:
            if not directory.exists():
                continue
            for path in sorted(directory.glob("*.yml")):
                raw = path.read_bytes()
                digest.update(path.name.encode() + b"\0" + raw)
                try:
                    content = yaml.safe_load(raw) or {}
                except yaml.YAMLError as exc:
                    logger.error("catalogue: cannot parse %s: %s", path.name, exc)
                    continue
                responses = content.get("responses") if isinstance(content, dict) else None
                if not isinstance(responses, dict):
                    continue
                for name, variations in responses.items():
                    answer = answers.setdefault(str(name), Answer(str(name)))
                    for item in variations or []:
                        if not isinstance(item, dict) or "text" not in item:
                            continue
                        lang = _variation_language(item)
                        answer.texts.setdefault(lang, str(item["text"]))
                        meta = item.get("metadata")
                        answer.source = answer.source or parse_source(meta)
                        if isinstance(meta, dict) and meta.get("label"):
                            answer.label.setdefault(lang, str(meta["label"]))
        logger.info("catalogue: %d responses loaded", len(answers))
        return cls(answers, digest.hexdigest())

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
