"""Language-routing figures of the detector on a labelled TSV file (``label<TAB>text``).

A label is the language the text is written in, optionally with a script suffix that is
only reported, never used for scoring: ``sr-Cyrl``, ``ku-Latn``. A line is routed correctly
when the served code (`translation.langid.served`: da/no → sv, hr/bs/sr → sh, kmr → ku)
equals the served code of its label. When the detector is unsure it offers the citizen a
choice (`Detection.alternatives`); such a line counts as *not* routed (strict), and is
reported separately as "asked" and whether the right language was among the choices.

    PYTHONPATH=. .venv/bin/python scripts/langid_eval.py FILE.tsv [FILE.tsv ...] [--errors]

``--errors`` prints the misrouted lines: use it on the tuning set only, never on an external
measurement set (looking at its errors is tuning on it).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from translation.evaluation import load_labelled
from translation.langid import ChatLanguageDetector, served
from translation.protect import Glossary


def _expected(label: str) -> str:
    return served(label.split("-")[0])


def evaluate_file(path: Path, detector: ChatLanguageDetector, show_errors: bool) -> dict[str, float]:
    rows = load_labelled(path)
    total: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    asked_ok: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    errors: list[tuple[str, str, str]] = []
    for row in rows:
        found = detector.detect(row.text)
        expected = _expected(row.label)
        alternatives = tuple(getattr(found, "alternatives", ()) or ())
        total[row.label] += 1
        if alternatives:
            asked[row.label] += 1
            asked_ok[row.label] += expected in alternatives
            confusion[(row.label, "?" + "/".join(alternatives))] += 1
            errors.append((row.label, "?" + "/".join(alternatives), row.text))
        elif served(found.code) == expected:
            correct[row.label] += 1
        else:
            confusion[(row.label, found.code)] += 1
            errors.append((row.label, found.code, row.text))
    n = sum(total.values())
    overall = sum(correct.values()) / n if n else 0.0
    lenient = (sum(correct.values()) + sum(asked_ok.values())) / n if n else 0.0
    print(f"\n== {path} ({n} lines)")
    print(f"routed correctly: {overall:.1%}   asked: {sum(asked.values()) / max(n, 1):.1%}   "
          f"routed or asked with the right choice: {lenient:.1%}")
    print(f"{'label':10} {'n':>5} {'routed':>8} {'asked':>6}  most frequent misroutes")
    worst = 1.0
    for label in sorted(total):
        share = correct[label] / total[label]
        worst = min(worst, share)
        misses = [(got, c) for (lab, got), c in confusion.most_common() if lab == label][:3]
        miss_text = ", ".join(f"{got} {c}" for got, c in misses)
        print(f"{label:10} {total[label]:5d} {share:8.1%} {asked[label]:6d}  {miss_text}")
    if show_errors:
        for label, got, text in errors:
            print(f"  {label} -> {got}: {text}")
    sv = correct["sv"] / total["sv"] if total["sv"] else float("nan")
    print(f"Swedish kept Swedish: {sv:.1%}   weakest label: {worst:.1%}")
    return {"overall": overall, "swedish": sv, "worst": worst, "lenient": lenient}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/langid_eval.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="label<TAB>text files")
    parser.add_argument("--errors", action="store_true", help="print misrouted lines (tuning set only)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        parser.error(f"file(s) not found: {', '.join(missing)}. Give paths to label<TAB>text files.")
    detector = ChatLanguageDetector(neutral_terms=Glossary.load().language_neutral)
    for path in args.files:
        evaluate_file(path, detector, args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
