"""Handoff reasons: why a conversation goes to a person, with the console's Swedish label,
the queue priority each one gets and, for the citizen's explanation ("Varför fick jag det
här svaret?", ``gateway/explain.py``), why it was handed over in Swedish and English.

This is the one list. The gateway's handoff queue takes priorities from it, and the staff
console gets the labels from the API (``GET /staff/api/me`` and the login response) instead of
keeping its own copy. A reason arrives from Rasa (``actions/handoff.py``, ``actions/faq.py`` in
the other environment, which keeps only its own list of acute reasons), from the safety lexicon
(``gateway/safety.py``) or from the gateway itself (``language_support``). A reason that is not
listed here still works: it gets normal priority and the console shows its code.
"""
from __future__ import annotations

from dataclasses import dataclass

ACUTE = 0
HIGH = 1
NORMAL = 2

# Swedish labels for the priorities, as the console shows them.
PRIORITY_LABELS: dict[int, str] = {ACUTE: "Akut", HIGH: "Hög", NORMAL: "Normal"}


@dataclass(frozen=True)
class HandoffReason:
    code: str
    label: str  # Swedish, for staff
    priority: int
    # "... because <this>" in the citizen's explanation, (Swedish, English); None: a general
    # wording ("you needed help from a person")
    because: tuple[str, str] | None = None


REASONS: tuple[HandoffReason, ...] = (
    HandoffReason("sensitive/suicide", "Självmordstankar eller självskada", ACUTE,
                  ("det du skrev kan handla om självmordstankar",
                   "what you wrote may be about thoughts of suicide")),
    HandoffReason("sensitive/violence_close_relationship", "Våld i nära relation", ACUTE,
                  ("det du skrev kan handla om våld i en nära relation",
                   "what you wrote may be about violence in a close relationship")),
    HandoffReason("sensitive/child_at_risk", "Barn som far illa", ACUTE,
                  ("det du skrev kan handla om ett barn som far illa",
                   "what you wrote may be about a child at risk")),
    HandoffReason("sensitive/threat_or_crime", "Hot eller brott", ACUTE,
                  ("det du skrev kan handla om hot eller brott",
                   "what you wrote may be about a threat or a crime")),
    HandoffReason("sensitive/homeless_emergency", "Akut bostadslöshet", HIGH,
                  ("det du skrev kan handla om akut hemlöshet",
                   "what you wrote may be about acute homelessness")),
    HandoffReason("sensitive/personal_case", "Fråga om eget ärende", NORMAL),
    HandoffReason("sensitive/unspecified", "Känsligt ämne", NORMAL),
    HandoffReason("request_human", "Vill prata med en person", NORMAL,
                  ("du bad om att få prata med en människa", "you asked to talk to a person")),
    HandoffReason("repeated_fallback", "Assistenten förstod inte två gånger", NORMAL,
                  ("jag förstod inte frågan flera gånger", "I did not understand several times")),
    HandoffReason("language_support", "Språket kan inte översättas", NORMAL,
                  ("frågan kunde inte översättas på ett säkert sätt",
                   "your question could not be translated reliably")),
)
BY_CODE: dict[str, HandoffReason] = {reason.code: reason for reason in REASONS}

ACUTE_REASONS = frozenset(r.code for r in REASONS if r.priority == ACUTE)
HIGH_REASONS = frozenset(r.code for r in REASONS if r.priority == HIGH)


def priority_for(reason: str, acute: bool) -> int:
    """The queue priority of a new ticket: acute when Rasa or the lexicon says so, else the
    reason's own; a reason not listed is normal."""
    if acute:
        return ACUTE
    known = BY_CODE.get(reason)
    return known.priority if known is not None else NORMAL


def label(reason: str) -> str:
    """The Swedish label, or the code itself for a reason not listed."""
    known = BY_CODE.get(reason)
    return known.label if known is not None else reason
