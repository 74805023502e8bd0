"""Mask personal data in a citizen's message before anything else sees it.

`mask_pii` runs first in every turn: before language detection, translation, Rasa,
storage or logging. It replaces

- personnummer / samordningsnummer (10 or 12 digits, with or without ``-``/``+``;
  the date must be plausible, day + 60 for samordningsnummer, and the Luhn check digit
  must match) with ``[personnummer]``,
- payment card numbers (13-19 digits, Luhn) with ``[kortnummer]``,
- Swedish IBANs (``SE`` + 22 digits, ISO 7064 mod 97) and account numbers written after
  a word such as "konto"/"account" with ``[kontonummer]``,
- e-mail addresses with ``[e-post]``,
- phone numbers (Swedish national numbers starting with 0 and international numbers
  starting with ``+`` or ``00``) with ``[telefon]``.

Ordinary numbers stay: years, amounts ("500 kr"), postcodes ("652 25"), street numbers,
dates. The municipality's own public numbers and emergency numbers stay too
(`PUBLIC_NUMBERS`): a citizen quoting Kontaktcenter's number is not personal data, and the
answer must keep it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

PERSONNUMMER = "[personnummer]"
PHONE = "[telefon]"
EMAIL = "[e-post]"
CARD = "[kortnummer]"
ACCOUNT = "[kontonummer]"

#: Every token `mask_pii` can write, so other modules (placeholder protection) can keep them.
MASK_TOKENS: tuple[str, ...] = (PERSONNUMMER, PHONE, EMAIL, CARD, ACCOUNT)

#: Public numbers that are never masked, as national digit strings (``+46`` → ``0``).
PUBLIC_NUMBERS: frozenset[str] = frozenset(
    {
        "0545400000",  # Karlstads kommun, Kontaktcenter
        "112",  # emergency
        "1177",  # Vårdguiden
        "114114",  # police, non-urgent
        "90101",  # Självmordslinjen (Mind)
        "020505050",  # Kvinnofridslinjen
        "0771464646",  # Giftinformationscentralen (via 112 / 010-456 67 00)
        "0104566700",  # Giftinformationscentralen
        "0207850000",  # BRIS vuxentelefon
        "116111",  # BRIS
    }
)


@dataclass(frozen=True)
class MaskResult:
    """The masked text and the kind of every replacement, in text order.

    `kinds` holds one entry per mask token in the result, in text order: "personnummer",
    "telefon", "e-post", "kortnummer" or "kontonummer".
    """

    text: str
    kinds: list[str] = field(default_factory=list)

    @property
    def masked(self) -> bool:
        return bool(self.kinds)


_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])SE\s?\d{2}(?:\s?\d){20}(?!\d)", re.IGNORECASE)
_PNR_RE = re.compile(r"(?<![\d+\-])(?:(?:19|20)?\d{6})[-+ ]?\d{4}(?![\d])")
# Runs of digits separated by single spaces or dashes: the card candidate.
_CARD_RE = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,18}(?![\d])")
_ACCOUNT_RE = re.compile(
    r"(?i)\b(?:bank)?(?:konto(?:nummer|nr|t)?|account(?:\s+number)?|clearing(?:nummer|nr)?)"
    r"\b[\s:.#-]*((?:\d[ -]?){7,17}\d)(?!\d)"
)
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{1,3}[ -]?(?:\(0\)[ -]?)?|\(?0)\d(?:[ )\-]{0,2}\d){5,12}(?!\d)"
)
_DATE_LIKE_RE = re.compile(r"^\d{1,2}[-.]\d{1,2}[-.]\d{2,4}$|^\d{4}-\d{2}-\d{2}$")


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check used by personnummer and cards."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_personnummer(candidate: str) -> bool:
    """True for a valid personnummer or samordningsnummer (10 or 12 digits, optional -/+)."""
    digits = re.sub(r"[-+ ]", "", candidate)
    if len(digits) == 12:
        if digits[:2] not in ("19", "20"):
            return False
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        return False
    month = int(digits[2:4])
    day = int(digits[4:6])
    if not 1 <= month <= 12:
        return False
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    if not 1 <= day <= 31:
        return False
    return luhn_valid(digits)


def _iban_valid(candidate: str) -> bool:
    compact = re.sub(r"\s", "", candidate).upper()
    if len(compact) != 24:
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _national_digits(candidate: str) -> str:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith("+46") or digits.startswith("0046"):
        digits = "0" + digits[4:] if digits.startswith("0046") else "0" + digits[2:]
        digits = digits.replace("00", "0", 1) if digits.startswith("00") else digits
    return digits


def is_public_number(candidate: str) -> bool:
    """True if the number is one of the municipality's public or emergency numbers."""
    return _national_digits(candidate) in PUBLIC_NUMBERS


def _phone_ok(candidate: str) -> bool:
    stripped = candidate.strip()
    if _DATE_LIKE_RE.match(stripped):
        return False
    digits = re.sub(r"\D", "", stripped)
    if stripped.startswith(("+", "00")):
        return 8 <= len(digits) <= 15
    return 8 <= len(digits) <= 10


class _Masker:
    def __init__(self, text: str) -> None:
        self.text = text

    def replace(self, pattern: re.Pattern[str], token: str, keep: Callable[[str], bool]) -> None:
        pieces: list[str] = []
        last = 0
        for match in pattern.finditer(self.text):
            group = 1 if match.re.groups else 0
            start, end = match.span(group)
            value = match.group(group)
            if not keep(value):
                continue
            pieces.append(self.text[last:start])
            pieces.append(token)
            last = end
        if pieces:
            pieces.append(self.text[last:])
            self.text = "".join(pieces)


def mask_pii(text: str) -> MaskResult:
    """Replace personal data in `text` with fixed tokens; see the module docstring."""
    masker = _Masker(text)
    masker.replace(_EMAIL_RE, EMAIL, lambda v: True)
    masker.replace(_IBAN_RE, ACCOUNT, _iban_valid)
    masker.replace(_ACCOUNT_RE, ACCOUNT, lambda v: True)
    masker.replace(_PNR_RE, PERSONNUMMER, is_personnummer)
    masker.replace(
        _CARD_RE,
        CARD,
        lambda v: 13 <= len(re.sub(r"\D", "", v)) <= 19 and luhn_valid(re.sub(r"\D", "", v)),
    )
    masker.replace(
        _PHONE_RE, PHONE, lambda v: _phone_ok(v) and not is_public_number(v)
    )
    kinds = _kinds_in_order(masker.text)
    return MaskResult(text=masker.text, kinds=kinds)


_TOKEN_KIND = {
    PERSONNUMMER: "personnummer",
    PHONE: "telefon",
    EMAIL: "e-post",
    CARD: "kortnummer",
    ACCOUNT: "kontonummer",
}
_TOKEN_RE = re.compile("|".join(re.escape(t) for t in MASK_TOKENS))


def _kinds_in_order(masked_text: str) -> list[str]:
    return [_TOKEN_KIND[m.group(0)] for m in _TOKEN_RE.finditer(masked_text)]
