"""What a subscription does next, and when: a pure function of its row.

Every step has a time on the subscription's clock. The engine (``renewals``) runs the earliest
due step, then asks again; ``due_at`` (real time, indexed) is the earliest step's time, so the
beat task finds the rows with something to do without reading the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from billing.models import SubscriptionStatus
from billing.subscriptions import clock

TRIAL_REMINDER = "trial_reminder"
UPCOMING_REMINDER = "upcoming_reminder"
FIRST_CHARGE = "first_charge"  # the end of a trial
RENEW = "renew"
RETRY = "retry"
END = "end"  # a canceling subscription's period is over


@dataclass(frozen=True)
class Step:
    kind: str
    at: datetime


def retry_days() -> list[int]:
    """Days after a failed renewal on which it is tried again (``SUBSCRIPTION_RETRY_DAYS``)."""
    return list(getattr(settings, "SUBSCRIPTION_RETRY_DAYS", (1, 3, 7)))


def reminder_before() -> timedelta:
    return timedelta(days=getattr(settings, "SUBSCRIPTION_REMINDER_DAYS", 3))


def next_step(subscription) -> Step | None:
    s = subscription
    status = s.status
    if status == SubscriptionStatus.TRIALING:
        charge_at = s.trial_end_at or s.current_period_end
        remind_at = charge_at - reminder_before()
        if not s.trial_reminded and remind_at > s.current_period_start:
            return Step(TRIAL_REMINDER, remind_at)
        return Step(FIRST_CHARGE, charge_at)
    if status == SubscriptionStatus.ACTIVE:
        remind_at = s.current_period_end - reminder_before()
        if s.reminded_period < s.period_number and remind_at > s.current_period_start:
            return Step(UPCOMING_REMINDER, remind_at)
        return Step(RENEW, s.current_period_end)
    if status == SubscriptionStatus.PAST_DUE and s.next_retry_at is not None:
        return Step(RETRY, s.next_retry_at)
    if status == SubscriptionStatus.CANCELING:
        return Step(END, s.cancel_at or s.current_period_end)
    return None


@dataclass(frozen=True)
class Charge:
    at: datetime  # on the subscription's clock
    amount: int  # minor units, tax included
    period_number: int


def charge_amount(subscription) -> int:
    """What the next period's charge takes: the period's total (tax included) less the credit
    a downgrade left."""
    return subscription.total - min(subscription.credit_balance, subscription.total)


def next_charge(subscription) -> Charge | None:
    """The next charge the engine will try by itself: the trial's end, the renewal at the period
    end, or the next dunning retry. None when nothing will be charged (not started, canceling,
    paused, ended, or past due with its retries over). A plan change scheduled for that date is
    applied first, so it may change the amount (``billing.subscriptions.plan_changes``)."""
    s = subscription
    status = s.status
    if status == SubscriptionStatus.TRIALING:
        at = s.trial_end_at or s.current_period_end
    elif status == SubscriptionStatus.ACTIVE:
        at = s.current_period_end
    elif status == SubscriptionStatus.PAST_DUE and s.next_retry_at is not None:
        at = s.next_retry_at
    else:
        return None
    return Charge(at=at, amount=charge_amount(s), period_number=s.period_number + 1)


def schedule(subscription) -> None:
    """Set ``due_at`` to the real time of the next step (None: nothing will happen by itself)."""
    step = next_step(subscription)
    subscription.due_at = None if step is None else clock.real_time(subscription, step.at)
