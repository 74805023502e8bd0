""""Varför fick jag det här svaret?": a basis record in plain language.

The explanation is written by people in Swedish and English. Other languages get the
Swedish text machine-translated when every sentence translates; otherwise the citizen
gets the Swedish and the English explanation. Nothing here touches the database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from gateway.basis import LOW_CONFIDENCE, answer_confidence
from gateway.catalogue import Catalogue
from gateway.handoff.reasons import REASONS
from gateway.jsontypes import JsonRead, obj
from gateway.texts import NATIVE as NATIVE  # basis_export reads it here
from translation.service import LanguageInfo, Translation

logger = logging.getLogger(__name__)


#: Language names in Swedish and English (the translator's list has native names).
LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "sv": ("svenska", "Swedish"),
    "en": ("engelska", "English"),
    "ar": ("arabiska", "Arabic"),
    "fa": ("persiska", "Persian"),
    "so": ("somaliska", "Somali"),
    "ti": ("tigrinska", "Tigrinya"),
    "am": ("amhariska", "Amharic"),
    "ku": ("kurdiska", "Kurdish"),
    "ps": ("pashto", "Pashto"),
    "uk": ("ukrainska", "Ukrainian"),
    "ru": ("ryska", "Russian"),
    "pl": ("polska", "Polish"),
    "tr": ("turkiska", "Turkish"),
    "sh": ("bosniska/kroatiska/serbiska", "Bosnian/Croatian/Serbian"),
    "de": ("tyska", "German"),
    "es": ("spanska", "Spanish"),
    "fi": ("finska", "Finnish"),
    "fr": ("franska", "French"),
    "nl": ("nederländska", "Dutch"),
    "th": ("thailändska", "Thai"),
    "zh": ("kinesiska", "Chinese"),
}

METHODS: dict[str, tuple[str, str]] = {
    "explicit": ("du valde språket själv", "you chose the language yourself"),
    "script": ("utifrån skriftsystemet", "from the writing system"),
    "langdetect": ("automatiskt utifrån orden", "automatically from the words"),
    "words": ("utifrån vanliga svenska ord i meddelandet", "from common Swedish words in the message"),
    "prior": ("svenska antas när texten är för kort för att avgöra",
              "Swedish is assumed when the text is too short to tell"),
    "sticky": ("samma språk som tidigare i samtalet", "the same language as earlier in the conversation"),
}

INTENTS: dict[str, tuple[str, str]] = {
    "greet": ("en hälsning", "a greeting"),
    "goodbye": ("ett avsked", "a goodbye"),
    "thanks": ("ett tack", "a thank-you"),
    "affirm": ("ett ja", "a yes"),
    "deny": ("ett nej", "a no"),
    "request_human": ("att du vill prata med en människa", "that you want to talk to a person"),
    "bot_challenge": ("en fråga om vem du pratar med", "a question about who you are talking to"),
    "out_of_scope": ("en fråga som kommunens assistent inte kan svara på",
                     "a question the municipality's assistant cannot answer"),
}

#: Why a conversation was handed over, by reason, as the one list (``gateway.handoff.reasons``) words it.
HANDOFF_REASONS: dict[str, tuple[str, str]] = {r.code: r.because for r in REASONS if r.because is not None}

TITLES = ("Varför fick du det här svaret?", "Why did you get this answer?")


class Translates(Protocol):
    def from_swedish(self, text: str, lang: str) -> Translation: ...
    def languages(self) -> list[LanguageInfo]: ...


@dataclass
class Explanation:
    language: str
    title: str
    points: list[dict[str, str]]
    machine_translated: bool = False
    dir: str = "ltr"

    def as_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "dir": self.dir,
            "machine_translated": self.machine_translated,
            "title": self.title,
            "points": self.points,
        }


@dataclass
class _Writer:
    """Picks the Swedish or English wording of each sentence."""

    lang: str
    points: list[dict[str, str]] = field(default_factory=list)

    def pick(self, pair: tuple[str, str]) -> str:
        return pair[0] if self.lang == "sv" else pair[1]

    def add(self, key: str, sv: str, en: str) -> None:
        self.points.append({"key": key, "text": sv if self.lang == "sv" else en})


def percent(value: float, lang: str = "sv") -> str:
    """``82 %`` in Swedish, ``82%`` in English."""
    return f"{round(value * 100):d} %" if lang == "sv" else f"{round(value * 100):d}%"


def certainty_words(value: float | None, lang: str) -> str:
    """``ganska säker (82 %)``; the words carry the meaning, the number the detail."""
    if value is None:
        return "okänt" if lang == "sv" else "unknown"
    if value >= 0.9:
        words = ("mycket säker", "very sure")
    elif value >= 0.75:
        words = ("ganska säker", "fairly sure")
    elif value >= LOW_CONFIDENCE:
        words = ("lite osäker", "somewhat unsure")
    else:
        words = ("osäker", "unsure")
    return f"{words[0] if lang == 'sv' else words[1]} ({percent(value, lang)})"


def language_name(code: object, lang: str) -> str:
    """A language's name in Swedish or English; a code without a name as itself."""
    if not code:
        return "okänt språk" if lang == "sv" else "an unknown language"
    names = LANGUAGE_NAMES.get(str(code))
    if names is None:
        return str(code)
    return names[0] if lang == "sv" else names[1]


