"""A new FAQ topic started from the inbox: its fields checked, and its topic file written in
the same form as the hand-written ones (``nlu_data/vigsel.yml``), so a published new topic is
an ordinary file in the repository.

The file holds the examples (Swedish block, then the English one with ``metadata: language:
en``) and the answer ``utter_faq/<name>`` in Swedish and English with the label and the
karlstad.se source. ``scripts/validate_data.py`` judges it like any other file when the change
set is submitted (for example: at least 15 Swedish and 8 English examples).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import yaml

from gateway.editor.checks import ExampleRefusedError

NAME = re.compile(r"^faq/[a-z][a-z0-9_]{2,39}$")
URL_PREFIX = "https://karlstad.se/"  # as scripts/validate_data.py
FIELDS = ("label_sv", "label_en", "text_sv", "text_en", "title", "url", "owner")
LIMITS = {"label_sv": (2, 60), "label_en": (2, 60), "text_sv": (20, 1500), "text_en": (20, 1500),
          "title": (2, 200), "url": (len(URL_PREFIX) + 1, 500), "owner": (0, 128)}


def check_fields(topic: str, fields: dict[str, str], existing_topics: list[str]) -> dict[str, str]:
    """The new topic's fields, trimmed; ExampleRefusedError (422) says what is wrong."""
    if not NAME.match(topic):
        raise ExampleRefusedError(
            f"Ämnesnamnet '{topic[:60]}' går inte att använda. Skriv faq/ och sedan 3–40 små bokstäver a–z, "
            "siffror eller _ (till exempel faq/kolonilotter). / The topic name must be faq/ followed by "
            "3-40 lower-case letters a-z, digits or _.")
    if topic in existing_topics:
        raise ExampleRefusedError(f"Ämnet {topic} finns redan. Lägg till frågan som exempel där i stället. / "
                                  f"Topic {topic} already exists.")
    clean = {key: " ".join(str(fields.get(key) or "").split()) for key in FIELDS}
    for key, (low, high) in LIMITS.items():
        if not low <= len(clean[key]) <= high:
            raise ExampleRefusedError(f"Fältet {key} ska ha {low}–{high} tecken (nu {len(clean[key])}). / "
                                      f"The field {key} needs {low}-{high} characters.")
    if not clean["url"].startswith(URL_PREFIX) or any(c in clean["url"] for c in " \"'<>"):
        raise ExampleRefusedError(f"Källan ska vara en sida på karlstad.se och börja med {URL_PREFIX}. / "
                                  f"The source must be a page on karlstad.se.")
    return clean


def file_name(nlu_dir: Path, topic: str) -> Path:
    return nlu_dir / f"{topic.removeprefix('faq/')}.yml"


def render(topic: str, fields: dict[str, str], examples: list[tuple[str, str]], author: str,
           checked: dt.date) -> str:
    """The topic file: ``examples`` as (language, text), the answer with its source."""
    def block(language: str) -> list[str]:
        texts = [text for lang, text in examples if lang == language]
        head = [f"- intent: {topic}"] + (["  metadata:", "    language: en"] if language == "en" else [])
        return head + ["  examples: |"] + [f"    - {text}" for text in texts]

    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    def variation(language: str) -> list[str]:
        lines = [f"  - text: {q(fields['text_' + language])}"]
        if language == "en":
            lines += ["    condition:", "    - type: slot", "      name: language", "      value: en"]
        lines += ["    metadata:", f"      label: {q(fields['label_' + language])}", "      source:",
                  f"        title: {q(fields['title'])}", f"        url: {q(fields['url'])}",
                  f"        author: {q(author)}", f"        checked: {q(checked.isoformat())}",
                  f"        owner: {q(fields['owner'])}", '        reviewed_by: ""', '        reviewed: ""']
        return lines

    lines = ['version: "3.1"', "nlu:", *block("sv"), *block("en"), "responses:", f"  utter_{topic}:",
             *variation("sv"), *variation("en")]
    text = "\n".join(lines) + "\n"
    yaml.safe_load(text)  # never write what does not parse
    return text
