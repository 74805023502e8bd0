"""What the citizen reads when a person takes over: texts written in Swedish and English,
machine-translated (and labelled) for other languages, or Swedish + English as a fallback."""
from __future__ import annotations

from typing import Any

CITIZEN_TEXTS: dict[str, dict[str, str]] = {
    "claimed": {
        "sv": "Nu pratar du med {name} på Kontaktcenter. Skriv här, så svarar {name} dig.",
        "en": "You are now talking to {name} at the contact centre. Write here and {name} will answer you.",
    },
    "returned_to_bot": {
        "sv": (
            "Kontaktcenter har lämnat tillbaka samtalet till AI-assistenten. Du kan fortsätta "
            "ställa frågor här. Vill du prata med en person igen? Skriv \"jag vill prata med en människa\"."
        ),
        "en": (
            "The contact centre has handed the conversation back to the AI assistant. You can "
            "keep asking questions here. Want a person again? Write \"I want to talk to a human\"."
        ),
    },
    "closed": {
        "sv": (
            "Kontaktcenter har avslutat samtalet. Tack för att du hörde av dig! Du kan fortsätta "
            "ställa frågor till AI-assistenten här."
        ),
        "en": (
            "The contact centre has closed the conversation. Thank you for getting in touch! "
            "You can keep asking the AI assistant questions here."
        ),
    },
    "callback_saved": {
        "sv": (
            "Tack! Vi har sparat dina kontaktuppgifter i ditt ärende. Kontaktcenter ringer upp dig "
            "så snart vi kan, under våra öppettider. Är det akut: ring 112."
        ),
        "en": (
            "Thank you! We have saved your contact details with your case. The contact centre will "
            "call you back as soon as we can, during our opening hours. If it is urgent: call 112."
        ),
    },
    "untranslated": {
        "sv": "Svaret från Kontaktcenter kunde inte översättas automatiskt och visas därför på svenska.",
        "en": "The contact centre's reply could not be translated automatically, so it is shown in Swedish.",
    },
}
NATIVE = ("sv", "en")


def citizen_texts(translator: Any, key: str, lang: str, **values: str) -> list[dict[str, Any]]:
    """A gateway text in the citizen's language: written for sv/en, machine-translated
    (and labelled) otherwise, or Swedish + English when there is no usable translation."""
    sv = CITIZEN_TEXTS[key]["sv"].format(**values)
    if lang in NATIVE:
        return [{"text": CITIZEN_TEXTS[key][lang].format(**values), "language": lang,
                 "text_sv": sv, "machine_translated": False}]
    translated = translator.from_swedish(sv, lang)
    if translated.ok:
        return [{"text": translated.text, "language": lang, "text_sv": sv, "machine_translated": True}]
    return [
        {"text": sv, "language": "sv", "text_sv": sv, "machine_translated": False},
        {"text": CITIZEN_TEXTS[key]["en"].format(**values), "language": "en", "text_sv": sv,
         "machine_translated": False},
    ]


def staff_reply_texts(translator: Any, text_sv: str, lang: str) -> list[dict[str, Any]]:
    """A staff member's Swedish reply as the citizen sees it (translated and labelled)."""
    if lang == "sv":
        return [{"text": text_sv, "language": "sv", "text_sv": text_sv, "machine_translated": False}]
    translated = translator.from_swedish(text_sv, lang)
    if translated.ok:
        return [{"text": translated.text, "language": lang, "text_sv": text_sv, "machine_translated": True}]
    reply = {"text": text_sv, "language": "sv", "text_sv": text_sv, "machine_translated": False}
    note = citizen_texts(translator, "untranslated", lang)
    return [reply, *[{**n, "role": "system"} for n in note]]
