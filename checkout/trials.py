"""Trials: the one rule for what a subscription's first payment charges.

A session offers a trial when its product version has trial days and the buyer took it
(``withTrial``, or the purchase link, which offers the product's trial). During a trial the first
payment charges the trial's own price (``trialAmount`` of the price, without tax) or nothing at
all, which only saves the card; otherwise it charges the taxed total.
"""

from __future__ import annotations

from checkout.models import CheckoutSession, Order, OrderKind


def trial_charge(session: CheckoutSession) -> int | None:
    """What the trial phase charges, in minor units; None when the session has no trial."""
    if session.kind != OrderKind.SUBSCRIPTION or not session.with_trial or not session.trial_days:
        return None
    return session.trial_amount or 0


def order_trial_charge(order: Order) -> int | None:
    """``trial_charge`` of the order's session, for an order placed with a trial."""
    return trial_charge(order.session) if order.with_trial else None


def first_charge(session: CheckoutSession, total: int, tax_amount: int) -> tuple[int, int]:
    """(amount, tax) of the first payment for a taxed ``total``: the trial's charge during a
    trial (its tax is the order's only when it charges the whole total), else the total."""
    trial = trial_charge(session)
    if trial is None:
        return total, tax_amount
    return trial, tax_amount if trial == total else 0
