"""Portal reads: the signed-in buyer's orders, payments, tickets, invoices and subscriptions in
one store and environment. Lists are scoped here with the same rule as
``checkout.selectors.buyer_owns_order``; a single object named by an id in a URL is reached only
through the access functions (``access_order``, ``access_payment``, ``access_ticket``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billing.models import Invoice, Payment, RefundTicket, Subscription
from checkout.models import Order
from pancake.api.actor import Actor
from stores.models import Store


def _owned(store_id, environment: str, identity: str) -> Q:
    return (
        Q(store_id=store_id, environment=environment)
        & (Q(buyer_identity=identity) | Q(buyer_email=identity))
        & Q(store__deleted_at__isnull=True)
    )


def has_orders(store: Store, environment: str, email: str) -> bool:
    """Whether ``email`` bought (or started buying) in this store and environment."""
    return Order.objects.filter(_owned(store.pk, environment, email)).exists()


def buyer_orders(actor: Actor) -> QuerySet[Order]:
    buyer = actor.buyer_session
    return (
        Order.objects.filter(_owned(buyer.store_id, actor.environment, buyer.buyer_identity))
        .select_related("version")
        .order_by("-created_at")
    )


def buyer_payments(actor: Actor) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(order__in=buyer_orders(actor).values("pk"))
        .select_related("order", "order__version")
        .order_by("-created_at")
    )


def buyer_tickets(actor: Actor) -> QuerySet[RefundTicket]:
    return RefundTicket.objects.filter(order__in=buyer_orders(actor).values("pk")).order_by(
        "-created_at"
    )


def buyer_invoices(actor: Actor) -> QuerySet[Invoice]:
    return Invoice.objects.filter(order__in=buyer_orders(actor).values("pk")).order_by(
        "-issued_at", "-number"
    )


def buyer_subscriptions(actor: Actor) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(order__in=buyer_orders(actor).values("pk"))
        .select_related("order", "version")
        .order_by("-created_at")
    )
