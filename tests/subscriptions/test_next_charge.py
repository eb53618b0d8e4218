"""The next charge a subscription will try by itself, as a rule table of its row (what GraphQL's
``nextCharge`` shows): the trial's end, the renewal at the period's end, the next dunning retry,
or nothing; the amount is the period's total less the credit a downgrade left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.models import Subscription
from billing.subscriptions.steps import Charge, charge_amount, next_charge
from tests.subscriptions.helpers import utc

START = utc(2027, 1, 31, 10)
END = utc(2027, 2, 28, 10)


def row(status, **fields) -> Subscription:
    values = {
        "status": status,
        "period_number": 1,
        "current_period_start": START,
        "current_period_end": END,
        "total": 1190,
        "credit_balance": 0,
        **fields,
    }
    return Subscription(**values)


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        (row("active"), Charge(END, 1190, 2)),
        (
            row("trialing", period_number=0, trial_end_at=START + timedelta(days=7)),
            Charge(START + timedelta(days=7), 1190, 1),
        ),
        (
            row("past_due", next_retry_at=END + timedelta(days=3)),
            Charge(END + timedelta(days=3), 1190, 2),
        ),
        (row("past_due", next_retry_at=None), None),  # its retries are over
        (row("canceling", cancel_at=END), None),
        (row("paused"), None),
        (row("canceled"), None),
        (row("expired"), None),
        (row("pending"), None),
    ],
    ids=lambda v: getattr(v, "status", None) or str(v),
)
def test_the_next_charge_of_each_status(subscription, expected):
    assert next_charge(subscription) == expected


@pytest.mark.parametrize(("credit", "amount"), [(0, 1190), (500, 690), (1190, 0), (5000, 0)])
def test_the_credit_comes_off_the_charge_never_below_zero(credit, amount):
    assert charge_amount(row("active", credit_balance=credit)) == amount
    assert next_charge(row("active", credit_balance=credit)).amount == amount
