"""Release gate: the held-out paraphrases and acute-danger recall a model must pass before it
is served (< 60 s for one model, < 90 s with a baseline, on 2 cores).

    PYTHONPATH=. .venv-rasa/bin/python scripts/gate.py [--model var/models/current.tar.gz]
        [--baseline OLD.tar.gz] [--extra questions.yml] [--out var/reports/gate.json]

Scores tests/nlu/paraphrases.yml (and the --extra file, same format: a list of
{text, intent, lang}) with the model, as the assistant acts on it
(scripts/evaluate.py:effective_prediction; figures as in tests/nlu/test_paraphrases.py).
Passes when
* FAQ topic accuracy >= 95 %, acute sensitive recall = 100 %, FAQ false handoff <= 3 %;
* every extra question gets its expected topic (an editor's "this must be answered so");
* with --baseline: no topic lost more than --allowed-drop paraphrases against the baseline
  model, and acute recall did not fall. Topics that got worse are listed either way
  (retraining the same data moves single paraphrases, so one is tolerated by default).

With --safety-net FILE (the texts the gateway's safety lexicon catches, written by
``python -m gateway.safety_net``), acute recall is the assistant's: an acute message reaches
a person with the safety information when the model recognises it OR the lexicon catches it
(gateway/turn.py, step 9), and that must be 100 %. The model's own recall is still reported
and may then fall by at most --allowed-drop paraphrases against the baseline; every acute
message only the lexicon catches is listed for the publisher.
Prints the figures and writes them as JSON; exit 0 when passed, 1 when not, 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import ACUTE  # noqa: E402
from nlu_scoring import (  # noqa: E402
    PARAPHRASES,
    ROOT,
    SENSITIVE_RECALL_MIN,
    load_agent,
    load_questions,
    paraphrase_figures,
    per_topic_accuracy,
    predict,
    summary_line,
    threshold_failures,
)


def score_model(model: Path, items: list[dict[str, str]], extras: list[dict[str, str]],
                net: set[str] | None = None) -> dict[str, Any]:
    agent = load_agent(model)
    rows = predict(agent, items + extras)
    para_rows, extra_rows = rows[:len(items)], rows[len(items):]
    figures = paraphrase_figures(para_rows, model.name)
    figures["per_topic"] = per_topic_accuracy(para_rows)
    if net is not None:
        add_safety_net(figures, para_rows, net)
    figures["extras"] = {
        "total": len(extra_rows),
        "correct": sum(r["label"] == r["gold"] for r in extra_rows),
        "wrong": [{k: r[k] for k in ("text", "gold", "lang", "label", "intent")}
                  for r in extra_rows if r["label"] != r["gold"]],
    }
    return figures


def load_net(path: Path) -> set[str]:
    texts = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"{path}: expected a list of texts")
    return set(texts)


def add_safety_net(figures: dict[str, Any], rows: list[dict[str, Any]], net: set[str]) -> None:
    """The assistant's acute recall: the model's, plus what the safety lexicon catches."""
    acute = [r for r in rows if r["gold"] in ACUTE]
    reached = [r for r in acute if r["sensitive"] or r["text"] in net]
    figures["acute_reaches_person"] = round(len(reached) / len(acute), 4) if acute else 1.0
    figures["acute_caught_only_by_safety_lexicon"] = [r["text"] for r in acute
                                                      if not r["sensitive"] and r["text"] in net]
    figures["acute_reaching_nobody"] = [r["text"] for r in acute if r not in reached]


def acute_count(figures: dict[str, Any]) -> tuple[int, int]:
    """(recognised by the model, acute paraphrases)."""
    total = sum(t["total"] for topic, t in figures["per_topic"].items() if topic in ACUTE)
    return total - len(figures["acute_missed"]), total


def verdict(figures: dict[str, Any], comparison: dict[str, Any] | None, allowed_drop: int) -> list[str]:
    """Why the candidate is refused (empty: it passes)."""
    netted = "acute_reaches_person" in figures
    reasons = threshold_failures(figures, model_acute=not netted)
    if netted and figures["acute_reaches_person"] < SENSITIVE_RECALL_MIN:
        reasons.append(f"acute messages reaching a person {figures['acute_reaches_person']:.1%} < "
                       f"{SENSITIVE_RECALL_MIN:.0%} (neither the model nor the safety lexicon): "
                       + " | ".join(figures["acute_reaching_nobody"]))
    if figures["extras"]["wrong"]:
        reasons.append(f"{len(figures['extras']['wrong'])} of {figures['extras']['total']} extra questions wrong")
    if comparison is None:
        return reasons
    if comparison["topics_beyond_allowed_drop"]:
        reasons.append(f"topics worse than the baseline by more than {allowed_drop}: "
                       + ", ".join(comparison["topics_beyond_allowed_drop"]))
    lost = comparison["acute_recognised_by_model"]["baseline"] - comparison["acute_recognised_by_model"]["model"]
    if lost > (allowed_drop if netted else 0):
        reasons.append(f"the model recognises {lost} acute paraphrase(s) fewer than the baseline")
    return reasons


def compare(current: dict[str, Any], baseline: dict[str, Any], allowed_drop: int) -> dict[str, Any]:
    worse, better = [], []
    for topic, now in current["per_topic"].items():
        before = baseline["per_topic"].get(topic)
        if before is None:
            continue
        diff = now["correct"] - before["correct"]
        entry = {"topic": topic, "baseline": f"{before['correct']}/{before['total']}",
                 "model": f"{now['correct']}/{now['total']}", "change": diff}
        if diff < 0:
            worse.append(entry)
        elif diff > 0:
            better.append(entry)
    return {
        "baseline_model": baseline["model"],
        "faq_topic_accuracy": {"baseline": baseline["faq_topic_accuracy"], "model": current["faq_topic_accuracy"]},
        "acute_sensitive_recall": {"baseline": baseline["acute_sensitive_recall"],
                                   "model": current["acute_sensitive_recall"]},
        "faq_false_handoff_rate": {"baseline": baseline["faq_false_handoff_rate"],
                                   "model": current["faq_false_handoff_rate"]},
        "acute_recognised_by_model": {"baseline": acute_count(baseline)[0], "model": acute_count(current)[0]},
        **({"acute_reaches_person": {"baseline": baseline["acute_reaches_person"],
                                     "model": current["acute_reaches_person"]}}
           if "acute_reaches_person" in current and "acute_reaches_person" in baseline else {}),
        "topics_worse": worse,
        "topics_better": better,
        "topics_beyond_allowed_drop": [w["topic"] for w in worse if -w["change"] > allowed_drop],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Release gate on the held-out paraphrases.")
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / "current.tar.gz")
    parser.add_argument("--baseline", type=Path, default=None, help="model to compare topic by topic")
    parser.add_argument("--extra", type=Path, default=None, help="YAML list of {text, intent, lang} that must be right")
    parser.add_argument("--paraphrases", type=Path, default=PARAPHRASES)
    parser.add_argument("--safety-net", type=Path, default=None,
                        help="texts the gateway's safety lexicon catches (python -m gateway.safety_net)")
    parser.add_argument("--allowed-drop", type=int, default=1,
                        help="paraphrases a topic may lose against the baseline (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports" / "gate.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    for path in (args.model, args.baseline, args.extra, args.paraphrases, args.safety_net):
        if path is not None and not path.exists():
            print(f"gate: {path} does not exist", file=sys.stderr)
            return 2
    try:
        items = load_questions(args.paraphrases)
        extras = load_questions(args.extra) if args.extra else []
        net = load_net(args.safety_net) if args.safety_net else None
    except (ValueError, KeyError, yaml.YAMLError) as exc:
        print(f"gate: {exc}", file=sys.stderr)
        return 2

    model = args.model.resolve()
    figures = score_model(model, items, extras, net)
    report: dict[str, Any] = {"model": str(model), "passed": False, **figures}
    comparison = None
    if args.baseline:
        comparison = compare(figures, score_model(args.baseline.resolve(), items, [], net), args.allowed_drop)
        report["baseline"] = comparison
    reasons = verdict(figures, comparison, args.allowed_drop)
    report["reasons"] = reasons
    report["passed"] = not reasons
    report["duration_seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    print(f"gate ({model.name}, {figures['paraphrases']} paraphrases): {summary_line(figures)}")
    if net is not None:
        print(f"acute messages reaching a person (model or safety lexicon): {figures['acute_reaches_person']:.1%}")
        for text in figures["acute_caught_only_by_safety_lexicon"]:
            print(f"  caught only by the safety lexicon: {text}")
    if extras:
        print(f"extra questions: {figures['extras']['correct']}/{figures['extras']['total']} right")
        for wrong in figures["extras"]["wrong"]:
            print(f"  WRONG {wrong['gold']} -> {wrong['label']} ({wrong['lang']}): {wrong['text']}")
    if args.baseline:
        for w in report["baseline"]["topics_worse"]:
            print(f"  worse than baseline: {w['topic']} {w['baseline']} -> {w['model']}")
    print(("PASSED" if report["passed"] else "FAILED: " + "; ".join(reasons))
          + f" ({report['duration_seconds']:.0f} s) -> {args.out}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
