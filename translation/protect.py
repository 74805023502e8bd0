"""Protect spans that machine translation must not change, and split long messages.

Before translation, URLs, e-mail addresses, phone numbers (including the public ones such as
054-540 00 00 and 1177), masked-PII tokens, amounts ("1 200 kr"), glossary names and
Karlstad place names are replaced by numbered placeholders ``[1]``, ``[2]``, ...; after
translation each placeholder is put back. Every placeholder must come back exactly once,
otherwise `restore` raises `PlaceholderError` and the caller falls back (for example to the
Swedish text): a lost phone number is worse than no translation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from translation.errors import PlaceholderError, RegistryError
from translation.masking import MASK_TOKENS

DEFAULT_GLOSSARY = Path(__file__).with_name("glossary.yml")


@dataclass(frozen=True)
class Glossary:
    version: str
    keep: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    translated: tuple[str, ...] = ()
    loanwords: tuple[str, ...] = ()

    @property
    def language_neutral(self) -> tuple[str, ...]:
        """Names, places and loanwords: no evidence of the language a message is written in."""
        return (*self.keep, *self.places, *self.loanwords)

    @classmethod
    def load(cls, path: Path | None = None) -> Glossary:
        path = path or DEFAULT_GLOSSARY
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise RegistryError(
                f"Glossary {str(path)!r} cannot be read ({exc.strerror}). "
                "Use translation/glossary.yml or pass an existing file."
            ) from exc
        return cls(
            version=str(data.get("version", "unversioned")),
            keep=tuple(str(t) for t in data.get("keep") or ()),
            places=tuple(str(t) for t in data.get("places") or ()),
            translated=tuple(str(t) for t in data.get("translated") or ()),
            loanwords=tuple(str(t) for t in data.get("loanwords") or ()),
        )


_URL = r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[ -]?)?\(?0?\d{1,4}\)?(?:[ -]?\d{2,3}){2,4}(?![\w])"
_SHORT_NUMBERS = r"(?<!\d)(?:112|1177|114 ?14|90101|116 ?111)(?!\d)"
_AMOUNT = r"(?<!\d)\d{1,3}(?:[ \u00a0]\d{3})*(?:[,.]\d{1,2})?\s?(?:kr|kronor|SEK|:-|%|procent)(?!\w)"
_PLACEHOLDER_RE = re.compile(r"\[\s*(\d{1,3})\s*\]")


@dataclass(frozen=True)
class Protected:
    """Text with placeholders; `originals[i]` is what placeholder ``[i+1]`` stands for."""

    text: str
    originals: tuple[str, ...] = field(default_factory=tuple)


class Protector:
    """Builds one regular expression from the fixed patterns and the glossary."""

    def __init__(self, glossary: Glossary | None = None) -> None:
        glossary = glossary or Glossary("none")
        names = sorted({*glossary.keep, *glossary.places}, key=len, reverse=True)
        alternatives = [
            _URL,
            _EMAIL,
            *(re.escape(t) for t in MASK_TOKENS),
            _AMOUNT,
            _PHONE,
            _SHORT_NUMBERS,
        ]
        if names:
            alternatives.append(
                r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)"
            )
        self._pattern = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)

    def protect(self, text: str) -> Protected:
        originals: list[str] = []

        def replace(match: re.Match[str]) -> str:
            originals.append(match.group(0))
            return f"[{len(originals)}]"

        escaped = _PLACEHOLDER_RE.sub(lambda m: f"({m.group(1)})", text)  # no look-alikes
        return Protected(self._pattern.sub(replace, escaped), tuple(originals))

    @staticmethod
    def restore(translated: str, protected: Protected) -> str:
        """Put the originals back; raises PlaceholderError unless each comes back once."""
        found = [int(m.group(1)) for m in _PLACEHOLDER_RE.finditer(translated)]
        expected = list(range(1, len(protected.originals) + 1))
        if sorted(found) != expected:
            missing = sorted(set(expected) - set(found))
            extra = sorted(n for n in set(found) if found.count(n) > 1 or n not in expected)
            raise PlaceholderError(
                f"Placeholders {missing} missing and {extra} duplicated or unknown in the "
                f"translation (expected each of 1..{len(expected)} once). Fall back to the "
                "untranslated text."
            )
        return _PLACEHOLDER_RE.sub(lambda m: protected.originals[int(m.group(1)) - 1], translated)


_SENTENCE_END = re.compile(r"(?<=[.!?。؟።])\s+|\n+")


def split_sentences(text: str, max_chars: int = 400) -> list[str]:
    """Split a message into sentences (and over-long sentences at commas/spaces)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > max_chars:
            cut = max(sentence.rfind(", ", 0, max_chars), sentence.rfind(" ", 0, max_chars))
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].lstrip(" ,")
        if sentence:
            pieces.append(sentence)
    return pieces


def join_sentences(sentences: Iterable[str]) -> str:
    return " ".join(s for s in sentences if s)
