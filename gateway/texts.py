"""Citizen-facing texts the gateway itself writes (Swedish and English, by people), and who
stands behind them.

Other languages get these under one rule (``turn.TurnService._localised``): a line a
translator has verified (translation/notices.yml) as it is; otherwise a line nobody has
verified or a machine translation, labelled machine-translated, with the Swedish and the
English text beside it.
"""
from __future__ import annotations

from typing import Any

#: Who stands behind the texts below, in the keys of an answer's source
#: (docs/topic-format.md): written by the project team, not yet owned or reviewed by anyone at
#: the municipality. Change ``owner`` / ``reviewed_by`` only when that person has signed.
SIGNED: dict[str, Any] = {
    "author": "Projektgruppen för AI-assistenten",
    "checked": None,
    "owner": None,
    "reviewed_by": None,
    "reviewed": None,
}

ABOUT_SOURCE: dict[str, Any] = {"title": "Om AI-assistenten", "url": "/om-ai", **SIGNED}

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "sv": (
            "Hej! Jag är Karlstads kommuns AI-assistent, inte en människa. Jag svarar på "
            "allmänna frågor om kommunen och visar var svaret kommer ifrån. Svaren kan vara "
            "fel, och jag fattar inga beslut i ditt ärende. Vill du prata med en person? "
            "Skriv \"jag vill prata med en människa\" eller ring Kontaktcenter, 054-540 00 00."
        ),
        "en": (
            "Hi! I am Karlstad municipality's AI assistant, not a human. I answer general "
            "questions about the municipality and show where each answer comes from. My "
            "answers can be wrong, and I never make decisions about your case. Want to talk "
            "to a person? Write \"I want to talk to a human\" or call the contact centre, "
            "+46 54 540 00 00."
        ),
    },
    # The same sv and en as translation/notices.yml ``no_translation``, whose other languages
    # translate it (a line is only used for the text it translates).
    "no_translation": {
        "sv": (
            "Jag kan inte översätta till ditt språk ännu. Skriv på svenska eller engelska, eller "
            "be att få prata med en person via tolk. Jag har skickat din fråga till Kontaktcenter, "
            "054-540 00 00."
        ),
        "en": (
            "I can't translate into your language yet. Write in Swedish or English, or ask for a "
            "person with an interpreter. I have passed your question to the contact centre, "
            "+46 54 540 00 00."
        ),
    },
    "interpreter_offer": {
        "sv": (
            "Maskinöversättningen till ditt språk håller ofta inte god kvalitet. Därför står "
            "svaret också på svenska och engelska. Vill du hellre prata med en person? Ring "
            "Kontaktcenter, 054-540 00 00, och säg vilket språk du talar. De hjälper dig vidare, "
            "med tolk om du behöver."
        ),
        "en": (
            "Machine translation into your language is often not good. That is why the answer "
            "is also given in Swedish and English. Would you rather talk to a person? Call the "
            "contact centre, +46 54 540 00 00, and say which language you speak. They will help "
            "you further, with an interpreter if you need one."
        ),
    },
    "rasa_unavailable": {
        "sv": (
            "Assistenten är inte tillgänglig just nu. Försök igen om en stund, eller ring "
            "Kontaktcenter, 054-540 00 00."
        ),
        "en": (
            "The assistant is not available right now. Please try again in a moment, or call the "
            "contact centre, +46 54 540 00 00."
        ),
    },
}


def text(key: str, language: str) -> str:
    entry = TEXTS[key]
    return entry.get(language) or entry["sv"]
