"""Measure a language detector on a labelled file (used by the tests and the benchmark)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from translation.errors import TranslationError
from translation.langid import served


@dataclass(frozen=True)
class LabelledLine:
    label: str  # the language the text is written in
    text: str


def load_labelled(path: Path) -> list[LabelledLine]:
    """Read ``label<TAB>text`` lines; ``#`` starts a comment line."""
    rows: list[LabelledLine] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise TranslationError(
                f"{path}:{number}: expected 'label<TAB>text', got {line!r}. Fix the line."
            )
        rows.append(LabelledLine(label.strip(), text.strip()))
    return rows


@dataclass
class Accuracy:
    total: int = 0
    correct: int = 0
    per_language: Counter[str] = field(default_factory=Counter)
    per_language_correct: Counter[str] = field(default_factory=Counter)
    per_label: Counter[str] = field(default_factory=Counter)  # by written language
    per_label_correct: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (label, got, text)

    @property
    def overall(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def of(self, served_code: str) -> float:
        """Share routed correctly among lines served as `served_code` (sv includes da/no)."""
        n = self.per_language[served_code]
        return self.per_language_correct[served_code] / n if n else 0.0

    def of_label(self, label: str) -> float:
        """Share routed correctly among lines written in `label` ("sv" = Swedish text only)."""
        n = self.per_label[label]
        return self.per_label_correct[label] / n if n else 0.0


def evaluate(predict: Callable[[str], str], rows: Iterable[LabelledLine]) -> Accuracy:
    """Score `predict` (text → served code); a line counts as correct when the code served
    equals the served code of its label (da/no → sv, hr/bs/sr → sh)."""
    acc = Accuracy()
    for row in rows:
        expected = served(row.label)
        got = served(predict(row.text))
        acc.total += 1
        acc.per_language[expected] += 1
        acc.per_label[row.label] += 1
        if got == expected:
            acc.correct += 1
            acc.per_language_correct[expected] += 1
            acc.per_label_correct[row.label] += 1
        else:
            acc.errors.append((row.label, got, row.text))
    return acc
