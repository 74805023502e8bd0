from __future__ import annotations

import pytest

from translation.masking import is_personnummer, luhn_valid, mask_pii


@pytest.mark.parametrize(
    "text",
    [
        "Mitt personnummer är 850709-9805",
        "pnr 8507099805 tack",
        "19850709-9805",
        "198507099805",
        "850709+9805",  # over 100 years old
        "samordningsnummer 850769-9802",  # day + 60
    ],
)
def test_valid_personnummer_is_masked(text: str) -> None:
    result = mask_pii(text)
    assert "[personnummer]" in result.text
    assert "9805" not in result.text and "9802" not in result.text
    assert result.kinds == ["personnummer"]


@pytest.mark.parametrize(
    "text",
    [
        "850709-9806",  # wrong check digit
        "851309-9805",  # month 13
        "850700-9805",  # day 0
    ],
)
def test_number_that_fails_the_checks_is_not_a_personnummer(text: str) -> None:
    assert "[personnummer]" not in mask_pii(text).text


def test_luhn_and_personnummer_checks() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert is_personnummer("19850709-9805")
    assert not is_personnummer("18850709-9805")


@pytest.mark.parametrize(
    "phone",
    ["070-123 45 67", "0701234567", "+46 70 123 45 67", "0046701234567", "08-123 456 78", "(054) 12 34 56"],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    result = mask_pii(f"ring mig på {phone} efter fem")
    assert result.text == "ring mig på [telefon] efter fem"
    assert result.kinds == ["telefon"]


@pytest.mark.parametrize(
    "public",
    ["054-540 00 00", "+46 54 540 00 00", "112", "1177", "90101", "020-50 50 50"],
)
def test_public_numbers_stay(public: str) -> None:
    text = f"Ring {public} om du behöver hjälp"
    assert mask_pii(text).text == text


def test_email_card_iban_and_account_are_masked() -> None:
    result = mask_pii(
        "mejla anna.svensson@example.se, kort 4111 1111 1111 1111, "
        "IBAN SE45 5000 0000 0583 9825 7466, kontonummer 8327-9 123 456 789"
    )
    assert result.text == "mejla [e-post], kort [kortnummer], IBAN [kontonummer], kontonummer [kontonummer]"
    assert result.kinds == ["e-post", "kortnummer", "kontonummer", "kontonummer"]


def test_card_and_iban_with_bad_checksums_stay() -> None:
    text = "kort 4111 1111 1111 1112 och SE45 5000 0000 0583 9825 7467"
    assert mask_pii(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "Jag bor på Drottninggatan 32, 652 25 Karlstad",
        "Bygglovet kostade 12 500 kr år 2024",
        "Fakturan på 1 200 kronor kom 2024-05-01",
        "Ärende 2024-123456 gäller tomt 4:12",
        "vi är 3 barn och 2 vuxna, datum 01-02-2024",
    ],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert mask_pii(text).text == text