def topic_label(catalogue: Catalogue, topic: object, lang: str) -> str | None:
    """A topic's human name: the editor's label, else its source page title."""
    if not topic:
        return None
    answer = catalogue.get(f"utter_{topic}")
    if answer is None:
        return None
    if answer.label.get(lang):
        return answer.label[lang]
    if answer.source is not None:
        return answer.source.title
    return None


def _understood(w: _Writer, record: JsonRead, catalogue: Catalogue) -> None:
    nlu = obj(record.get("nlu"))
    topic, intent = nlu.get("topic"), nlu.get("intent")
    label = topic_label(catalogue, topic, w.lang)
    if label:
        w.add("understood", f"Jag tolkade din fråga som att den handlar om: {label}.",
              f"I understood your question to be about: {label}.")
    elif intent == "nlu_fallback":
        w.add("understood", "Jag förstod inte säkert vad du frågade om, så jag bad dig formulera om frågan.",
              "I did not understand for sure what you asked, so I asked you to put it another way.")
    elif isinstance(intent, str) and intent in INTENTS:
        w.add("understood", f"Jag tolkade ditt meddelande som {INTENTS[intent][0]}.",
              f"I understood your message as {INTENTS[intent][1]}.")
    elif intent:
        w.add("understood", f"Jag tolkade ditt meddelande som: {intent}.",
              f"I understood your message as: {intent}.")
    else:
        w.add("understood", "Ditt meddelande skickades inte till assistentens språkmodell, "
              "så svaret är ett standardsvar.",
              "Your message was not sent to the assistant's language model, so the answer "
              "is a standard reply.")
    confidence = answer_confidence(nlu)
    if confidence is not None:
        sv, en = certainty_words(confidence, "sv"), certainty_words(confidence, "en")
        if confidence < LOW_CONFIDENCE:
            w.add("certainty", f"Hur säker jag var: {sv}. Svaret kan därför vara fel. "
                  "Kontrollera med källan eller fråga en människa.",
                  f"How sure I was: {en}. The answer may therefore be wrong. "
                  "Check the source or ask a person.")
        else:
            w.add("certainty", f"Hur säker jag var: {sv}.", f"How sure I was: {en}.")


def _source(w: _Writer, record: JsonRead) -> None:
    source = obj(obj(record.get("response")).get("source"))
    if not source:
        w.add("source", "Svaret bygger inte på någon särskild sida; det är ett standardsvar från assistenten.",
              "The answer is not based on a particular page; it is a standard reply from the assistant.")
        return
    w.add("source", f"Svaret bygger på sidan \"{source.get('title')}\" ({source.get('url')}).",
          f"The answer is based on the page \"{source.get('title')}\" ({source.get('url')}).")
    _signed(w, source)


def _signed(w: _Writer, source: JsonRead) -> None:
    """Who stands behind the text: only what the content file says (docs/topic-format.md)."""
    author, checked = source.get("author"), source.get("checked")
    reviewer, reviewed, owner = source.get("reviewed_by"), source.get("reviewed"), source.get("owner")
    if not author:
        return
    sv, en = f"Texten är skriven av {author}", f"The text was written by {author}"
    if checked:
        sv += f", som senast jämförde den med sidan {checked}"
        en += f", who last compared it with the page on {checked}"
    if reviewer:
        sv += f". {reviewer} granskade den för kommunen" + (f" {reviewed}." if reviewed else ".")
        en += f". {reviewer} reviewed it for the municipality" + (f" on {reviewed}." if reviewed else ".")
    else:
        sv += ". Den är ännu inte granskad av kommunen."
        en += ". It has not yet been reviewed by the municipality."
    if owner:
        sv += f" {owner} ansvarar för att svaret stämmer."
        en += f" {owner} is responsible for keeping the answer correct."
    w.add("author", sv, en)


