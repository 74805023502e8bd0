"""When two example sentences count as the same question: the normal form and the near-copy
rule shared by ``scripts/validate_data.py`` (held-out test sentences must never be trained
on) and the editors' workspace (``gateway/editor/checks.py``), so both refuse the same texts.

Standard library only: both Python environments import it.
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

NEAR_COPY_RATIO = 0.85
NEAR_COPY_JACCARD = 0.75


def normalise(text: str) -> str:
    """Lower case, NFC, single spaces and no trailing punctuation: for duplicate checks."""
    text = unicodedata.normalize("NFC", text).lower().strip()
    text = re.sub(r"\s+", " ", text)
    return text.rstrip(" ?!.")


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def near_copy(a: str, b: str) -> bool:
    """True when two normalised sentences are the same question with a word or two changed."""
    wa, wb = _words(a), _words(b)
    if wa and wb and len(wa & wb) / len(wa | wb) >= NEAR_COPY_JACCARD:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (matcher.real_quick_ratio() >= NEAR_COPY_RATIO and matcher.quick_ratio() >= NEAR_COPY_RATIO
            and matcher.ratio() >= NEAR_COPY_RATIO)
