"""Scoring a trained model on question sets: the one implementation behind the paraphrase
test (tests/nlu/test_paraphrases.py), the release gate (scripts/gate.py) and the
independent dev set (scripts/eval_independent.py).

What is scored is what the assistant acts on (scripts/evaluate.py:effective_prediction).
Rasa environment only.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import ACUTE, effective_prediction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PARAPHRASES = ROOT / "tests" / "nlu" / "paraphrases.yml"
DEV_SET = ROOT / "tests" / "nlu" / "independent" / "dev.yml"
TOPIC_ACCURACY_MIN = 0.95
SENSITIVE_RECALL_MIN = 1.0
FALSE_HANDOFF_MAX = 0.03


def load_questions(path: Path) -> list[dict[str, str]]:
    """A question file in the paraphrase format: a list of {text, intent, lang}."""
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of {{text, intent, lang}}")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("text") or not item.get("intent"):
            raise ValueError(f"{path}: item {n} needs text and intent")
        out.append({"text": str(item["text"]), "intent": str(item["intent"]),
                    "lang": str(item.get("lang", "sv"))})
    return out


def load_paraphrases(path: Path = PARAPHRASES) -> list[dict[str, str]]:
    return load_questions(path)


def load_agent(model: Path) -> Any:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # custom components in bot/
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed text at debug level; these are test questions, but keep the
    # output to the figures (and never log citizens' text by habit).
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(model))


def predict(agent: Any, items: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows {text, gold, lang, **effective_prediction} for items {text, intent, lang}."""

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(item["text"]) for item in items]

    return [{"text": item["text"], "gold": item["intent"], "lang": item["lang"], **effective_prediction(parse)}
            for item, parse in zip(items, asyncio.run(parse_all()))]


def _rate(rows: Sequence[dict[str, Any]], ok: Any) -> float:
    return round(sum(1 for r in rows if ok(r)) / len(rows), 4) if rows else 0.0


