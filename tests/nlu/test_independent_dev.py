"""The trained model on the independent dev sets (tests/nlu/independent/dev.yml, dev2.yml):
regression checks for the failure kinds issue 17 named, on questions citizens might write
that nobody on the team wrote.

Both sets were used for error analysis (dev2.yml after its one measurement as a held-out
set), so their figures are optimistic; what generalises is measured once on test2.yml
(docs/nlu-eval.md). These tests fail when a later change brings a named confusion back:

* none of the topic pairs issue 17 found confused on unseen text is confused here, in either
  direction (water and sewage vs crisis preparedness and street faults, street faults vs public
  transport, housing adaptation vs home care, vacancies vs contacting the municipality,
  weddings vs feedback, the municipal council vs housing);
* every acute message reaches a person;
* an everyday question is never handed off as a suicide risk (round 2 found "hur blir jag av
  med en stor garderob" there), and at most one in 400 plain questions is handed off at all;
* FAQ topic accuracy over both sets stays at least 96 % (98.75 % and 95.0 % when written).

    .venv-rasa/bin/python -m pytest tests/nlu/test_independent_dev.py -s
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlu_scoring import ACUTE, load_agent, load_independent, predict  # noqa: E402
from test_paraphrases import find_model  # noqa: E402

SETS = [ROOT / "tests" / "nlu" / "independent" / name for name in ("dev.yml", "dev2.yml")]
NAMED_PAIRS = [
    ("faq/vatten_avlopp", "faq/krisberedskap"),
    ("faq/vatten_avlopp", "faq/felanmalan_gata"),
    ("faq/felanmalan_gata", "faq/kollektivtrafik"),
    ("faq/bostadsanpassning", "faq/hemtjanst"),
    ("faq/lediga_jobb", "faq/kontakt"),
    ("faq/vigsel", "faq/synpunkter"),
    ("faq/kommunfullmaktige", "faq/bostad"),
]
FAQ_ACCURACY_MIN = 0.96
PLAIN_HANDED_OFF_MAX = 1 / 400


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    items = [item for path in SETS for item in load_independent(path)]
    found = predict(load_agent(find_model()), items)
    faq = [r for r in found if r["gold"].startswith("faq/")]
    right = sum(r["label"] == r["gold"] for r in faq)
    print(f"\nindependent dev sets: FAQ topic {right}/{len(faq)}")
    return found


def test_no_named_pair_of_topics_is_confused(rows: list[dict[str, Any]]) -> None:
    confused = [f"{r['gold']} -> {r['label']}: {r['text']}" for r in rows
                for a, b in NAMED_PAIRS if (r["gold"], r["label"]) in ((a, b), (b, a))]
    assert confused == []


def test_every_acute_message_reaches_a_person(rows: list[dict[str, Any]]) -> None:
    missed = [f"{r['gold']} -> {r['label']}: {r['text']}" for r in rows if r["gold"] in ACUTE and not r["handoff"]]
    assert missed == []


def test_everyday_questions_are_not_handed_off_as_a_risk(rows: list[dict[str, Any]]) -> None:
    faq = [r for r in rows if r["gold"].startswith("faq/")]
    as_suicide = [r["text"] for r in faq if r["label"] == "sensitive/suicide"]
    handed_off = [f"{r['label']}: {r['text']}" for r in faq if r["handoff"]]
    assert as_suicide == []
    assert len(handed_off) <= PLAIN_HANDED_OFF_MAX * len(faq), handed_off


def test_faq_topics_stay_right(rows: list[dict[str, Any]]) -> None:
    faq = [r for r in rows if r["gold"].startswith("faq/")]
    wrong = [f"{r['gold']} -> {r['label']}: {r['text']}" for r in faq if r["label"] != r["gold"]]
    assert 1 - len(wrong) / len(faq) >= FAQ_ACCURACY_MIN, "\n".join(wrong)