def _translation(w: _Writer, record: JsonRead) -> None:
    language = obj(record.get("language"))
    code = language.get("code")
    confidence = language.get("confidence")
    method = METHODS.get(str(language.get("method")))
    sv = f"Språk: {language_name(code, 'sv')}"
    en = f"Language: {language_name(code, 'en')}"
    if method:
        sv += f" ({method[0]}"
        en += f" ({method[1]}"
        if isinstance(confidence, (int, float)) and language.get("method") != "explicit":
            sv += f", säkerhet {percent(float(confidence), 'sv')}"
            en += f", confidence {percent(float(confidence), 'en')}"
        sv += ")"
        en += ")"
    w.add("language", sv + ".", en + ".")

    inbound = obj(record.get("translation_in"))
    if inbound:
        if inbound.get("ok"):
            w.add("translation_in",
                  f"Din fråga maskinöversattes från {language_name(code, 'sv')} till svenska innan "
                  "den tolkades.",
                  f"Your question was machine-translated from {language_name(code, 'en')} into "
                  "Swedish before it was interpreted.")
        else:
            w.add("translation_in",
                  "Din fråga kunde inte översättas på ett tillförlitligt sätt, så den tolkades inte.",
                  "Your question could not be translated reliably, so it was not interpreted.")
    outbound = obj(record.get("translation_out"))
    author = obj(obj(record.get("response")).get("source")).get("author")
    if outbound and outbound.get("ok") and outbound.get("engine") == "notice":
        target = outbound.get("target_lang") or code
        w.add("translation_out",
              f"Texten på {language_name(target, 'sv')} skrevs för assistenten, men ingen översättare har "
              "kontrollerat den ännu. Därför står den svenska och den engelska texten bredvid.",
              f"The text in {language_name(target, 'en')} was written for the assistant, but no translator "
              "has checked it yet. That is why the Swedish and the English text are shown beside it.")
    elif outbound and outbound.get("ok"):
        target = outbound.get("target_lang") or code
        by_sv, by_en = (f" av {author}", f" by {author}") if author else ("", "")
        w.add("translation_out",
              f"Svaret skrevs på svenska{by_sv} och maskinöversattes till {language_name(target, 'sv')}. "
              "Översättningen kan innehålla fel; den svenska källsidan gäller.",
              f"The answer was written in Swedish{by_en} and machine-translated into "
              f"{language_name(target, 'en')}. The translation may contain mistakes; the Swedish "
              "source page is what counts.")
    elif outbound:
        w.add("translation_out",
              "Det fanns ingen tillförlitlig översättning av svaret, så du fick det på svenska och engelska.",
              "There was no reliable translation of the answer, so you got it in Swedish and English.")
    else:
        w.add("translation_out", "Svaret är skrivet av människor och inte maskinöversatt.",
              "The answer was written by people and not machine-translated.")


def _handoff(w: _Writer, record: JsonRead) -> None:
    handoff = obj(record.get("handoff"))
    if handoff and handoff.get("reason"):
        reason = HANDOFF_REASONS.get(str(handoff["reason"]),
                                     ("du behövde hjälp av en person", "you needed help from a person"))
        w.add("handoff", f"Samtalet lämnades över till en person på Kontaktcenter, eftersom {reason[0]}.",
              f"The conversation was passed to a person at the contact centre, because {reason[1]}.")
    else:
        w.add("handoff", "Samtalet lämnades inte över till en person. Vill du prata med en människa, "
              "skriv det eller ring Kontaktcenter, 054-540 00 00.",
              "The conversation was not passed to a person. If you want to talk to someone, say "
              "so or call the contact centre, +46 54 540 00 00.")


def _rest(w: _Writer, record: JsonRead) -> None:
    if record.get("pii_masked"):
        w.add("personal_data", "Personuppgifter i din fråga, till exempel personnummer eller "
              "telefonnummer, togs bort innan något sparades eller skickades vidare.",
              "Personal details in your question, such as personal identity numbers or phone "
              "numbers, were removed before anything was stored or passed on.")
    w.add("decision", "Assistenten ger allmän information och fattar aldrig beslut i ditt ärende.",
          "The assistant gives general information and never makes decisions about your case.")
    release = obj(record.get("release"))
    model = obj(record.get("nlu")).get("model_id")
    sv = f"Version av assistenten: {release.get('version', '?')}"
    en = f"Version of the assistant: {release.get('version', '?')}"
    if model:
        sv += f", språkmodell {model}"
        en += f", language model {model}"
    w.add("version", sv + ".", en + ".")


def native_explanation(record: JsonRead, catalogue: Catalogue, lang: str) -> Explanation:
    """The explanation as we wrote it, in Swedish (``sv``) or English (``en``)."""
    if lang not in NATIVE:
        raise ValueError(f"Explanations are written in sv and en, not '{lang}'.")
    w = _Writer(lang)
    _understood(w, record, catalogue)
    _source(w, record)
    _translation(w, record)
    _handoff(w, record)
    _rest(w, record)
    return Explanation(lang, w.pick(TITLES), w.points)


def _direction(translator: Translates, lang: str) -> str:
    for info in translator.languages():
        if info.code == lang:
            return str(info.dir)
    return "ltr"


def explain(
    record: JsonRead, catalogue: Catalogue, lang: str, translator: Translates
) -> list[Explanation]:
    """What to show: the explanation in ``lang`` (ours, or machine-translated when every
    sentence translates), else the Swedish and the English one."""
    if lang in NATIVE:
        return [native_explanation(record, catalogue, lang)]
    swedish = native_explanation(record, catalogue, "sv")
    english = native_explanation(record, catalogue, "en")
    translated: list[dict[str, str]] = []
    title = translator.from_swedish(swedish.title, lang)
    ok = bool(getattr(title, "ok", False))
    for point in swedish.points if ok else []:
        result = translator.from_swedish(point["text"], lang)
        if not getattr(result, "ok", False):
            ok = False
            break
        translated.append({"key": point["key"], "text": str(result.text)})
    if not ok:
        logger.info("explain: no reliable translation into %s; giving sv + en", lang)
        return [swedish, english]
    return [Explanation(lang, str(title.text), translated, machine_translated=True,
                        dir=_direction(translator, lang))]
