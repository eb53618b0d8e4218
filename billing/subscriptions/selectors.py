"""Subscription reads scoped to the caller: a subscription is reached through its order
(``checkout.selectors.access_order``), the id buyers and the API know it by."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.db.models import Count, QuerySet, Sum

from billing.models import Payment, PlanChange, Subscription, SubscriptionStatus
from billing.subscriptions import clock
from checkout.models import Order, OrderKind
from checkout.selectors import access_order
from pancake.api.actor import Actor
from pancake.api.errors import NotFound
from pancake.models import OutboxEvent
from products.models import BillingPeriod
from stores.models import Role, Store


def access_subscription(
    actor: Actor, order_id: uuid.UUID, *, lock: bool = False, min_role: str = Role.ADMIN
) -> tuple[Order, Subscription | None]:
    """The caller's subscription order and its subscription (None before the first payment);
    with ``lock``, the subscription's row locked (lock order: the subscription, then the order).
    Someone else's order, or a one-time order, is the same 404."""
    order = access_order(actor, order_id, kind=OrderKind.SUBSCRIPTION, min_role=min_role)
    subscriptions = Subscription.objects.select_related("version").filter(order_id=order.pk)
    if lock:
        # Locked by a statement without the join (see ``lifecycle.lock``): a concurrent plan
        # change may move the row to another version while this waits.
        list(Subscription.objects.select_for_update().filter(order_id=order.pk).values_list("pk"))
    return order, subscriptions.first()


def subscription_of_order(order_id) -> Subscription | None:
    return Subscription.objects.filter(order_id=order_id).first()


# --- the dashboard's subscription pages (billing/views/subscriptions.py) ----------------------
# A list page costs the same statements at 1 and N rows: the page's rows (with their order and
# plan in the same statement), the paginator's count, the counts per status and the MRR.

S = SubscriptionStatus

# Counted in the MRR: the subscriptions that will be charged again.
MRR_STATUSES = (S.ACTIVE, S.PAST_DUE, S.CANCELING)
# A period's amount → a month's: weekly × 4.33, monthly × 1, quarterly ÷ 3, yearly ÷ 12.
MRR_FACTORS = {
    BillingPeriod.WEEKLY: Fraction(433, 100),
    BillingPeriod.MONTHLY: Fraction(1),
    BillingPeriod.QUARTERLY: Fraction(1, 3),
    BillingPeriod.YEARLY: Fraction(1, 12),
}
# The statuses the list filters by (a subscription row exists from its first payment on).
LISTED_STATUSES = tuple(s for s in S if s != S.PENDING)
EVENTS_SHOWN = 100


@dataclass(frozen=True)
class SubscriptionFilters:
    """The list's filters, as the page's GET parameters give them (empty: not filtered)."""

    status: str = ""
    product_id: uuid.UUID | None = None
    interval: str = ""
    email: str = ""


def subscription_list(
    *, store: Store, environment: str, filters: SubscriptionFilters = SubscriptionFilters()
) -> QuerySet[Subscription]:
    """The store's subscriptions in one environment, newest first, each with its order (the
    customer's email) and plan version in the same statement."""
    subscriptions = _filtered(store, environment, filters)
    if filters.status:
        subscriptions = subscriptions.filter(status=filters.status)
    return subscriptions.select_related("order", "version").order_by("-created_at", "-id")


