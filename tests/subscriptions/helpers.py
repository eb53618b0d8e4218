"""Subscribing through the API and the test processor, and driving time: ``subscribe`` buys a
subscription product and pays its first payment with a test card; ``at(when)`` moves real time
(time-machine) and runs the beat task as it would run then."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import time_machine

from billing import tasks
from billing.models import Payment, PaymentStatus, Subscription
from pancake.api import ids
from tests.helpers import CARD, buy, deliver, pay

US = {"country": "US", "isBusiness": False, "state": "OR"}  # Oregon: no sales tax


def subscribe(
    api, product, capture, *, card=CARD, trial=False, currency="USD", billing=US, language=None
):
    """A paid subscription of ``product``: its order and subscription. ``language``: the
    checkout's (its emails' too)."""
    session = {"withTrial": True} if trial else {}
    if language:
        session["language"] = language
    payment = buy(api, product, currency=currency, billing=billing, session=session,
                  subscription=True)  # fmt: skip
    deliver(pay(payment, card), capture)
    subscription = Subscription.objects.get(order_id=payment.order_id)
    return subscription.order, subscription


def order_id(order) -> str:
    return ids.encode("ORD", order.pk)


def beat(capture) -> int:
    """One run of the beat task (eager: the batches run in this process), commit hooks run."""
    with capture(execute=True):
        return tasks.renew_subscriptions()


@contextmanager
def at(when: datetime):
    with time_machine.travel(when, tick=False):
        yield


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def charges(subscription, status=PaymentStatus.SUCCEEDED) -> list[Payment]:
    return list(
        Payment.objects.filter(subscription=subscription, status=status).order_by("created_at")
    )


def refresh(subscription) -> Subscription:
    subscription.refresh_from_db()
    return subscription
