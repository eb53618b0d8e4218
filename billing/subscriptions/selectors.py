"""Subscription reads scoped to the caller: a subscription is reached through its order
(``checkout.selectors.access_order``), the id buyers and the API know it by."""

from __future__ import annotations

import uuid

from billing.models import PlanChange, Subscription
from checkout.models import Order, OrderKind
from checkout.selectors import access_order
from pancake.api.actor import Actor
from stores.models import Role


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
