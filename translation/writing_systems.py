"""Writing-system routing: which script a message is in, and which language within it.

Script is the strongest and cheapest evidence there is: Thai is Thai, Ethiopic is Tigrinya
or Amharic, Arabic script is Arabic, Persian, Sorani Kurdish, Pashto or Urdu. Within a
script the languages are told apart by letters only some of them use, then by frequent
words. When nothing distinguishes them the caller decides (conversation language, then a
default); `ScriptGuess.decisive` says whether the letters settled it.
"""

from __future__ import annotations

import math
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
    #: when not decisive: the candidates within the margin of the best, best first (the
    #: languages to offer the citizen); empty when one language is clearly ahead.
    alternatives: tuple[str, ...] = ()


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
    "ar": frozenset((
        "في على إلى الى هل أن ان لا هذا هذه كيف أين اين متى لماذا أريد اريد شكرا مرحبا "
        "نعم عن مع كان يمكن هو هي أنا انا عندي لدي"
    ).split()),
    "fa": frozenset((
        "است می را که این آن با برای چه چطور کجا هست نیست خیلی ممنون مرسی درود بله خوب "
        "هستم دارم کنم از به در یک شما ما آیا چگونه"
    ).split()),
    "ps": frozenset((
        "د په کې ته سره دی ده زه زما ستاسو څنګه چېرته کله مننه شته هم یو لري کوي غواړم "
        "ولې چې څخه دي یې دې دغه کوم زیات شو شول وو ورته دوه تنه وویل ویل شوه ولسمشر"
    ).split()),
    "ku": frozenset("لە بە بۆ چۆن کوێ کەی سوپاس تۆ ئەو هەیە نییە".split()),
    "ur": frozenset("ہے میں کیا کے آپ".split()),
}

_CYRILLIC_LETTERS: dict[str, str] = {
    **{ch: "uk" for ch in "іїєґІЇЄҐ"},
    **{ch: "sr" for ch in "ђћљњџјЂЋЉЊЏЈ"},
    **{ch: "ru" for ch in "ыэъёЫЭЪЁ"},
}
#: Letters each Cyrillic language does not write at all: one of them is strong evidence
#: against it (Serbian has no я ю ь й щ, Russian no і ї є ђ ј, Ukrainian no ы э ъ ё ј).
_CYRILLIC_FOREIGN: dict[str, frozenset[str]] = {
    "sr": frozenset("йщъыьэюяёєіїґ"),
    "ru": frozenset("ђјљњћџєіїґ"),
    "uk": frozenset("ђјљњћџыэъё"),
}
#: Letters each language usually writes, with their share of its letters, widest set first:
#: a message with none of a set is less likely in that language by n * -ln(1 - share). Russian
#: shares я ю ь й щ with Ukrainian, so a message that has them but none of the letters only
#: Russian writes (ы э ъ ё, about 2.3 % of its letters) still counts against Russian, as one
#: without і ї є ґ counts against Ukrainian.
_CYRILLIC_MARKERS: dict[str, tuple[tuple[frozenset[str], float], ...]] = {
    "ru": ((frozenset("яюьйщыэъё"), 0.087), (frozenset("ыэъё"), 0.023)),
    "uk": ((frozenset("іїєґ"), 0.073),),
    "sr": ((frozenset("ђјљњћџ"), 0.062),),
}
_CYRILLIC_WORDS: dict[str, frozenset[str]] = {
    "uk": frozenset((
        "як що де коли дякую будь ласка мені мене ти ви ми так ні це для від чи привіт "
        "добрий доброго хочу можна треба потрібна потрібно допомога мій моя моє наш ваш"
    ).split()),
    "ru": frozenset((
        "как что где когда спасибо пожалуйста мне меня ты вы мы да нет это для от ли "
        "привет добрый доброе хочу можно нужно нужна помощь мой моя моё наш ваш "
        "здравствуйте"
    ).split()),
    "sr": frozenset((
        "где шта како хвала молим желим треба здраво када колико ово није добар дан"
    ).split()),
}

