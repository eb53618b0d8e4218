"""Card rules for a hosted card form: number (Luhn, brand, length), expiry, CVC and name.

``validate_card`` answers the errors per form field (empty when the card is well-formed) and the
parts of the card a provider may keep: brand, last 4 and expiry. Error texts are marked for
translation and rendered in the active language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

MAX_YEARS_AHEAD = 20

# (brand, prefix ranges as (low, high) over the leading digits, allowed lengths)
_BRANDS: list[tuple[str, list[tuple[str, str]], tuple[int, ...]]] = [
    ("amex", [("34", "34"), ("37", "37")], (15,)),
    ("visa", [("4", "4")], (13, 16, 19)),
    ("mastercard", [("51", "55"), ("2221", "2720")], (16,)),
    ("discover", [("6011", "6011"), ("644", "649"), ("65", "65")], (16, 17, 18, 19)),
    ("diners", [("300", "305"), ("36", "36"), ("38", "39")], (14, 15, 16, 17, 18, 19)),
    ("jcb", [("3528", "3589")], (16, 17, 18, 19)),
    ("unionpay", [("62", "62")], (16, 17, 18, 19)),
]
_OTHER_LENGTHS = range(12, 20)
_SEPARATORS = re.compile(r"[ \-]")


def normalize_number(number: str) -> str:
    """Digits of a card number as typed ('4242 4242-4242 4242' -> '4242424242424242')."""
    return _SEPARATORS.sub("", number or "")


def luhn_valid(digits: str) -> bool:
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def detect_brand(digits: str) -> str:
    """The card network by its leading digits: visa, mastercard, amex, discover, diners, jcb,
    unionpay, else 'unknown'."""
    for brand, ranges, _lengths in _BRANDS:
        for low, high in ranges:
            head = digits[: len(low)]
            if len(head) == len(low) and low <= head <= high:
                return brand
    return "unknown"


def _length_ok(digits: str, brand: str) -> bool:
    for name, _ranges, lengths in _BRANDS:
        if name == brand:
            return len(digits) in lengths
    return len(digits) in _OTHER_LENGTHS


def parse_expiry(exp_month: object, exp_year: object) -> tuple[int, int] | None:
    """(month, four-digit year) or None when either is not a number; a two-digit year is 20xx."""
    try:
        month = int(str(exp_month).strip())
        year = int(str(exp_year).strip())
    except (TypeError, ValueError):
        return None
    if 0 <= year < 100:
        year += 2000
    return month, year


def expiry_error(exp_month: object, exp_year: object) -> str | None:
    parsed = parse_expiry(exp_month, exp_year)
    if parsed is None or not 1 <= parsed[0] <= 12:
        return _("Your card's expiration date is invalid.")
    month, year = parsed
    today = timezone.now().date()
    if (year, month) < (today.year, today.month):
        return _("Your card has expired.")
    if year > today.year + MAX_YEARS_AHEAD:
        return _("Your card's expiration year is invalid.")
    return None


def cvc_error(cvc: object, brand: str) -> str | None:
    text = str(cvc or "").strip()
    wanted = 4 if brand == "amex" else 3
    if not (text.isascii() and text.isdigit() and len(text) == wanted):
        return _("Your card's security code is invalid.")
    return None


def number_error(digits: str) -> str | None:
    if not digits:
        return _("Enter your card number.")
    if not (digits.isascii() and digits.isdigit()):
        return _("Your card number is invalid.")
    if not _length_ok(digits, detect_brand(digits)) or not luhn_valid(digits):
        return _("Your card number is invalid.")
    return None


@dataclass(frozen=True)
class CardCheck:
    """The result of checking a card form. ``errors`` maps field (number, expiry, cvc, name) to
    a message; the rest is what may be stored: never the number or the CVC."""

    errors: dict[str, str]
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None

    @property
    def is_valid(self) -> bool:
        return not self.errors


def validate_card(
    *, number: str, exp_month: object, exp_year: object, cvc: object, name: str
) -> CardCheck:
    digits = normalize_number(number)
    brand = detect_brand(digits) if digits.isascii() and digits.isdigit() else "unknown"
    errors: dict[str, str] = {}
    if message := number_error(digits):
        errors["number"] = message
    if message := expiry_error(exp_month, exp_year):
        errors["expiry"] = message
    if message := cvc_error(cvc, brand):
        errors["cvc"] = message
    if not (name or "").strip():
        errors["name"] = _("Enter the name on the card.")
    parsed = parse_expiry(exp_month, exp_year)
    return CardCheck(
        errors=errors,
        brand=brand,
        last4=digits[-4:] if "number" not in errors else "",
        exp_month=parsed[0] if parsed and "expiry" not in errors else None,
        exp_year=parsed[1] if parsed and "expiry" not in errors else None,
    )
