"""Subscription reads scoped to the caller: a subscription is reached through its order
(``checkout.selectors.access_order``), the id buyers and the API know it by."""

from __future__ import annotations

import uuid

from billing.models import Subscription
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
        subscriptions = subscriptions.select_for_update(of=("self",))
    return order, subscriptions.first()


def subscription_of_order(order_id) -> Subscription | None:
    return Subscription.objects.filter(order_id=order_id).first()