_ETHIOPIC_LETTERS: dict[str, str] = {
    **{chr(cp): "ti" for cp in range(0x1250, 0x125E)},  # qha series, Tigrinya only
    **{chr(cp): "ti" for cp in range(0x12B8, 0x12C6)},  # xa series, Tigrinya only
    "ኣ": "ti",  # Tigrinya spells initial a- with ኣ, Amharic with አ
    "አ": "am",
    "ኧ": "am",
    **{chr(cp): "am" for cp in range(0x12E0, 0x12E8)},  # zha series (ዠ), Amharic
    "ኝ": "am",  # Amharic 1sg object -ኝ (Tigrinya -ኒ)
}
_ETHIOPIC_WORDS: dict[str, frozenset[str]] = {
    "ti": frozenset((
        "እዩ ኣሎ ኣለኒ ድዩ ዲኻ ዲኺ ኣበይ ብኸመይ እንታይ መዓስ የቐንየለይ ከመይ ኣብ ናብ ካብ ምስ እደሊ እየ ሎሚ ሓገዝ የለን "
        "ኣይፋል እወ ጽባሕ ትማሊ ሕጂ ኩሉ ብዙሕ ጽቡቕ ሰብ ገዛ ስራሕ ክንደይ መን ኣሎኹ ኣለኹ ኣላ ኣለዉ ዘሎ ዘለኒ "
        # function words, copulas, pronouns and adverbs Amharic writes otherwise
        "እየን ኢኻ ኢኺ ኢና ኢኹም ኣለዋ ኣለና ነይሩ ነይራ ነይሮም እተን እዘን ንሰን ድማ ከኣ እውን ግና እምበር "
        "እንተ እንተኾነ ከምኡ ከምዚ ብዛዕባ ድሕሪ ቅድሚ ኣብዚ ኣብቲ ኣብታ ኣብቶም ነቲ ነታ ነቶም ንዓኻ ንዓኺ ንዓይ "
        "ንዓና ንዓኹም ኩሎም ሓደ ክልተ ሰለስተ ዝኾነ ዝነበረ ዝበለ ዘለዉ ዘለዋ ኮይኑ ኮይና ኮይኖም ምዃኑ ይኽእል "
        "ትኽእል ክኸውን ይኸውን ኣይነበረን ኣዝዩ ኣዝያ ጥራሕ ሓቂ ሓዲሽ ዓቢ ንእሽቶ ሰባት ህዝቢ መንግስቲ "
        "ስለምንታይ ኢሉ ኢላ ኢሎም ብምባል ብዘይ ብዘይካ ብምኽንያት ካልእ ካልኦት ግዜ"
    ).split()),
    "am": frozenset((
        "ነው ናቸው አለ የት እንዴት ምን መቼ አመሰግናለሁ እፈልጋለሁ እችላለሁ ነህ ነሽ ወደ የለም አይደለም ዛሬ እባክዎ በጣም አዎ "
        "ነገ ትናንት አሁን ሁሉ ብዙ ጥሩ ሰው ስራ ስንት ማን ነኝ አለኝ የለኝም ላይ "
        # function words, copulas, pronouns and adverbs Tigrinya writes otherwise
        "ናት ነበር እና ውስጥ ጋር ይህ ይህን ይህም ይሄ እነዚህ እነዚያ እሱ እሷ እነሱ እኛ ሆኖም እንደ እንዲሁም "
        "ደግሞ ብቻ ሁሉም አንድ ሁለት ሶስት ሦስት ሌላ ሌሎች ሰዎች በኋላ በፊት ጊዜ ውሃ መንግስት ህዝብ ትልቅ "
        "ትንሽ አዲስ ያለ ያለው ያሉ የሆነ ሲሆን መሆኑን መሆን ሆኖ ይችላል ይሆናል አልነበረም አሉ አላቸው "
        "አለው እዚህ እዚያ ለምን ነገር"
    ).split()),
}
#: Word shapes of one language only. Amharic: verb endings (-ለሁ -ኛል -ዋል -ናል -ቸው -ኝ,
#: 3sg feminine -ች), plurals (-ዎች -ኦች), 1sg possessive (-ዬ -ቴ -ጄ), negation አል-...-ም,
#: የ(ሚ)- prefixes. Tigrinya: 1sg object -ኒ and "to me" -ለይ, 1sg possessive -ይ, 2pl
#: -ኩም/-ኹም, plural -ታት, negation ኣይ-...-ን, relative ዝ-, 3pl -ኦም.
_ETHIOPIC_SHAPES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("am", re.compile(r"(ለሁ|ኛል|ዋል|ናል|ቸው|ዬ)$"), 2.0),
    ("am", re.compile(r"(ዎች|ኦች|ቶች|ችን|ችሁ)$"), 1.5),
    ("am", re.compile(r"..(ኝ|ች|ቴ|ጄ|ቼ)$"), 1.0),
    ("am", re.compile(r"[ላዳራሳናታካጋባማዛቻ]ሉ$"), 1.0),
    ("am", re.compile(r"^አል..*ም$"), 1.5),
    ("am", re.compile(r"^የሚ.."), 1.5),
    ("am", re.compile(r"^የ..."), 0.8),
    ("ti", re.compile(r"(ኩም|ኹም|ክን|ታት|ኒ|ለይ|ለይን)$"), 1.5),
    ("ti", re.compile(r"^ኣይ..*ን$"), 1.5),
    ("ti", re.compile(r"..ይ$"), 1.5),
    ("ti", re.compile(r"^ዝ..."), 0.8),
    # Amharic compound imperfect 3sg (ይከፈታል, ይቆማል, ይችላል) and perfect with a labialised
    # consonant (ታሟል, ጨምሯል, ሄዷል); Tigrinya 3pl -ኦም (ደቆም, እዮም).
    ("am", re.compile(r"..[ታላማራሳካጋባዳዛቻጣ]ል$"), 1.0),
    ("am", re.compile(r".[ሏሟሯሷሿቧቷቿኗኟዟዧዷጇጧጯጷፏ]ል$"), 2.0),
    ("ti", re.compile(r".[ኦቶሞዮሎሮኖቦዶሶኮጎዞጾ]ም$"), 1.0),
)

