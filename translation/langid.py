"""Language identification for short chat messages.

Order of evidence (first that decides wins):

1. ``explicit``: the citizen picked a language in the widget.
2. ``script``: a non-Latin script names the language or a small group; letters and words
   within the script split the group (see `translation.writing_systems`).
3. ``langdetect`` / ``prior``: Latin script. langdetect's per-language probabilities
   (seeded, so the same text always gets the same answer) are combined with frequent-word
   and letter evidence (`translation.lexicon`) and a Swedish prior: a message that is short
   or not clearly something else is Swedish (``prior``) -- but only when the message has
   some Swedish evidence or no evidence for any language at all: the prior never swallows
   a language the message has words or letters of and Swedish has none (Kurmanji, Somali).
   Capitalised words inside a message that no word list knows are names ("Tack Ahmed")
   and count for nothing.
4. ``sticky``: with a conversation language (`current`), the detector only switches on
   strong evidence: another script, distinctive letters, or a clear margin.

Unsure. Where a script is shared and its letters and words leave two or three languages
close (Amharic/Tigrinya, Serbian/Russian/Ukrainian), `Detection.alternatives` names them,
best first, and `code` is only the best guess: the gateway asks the citizen which of them
they write (unless the conversation's language is one of them, which is then kept).

Codes. `Detection.detected` is what the text looks like (ISO 639-1: "da", "hr", "sr", ...);
`Detection.code` is the language the product serves it in:

- Danish and Norwegian are served in Swedish (``SERVED_AS``): Scandinavians read Swedish,
  and Swedish answers are written by people; machine translation would only make them worse.
- Bosnian, Croatian and Serbian (Latin or Cyrillic) are one group ``"sh"``
  (Serbo-Croatian, ISO 639-1), translated with the OPUS-MT hr models.
- Kurdish is ``"ku"``: Sorani (Arabic script, ``ckb``) and Kurmanji (Latin script,
  detected as ``kmr``).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from translation import lexicon, writing_systems
from translation.errors import LanguageError

if TYPE_CHECKING:
    from langdetect.detector_factory import DetectorFactory

logger = logging.getLogger(__name__)

METHODS = ("explicit", "script", "words", "langdetect", "prior", "sticky")

#: Detected language → language it is served in.
SERVED_AS: Mapping[str, str] = {
    "da": "sv",
    "no": "sv",
    "nb": "sv",
    "nn": "sv",
    "hr": "sh",
    "bs": "sh",
    "sr": "sh",
    "hbs": "sh",
    "ckb": "ku",
    "kmr": "ku",
    "prs": "fa",
}

_LATIN_CANDIDATES = (
    "sv", "en", "de", "da", "no", "fi", "pl", "tr", "es", "so", "sh", "kmr", "nl", "fr",
)
#: Latin-script candidates langdetect has no profile for: they get the probability mass
#: langdetect could not place (1 - its best probability), halved.
_NO_PROFILE = frozenset({"kmr"})
_ZIPF_FLOOR = 2.0  # word-list frequencies above this count as evidence
# langdetect has no Bosnian/Serbian and confuses near relatives on short text.
_LANGDETECT_ALIASES = {"hr": "sh", "sl": "sh", "pt": "es", "ca": "es"}
_NOT_OFFERED_PENALTY = {"nl": -1.5, "fr": -1.5}


def served(code: str) -> str:
    """The language a detected code is served in (da → sv, hr/bs/sr → sh, else itself)."""
    return SERVED_AS.get(code, code)


def normalise_code(code: str) -> str:
    """'sv-SE' → 'sv', 'NB' → 'nb'. Raises LanguageError for anything that is not a code."""
    value = code.strip().replace("_", "-").split("-")[0].lower()
    if not re.fullmatch(r"[a-z]{2,3}", value):
        raise LanguageError(
            f"Language code {code!r} is not an ISO 639 code. Use a code such as 'sv', 'en' or 'ar'."
        )
    return value


@dataclass(frozen=True)
class Detection:
    """Result of language detection.

    code: language to serve (after ``SERVED_AS``); detected: what the text looks like;
    confidence: 0..1; method: one of ``METHODS``; alternatives: when the detector is unsure,
    the served codes it is unsure between (best first, `code` among them), else empty.
    """

    code: str
    confidence: float
    method: str
    detected: str
    alternatives: tuple[str, ...] = ()


class LanguageDetector(Protocol):
    def detect(
        self, text: str, current: str | None = None, explicit: str | None = None
    ) -> Detection: ...


@dataclass(frozen=True)
class DetectorTuning:
    """Weights of the Latin-script scorer (tuned on tests/translation/data/langid_tune.tsv)."""

    langdetect_weight: float = 1.5
    word_weight: float = 4.0
    swedish_prior: float = 2.5
    swedish_margin: float = 1.0  # another language must beat Swedish by this much
    sticky_margin: float = 3.0  # ... and the conversation language by this much
    short_tokens: int = 1  # messages this short need word/letter evidence to leave Swedish
    fast_words: int = 2  # this many Scandinavian-only frequent words and no others: Swedish
    langdetect_full_tokens: int = 4  # langdetect counts fully from this many words on


_SCANDINAVIAN = frozenset({"sv", "da", "no"})
_TOKEN_STRIP = re.compile(r"\[[a-z-]+\]|https?://\S+|www\.\S+|\S+@\S+|\d+")


class ChatLanguageDetector:
    """The detector the service uses; see the module docstring. Thread-safe after first use."""

    def __init__(
        self,
        neutral_terms: Iterable[str] = (),
        tuning: DetectorTuning | None = None,
    ) -> None:
        """`neutral_terms` (glossary names, places and loanwords such as "komvux") are no
        evidence of a language: "komvux courses in Karlstad" is read from "courses in"."""
        self.tuning = tuning or DetectorTuning()
        terms = [t.strip() for t in neutral_terms if t.strip()]
        self._neutral = frozenset(t.lower() for t in terms if len(writing_systems.words_of(t)) == 1
                                  and writing_systems.words_of(t)[0] == t.lower())
        phrases = sorted((t for t in terms if len(writing_systems.words_of(t)) > 1), key=len, reverse=True)
        self._neutral_phrases = (
            re.compile("|".join(r"\b" + re.escape(p) + r"\b" for p in phrases), re.IGNORECASE)
            if phrases else None
        )
        self._factory: DetectorFactory | None = None
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load langdetect's profiles now (about 1 s) instead of in the first turn that needs
        them: most Swedish turns never do (``_plainly_scandinavian``), so a warm-up ``detect``
        on a Swedish sentence does not load them."""
        self._get_factory()

    def detect(
        self, text: str, current: str | None = None, explicit: str | None = None
    ) -> Detection:
        if explicit:
            code = normalise_code(explicit)
            return Detection(served(code), 1.0, "explicit", code)
        current_code = served(normalise_code(current)) if current else None
        cleaned = _TOKEN_STRIP.sub(" ", text)
        script = writing_systems.dominant_script(cleaned)
        if script is None:
            return Detection(current_code or "sv", 0.5, "sticky" if current_code else "prior",
                             current_code or "sv")
        if script != "latin":
            return self._non_latin(script, cleaned, current_code)
        return self._latin(cleaned, current_code)

    # -- non-Latin scripts --------------------------------------------------------------
    def _non_latin(self, script: str, text: str, current: str | None) -> Detection:
        routers = {
            "arabic": writing_systems.route_arabic,
            "cyrillic": writing_systems.route_cyrillic,
            "ethiopic": writing_systems.route_ethiopic,
        }
        router = routers.get(script)
        if router is None:
            code = writing_systems.SCRIPT_LANGUAGE.get(script, "und")
            return Detection(served(code), 0.99, "script", code)
        cur_raw = _raw_in_group(current, script)
        guess = router(text, cur_raw)
        if not guess.decisive and cur_raw is not None and guess.code == cur_raw:
            return Detection(served(guess.code), 0.7, "sticky", guess.code)
        if not guess.decisive:
            guess = self._tiebreak(text, guess, _TIEBREAK.get(script, ()))
        if guess.decisive:
            return Detection(served(guess.code), 0.95, "script", guess.code)
        if len(guess.alternatives) > 1:
            choices = tuple(dict.fromkeys(served(code) for code in guess.alternatives))
            if len(choices) > 1:
                return Detection(served(guess.code), 0.5, "script", guess.code, choices)
        return Detection(served(guess.code), 0.6, "script", guess.code)

    def _tiebreak(
        self, text: str, guess: writing_systems.ScriptGuess, pair: tuple[str, ...]
    ) -> writing_systems.ScriptGuess:
        """langdetect between the two big languages of a script when letters do not decide.
        When the router is unsure only between these two, a clear langdetect answer (over
        0.9) settles it; langdetect knows no Serbian, so a choice with Serbian stays open."""
        if not pair:
            return guess
        if guess.alternatives and not set(guess.alternatives) <= set(pair):
            return guess
        probs = self._langdetect(text)
        best = max(pair, key=lambda k: probs.get(k, 0.0))
        if guess.alternatives and probs.get(best, 0.0) > 0.9:
            return writing_systems.ScriptGuess(best, True, guess.scores)
        if best != guess.code and probs.get(best, 0.0) > 0.5:
            return writing_systems.ScriptGuess(best, False, guess.scores, guess.alternatives)
        return guess

    # -- Latin script -----------------------------------------------------------------------
    def _latin(self, text: str, current: str | None) -> Detection:
        t = self.tuning
        if self._neutral_phrases is not None:
            text = self._neutral_phrases.sub(" ", text)
        tokens = writing_systems.words_of(text)
        names = _unknown_capitalised(text, lexicon.zipf_index(_LATIN_CANDIDATES))
        if (self._neutral and any(w in self._neutral for w in tokens)) or names:
            content = [w for w in tokens if w not in self._neutral and w not in names]
            if not content:  # only names and loanwords: nothing to go on
                return Detection(current or "sv", 0.5, "sticky" if current else "prior", current or "sv")
            tokens, text = content, " ".join(content)
        words, letters = self._evidence(text, tokens)
        if current in (None, "sv") and self._plainly_scandinavian(tokens):
            # The usual Swedish turn: skip langdetect (most of the detector's cost).
            return Detection("sv", 0.95, "words", "sv")
        probs = self._langdetect(text)
        unplaced = 1.0 - max(probs.values(), default=0.0)
        # langdetect's character n-grams say little about one or two words (it is sure
        # "ja tack" is Finnish): its weight grows with the message up to four words.
        ld_weight = t.langdetect_weight * min(1.0, len(tokens) / t.langdetect_full_tokens)
        scores: dict[str, float] = {}
        for lang in _LATIN_CANDIDATES:
            if lang in _NO_PROFILE and words.get(lang, 0.0) + letters.get(lang, 0.0) <= 0:
                continue  # langdetect cannot vouch for it: only its own evidence can
            p = unplaced / 2 if lang in _NO_PROFILE else probs.get(lang, 0.0)
            scores[lang] = (
                ld_weight * math.log(p + 0.02)
                + t.word_weight * words.get(lang, 0.0)
                + letters.get(lang, 0.0)
                + _NOT_OFFERED_PENALTY.get(lang, 0.0)
            )
        swedish_evidence = _group_evidence(words, letters, "sv")
        other_evidence = max(
            (_group_evidence(words, letters, served(lang)) for lang in _LATIN_CANDIDATES
             if served(lang) != "sv"), default=0.0)
        prior_applies = swedish_evidence > 0 or other_evidence <= 0
        if prior_applies:
            scores["sv"] += t.swedish_prior
        group: dict[str, float] = {}
        for lang, score in scores.items():
            code = served(lang)
            group[code] = max(group.get(code, -math.inf), score)
        ranked = sorted(group.items(), key=lambda kv: kv[1], reverse=True)
        best, best_score = ranked[0]
        confidence = _softmax_top(group, best)
        raw = max((lang for lang in scores if served(lang) == best), key=lambda k: scores[k])
        evidence = _evidence_margin(words, letters, best)
        method = "langdetect"
        if best != "sv" and prior_applies:
            # One word that Swedish uses too ("ja", "bok") stays Swedish.
            short = len(tokens) <= t.short_tokens and (evidence <= 0 or swedish_evidence > 0)
            if short or best_score - group["sv"] < t.swedish_margin:
                best, raw, method = "sv", "sv", "prior"
                confidence = _softmax_top(group, "sv")
        elif not probs or max(probs, key=lambda k: probs[k]) not in ("sv", "da", "no"):
            method = "prior"
        if current and current != best:
            if current in group:
                if group[best] - group[current] < t.sticky_margin:
                    return Detection(current, _softmax_top(group, current), "sticky", current)
            elif evidence <= 0 and len(tokens) <= t.short_tokens:
                return Detection(current, 0.6, "sticky", current)
        return Detection(best, confidence, method, raw)

    def _plainly_scandinavian(self, tokens: list[str]) -> bool:
        """At least `fast_words` frequent words that only Swedish, Danish or Norwegian have
        (all served in Swedish), and no frequent word that Swedish does not have (a Danish or
        Norwegian word takes the full path, which names the language it saw). A word
        Swedish shares with another language ("om" with Dutch, "i" with English and Polish)
        decides nothing either way."""
        scandinavian = 0
        for token in tokens:
            owners = lexicon.OWNERS.get(token, frozenset())
            if owners and "sv" not in owners:  # another language's word, Danish or Norwegian too
                return False
            scandinavian += bool(owners) and owners <= _SCANDINAVIAN
        return scandinavian >= self.tuning.fast_words

    def _evidence(
        self, text: str, tokens: list[str]
    ) -> tuple[defaultdict[str, float], defaultdict[str, float]]:
        words: defaultdict[str, float] = defaultdict(float)
        index = lexicon.zipf_index(_LATIN_CANDIDATES)
        for token in tokens:
            # One vote per word, shared among the languages that use it in proportion to how
            # frequent it is in each (10 ** Zipf); languages served alike (sv/da/no) share
            # the group's vote instead of splitting it.
            weights = {lang: 10 ** (z - 3.0) for lang, z in index.get(token, {}).items() if z > _ZIPF_FLOOR}
            groups: dict[str, float] = {}
            for lang, weight in weights.items():
                groups[served(lang)] = max(groups.get(served(lang), 0.0), weight)
            total = sum(groups.values())
            for lang, weight in weights.items():
                words[lang] += weight / total
        letters: defaultdict[str, float] = defaultdict(float)
        lowered = text.lower()
        for ch in set(lowered):
            for lang, weight in lexicon.LETTERS.get(ch, {}).items():
                letters[lang] += weight
        return words, letters

    # -- langdetect -----------------------------------------------------------------------
    def _langdetect(self, text: str) -> dict[str, float]:
        from langdetect.lang_detect_exception import LangDetectException

        factory = self._get_factory()
        detector = factory.create()
        detector.append(text)
        try:
            found = detector.get_probabilities()
        except LangDetectException:
            return {}
        probs: dict[str, float] = {}
        for item in found:
            code = _LANGDETECT_ALIASES.get(item.lang, item.lang)
            probs[code] = probs.get(code, 0.0) + float(item.prob)
        return probs

    def _get_factory(self) -> DetectorFactory:
        with self._lock:
            if self._factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

                factory = DetectorFactory()
                factory.seed = 0  # deterministic sampling: same text, same answer
                factory.load_profile(PROFILES_DIRECTORY)
                self._factory = factory
            return self._factory


