"""The safety lexicon's verdict on question files, for the release gate.

A message the model does not recognise as acute still reaches a person with the safety
information when the lexicon (gateway/safety.py) catches it (turn.py, step 9). The release
gate (scripts/gate.py, Rasa environment) cannot import the gateway, so the gateway writes the
texts its lexicon catches to a file and the gate reads it (``--safety-net``)::

    python -m gateway.safety_net tests/nlu/paraphrases.yml [more.yml ...] --out var/reports/safety_net.yml

Question files are the gate's format: a YAML list of {text, intent, lang}.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from gateway.safety import SafetyLexicon


def question_texts(path: Path) -> list[str]:
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of {{text, intent, lang}}")
    return [str(item["text"]) for item in items if isinstance(item, dict) and item.get("text")]


def caught(texts: Iterable[str], lexicon: SafetyLexicon | None = None) -> list[str]:
    """The texts the safety lexicon catches, in order, each once."""
    lexicon = lexicon or SafetyLexicon()
    return list(dict.fromkeys(text for text in texts if lexicon.match(text)))


def write_net(paths: Sequence[Path], out: Path) -> int:
    """Write the caught texts of ``paths`` to ``out``; how many were caught."""
    texts = [text for path in paths for text in question_texts(path)]
    net = caught(texts)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(net, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return len(net)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.safety_net",
                                     description="Texts of question files that the safety lexicon catches.")
    parser.add_argument("questions", type=Path, nargs="+", help="YAML lists of {text, intent, lang}")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in args.questions:
        if not path.is_file():
            print(f"safety_net: {path} does not exist", file=sys.stderr)
            return 2
    try:
        count = write_net(args.questions, args.out)
    except (ValueError, yaml.YAMLError) as exc:
        print(f"safety_net: {exc}", file=sys.stderr)
        return 2
    print(f"safety_net: the lexicon catches {count} texts -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