_WORD_RE = re.compile(r"[^\W\d_]+(?:[‌'][^\W\d_]+)*")


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def _pick(
    scores: Scores, default: str, current: str | None, group: tuple[str, ...], margin: float = 0.0
) -> ScriptGuess:
    """The best-scoring language; decisive when it leads the next by more than `margin`.
    Otherwise the candidates within `margin` of the best become `alternatives` and the code
    is the conversation's language if it is one of them, else `default` if it is, else the best."""
    ranked = sorted(((lang, scores.get(lang, 0.0)) for lang in group), key=lambda kv: kv[1], reverse=True)
    best, top = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else -float("inf")
    if top > 0 and top - runner > margin:
        return ScriptGuess(best, True, dict(scores))
    close = tuple(lang for lang, score in ranked if top - score <= margin)
    code = current if current in close else (default if default in close else best)
    return ScriptGuess(code, False, dict(scores), close)


#: Arabic-script languages with frequency-ranked word lists (`lexicon.zipf_index`): Arabic and
#: Persian from wordfreq, Pashto from pashto-stopwords; Sorani and Urdu have hand-written words.
_ARABIC_LISTED = ("ar", "fa", "ps")
_ARABIC_HAND_ZIPF = 6.5
_PERSIAN_YEH = "\u06cc"  # ی, the only yeh Persian writes
_ARABIC_YEH = "\u064a"  # ي, Arabic's yeh; Pashto writes both (ي for -i: کوي, لري, ښوونځي)