def subscription_status_counts(
    *, store: Store, environment: str, filters: SubscriptionFilters = SubscriptionFilters()
) -> dict[str, int]:
    """How many subscriptions each status has under the list's other filters (the status
    filter itself is left out, so the counts say where each status link leads). One statement;
    every listed status is present, zero when none."""
    rows = (
        _filtered(store, environment, filters)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = dict.fromkeys(LISTED_STATUSES, 0)
    counts.update(dict(rows))
    return counts


def subscription_mrr(subscriptions: QuerySet[Subscription]) -> list[tuple[str, int]]:
    """The monthly recurring revenue of ``subscriptions`` per currency, in minor units, sorted
    by currency: each active, past-due or canceling subscription's amount before tax (what its
    events call ``amount``) turned into a month's by its interval, summed exactly and rounded
    half up once per currency. Currencies never mix. One statement."""
    sums = (
        subscriptions.filter(status__in=MRR_STATUSES)
        .order_by()
        .values("currency", "billing_period")
        .annotate(amount=Sum("subtotal"))
        .values_list("currency", "billing_period", "amount")
    )
    monthly: dict[str, Fraction] = {}
    for currency, period, amount in sums:
        factor = MRR_FACTORS.get(period)
        if factor is not None:
            monthly[currency] = monthly.get(currency, Fraction(0)) + amount * factor
    return [(c, math.floor(monthly[c] + Fraction(1, 2))) for c in sorted(monthly)]


def _filtered(store: Store, environment: str, filters: SubscriptionFilters):
    subscriptions = Subscription.objects.filter(store=store, environment=environment)
    if filters.product_id is not None:
        subscriptions = subscriptions.filter(product_id=filters.product_id)
    if filters.interval:
        subscriptions = subscriptions.filter(billing_period=filters.interval)
    if filters.email:
        subscriptions = subscriptions.filter(order__buyer_email__icontains=filters.email)
    return subscriptions


@dataclass(frozen=True)
class SubscriptionDetail:
    """What the detail page shows of one subscription."""

    order: Order
    subscription: Subscription
    payments: list[Payment]
    events: list[OutboxEvent]
    scheduled_change: PlanChange | None
    clock_time: datetime | None


def access_store_subscription(
    actor: Actor, order_id: uuid.UUID, *, store_id: uuid.UUID, min_role: str = Role.MEMBER
) -> tuple[Order, Subscription]:
    """The subscription of the caller's order ``order_id`` in the store ``store_id`` (the
    dashboard page's store) and the header's environment: another store's, a one-time order, an
    order still awaiting its first payment or one that does not exist is the same 404."""
    order, subscription = access_subscription(actor, order_id, min_role=min_role)
    if subscription is None or order.store_id != store_id:
        raise NotFound("Subscription not found", layer="order")
    return order, subscription


def subscription_detail(
    actor: Actor, order_id: uuid.UUID, *, store_id: uuid.UUID
) -> SubscriptionDetail:
    """The detail page's subscription (``access_store_subscription``), with its billing history
    (every payment of its order, newest first: the first checkout's tries, renewals and their
    retries, plan-change charges), the order's events (newest first, the latest
    ``EVENTS_SHOWN``) and the plan change scheduled for its period end, if any."""
    order, subscription = access_store_subscription(actor, order_id, store_id=store_id)
    payments = list(Payment.objects.filter(order_id=order.pk).order_by("-created_at", "-id"))
    events = list(
        OutboxEvent.objects.filter(aggregate_id=order.pk, store_id=order.store_id)
        .defer("data")
        .order_by("-created_at", "-id")[:EVENTS_SHOWN]
    )
    scheduled = (
        PlanChange.objects.select_related("to_version")
        .filter(subscription=subscription, status=PlanChange.Status.SCHEDULED)
        .first()
    )
    return SubscriptionDetail(
        order=order,
        subscription=subscription,
        payments=payments,
        events=events,
        scheduled_change=scheduled,
        clock_time=clock.clock_time(subscription),
    )


def plan_change_of_session(session_id) -> PlanChange | None:
    """The plan change a plan-change session proposes (its confirmation page: holding the
    session's id is the permission), with what the page shows."""
    return (
        PlanChange.objects.select_related(
            "subscription",
            "subscription__order",
            "subscription__version",
            "to_version",
            "session",
            "session__store",
            "payment",
        )
        .filter(session_id=session_id)
        .first()
    )
