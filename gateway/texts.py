"""Citizen-facing texts the gateway itself writes (Swedish and English, by people).

Other languages get these through the translation library's notices (short verified
lines) or machine translation; see ``turn.py``.
"""
from __future__ import annotations

ABOUT_SOURCE = {
    "title": "Om AI-assistenten",
    "url": "/om-ai",
    "owner": "Kommunledningskontoret",
    "reviewed": "2026-11-29",
}

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
    "no_translation": {
        "sv": (
            "Jag kan inte översätta till ditt språk ännu. Du kan skriva på svenska eller "
            "engelska, eller prata med en person med tolk: ring Kontaktcenter, 054-540 00 00. "
            "Jag har skickat din fråga till Kontaktcenter."
        ),
        "en": (
            "I can't translate into your language yet. You can write in Swedish or English, "
            "or talk to a person with an interpreter: call the contact centre, "
            "+46 54 540 00 00. I have passed your question to the contact centre."
        ),
    },
    "rasa_unavailable": {
        "sv": "Assistenten är inte tillgänglig just nu. Försök igen om en stund, eller ring Kontaktcenter, 054-540 00 00.",
        "en": "The assistant is not available right now. Please try again in a moment, or call the contact centre, +46 54 540 00 00.",
    },
}


def text(key: str, language: str) -> str:
    entry = TEXTS[key]
    return entry.get(language) or entry["sv"]
