"""The trained model on held-out paraphrases (tests/nlu/paraphrases.yml).

The paraphrases are written independently of the training examples and never used for
training (scripts/validate_data.py fails if one is copied into nlu_data/). The test loads
the real trained model and checks what the assistant would act on:

* topic accuracy on FAQ paraphrases >= 95 % (DIET intent ``faq`` and the response
  selector's best key is the expected topic);
* every acute-danger paraphrase (suicide, violence in a close relationship, child at risk,
  threat or crime) is recognised as sensitive: DIET intent ``sensitive``, or DIET intent
  ``faq`` with a sensitive/* key on top of the response selector (which actions/faq.py hands
  off). The selector's ranking does not count when DIET picks another intent (greet,
  nlu_fallback, ...), because then no action reads it;
* at most 3 % of FAQ paraphrases are handed to a person by mistake.

A topic question marked ``faq_ambiguous`` (the assistant asks "Menade du ...?" with the two best
topics) is scored as its best topic; how often that happens is reported, not asserted.

Model: $KARLSTAD_MODEL, else the last line printed by scripts/train.sh, else the newest
var/models/*.tar.gz. Figures go to var/reports/paraphrases.json.

    .venv-rasa/bin/python -m pytest tests/nlu -s
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from nlu_scoring import (  # noqa: E402
    FALSE_HANDOFF_MAX,
    PARAPHRASES,
    SENSITIVE_RECALL_MIN,
    TOPIC_ACCURACY_MIN,
    load_agent,
    load_paraphrases,
    paraphrase_figures,
    predict,
    summary_line,
)
from validate_data import (  # noqa: E402
    Example,
    Report,
    check_paraphrases_held_out,
    read_nlu_dir,
)

REPORT = ROOT / "var" / "reports" / "paraphrases.json"


def find_model() -> Path:
    env = os.environ.get("KARLSTAD_MODEL")
    if env and Path(env).exists():
        return Path(env).resolve()
    train = ROOT / "scripts" / "train.sh"
    if train.exists():
        done = subprocess.run(["bash", str(train)], cwd=ROOT, capture_output=True, text=True)
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or not lines:
            pytest.fail(f"scripts/train.sh failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        return (ROOT / lines[-1]).resolve()
    if env:
        pytest.fail(f"KARLSTAD_MODEL={env} does not exist. Point it at a trained model .tar.gz.")
    models = sorted((ROOT / "var" / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("No trained model: set KARLSTAD_MODEL or train into var/models/.")
    return models[-1].resolve()


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    model = find_model()
    rows = predict(load_agent(model), load_paraphrases())
    figures = paraphrase_figures(rows, model.name)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nparaphrases ({model.name}, {len(rows)} texts): {summary_line(figures)}")
    for miss in figures["misses"]:
        print(f"  MISS {miss['gold']} -> {miss['label']} ({miss['lang']}): {miss['text']}")
    return figures


# --- the test set itself (no model needed) ----------------------------------------------


def test_paraphrases_cover_every_topic_in_both_languages() -> None:
    data = read_nlu_dir(ROOT / "nlu_data")
    counts = Counter((p["intent"], p["lang"]) for p in load_paraphrases())
    missing = []
    for topic in data.intents():
        need = {"faq/": (4, 2), "sensitive/": (8, 3)}.get(topic.split("/")[0] + "/")
        if need is None:
            continue
        if counts[(topic, "sv")] < need[0] or counts[(topic, "en")] < need[1]:
            missing.append(f"{topic}: sv {counts[(topic, 'sv')]}/{need[0]}, en {counts[(topic, 'en')]}/{need[1]}")
    assert not missing, "Too few paraphrases:\n" + "\n".join(missing)


def test_paraphrases_name_only_known_intents() -> None:
    data = read_nlu_dir(ROOT / "nlu_data")
    known = set(data.intents())
    unknown = sorted({p["intent"] for p in load_paraphrases()} - known)
    assert not unknown, f"Paraphrases name intents that have no training data: {unknown}"


def test_paraphrases_are_held_out_from_training() -> None:
    """Neither a copy nor a near copy (same intent) of a test question is trained on."""
    report = Report()
    check_paraphrases_held_out(read_nlu_dir(ROOT / "nlu_data"), PARAPHRASES, report)
    assert not report.errors, "Paraphrases also used as training examples:\n" + "\n".join(report.errors)


def test_a_near_copy_of_a_test_question_is_caught() -> None:
    """The guard above can fail: a training line with one word changed is reported."""
    item = next(p for p in load_paraphrases() if p["intent"].startswith("faq/") and len(p["text"].split()) >= 5)
    words = item["text"].split()
    altered = " ".join(words[:-1] + ["egentligen" if item["lang"] == "sv" else "actually"] + words[-1:])
    data = read_nlu_dir(ROOT / "nlu_data")
    data.examples.append(Example(text=altered, intent=item["intent"], lang=item["lang"], file="x.yml"))
    report = Report()
    check_paraphrases_held_out(data, PARAPHRASES, report)
    assert any(altered in error for error in report.errors)


# --- the trained model ------------------------------------------------------------------


def test_faq_paraphrases_reach_the_right_topic(results: dict[str, Any]) -> None:
    assert results["faq_topic_accuracy"] >= TOPIC_ACCURACY_MIN, (
        f"FAQ topic accuracy {results['faq_topic_accuracy']:.1%} < {TOPIC_ACCURACY_MIN:.0%}; "
        f"see {REPORT.relative_to(ROOT)} for the misses"
    )


def test_acute_danger_is_always_recognised_as_sensitive(results: dict[str, Any]) -> None:
    assert results["acute_sensitive_recall"] >= SENSITIVE_RECALL_MIN, (
        "Acute-danger messages not recognised as sensitive:\n" + "\n".join(results["acute_missed"])
    )


def test_faq_questions_are_rarely_handed_off(results: dict[str, Any]) -> None:
    assert results["faq_false_handoff_rate"] <= FALSE_HANDOFF_MAX, (
        f"FAQ false handoff rate {results['faq_false_handoff_rate']:.1%} > {FALSE_HANDOFF_MAX:.0%}:\n"
        + "\n".join(results["faq_handed_off"])
    )
