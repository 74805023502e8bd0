"""CLI: ``python -m translation.detect`` reads one message per line on stdin and prints
``<code>\\t<confidence>`` per line (the code the product would serve).

``--conversation`` treats the lines as one conversation (each detection is sticky to the
previous one); ``--detected`` prints the detected code instead of the served one (da, hr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from translation.langid import ChatLanguageDetector
from translation.protect import Glossary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m translation.detect", description=__doc__)
    parser.add_argument("--conversation", action="store_true", help="sticky across lines")
    parser.add_argument("--detected", action="store_true", help="print the detected code")
    args = parser.parse_args(argv)
    detector = ChatLanguageDetector(neutral_terms=Glossary.load().language_neutral)
    current: str | None = None
    for line in sys.stdin:
        text = line.rstrip("\n")
        found = detector.detect(text, current=current if args.conversation else None)
        current = found.code
        code = found.detected if args.detected else found.code
        sys.stdout.write(f"{code}\t{found.confidence:.3f}\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