_TIEBREAK = {"arabic": ("ar", "fa"), "cyrillic": ("ru", "uk")}

_SCRIPT_GROUPS = {
    "arabic": ("ar", "fa", "ps", "ku", "ur"),
    "cyrillic": ("ru", "uk", "sr"),
    "ethiopic": ("ti", "am"),
}


def _raw_in_group(current: str | None, script: str) -> str | None:
    if current is None:
        return None
    candidates = _SCRIPT_GROUPS.get(script, ())
    if current in candidates:
        return current
    if current == "sh" and script == "cyrillic":
        return "sr"
    return None


def _unknown_capitalised(text: str, index: Mapping[str, Mapping[str, float]]) -> frozenset[str]:
    """Capitalised words after the first that no word list knows: names ("Tack Ahmed")."""
    found = [m.group() for m in re.finditer(r"[^\W\d_]+", text)]
    return frozenset(w.lower() for w in found[1:] if w[0].isupper() and w.lower() not in index)


def _group_evidence(words: Mapping[str, float], letters: Mapping[str, float], code: str) -> float:
    """Word + letter evidence of the best language served as `code`."""
    members = [lang for lang in set(words) | set(letters) if served(lang) == code]
    return max((words.get(m, 0.0) + letters.get(m, 0.0) for m in members), default=0.0)


def _evidence_margin(words: Mapping[str, float], letters: Mapping[str, float], code: str) -> float:
    """Word + letter evidence for `code` minus that for Swedish (served groups)."""

    def total(target: str) -> float:
        members = [lang for lang in set(words) | set(letters) if served(lang) == target]
        return max((words.get(m, 0.0) + letters.get(m, 0.0) for m in members), default=0.0)

    return total(code) - total("sv")


def _softmax_top(scores: Mapping[str, float], key: str) -> float:
    top = max(scores.values())
    total = sum(math.exp(v - top) for v in scores.values())
    return round(math.exp(scores[key] - top) / total, 3)
