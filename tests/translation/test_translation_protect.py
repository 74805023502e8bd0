from __future__ import annotations

import pytest

from translation.errors import PlaceholderError
from translation.protect import Glossary, Protector, split_sentences


@pytest.fixture(scope="module")
def protector() -> Protector:
    return Protector(Glossary.load())


def test_protected_spans_come_back_exactly(protector: Protector) -> None:
    text = (
        "Ring Kontaktcenter på 054-540 00 00 eller se https://karlstad.se/bygglov. "
        "Avgiften är 1 200 kr. Bussen går från Kronoparken. Ditt nummer [telefon] sparas inte."
    )
    protected = protector.protect(text)
    for kept in ("Kontaktcenter", "054-540 00 00", "https://karlstad.se/bygglov", "1 200 kr",
                 "Kronoparken", "[telefon]"):
        assert kept in protected.originals
        assert kept not in protected.text
    assert protector.restore(protected.text, protected) == text


def test_restore_accepts_reordered_and_spaced_placeholders(protector: Protector) -> None:
    protected = protector.protect("Ring 112 eller 1177")
    assert protector.restore("Call [ 2 ] or [1]", protected) == "Call 1177 or 112"


def test_lost_placeholder_is_rejected_with_a_clear_message(protector: Protector) -> None:
    protected = protector.protect("Ring 054-540 00 00 idag")
    with pytest.raises(PlaceholderError, match=r"missing.*\[1\]|\[1\].*missing|Placeholders \[1\]"):
        protector.restore("Call today", protected)


def test_duplicated_placeholder_is_rejected(protector: Protector) -> None:
    protected = protector.protect("Ring 112")
    with pytest.raises(PlaceholderError, match="duplicated"):
        protector.restore("Call [1] [1]", protected)


def test_bracketed_number_typed_by_the_citizen_cannot_pose_as_a_placeholder(protector: Protector) -> None:
    protected = protector.protect("se punkt [1] i brevet")
    assert protected.originals == ()
    assert "[1]" not in protected.text


def test_translated_terms_are_not_protected(protector: Protector) -> None:
    assert protector.protect("Hur söker jag försörjningsstöd?").originals == ()


def test_long_messages_are_split_into_sentences() -> None:
    assert split_sentences("Hej! Hur mår du? Bra.\nNy rad") == ["Hej!", "Hur mår du?", "Bra.", "Ny rad"]
    long = "ord " * 200
    parts = split_sentences(long, max_chars=100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == long.split()
