"""Safety lexicon and safety information.

The NLU model recognises sensitive intents, but a missed intent must still reach a
person. The lexicon is checked on the citizen's original (masked) text and on its Swedish
translation. Matching is on normalised words, so "Självmord" and "självmord!" both hit.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# reason -> phrases (lower case, already normalised). Swedish and English.
LEXICON: dict[str, tuple[str, ...]] = {
    "sensitive/suicide": (
        "självmord", "ta livet av mig", "ta mitt liv", "vill inte leva", "orkar inte leva",
        "vill dö", "skada mig själv", "skadar mig själv", "hoppa från bron", "suicide",
        "kill myself", "end my life", "want to die", "don't want to live", "dont want to live",
        "hurt myself", "self harm", "self-harm",
    ),
    "sensitive/violence_close_relationship": (
        "slår mig", "slog mig", "misshandlar mig", "misshandlade mig", "våldtog", "våldtäkt",
        "sambo slår", "man slår", "pojkvän slår", "hotar att döda mig", "hits me", "beats me",
        "beat me", "raped", "abuses me", "abusive partner", "domestic violence",
    ),
    "sensitive/child_at_risk": (
        "slår mitt barn", "slår barnen", "slår min son", "slår min dotter", "slår min lillebror",
        "slår min lillasyster", "barnet far illa", "barn far illa", "barnen far illa",
        "förgriper sig", "sexuella övergrepp", "hits my child", "hits the kids", "child abuse",
        "abusing my child", "child is in danger",
    ),
    "sensitive/threat_or_crime": (
        "hotar mig", "hotade mig", "ska döda mig", "döda mig", "har en kniv", "har ett vapen",
        "bombhot", "threatens me", "threatened me", "going to kill me", "has a gun", "has a knife",
    ),
}
ACUTE = frozenset(LEXICON)

_WORD = re.compile(r"[^\w\s']+", re.UNICODE)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return " " + " ".join(_WORD.sub(" ", text).split()) + " "


@dataclass(frozen=True)
class SafetyHit:
    reason: str
    phrase: str

    @property
    def acute(self) -> bool:
        return self.reason in ACUTE


class SafetyLexicon:
    def __init__(self, lexicon: dict[str, tuple[str, ...]] | None = None) -> None:
        self._entries = [
            (reason, phrase, normalise(phrase).strip())
            for reason, phrases in (lexicon or LEXICON).items()
            for phrase in phrases
        ]

    def match(self, *texts: str | None) -> SafetyHit | None:
        for text in texts:
            if not text:
                continue
            haystack = normalise(text)
            for reason, phrase, needle in self._entries:
                if f" {needle} " in haystack or (len(needle) > 6 and needle in haystack):
                    return SafetyHit(reason, phrase)
        return None


SAFETY_INFO: dict[str, dict[str, str]] = {
    "default": {
        "sv": (
            "Om du eller någon annan är i fara just nu: ring 112. "
            "Behöver du prata med någon om självmordstankar: ring Självmordslinjen, 90101. "
            "Utsatt för våld i en nära relation: ring Kvinnofridslinjen, 020-50 50 50 (gratis, dygnet runt). "
            "Råd om vård: ring 1177."
        ),
        "en": (
            "If you or someone else is in danger right now: call 112. "
            "If you need to talk to someone about suicidal thoughts: call Självmordslinjen, 90101. "
            "If you are exposed to violence in a close relationship: call Kvinnofridslinjen, "
            "020-50 50 50 (free, day and night). Health advice: call 1177."
        ),
    }
}
SAFETY_SOURCE = {
    "title": "Stöd och hjälp vid kris",
    "url": "https://www.1177.se/",
    "owner": "Kommunledningskontoret",
    "reviewed": "2026-11-29",
}


def safety_info(language: str) -> str:
    texts = SAFETY_INFO["default"]
    return texts.get(language) or texts["sv"]
