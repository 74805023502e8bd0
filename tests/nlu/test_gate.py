"""The release gate's verdicts (scripts/gate.py), on made-up prediction rows (no model needed)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from gate import compare  # noqa: E402
from nlu_scoring import paraphrase_figures, per_topic_accuracy, threshold_failures  # noqa: E402


def _row(gold: str, label: str, intent: str = "faq") -> dict[str, Any]:
    return {"text": f"{gold} -> {label}", "gold": gold, "lang": "sv", "label": label, "intent": intent,
            "intent_confidence": 0.9, "selector_top": label, "asked": False,
            "sensitive": label.startswith("sensitive/"),
            "handoff": label.startswith("sensitive/") or intent == "request_human"}


def _figures(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    figures = paraphrase_figures(rows, name)
    figures["per_topic"] = per_topic_accuracy(rows)
    return figures


GOOD = [_row("faq/bygglov", "faq/bygglov")] * 20 + [_row("faq/vigsel", "faq/vigsel")] * 20 + [
    _row("sensitive/suicide", "sensitive/suicide", "sensitive")] * 5


def test_a_good_model_passes_the_thresholds() -> None:
    assert threshold_failures(_figures(GOOD, "m")) == []


def test_one_missed_acute_message_fails_the_gate_and_is_named() -> None:
    rows = GOOD[:-1] + [_row("sensitive/suicide", "faq/vigsel")]
    reasons = threshold_failures(_figures(rows, "m"))
    assert len(reasons) == 1 and "acute" in reasons[0] and "sensitive/suicide -> faq/vigsel" in reasons[0]


def test_a_topic_worse_than_the_baseline_beyond_the_allowance_is_reported() -> None:
    worse = [_row("faq/bygglov", "faq/vigsel")] * 2 + GOOD[2:]
    comparison = compare(_figures(worse, "new"), _figures(GOOD, "old"), allowed_drop=1)
    assert [w["topic"] for w in comparison["topics_worse"]] == ["faq/bygglov"]
    assert comparison["topics_worse"][0]["change"] == -2
    assert comparison["topics_beyond_allowed_drop"] == ["faq/bygglov"]
    assert compare(_figures(worse, "new"), _figures(GOOD, "old"), allowed_drop=2)["topics_beyond_allowed_drop"] == []
