"""What the merchant nets from a payment, for the Payments pages and their export.

The platform's fee is ``billing.fees.platform_fee`` (``PLATFORM_FEE_PERCENT`` of the amount plus
``PLATFORM_FEE_FIXED`` of the currency's major unit, 5% + 0.50 by default). A payment freezes
its fee (``Payment.fee_amount``) when it succeeds; one without (a payment older than the fee)
shows the fee the settings give now. Refunds do not give the fee back."""

from __future__ import annotations

from dataclasses import dataclass

from billing.fees import platform_fee
from billing.models import Payment, PaymentStatus

# Statuses whose money moved: the others (pending, processing, failed) cost and net nothing.
CHARGED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True)
class Breakdown:
    """Where a payment's money went, in its currency's minor units."""

    amount: int
    tax: int
    fee: int
    fee_frozen: bool  # the payment's own fee, not one computed from the settings
    refunded: int
    refunded_tax: int
    net: int


def breakdown(
    *,
    amount: int,
    tax_amount: int,
    currency: str,
    status: str,
    refunded_amount: int,
    fee_amount: int | None,
) -> Breakdown:
    """The payment's amounts, fee and net: ``net = (amount - refunded) - (tax - refunded tax) -
    fee``, where the refunded tax is the refunded share of the tax (rounded half up once). A
    payment whose money never moved has no fee and nets 0."""
    if status not in CHARGED:
        return Breakdown(amount, tax_amount, 0, fee_amount is not None, 0, 0, 0)
    fee = fee_amount if fee_amount is not None else platform_fee(amount, currency)
    # tax × refunded / amount, rounded half up (integers: exact, and cheap on an export's rows)
    refunded_tax = (
        (2 * tax_amount * refunded_amount + amount) // (2 * amount)
        if amount and tax_amount and refunded_amount
        else 0
    )
    net = (amount - refunded_amount) - (tax_amount - refunded_tax) - fee
    return Breakdown(
        amount=amount,
        tax=tax_amount,
        fee=fee,
        fee_frozen=fee_amount is not None,
        refunded=refunded_amount,
        refunded_tax=refunded_tax,
        net=net,
    )


def payment_breakdown(payment: Payment) -> Breakdown:
    return breakdown(
        amount=payment.amount,
        tax_amount=payment.tax_amount,
        currency=payment.currency,
        status=payment.status,
        refunded_amount=payment.refunded_amount,
        fee_amount=payment.fee_amount,
    )