def route_arabic(text: str, current: str | None = None) -> ScriptGuess:
    """Arabic script: ps / ku (Sorani) / ur / fa / ar; Arabic when nothing tells them apart."""
    tokens = words_of(text)
    scores = _score(text, tokens, _ARABIC_LETTERS,
                    {lang: words for lang, words in _ARABIC_WORDS.items() if lang not in _ARABIC_LISTED})
    # One vote per word, shared among Arabic, Persian and Pashto by its frequency in each.
    # Pashto has no frequency list: its hand-written function words (د, په, هم, دی ...) are
    # among its most frequent words, so they count as frequent as Persian's top words
    # (Zipf 6.5), not as an ordinary listed word; otherwise the Persian list's frequency of a
    # shared word (هم 6.7, دی 5.5) would hand Pashto's own function words to Persian.
    hand = {lang: _ARABIC_WORDS[lang] for lang in _ARABIC_LISTED}
    # Pashto shares much of its vocabulary with Persian (دولت, کار, کتاب): a word only the
    # Persian list holds is no evidence between the two.
    shares = _list_shares(tokens, _ARABIC_LISTED, hand, _ARABIC_HAND_ZIPF, unlisted={"ps": "fa"})
    for lang, share in shares.items():
        scores[lang] += 2.0 * share
    # Pashto writes both ی and ي; Persian only ی, Arabic only ي. Pashto verbs and imperatives
    # end in ئ (وکړئ, راکړئ), which Persian and Arabic words hardly do.
    if _PERSIAN_YEH in text and _ARABIC_YEH in text:
        scores["ps"] += 2.0
    scores["ps"] += sum(1.0 for t in tokens if len(t) > 2 and t.endswith("ئ"))
    # Pashto, Sorani and Urdu share Persian letters; their own letters outweigh them.
    own = _letter_counts(text, _ARABIC_LETTERS)
    for lang in ("ps", "ku", "ur"):
        if own[lang]:
            scores[lang] += 3.0 + scores["fa"]
    scores["ar"] += sum(1.0 for t in tokens if t.startswith("ال") and len(t) > 3)
    guess = _pick(scores, "ar", current, ("ar", "fa", "ps", "ku", "ur"))
    # Arabic script keeps its old rule: no question to the citizen (ties go to ar/fa tiebreak).
    return ScriptGuess(guess.code, guess.decisive, guess.scores)


def _list_shares(
    tokens: list[str],
    codes: tuple[str, ...],
    hand: dict[str, frozenset[str]],
    hand_zipf: float | None = None,
    unlisted: dict[str, str] | None = None,
) -> Scores:
    """Per token, one vote shared among the languages whose word lists hold it, weighted by
    how frequent the word is in each (`lexicon.zipf_index`; hand-written words count as very
    frequent: `hand_zipf`, by default `lexicon.HAND_ZIPF`).

    `unlisted` maps a language with only a short list to the language whose full frequency
    list covers its shared vocabulary ({"ps": "fa"}): a word that the full list holds and the
    short one does not is no evidence between them (the short list's silence says nothing),
    unless it is one of the full language's own hand-written words."""
    from translation import lexicon  # data module; the lists are read on first use

    index = lexicon.zipf_index(codes)
    hand_weight = 10 ** ((lexicon.HAND_ZIPF if hand_zipf is None else hand_zipf) - 3.0)
    shares: Scores = defaultdict(float)
    for token in tokens:
        # Shares follow the word's frequency in each language (10 ** Zipf): a word ten
        # times as frequent in one language gives it ten times the share.
        weights = {lang: 10 ** (z - 3.0) for lang, z in index.get(token, {}).items()}
        for lang, vocab in hand.items():
            if token in vocab:
                weights[lang] = max(weights.get(lang, 0.0), hand_weight)
        for short, full in (unlisted or {}).items():
            if full in weights and short not in weights and token not in hand.get(full, ()):
                weights[short] = weights[full]
        total = sum(weights.values())
        for lang, weight in weights.items():
            if total > 0:
                shares[lang] += weight / total
    return shares