def per_topic_accuracy(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_topic[r["gold"]].append(r)
    return {
        topic: {"correct": sum(r["label"] == topic for r in sub), "total": len(sub),
                "accuracy": _rate(sub, lambda r, t=topic: r["label"] == t)}
        for topic, sub in sorted(by_topic.items())
    }


def paraphrase_figures(rows: Sequence[dict[str, Any]], model_name: str) -> dict[str, Any]:
    """The figures of var/reports/paraphrases.json (test_paraphrases.py asserts on them)."""
    faq = [r for r in rows if r["gold"].startswith("faq/")]
    acute = [r for r in rows if r["gold"] in ACUTE]
    sensitive = [r for r in rows if r["gold"].startswith("sensitive/")]
    return {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model_name,
        "paraphrases": len(rows),
        "faq_topic_accuracy": _rate(faq, lambda r: r["label"] == r["gold"]),
        "faq_topic_accuracy_by_language": {
            lang: _rate([r for r in faq if r["lang"] == lang], lambda r: r["label"] == r["gold"])
            for lang in ("sv", "en")
        },
        "faq_selector_accuracy": _rate(faq, lambda r: r["selector_top"] == r["gold"]),
        "acute_sensitive_recall": _rate(acute, lambda r: r["sensitive"]),
        "sensitive_topic_accuracy": _rate(sensitive, lambda r: r["label"] == r["gold"]),
        "faq_false_handoff_rate": _rate(faq, lambda r: r["handoff"]),
        "faq_did_you_mean_rate": _rate(faq, lambda r: r["asked"]),
        "overall_accuracy": _rate(rows, lambda r: r["label"] == r["gold"]),
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


def threshold_failures(figures: dict[str, Any], model_acute: bool = True) -> list[str]:
    """Why the paraphrase figures fail the release thresholds (empty when they pass).
    ``model_acute=False``: the model's own acute recall is judged elsewhere (the gate with
    its safety net)."""
    reasons = []
    if figures["faq_topic_accuracy"] < TOPIC_ACCURACY_MIN:
        reasons.append(f"FAQ topic accuracy {figures['faq_topic_accuracy']:.1%} < {TOPIC_ACCURACY_MIN:.0%}")
    if model_acute and figures["acute_sensitive_recall"] < SENSITIVE_RECALL_MIN:
        reasons.append(f"acute sensitive recall {figures['acute_sensitive_recall']:.1%} < "
                       f"{SENSITIVE_RECALL_MIN:.0%}: " + " | ".join(figures["acute_missed"]))
    if figures["faq_false_handoff_rate"] > FALSE_HANDOFF_MAX:
        reasons.append(f"FAQ false handoff {figures['faq_false_handoff_rate']:.1%} > {FALSE_HANDOFF_MAX:.0%}")
    return reasons


def summary_line(figures: dict[str, Any]) -> str:
    return (f"FAQ topic accuracy {figures['faq_topic_accuracy']:.1%} "
            f"(sv {figures['faq_topic_accuracy_by_language']['sv']:.1%}, "
            f"en {figures['faq_topic_accuracy_by_language']['en']:.1%}), "
            f"acute sensitive recall {figures['acute_sensitive_recall']:.1%}, "
            f"FAQ false handoff {figures['faq_false_handoff_rate']:.1%}, "
            f"'did you mean' {figures['faq_did_you_mean_rate']:.1%}, "
            f"overall {figures['overall_accuracy']:.1%}")


# --- the independent dev set (tests/nlu/independent/dev.yml) ----------------------------

def load_independent(path: Path) -> list[dict[str, str]]:
    """Items {topic, lang, text} of an independent set, as {text, intent, lang}."""
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{"text": str(i["text"]), "intent": str(i["topic"]), "lang": str(i.get("lang", "sv"))}
            for i in content.get("items") or []]


def independent_figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-language topic accuracy, acute handed off, plain questions handed off.

    ``out_of_scope`` is right when the assistant neither answers a topic nor hands off
    (intent out_of_scope or nlu_fallback); ``basic`` items have no single expected intent,
    so only "not answered with a topic" is counted for them.
    """
    out: dict[str, Any] = {"items": len(rows), "per_language": {}}
    for lang in sorted({r["lang"] for r in rows}):
        sub = [r for r in rows if r["lang"] == lang]
        faq = [r for r in sub if r["gold"].startswith("faq/")]
        sensitive = [r for r in sub if r["gold"].startswith("sensitive/")]
        acute = [r for r in sub if r["gold"] in ACUTE]
        oos = [r for r in sub if r["gold"] == "out_of_scope"]
        out["per_language"][lang] = {
            "faq_items": len(faq),
            "faq_topic_accuracy": _rate(faq, lambda r: r["label"] == r["gold"]),
            "faq_handed_off": _rate(faq, lambda r: r["handoff"]),
            "sensitive_items": len(sensitive),
            "sensitive_topic_accuracy": _rate(sensitive, lambda r: r["label"] == r["gold"]),
            "sensitive_handed_off": _rate(sensitive, lambda r: r["handoff"]),
            "acute_handed_off": _rate(acute, lambda r: r["handoff"]),
            "out_of_scope_items": len(oos),
            "out_of_scope_not_answered": _rate(
                oos, lambda r: not r["label"].startswith(("faq/", "sensitive/")) and not r["handoff"]),
            "out_of_scope_handed_off": _rate(oos, lambda r: r["handoff"]),
        }
    faq = [r for r in rows if r["gold"].startswith("faq/")]
    acute = [r for r in rows if r["gold"] in ACUTE]
    out["faq_topic_accuracy"] = _rate(faq, lambda r: r["label"] == r["gold"])
    out["acute_handed_off"] = _rate(acute, lambda r: r["handoff"])
    out["plain_questions_handed_off"] = _rate(faq, lambda r: r["handoff"])
    out["misses"] = [
        {k: r[k] for k in ("text", "gold", "lang", "label", "intent", "selector_top")}
        for r in rows if r["gold"].startswith(("faq/", "sensitive/")) and r["label"] != r["gold"]
    ]
    out["acute_not_handed_off"] = [r["text"] for r in acute if not r["handoff"]]
    return out
