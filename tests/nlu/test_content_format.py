"""Who stands behind an answer: scripts/validate_data.py checks the source block of every
answer (docs/topic-format.md), so nothing can claim an owner or a review nobody signed."""
from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from validate_data import SOURCE_KEYS, validate  # noqa: E402

TODAY = dt.date(2026, 12, 7)
SIGNED = {
    "title": "Bra att veta vid bygglov och anmälan",
    "url": "https://karlstad.se/bygga-bo-och-leva-hallbart/bygglov",
    "author": "Projektgruppen för AI-assistenten",
    "checked": "2026-11-29",
    "owner": "",
    "reviewed_by": "",
    "reviewed": "",
}


def topic_file(tmp_path: Path, source: dict[str, Any]) -> Path:
    """A topic with enough examples and a Swedish and English answer, both with ``source``."""
    nlu_dir = tmp_path / "nlu_data"
    nlu_dir.mkdir()
    sv = "\n".join(f"    - fråga nummer {i} om bygglov" for i in range(16))
    en = "\n".join(f"    - question number {i} about permits" for i in range(9))
    lines = "".join(f"        {k}: \"{v}\"\n" for k, v in source.items())
    (nlu_dir / "bygglov.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/bygglov\n  examples: |\n' + sv
        + "\n- intent: faq/bygglov\n  metadata:\n    language: en\n  examples: |\n" + en
        + "\nresponses:\n  utter_faq/bygglov:\n"
        + '  - text: "Svar."\n    metadata:\n      source:\n' + lines
        + '  - text: "Answer."\n    condition:\n    - type: slot\n      name: language\n      value: en\n'
        + "    metadata:\n      source:\n" + lines,
        encoding="utf-8",
    )
    return nlu_dir


def errors(tmp_path: Path, **changes: Any) -> list[str]:
    source = {k: v for k, v in {**SIGNED, **changes}.items() if v is not None}
    return validate(topic_file(tmp_path, source), TODAY).errors


def test_the_projects_own_content_passes() -> None:
    report = validate(ROOT / "nlu_data", TODAY)
    assert report.errors == []


def test_every_answer_names_its_author_and_says_who_reviewed_it() -> None:
    """What /om-ai and the explanations say about authors and reviews comes from here."""
    import yaml

    for path in sorted((ROOT / "nlu_data").glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (content.get("responses") or {}).items():
            for item in variations:
                source = (item.get("metadata") or {}).get("source")
                if source is None:
                    continue
                assert tuple(source) == SOURCE_KEYS, f"{path.name}: {name}"
                assert source["author"], f"{path.name}: {name}"
                assert bool(source["reviewed_by"]) == bool(source["reviewed"]), f"{path.name}: {name}"


def test_a_correct_source_block_passes(tmp_path: Path) -> None:
    assert errors(tmp_path) == []


def test_a_reviewer_with_a_date_passes(tmp_path: Path) -> None:
    assert errors(tmp_path, reviewed_by="Anna Andersson, Stadsbyggnadsförvaltningen", reviewed="2026-12-01",
                  owner="Stadsbyggnadsförvaltningen") == []


@pytest.mark.parametrize("changes, expected", [
    ({"author": ""}, "source.author är tomt"),
    ({"author": None}, "source.author saknas"),
    ({"reviewed_by": None}, 'source.reviewed_by saknas. Skriv raden reviewed_by: ""'),
    ({"owner": None}, 'source.owner saknas. Skriv raden owner: ""'),
    ({"reviewed": "2026-12-01"}, "ett granskningsdatum utan granskare"),
    ({"reviewed_by": "Anna Andersson"}, "reviewed saknar datum"),
    ({"reviewed_by": "Anna Andersson", "reviewed": "igår"}, "source.reviewed 'igår' är inget datum"),
    ({"checked": "29/11"}, "source.checked '29/11' är inget datum"),
    ({"reviewd_by": "x"}, "okända nycklar: reviewd_by"),
])
def test_a_source_that_claims_too_much_or_too_little_is_an_error(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    found = errors(tmp_path, **changes)
    assert any(expected.lower() in e.lower() for e in found), found


def test_an_old_check_against_the_page_is_a_warning(tmp_path: Path) -> None:
    report = validate(topic_file(tmp_path, {**SIGNED, "checked": "2025-01-01"}), TODAY)
    assert report.errors == []
    assert any("kontrollerades mot källsidan senast 2025-01-01" in w for w in report.warnings)


def test_the_format_is_documented_for_editors_and_developers() -> None:
    editors = (ROOT / "nlu_data" / "README.md").read_text(encoding="utf-8")
    developers = (ROOT / "docs" / "topic-format.md").read_text(encoding="utf-8")
    for key in SOURCE_KEYS:
        assert f"{key}:" in textwrap.dedent(editors) and f"{key}:" in developers, key
