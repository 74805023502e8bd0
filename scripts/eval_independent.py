"""Figures of a model on the independent dev set (tests/nlu/independent/dev.yml).

    PYTHONPATH=. .venv-rasa/bin/python scripts/eval_independent.py [--model PATH]
        [--out var/reports/independent-dev.json]

Per language: FAQ topic accuracy, FAQ questions handed off, sensitive topic accuracy and
handed off, acute items handed off, out-of-scope items not answered with a topic.
dev.yml or dev2.yml (``--set``): tests/nlu/independent/test2.yml is reserved for one final
measurement and this script refuses to read it without ``--final`` (see the set's README).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_scoring import DEV_SET, ROOT, independent_figures, load_agent, load_independent, predict  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a model on the independent dev set.")
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / "current.tar.gz")
    parser.add_argument("--set", type=Path, default=DEV_SET)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports" / "independent-dev.json")
    parser.add_argument("--final", action="store_true",
                        help="the one final measurement on a held-out set (test*.yml); nothing is tuned after it")
    args = parser.parse_args(argv)
    if args.set.resolve().name.startswith("test") and not args.final:
        print(f"{args.set.name} is reserved for the final measurement (--final); use dev.yml or dev2.yml",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    rows = predict(load_agent(args.model.resolve()), load_independent(args.set))
    figures = {"model": args.model.resolve().name, "set": str(args.set.relative_to(ROOT)
                                                              if args.set.is_relative_to(ROOT) else args.set),
               **independent_figures(rows)}
    figures["duration_seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    for lang, v in figures["per_language"].items():
        print(f"{lang}: FAQ topic accuracy {v['faq_topic_accuracy']:.2%} ({v['faq_items']}), "
              f"FAQ handed off {v['faq_handed_off']:.2%}, sensitive exact {v['sensitive_topic_accuracy']:.1%}, "
              f"acute handed off {v['acute_handed_off']:.1%}, out of scope not answered "
              f"{v['out_of_scope_not_answered']:.1%}")
    print(f"all: FAQ topic accuracy {figures['faq_topic_accuracy']:.2%}, acute handed off "
          f"{figures['acute_handed_off']:.1%}, plain questions handed off "
          f"{figures['plain_questions_handed_off']:.2%} ({figures['duration_seconds']:.0f} s) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
