"""Writing-system routing: which script a message is in, and which language within it.

Script is the strongest and cheapest evidence there is: Thai is Thai, Ethiopic is Tigrinya
or Amharic, Arabic script is Arabic, Persian, Sorani Kurdish, Pashto or Urdu. Within a
script the languages are told apart by letters only some of them use, then by frequent
words. When nothing distinguishes them the caller decides (conversation language, then a
default); `ScriptGuess.decisive` says whether the letters settled it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

_RANGES: tuple[tuple[str, int, int], ...] = (
    ("latin", 0x0041, 0x005A),
    ("latin", 0x0061, 0x007A),
    ("latin", 0x00C0, 0x024F),
    ("greek", 0x0370, 0x03FF),
    ("cyrillic", 0x0400, 0x052F),
    ("armenian", 0x0530, 0x058F),
    ("hebrew", 0x0590, 0x05FF),
    ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F),
    ("arabic", 0xFB50, 0xFDFF),
    ("arabic", 0xFE70, 0xFEFF),
    ("devanagari", 0x0900, 0x097F),
    ("bengali", 0x0980, 0x09FF),
    ("thai", 0x0E00, 0x0E7F),
    ("georgian", 0x10A0, 0x10FF),
    ("ethiopic", 0x1200, 0x139F),
    ("ethiopic", 0x2D80, 0x2DDF),
    ("kana", 0x3040, 0x30FF),
    ("han", 0x4E00, 0x9FFF),
    ("hangul", 0xAC00, 0xD7AF),
)

#: Language code for scripts that belong to one language we do not split further.
SCRIPT_LANGUAGE: dict[str, str] = {
    "thai": "th",
    "greek": "el",
    "armenian": "hy",
    "hebrew": "he",
    "devanagari": "hi",
    "bengali": "bn",
    "georgian": "ka",
    "kana": "ja",
    "han": "zh",
    "hangul": "ko",
}


def char_script(ch: str) -> str | None:
    cp = ord(ch)
    for name, lo, hi in _RANGES:
        if lo <= cp <= hi:
            return name if ch.isalpha() or name in ("arabic", "thai", "ethiopic") else None
    return None


def dominant_script(text: str) -> str | None:
    """The script of most letters in `text`, or None if it has no letters."""
    counts = Counter(s for s in map(char_script, text) if s is not None)
    if not counts:
        return None
    if counts.get("kana"):  # Japanese mixes kana with Han characters
        return "kana"
    return counts.most_common(1)[0][0]


@dataclass(frozen=True)
class ScriptGuess:
    code: str
    decisive: bool  # settled by letters/words only one candidate uses
    scores: dict[str, float]


Scores = defaultdict[str, float]


def _letter_counts(text: str, letters: dict[str, str]) -> Counter[str]:
    return Counter(lang for lang in map(letters.get, text) if lang)


def _score(
    text: str, tokens: list[str], letters: dict[str, str], words: dict[str, frozenset[str]]
) -> Scores:
    scores: Scores = defaultdict(float)
    for lang, n in _letter_counts(text, letters).items():
        scores[lang] += float(n)
    for token in tokens:
        for lang, vocab in words.items():
            if token in vocab:
                scores[lang] += 2.0
    return scores


_ARABIC_LETTERS: dict[str, str] = {
    **{ch: "ps" for ch in "ټډړښږځڅګڼېۍ"},
    **{ch: "ku" for ch in "ێۆڵڕەڤ"},
    **{ch: "ur" for ch in "ٹڈڑںے"},
    **{ch: "fa" for ch in "پچژگیک"},
    **{ch: "ar" for ch in "ةىيكؤإأ"},
}
_ARABIC_WORDS: dict[str, frozenset[str]] = {
    "ar": frozenset("في على إلى الى هل أن ان لا هذا هذه كيف أين اين متى لماذا أريد اريد شكرا مرحبا نعم عن مع كان يمكن هو هي أنا انا عندي لدي".split()),
    "fa": frozenset("است می را که این آن با برای چه چطور کجا هست نیست خیلی ممنون مرسی درود بله خوب هستم دارم کنم از به در یک شما ما آیا چگونه".split()),
    "ps": frozenset("د په کې ته سره دی ده زه زما ستاسو څنګه چېرته کله مننه شته هم یو لري کوي غواړم ولې".split()),
    "ku": frozenset("لە بە بۆ چۆن کوێ کەی سوپاس تۆ ئەو هەیە نییە".split()),
    "ur": frozenset("ہے میں کیا کے آپ".split()),
}

_CYRILLIC_LETTERS: dict[str, str] = {
    **{ch: "uk" for ch in "іїєґІЇЄҐ"},
    **{ch: "sr" for ch in "ђћљњџјЂЋЉЊЏЈ"},
    **{ch: "ru" for ch in "ыэъёЫЭЪЁ"},
}
_CYRILLIC_WORDS: dict[str, frozenset[str]] = {
    "uk": frozenset("як що де коли дякую будь ласка мені мене ти ви ми так ні це для від чи привіт добрий доброго хочу можна треба потрібна потрібно допомога мій моя моє наш ваш".split()),
    "ru": frozenset("как что где когда спасибо пожалуйста мне меня ты вы мы да нет это для от ли привет добрый доброе хочу можно нужно нужна помощь мой моя моё наш ваш здравствуйте".split()),
    "sr": frozenset("где шта како хвала молим желим треба здраво".split()),
}

_ETHIOPIC_LETTERS: dict[str, str] = {
    **{chr(cp): "ti" for cp in range(0x1250, 0x125E)},  # qha series, Tigrinya only
    **{chr(cp): "ti" for cp in range(0x12B8, 0x12C6)},  # xa series, Tigrinya only
    "ኣ": "ti",  # Tigrinya spells initial a- with ኣ, Amharic with አ
    "አ": "am",
}
_ETHIOPIC_WORDS: dict[str, frozenset[str]] = {
    "ti": frozenset("እዩ ኣሎ ኣለኒ ድዩ ዲኻ ዲኺ ኣበይ ብኸመይ እንታይ መዓስ የቐንየለይ ከመይ ኣብ ናብ ካብ ምስ እደሊ እየ ሎሚ ሓገዝ የለን ኣይፋል እወ".split()),
    "am": frozenset("ነው ናቸው አለ የት እንዴት ምን መቼ አመሰግናለሁ እፈልጋለሁ እችላለሁ ነህ ነሽ ወደ የለም አይደለም ዛሬ እባክዎ በጣም አዎ".split()),
}
_AMHARIC_SUFFIX = re.compile(r"(ለሁ|ኛል|ዋል|ናል|ቸው|ዬ|ዎ)$")

_WORD_RE = re.compile(r"[^\W\d_]+(?:[‌'][^\W\d_]+)*")


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def _pick(scores: Scores, default: str, current: str | None, group: tuple[str, ...]) -> ScriptGuess:
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] <= 0:
        code = current if current in group else default
        return ScriptGuess(code, False, dict(scores))
    best, top = ranked[0]
    tied = [lang for lang, score in ranked if score == top]
    if len(tied) > 1:
        code = current if current in tied else (default if default in tied else best)
        return ScriptGuess(code, False, dict(scores))
    return ScriptGuess(best, True, dict(scores))


def route_arabic(text: str, current: str | None = None) -> ScriptGuess:
    """Arabic script: ps / ku (Sorani) / ur / fa / ar; Arabic when nothing tells them apart."""
    tokens = words_of(text)
    scores = _score(text, tokens, _ARABIC_LETTERS, _ARABIC_WORDS)
    # Pashto, Sorani and Urdu share Persian letters; their own letters outweigh them.
    own = _letter_counts(text, _ARABIC_LETTERS)
    for lang in ("ps", "ku", "ur"):
        if own[lang]:
            scores[lang] += 3.0 + scores["fa"]
    scores["ar"] += sum(1.0 for t in tokens if t.startswith("ال") and len(t) > 3)
    return _pick(scores, "ar", current, ("ar", "fa", "ps", "ku", "ur"))


def route_cyrillic(text: str, current: str | None = None) -> ScriptGuess:
    """Cyrillic script: uk / sr / ru; Russian when nothing tells them apart."""
    scores = _score(text, words_of(text), _CYRILLIC_LETTERS, _CYRILLIC_WORDS)
    return _pick(scores, "ru", current, ("ru", "uk", "sr"))


def route_ethiopic(text: str, current: str | None = None) -> ScriptGuess:
    """Ethiopic script: ti / am; Tigrinya (more speakers in Sweden) when nothing tells them apart."""
    tokens = words_of(text)
    scores = _score(text, tokens, _ETHIOPIC_LETTERS, _ETHIOPIC_WORDS)
    scores["am"] += 2.0 * sum(1 for t in tokens if _AMHARIC_SUFFIX.search(t))
    return _pick(scores, "ti", current, ("ti", "am"))
