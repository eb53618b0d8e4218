"""The platform's fee on a charge: a percentage of the amount plus a fixed part in the charge's
currency, never more than the amount. Frozen on the payment (``Payment.fee_amount``) when it
succeeds, and not returned when the payment is refunded.

Settings: ``PLATFORM_FEE_PERCENT`` (a decimal string or number, default 5) and
``PLATFORM_FEE_FIXED`` (in the currency's major unit, default "0.50": 50 cents, 500 fils of a
dinar, half a yen, which the rounding of the whole fee takes up)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from pancake.money import exponent, round_minor

DEFAULT_PERCENT = "5"
DEFAULT_FIXED = "0.50"


def platform_fee(amount: int, currency: str) -> int:
    """The fee on a charge of ``amount`` minor units of ``currency`` (half up to a whole minor
    unit): ``amount × percent / 100 + fixed``, at most ``amount``. A zero charge has no fee."""
    if amount <= 0:
        return 0
    percent = Decimal(str(getattr(settings, "PLATFORM_FEE_PERCENT", DEFAULT_PERCENT)))
    fixed = Decimal(str(getattr(settings, "PLATFORM_FEE_FIXED", DEFAULT_FIXED)))
    fee = Decimal(amount) * percent / 100 + fixed.scaleb(exponent(currency))
    return min(round_minor(fee), amount)
