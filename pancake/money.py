"""Money: integers in the currency's minor unit inside; display strings and Babel formatting at
the edges. Exponents come from Babel's ISO 4217 data (USD 2, JPY 0, BHD 3)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

from pancake.api.errors import InvalidInput

# ASCII digits only, nothing before or after (``\d`` would take other scripts' digits and ``$`` a
# trailing newline): the SDK's own check is the JavaScript regex /^\d+(\.\d+)?$/.
_AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# ISO 4217 codes that are money people pay with: the X-codes for metals, funds, SDRs and
# testing (XAU, XDR, XTS, XXX …) are not, except the four CFA/CFP/East Caribbean currencies.
_CURRENCIES = frozenset(
    c
    for c in list_currencies()
    if re.fullmatch(r"[A-Z]{3}", c) and (not c.startswith("X") or c in {"XAF", "XOF", "XPF", "XCD"})
)


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in _CURRENCIES


def check_currency(code: object, *, field: str = "currency") -> str:
    if not is_currency(code):
        raise InvalidInput(
            f"Invalid {field}: {code!r} is not an ISO 4217 currency code", field=field
        )
    return code  # type: ignore[return-value]


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    # Babel's data does not change while the process runs; a GraphQL list asks hundreds of
    # times per request.
    return get_currency_precision(currency)


def to_minor(value: object, currency: str, *, field: str = "amount") -> int:
    """A JSON number is minor units; a string is a display amount in the currency's major unit.

    '29.00' USD -> 2900, '4500' JPY -> 4500, '1.5' BHD -> 1500; 2900 (a number) -> 2900.
    Negatives, floats with fractions, extra decimals and junk are a 400 naming the field.
    """
    check_currency(currency)
    if isinstance(value, bool):
        raise InvalidInput(f"Invalid {field}: expected an amount", field=field)
    if isinstance(value, int):
        if value < 0:
            raise InvalidInput(f"Invalid {field}: amount must not be negative", field=field)
        return value
    if isinstance(value, float):
        if value < 0 or not value.is_integer():
            raise InvalidInput(
                f"Invalid {field}: a numeric amount is in minor units and must be a whole number",
                field=field,
            )
        return int(value)
    if not isinstance(value, str) or not _AMOUNT_RE.fullmatch(value):
        raise InvalidInput(f'Invalid {field}: {value!r} is not an amount like "29.00"', field=field)
    places = exponent(currency)
    whole, _, fraction = value.partition(".")
    if len(fraction) > places:
        raise InvalidInput(
            f"Invalid {field}: {currency} amounts have at most {places} decimal places",
            field=field,
        )
    # Integer arithmetic: exact whatever the number of digits (Decimal rounds past 28).
    try:
        return int(whole + fraction.ljust(places, "0"))
    except ValueError:  # beyond the digits Python converts from a string (4300)
        raise InvalidInput(f"Invalid {field}: amount is too large", field=field) from None


def to_display(minor: int, currency: str) -> str:
    """2900 USD -> '29.00', 4500 JPY -> '4500', 1500 BHD -> '1.500'."""
    places = exponent(currency)
    digits = str(-minor if minor < 0 else minor)
    sign = "-" if minor < 0 else ""
    if not places:
        return sign + digits
    digits = digits.rjust(places + 1, "0")  # at least one digit before the point
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def round_minor(value: Decimal) -> int:
    """Round half up to a whole number of minor units."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(minor: int, currency: str, locale: str | Locale = "en") -> str:
    places = exponent(currency)
    return format_currency(Decimal(minor).scaleb(-places), currency, locale=locale)
