"""Lexical vocabulary maps (shortlists) for CTranslate2, learnt from a model's own translations.

At batch size 1 the decoder's output projection over the whole ~58k OPUS-MT vocabulary is most
of the cost of a translation. CTranslate2 can restrict it to candidate tokens read from a
vocabulary map (``vmap.txt`` in the model directory): one line per source token,
``<source piece>\\t<target piece> <target piece> ...``, plus one line with an empty source
that lists the tokens that are always candidates.

`build_shortlist` learns such a map from (source pieces, output pieces) pairs, the way
lexical shortlists are made for Marian: the `always` most frequent output tokens, and for
each source piece the `per_source` output tokens that co-occur with it most strongly (Dice).
`scripts/download_models.py` feeds it the model's own translations of our Swedish and
English texts (and of their back-translations for the other languages).

A map only knows the source pieces it was learnt from. `Shortlist.covers` tells whether a
sentence is fully known; `CTranslate2Translator` uses the map only then and translates
other sentences over the whole vocabulary, so an unknown word never loses its translation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ALWAYS = 500
PER_SOURCE = 50
SPECIAL = ("</s>", "<unk>")


@dataclass(frozen=True)
class Shortlist:
    always: tuple[str, ...]
    by_source: dict[str, tuple[str, ...]]

    @property
    def is_lexical(self) -> bool:
        """False for a map with only the always-line (e.g. all target-language pieces)."""
        return bool(self.by_source)

    def covers(self, source_pieces: Sequence[str]) -> bool:
        """True when every piece is known to the map (special and >>xx<< tokens aside)."""
        if not self.is_lexical:
            return True
        return all(
            p in self.by_source or p in SPECIAL or (p.startswith(">>") and p.endswith("<<"))
            for p in source_pieces
        )

    def candidates(self, source_pieces: Sequence[str]) -> set[str]:
        out = set(self.always)
        for piece in source_pieces:
            out.update(self.by_source.get(piece, ()))
        return out

    def write(self, path: Path) -> Path:
        lines = ["\t" + " ".join(self.always)]
        lines += [f"{src}\t{' '.join(tgts)}" for src, tgts in sorted(self.by_source.items()) if tgts]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Shortlist:
        always: tuple[str, ...] = ()
        by_source: dict[str, tuple[str, ...]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" not in line:
                continue
            src, _, tgts = line.partition("\t")
            if src == "":
                always = tuple(tgts.split())
            else:
                by_source[src] = tuple(tgts.split())
        return cls(always, by_source)


def build_shortlist(
    pairs: Iterable[tuple[Sequence[str], Sequence[str]]],
    always: int = ALWAYS,
    per_source: int = PER_SOURCE,
    vocabulary: set[str] | None = None,
) -> Shortlist:
    """Learn a shortlist from (source pieces, output pieces) pairs of one model.

    `vocabulary` (the model's target vocabulary) drops tokens the model cannot produce.
    """
    target_freq: Counter[str] = Counter()
    source_df: Counter[str] = Counter()
    target_df: Counter[str] = Counter()
    joint: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for source, output in pairs:
        target_freq.update(t for t in output if t not in SPECIAL)
        src_set = {p for p in source if p not in SPECIAL}
        tgt_set = {t for t in output if t not in SPECIAL}
        source_df.update(src_set)
        target_df.update(tgt_set)
        for s in src_set:
            joint[s].update(tgt_set)

    def allowed(token: str) -> bool:
        return vocabulary is None or token in vocabulary

    frequent = [t for t, _ in target_freq.most_common() if allowed(t)][:always]
    head = tuple(SPECIAL) + tuple(t for t in frequent if t not in SPECIAL)
    by_source: dict[str, tuple[str, ...]] = {}
    for s, counts in joint.items():
        dice = sorted(
            ((2 * n / (source_df[s] + target_df[t]), t) for t, n in counts.items() if allowed(t)),
            key=lambda x: (-x[0], x[1]),
        )
        by_source[s] = tuple(t for _, t in dice[:per_source])
    return Shortlist(head, by_source)
