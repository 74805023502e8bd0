"""The release gate's verdicts (scripts/gate.py), on made-up prediction rows (no model needed)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from gate import add_safety_net, compare, verdict  # noqa: E402
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


def _netted(rows: list[dict[str, Any]], net: set[str], name: str) -> dict[str, Any]:
    figures = _figures(rows, name)
    add_safety_net(figures, rows, net)
    figures["extras"] = {"total": 0, "correct": 0, "wrong": []}
    return figures


def test_an_acute_message_the_model_misses_passes_only_when_the_safety_lexicon_catches_it() -> None:
    missed = _row("sensitive/suicide", "faq/vigsel")
    rows = GOOD[:-1] + [missed]
    baseline = _netted(GOOD, set(), "old")
    caught = _netted(rows, {missed["text"]}, "new")
    assert caught["acute_reaches_person"] == 1.0
    assert caught["acute_caught_only_by_safety_lexicon"] == [missed["text"]]
    assert verdict(caught, compare(caught, baseline, 1), allowed_drop=1) == []

    nobody = _netted(rows, set(), "new")
    reasons = verdict(nobody, compare(nobody, baseline, 1), allowed_drop=1)
    assert any("reaching a person" in r and missed["text"] in r for r in reasons), reasons


def test_the_model_may_not_lean_on_the_lexicon_for_more_than_the_allowed_drop() -> None:
    missed = [_row("sensitive/suicide", "faq/vigsel")] * 2
    rows = GOOD[:-2] + missed
    figures = _netted(rows, {missed[0]["text"]}, "new")
    reasons = verdict(figures, compare(figures, _netted(GOOD, set(), "old"), 1), allowed_drop=1)
    assert "the model recognises 2 acute paraphrase(s) fewer than the baseline" in reasons


def test_without_a_safety_net_the_model_alone_must_recognise_every_acute_message() -> None:
    rows = GOOD[:-1] + [_row("sensitive/suicide", "faq/vigsel")]
    figures = _figures(rows, "new")
    figures["extras"] = {"total": 0, "correct": 0, "wrong": []}
    reasons = verdict(figures, compare(figures, _figures(GOOD, "old"), 1), allowed_drop=1)
    assert any(r.startswith("acute sensitive recall") for r in reasons)
    assert "the model recognises 1 acute paraphrase(s) fewer than the baseline" in reasons
