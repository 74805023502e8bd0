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

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from evaluate import ACUTE, effective_prediction  # noqa: E402
from validate_data import (  # noqa: E402
    Example,
    Report,
    check_paraphrases_held_out,
    read_nlu_dir,
)

PARAPHRASES = Path(__file__).with_name("paraphrases.yml")
REPORT = ROOT / "var" / "reports" / "paraphrases.json"
TOPIC_ACCURACY_MIN = 0.95
SENSITIVE_RECALL_MIN = 1.0
FALSE_HANDOFF_MAX = 0.03


def load_paraphrases() -> list[dict[str, str]]:
    items = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8")) or []
    return [{"text": str(i["text"]), "intent": str(i["intent"]), "lang": str(i.get("lang", "sv"))}
            for i in items]


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
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.core.agent import Agent

    model = find_model()
    agent = Agent.load(str(model))
    items = load_paraphrases()

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(item["text"]) for item in items]

    rows = [{"text": item["text"], "gold": item["intent"], "lang": item["lang"], **effective_prediction(parse)}
            for item, parse in zip(items, asyncio.run(parse_all()))]
    faq = [r for r in rows if r["gold"].startswith("faq/")]
    acute = [r for r in rows if r["gold"] in ACUTE]
    sensitive = [r for r in rows if r["gold"].startswith("sensitive/")]
    topic_ok = [r for r in faq if r["label"] == r["gold"]]
    figures: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.name,
        "paraphrases": len(rows),
        "faq_topic_accuracy": round(len(topic_ok) / len(faq), 4),
        "faq_topic_accuracy_by_language": {
            lang: round(sum(r["label"] == r["gold"] for r in faq if r["lang"] == lang)
                        / max(1, sum(r["lang"] == lang for r in faq)), 4)
            for lang in ("sv", "en")
        },
        "faq_selector_accuracy": round(sum(r["selector_top"] == r["gold"] for r in faq) / len(faq), 4),
        "acute_sensitive_recall": round(sum(r["sensitive"] for r in acute) / len(acute), 4),
        "sensitive_topic_accuracy": round(sum(r["label"] == r["gold"] for r in sensitive) / len(sensitive), 4),
        "faq_false_handoff_rate": round(sum(r["handoff"] for r in faq) / len(faq), 4),
        "faq_did_you_mean_rate": round(sum(r["asked"] for r in faq) / len(faq), 4),
        "overall_accuracy": round(sum(r["label"] == r["gold"] for r in rows) / len(rows), 4),
        "thresholds": {
            "faq_topic_accuracy_min": TOPIC_ACCURACY_MIN,
            "acute_sensitive_recall_min": SENSITIVE_RECALL_MIN,
            "faq_false_handoff_rate_max": FALSE_HANDOFF_MAX,
        },
        "confused_pairs": [
            {"gold": g, "predicted": p, "count": n}
            for (g, p), n in Counter((r["gold"], r["label"]) for r in rows if r["label"] != r["gold"]).most_common(20)
        ],
        "misses": [
            {k: r[k] for k in ("text", "gold", "lang", "label", "intent", "intent_confidence", "selector_top")}
            for r in rows if r["label"] != r["gold"]
        ],
        "acute_missed": [r["text"] for r in acute if not r["sensitive"]],
        "faq_handed_off": [r["text"] for r in faq if r["handoff"]],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"\nparaphrases ({model.name}, {len(rows)} texts): "
        f"FAQ topic accuracy {figures['faq_topic_accuracy']:.1%} "
        f"(sv {figures['faq_topic_accuracy_by_language']['sv']:.1%}, "
        f"en {figures['faq_topic_accuracy_by_language']['en']:.1%}), "
        f"acute sensitive recall {figures['acute_sensitive_recall']:.1%}, "
        f"FAQ false handoff {figures['faq_false_handoff_rate']:.1%}, "
        f"'did you mean' {figures['faq_did_you_mean_rate']:.1%}, "
        f"overall {figures['overall_accuracy']:.1%}"
    )
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
