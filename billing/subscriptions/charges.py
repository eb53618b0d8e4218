"""The off-session charge of a subscription's payment row, for renewals and plan changes alike:
the row was committed as ``processing`` before this is called, and its id is the provider's
idempotency key, so calling again for the same row never charges twice."""

from __future__ import annotations

import logging

from billing.models import Payment, Subscription
from billing.providers import ChargeResult, get_provider
from pancake.api.errors import ProviderFailed

logger = logging.getLogger(__name__)


def charge_off_session(subscription: Subscription, payment: Payment) -> ChargeResult | None:
    """The provider's answer for the row; None when it did not answer (a timeout, an error):
    the row stays processing and is asked about again with the same key. A row without a saved
    method fails at once."""
    token = payment.method_token or subscription.method_token
    if not token:
        return ChargeResult(
            status="failed",
            provider_payment_id="",
            failure_code="no_payment_method",
            failure_message="No saved payment method",
        )
    try:
        return get_provider(subscription.environment).charge_saved(
            attempt_id=str(payment.pk),
            method_token=token,
            amount=payment.amount,
            currency=payment.currency,
            metadata={
                "orderId": str(subscription.order_id),
                "paymentId": str(payment.pk),
                "purpose": payment.purpose,
                "periodNumber": str(payment.period_number),
            },
        )
    except ProviderFailed as exc:
        logger.warning(
            "%s charge %s: provider did not answer: %s", payment.purpose, payment.pk, exc
        )
        return None


def tax_share(tax: int, amount: int, total: int) -> int:
    """The tax inside ``amount`` at the rate of a ``total`` that carries ``tax`` (half up)."""
    if not total:
        return 0
    return (2 * tax * amount + total) // (2 * total)