def route_cyrillic(text: str, current: str | None = None) -> ScriptGuess:
    """Cyrillic script: uk / sr / ru. Letters only one language writes, letters a language
    never writes, then frequent words; when they leave two or three close, the guess is not
    decisive and names them as `alternatives` (Russian first when nothing tells them apart)."""
    lowered = text.lower()
    tokens = words_of(text)
    scores: Scores = defaultdict(float)
    for lang, n in _letter_counts(text, _CYRILLIC_LETTERS).items():
        scores[lang] += 2.0 * n
    for lang, foreign in _CYRILLIC_FOREIGN.items():
        scores[lang] -= 3.0 * sum(1 for ch in lowered if ch in foreign)
    # Each language writes some letters often (about 6-8 % of all letters): a message that
    # has none of them is that much less likely to be in it (n * -ln(1 - share), capped).
    letters = sum(1 for ch in lowered if ch.isalpha())
    for lang, tiers in _CYRILLIC_MARKERS.items():
        for markers, rate in tiers:
            if not any(ch in markers for ch in lowered):
                scores[lang] -= min(3.0, -math.log(1.0 - rate) * letters)
                break
    for lang, share in _list_shares(tokens, ("ru", "uk", "sr"), _CYRILLIC_WORDS).items():
        scores[lang] += 2.0 * share
    return _pick(scores, "ru", current, ("ru", "uk", "sr"), margin=1.0)


def _series(first: str, last: str) -> str:
    return "".join(chr(cp) for cp in range(ord(first), ord(last) + 1))


#: Letters each Ethiopic language usually writes and the other seldom does, with the share of
#: the language's letters they make up (a message with none of them is less likely in that
#: language by n * -ln(1 - share), like the Cyrillic markers). Tigrinya: initial ኣ and the ḥ
#: (ሐ), x (ኸ) and qh (ቐ) series; Amharic: initial አ/ኧ and the ñ (ኘ), č (ቸ) and zh (ዠ) series.
#: Shares measured on the tuning set's lines (~14 % and ~8 %), rounded down.
_ETHIOPIC_MARKERS: dict[str, tuple[frozenset[str], float]] = {
    "ti": (frozenset("ኣ" + _series("ሐ", "ሗ") + _series("ኸ", "ዅ") + _series("ቐ", "ቝ")), 0.10),
    "am": (frozenset("አኧ" + _series("ኘ", "ኟ") + _series("ቸ", "ቿ") + _series("ዠ", "ዧ")), 0.07),
}
#: Words neither list knows: found in Debian's Amharic spelling dictionary (aspell-am), they
#: are more likely Amharic (about 32 % of such words in Amharic lines, 14 % in Tigrinya ones,
#: on the tuning set: ln(0.32 / 0.14)); missing from it, slightly more likely Tigrinya
#: (ln(0.86 / 0.68)).
_AMHARIC_DICTIONARY_HIT = 0.8
_AMHARIC_DICTIONARY_MISS = 0.25


def route_ethiopic(text: str, current: str | None = None) -> ScriptGuess:
    """Ethiopic script: ti / am. Letters (ቐ ኸ ኣ vs አ ኝ ዠ), letters each usually writes,
    frequent words, the Amharic spelling dictionary and word shapes only one of them has; when
    they leave both close the guess names both as `alternatives`."""
    from translation import lexicon  # data module; the lists are read on first use

    tokens = words_of(text)
    scores: Scores = defaultdict(float)
    for lang, n in _letter_counts(text, _ETHIOPIC_LETTERS).items():
        scores[lang] += float(n)
    letters = sum(1 for ch in text if char_script(ch) == "ethiopic" and ch.isalpha())
    for lang, (markers, rate) in _ETHIOPIC_MARKERS.items():
        if not any(ch in markers for ch in text):
            scores[lang] -= min(3.0, -math.log(1.0 - rate) * letters)
    shares = _list_shares(tokens, ("am", "ti"), _ETHIOPIC_WORDS)
    for lang, share in shares.items():
        scores[lang] += 2.0 * share
    index_words = set(_ETHIOPIC_WORDS["am"] | _ETHIOPIC_WORDS["ti"])
    listed = lexicon.zipf_index(("am", "ti"))
    amharic = lexicon.spelling_dictionary("am")
    for token in tokens:
        if token in index_words:
            continue
        if token not in listed and len(token) > 1:
            if token in amharic:
                scores["am"] += _AMHARIC_DICTIONARY_HIT
            else:
                scores["ti"] += _AMHARIC_DICTIONARY_MISS
        for lang, shape, weight in _ETHIOPIC_SHAPES:
            if shape.search(token):
                scores[lang] += weight
    return _pick(scores, "ti", current, ("ti", "am"), margin=1.0)
