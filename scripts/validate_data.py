"""Checks the content editors' topic files in nlu_data/ (run by `make validate`).

`rasa data validate` checks that the data is valid Rasa data. This script checks what Rasa
does not know about: every retrieval topic (faq/*, sensitive/*) has enough Swedish and English
examples, a Swedish and an English answer, and a source on every answer: the karlstad.se
page (title, URL), who wrote the text (author) and when they last checked it against the page
(checked), and who at the municipality owns it (owner) and reviewed it (reviewed_by, reviewed).
owner and reviewed_by stay empty until someone at the municipality has taken that on; nothing
else may claim it. Messages are in Swedish because editors read them.

Exit code 0 when there are no errors (warnings are allowed), 1 otherwise.

    .venv-rasa/bin/python scripts/validate_data.py [--nlu-dir nlu_data] [--today 2026-11-29]
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from text_similarity import near_copy, normalise  # noqa: E402  (shared with the gateway)

RETRIEVAL_PREFIXES = ("faq/", "sensitive/")
# Minimum number of examples per topic and language: (Swedish, English).
MIN_EXAMPLES = {"faq/": (15, 8), "sensitive/": (25, 12)}
# metadata.source of every answer (docs/topic-format.md). Every key is written out, so an empty
# owner or reviewed_by is a visible "nobody yet", not a forgotten line.
SOURCE_KEYS = ("title", "url", "author", "checked", "owner", "reviewed_by", "reviewed")
SOURCE_REQUIRED = ("title", "url", "author", "checked")  # may never be empty
URL_PREFIX = "https://karlstad.se/"
REVIEW_MAX_AGE_DAYS = 365
SUPPORTED_LANGUAGES = ("sv", "en")
MARKUP = re.compile(r"(\*\*|__|\]\(|<[a-zA-Z/][^>]*>|^#)", re.MULTILINE)


@dataclass
class Example:
    text: str
    intent: str  # for retrieval intents the full key, e.g. "faq/bygglov"
    lang: str
    file: str


@dataclass
class Variation:
    text: str
    lang: str  # "sv" for the unconditional variation, else the language in the condition
    source: dict[str, Any] | None
    file: str


@dataclass
class NluData:
    examples: list[Example] = field(default_factory=list)
    responses: dict[str, list[Variation]] = field(default_factory=dict)
    response_files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # files that could not be read
    # Lookup tables (nlu_data/begrepp.yml): name -> (file, elements)
    lookups: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def by_intent(self, intent: str) -> list[Example]:
        return [e for e in self.examples if e.intent == intent]


def _example_lines(block: str) -> Iterable[str]:
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            yield line[2:].strip()


def _variation_language(item: dict[str, Any]) -> str:
    for cond in item.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond.get("value"))
    return "sv"


def read_nlu_file(path: Path, data: NluData, root: Path) -> None:
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        data.problems.append(f"{name}: filen går inte att läsa som YAML ({err}). Rätta indrag och citattecken.")
        return
    if not isinstance(content, dict):
        data.problems.append(f"{name}: filen ska börja med 'version: \"3.1\"' och ha 'nlu:' och 'responses:'.")
        return
    for block in content.get("nlu") or []:
        if isinstance(block, dict) and "lookup" in block:
            elements = list(_example_lines(str(block.get("examples") or "")))
            data.lookups[str(block["lookup"])] = (name, elements)
            continue
        if not isinstance(block, dict) or "intent" not in block:
            continue
        metadata = block.get("metadata") or {}
        lang = str(metadata.get("language", "sv")) if isinstance(metadata, dict) else "sv"
        for text in _example_lines(str(block.get("examples") or "")):
            data.examples.append(Example(text=text, intent=str(block["intent"]), lang=lang, file=name))
    for response, items in (content.get("responses") or {}).items():
        variations = data.responses.setdefault(str(response), [])
        data.response_files.setdefault(str(response), name)
        for item in items or []:
            if not isinstance(item, dict):
                continue
            metadata = item.get("metadata") or {}
            source = metadata.get("source") if isinstance(metadata, dict) else None
            variations.append(
                Variation(
                    text=str(item.get("text") or ""),
                    lang=_variation_language(item),
                    source=source if isinstance(source, dict) else None,
                    file=name,
                )
            )


def read_nlu_dir(nlu_dir: Path, root: Path | None = None) -> NluData:
    """Reads every nlu_data/*.yml file (plain YAML, no Rasa import needed)."""
    root = root or nlu_dir.parent
    data = NluData()
    for path in sorted(nlu_dir.glob("*.yml")):
        read_nlu_file(path, data, root)
    return data


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _date(where: str, key: str, value: Any, today: dt.date, report: Report) -> dt.date | None:
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        report.error(
            f"{where}: source.{key} '{value}' är inget datum. Skriv datumet som ÅÅÅÅ-MM-DD, "
            f"till exempel {today.isoformat()}."
        )
        return None


def _check_source(where: str, source: dict[str, Any] | None, today: dt.date, report: Report) -> None:
    if not source:
        report.error(
            f"{where}: källa saknas. Lägg till metadata.source med {', '.join(SOURCE_KEYS)} "
            f"(se nlu_data/README.md)."
        )
        return
    for key in SOURCE_KEYS:
        if key not in source and key in SOURCE_REQUIRED:
            report.error(f"{where}: source.{key} saknas. Fyll i {key}.")
        elif key not in source:
            report.error(
                f"{where}: source.{key} saknas. Skriv raden {key}: \"\" (tom tills någon på "
                f"kommunen har åtagit sig det)."
            )
        elif key in SOURCE_REQUIRED and not str(source.get(key) or "").strip():
            report.error(f"{where}: source.{key} är tomt. Fyll i {key}.")
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown:
        report.error(
            f"{where}: source har okända nycklar: {', '.join(unknown)}. "
            f"Tillåtna: {', '.join(SOURCE_KEYS)}. Kontrollera stavningen."
        )
    url = str(source.get("url") or "")
    if url and not url.startswith(URL_PREFIX):
        report.error(
            f"{where}: source.url '{url}' ska vara en sida på karlstad.se och börja med {URL_PREFIX}"
        )
    reviewer = str(source.get("reviewed_by") or "").strip()
    reviewed = source.get("reviewed")
    if reviewer and reviewed in (None, ""):
        report.error(
            f"{where}: source.reviewed_by är ifyllt men reviewed saknar datum. Skriv dagen då "
            f"{reviewer} granskade svaret (ÅÅÅÅ-MM-DD)."
        )
    if not reviewer and reviewed not in (None, ""):
        report.error(
            f"{where}: source.reviewed har ett datum men reviewed_by är tomt. Ett granskningsdatum "
            f"utan granskare går inte att lita på: skriv vem på kommunen som granskade, eller töm reviewed."
        )
    if reviewed not in (None, ""):
        _date(where, "reviewed", reviewed, today, report)
    checked = source.get("checked")
    if checked in (None, ""):
        return
    date = _date(where, "checked", checked, today, report)
    if date is None:
        return
    if date > today:
        report.warn(f"{where}: source.checked {date.isoformat()} ligger i framtiden. Kontrollera datumet.")
    elif (today - date).days > REVIEW_MAX_AGE_DAYS:
        report.warn(
            f"{where}: svaret kontrollerades mot källsidan senast {date.isoformat()}, för mer än 12 "
            f"månader sedan. Läs källsidan igen, uppdatera svaret om det behövs och sätt checked till "
            f"dagens datum."
        )


def _source_tuple(source: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(str((source or {}).get(k) or "") for k in SOURCE_KEYS)


def check_topic(topic: str, data: NluData, today: dt.date, report: Report) -> None:
    examples = data.by_intent(topic)
    files = sorted({e.file for e in examples})
    file_label = ", ".join(files)
    prefix = next(p for p in RETRIEVAL_PREFIXES if topic.startswith(p))
    min_sv, min_en = MIN_EXAMPLES[prefix]
    counts = {lang: sum(1 for e in examples if e.lang == lang) for lang in SUPPORTED_LANGUAGES}
    if counts["sv"] < min_sv:
        report.error(
            f"{file_label}: {topic} har {counts['sv']} svenska exempel, minst {min_sv} behövs. "
            f"Skriv fler frågor som en medborgare kan ställa, med olika ord."
        )
    if counts["en"] < min_en:
        report.error(
            f"{file_label}: {topic} har {counts['en']} engelska exempel, minst {min_en} behövs. "
            f"Lägg dem i blocket med 'metadata: language: en'."
        )
    others = sorted({e.lang for e in examples} - set(SUPPORTED_LANGUAGES))
    if others:
        report.error(
            f"{file_label}: {topic} har exempel med språket {', '.join(others)}. "
            f"Bara sv (inget metadata-block) och en (metadata: language: en) används."
        )
    response = f"utter_{topic}"
    variations = data.responses.get(response)
    if not variations:
        report.error(
            f"{file_label}: svaret {response} saknas. Lägg till det under 'responses:' i samma fil."
        )
        return
    rfile = data.response_files.get(response, file_label)
    sv = [v for v in variations if v.lang == "sv"]
    en = [v for v in variations if v.lang == "en"]
    if not sv:
        report.error(
            f"{rfile}: {response} saknar svensk variant. Den svenska texten ska stå först, utan condition."
        )
    if not en:
        report.error(
            f"{rfile}: {response} saknar engelsk variant. Lägg till en text med "
            f"condition: slot language = en."
        )
    for v in variations:
        where = f"{rfile}: {response} ({v.lang})"
        if not v.text.strip():
            report.error(f"{where}: texten är tom. Skriv svaret.")
        if MARKUP.search(v.text):
            report.error(
                f"{where}: svaret innehåller Markdown eller HTML. Skriv vanlig text; "
                f"länkar blir klickbara automatiskt."
            )
        _check_source(where, v.source, today, report)
    sources = {_source_tuple(v.source) for v in variations if v.source}
    if len(sources) > 1:
        report.error(
            f"{rfile}: {response} har olika källor i de svenska och engelska varianterna. "
            f"Använd samma {', '.join(SOURCE_KEYS)} i båda."
        )


def check_duplicates(data: NluData, report: Report) -> None:
    seen: dict[str, Example] = {}
    for e in data.examples:
        key = normalise(e.text)
        first = seen.get(key)
        if first is None:
            seen[key] = e
        elif first.intent != e.intent:
            report.error(
                f"{e.file}: exemplet '{e.text}' finns både i {first.intent} ({first.file}) och i "
                f"{e.intent}. Ta bort det ur det ämne där det passar sämst."
            )


def check_orphan_responses(data: NluData, report: Report) -> None:
    intents = set(data.intents())
    for response, file in sorted(data.response_files.items()):
        topic = response[len("utter_"):] if response.startswith("utter_") else response
        if topic.startswith(RETRIEVAL_PREFIXES) and topic not in intents:
            report.error(
                f"{file}: svaret {response} har inga exempel. Lägg till '- intent: {topic}' "
                f"med exempel, eller ta bort svaret."
            )


CONCEPT_PREFIX = "begrepp_"
CONCEPT_MIN_STEM = 3  # letters an element with * needs, so "so*" can't match half the language


def check_concepts(data: NluData, report: Report) -> None:
    """The word lists in begrepp.yml (syntax: bot/components/concepts.py)."""
    for name, (file, elements) in sorted(data.lookups.items()):
        if not name.startswith(CONCEPT_PREFIX):
            report.warn(
                f"{file}: listan '{name}' används inte av modellen. Namnet ska börja med "
                f"{CONCEPT_PREFIX}, till exempel {CONCEPT_PREFIX}{name}."
            )
        if not elements:
            report.error(f"{file}: listan '{name}' är tom. Skriv minst ett ord, eller ta bort listan.")
        seen = set()
        for element in elements:
            key = " ".join(element.lower().split())
            if key in seen:
                report.warn(f"{file}: '{element}' står två gånger i listan '{name}'. Ta bort den ena.")
            seen.add(key)
            letters = sum(ch.isalnum() for ch in element)
            if "*" in element and letters < CONCEPT_MIN_STEM:
                report.error(
                    f"{file}: '{element}' i listan '{name}' är för kort för att ha *. Skriv minst "
                    f"{CONCEPT_MIN_STEM} bokstäver före eller efter *, eller skriv hela ordet."
                )


SMALL_TALK = ("greet", "goodbye", "thanks", "affirm", "deny")


def check_paraphrases_held_out(data: NluData, paraphrases: Path, report: Report) -> None:
    """The paraphrase test set must never be used for training, not even as a near copy."""
    if not paraphrases.exists():
        return
    items = yaml.safe_load(paraphrases.read_text(encoding="utf-8")) or []
    exact = {normalise(str((item or {}).get("text") or "")) for item in items}
    by_intent: dict[str, list[str]] = {}
    for item in items:
        by_intent.setdefault(str((item or {}).get("intent") or ""), []).append(
            normalise(str((item or {}).get("text") or "")))
    for e in data.examples:
        text = normalise(e.text)
        # Near copies only count within the same intent (and not for one-line small talk
        # such as "hej då" / "hej hej", which has few ways to be said).
        similar = [] if e.intent in SMALL_TALK else by_intent.get(e.intent, [])
        hit = text if text in exact else next((t for t in similar if near_copy(text, t)), None)
        if hit is not None:
            same = "finns också" if hit == text else "är nästan samma mening som en"
            report.error(
                f"{e.file}: exemplet '{e.text}' {same} i testmeningarna ({paraphrases.name}). "
                f"Testmeningarna får inte användas som träningsexempel: skriv frågan med "
                f"andra ord eller ta bort exemplet."
            )


def validate(nlu_dir: Path, today: dt.date, paraphrases: Path | None = None) -> Report:
    report = Report()
    data = read_nlu_dir(nlu_dir)
    for problem in data.problems:
        report.error(problem)
    topics = [i for i in data.intents() if i.startswith(RETRIEVAL_PREFIXES)]
    if not topics:
        report.error(f"{nlu_dir}: inga ämnen (faq/... eller sensitive/...) hittades.")
    for topic in topics:
        check_topic(topic, data, today, report)
    check_orphan_responses(data, report)
    check_duplicates(data, report)
    check_concepts(data, report)
    if paraphrases is not None:
        check_paraphrases_held_out(data, paraphrases, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu-dir", type=Path, default=Path("nlu_data"))
    parser.add_argument("--paraphrases", type=Path, default=Path("tests/nlu/paraphrases.yml"))
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)
    if not args.nlu_dir.is_dir():
        print(f"FEL: mappen {args.nlu_dir} finns inte. Kör från projektets rotmapp.", file=sys.stderr)
        return 2
    report = validate(args.nlu_dir, args.today, args.paraphrases)
    for message in report.warnings:
        print(f"VARNING: {message}")
    for message in report.errors:
        print(f"FEL: {message}")
    data = read_nlu_dir(args.nlu_dir)
    topics = [i for i in data.intents() if i.startswith(RETRIEVAL_PREFIXES)]
    print(
        f"{len(topics)} ämnen, {len(data.examples)} exempel: "
        f"{len(report.errors)} fel, {len(report.warnings)} varningar."
    )
    if report.errors:
        print("Rätta felen ovan och kör `make validate` igen.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
