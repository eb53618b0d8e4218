"""Checkout reads scoped to the caller. ``access_session`` and ``access_order`` are the only ways
from a caller's id to a session or an order; every service on the money path goes through them.

Who may see what:

- the hosted checkout page (actor ``None``): holding a session's id is the capability;
- a store-slug caller: the sessions of that store;
- a buyer session token: the sessions of the token's store not bound to another buyer, and the
  orders of that store and environment bought under the token's identity (or its email);
- a merchant (API key, JWT, dashboard): the sessions and orders of stores they are an active
  member of, with at least the role the service asks for.

Absent (or in a deleted store) is ``NotFound`` with code ``not_found``; someone else's session is
``Forbidden`` with code ``not_yours`` (``Session does not belong to this store``); a role too low
is ``Forbidden`` with code ``forbidden``. Callers that must answer another status for one of these
(the create-order action's 409 for a missing session, say) branch on the code.
"""

from __future__ import annotations

import uuid

from checkout.models import CheckoutSession, Order
from pancake.api.actor import BUYER, MERCHANT, STORE_SLUG, Actor
from pancake.api.errors import Forbidden, NotFound
from pancake.api.prepared import PreparedSelect
from stores.models import Merchant, Role
from stores.selectors import check_role, role_subquery

NOT_YOURS = "not_yours"
SESSION_NOT_YOURS = "Session does not belong to this store"


def _sessions(session_id, *, lock: bool):
    sessions = CheckoutSession.objects.select_related("store", "version").filter(
        pk=session_id, store__deleted_at__isnull=True
    )
    if lock:
        sessions = sessions.select_for_update(of=("self",))
    return sessions


def _sessions_with_role(session_id, merchant_id, *, lock: bool):
    role = role_subquery(Merchant(pk=merchant_id), CheckoutSession)
    # [:1], not first(): the pk is unique, and ORDER BY over this wide select costs CPU.
    return _sessions(session_id, lock=lock).annotate(caller_role=role)[:1]


# Read on every order and tax preview: compiled once per connection (pancake.api.prepared).
_SESSION = {
    lock: PreparedSelect(lambda session_id, lock=lock: _sessions(session_id, lock=lock)[:1])
    for lock in (False, True)
}
_SESSION_WITH_ROLE = {
    lock: PreparedSelect(
        lambda session_id, merchant_id, lock=lock: _sessions_with_role(
            session_id, merchant_id, lock=lock
        )
    )
    for lock in (False, True)
}


def access_session(
    actor: Actor | None,
    session_id: uuid.UUID,
    *,
    lock: bool = False,
    min_role: str = Role.MEMBER,
) -> CheckoutSession:
    """The session ``actor`` may work on, with its store and version; with ``lock``, its row
    locked (``FOR UPDATE`` of the session only: its store and version never change under it).
    A merchant's role in the session's store is read by the same statement."""
    if actor is not None and actor.kind == MERCHANT and actor.merchant is not None:
        session = _SESSION_WITH_ROLE[lock].first(session_id, actor.merchant.pk)
    else:
        session = _SESSION[lock].first(session_id)
    if session is None:
        raise NotFound("Checkout session not found", layer="order")
    if actor is None:
        return session
    if actor.kind == BUYER:
        buyer = actor.buyer_session
        if buyer.store_id != session.store_id or (
            session.buyer_identity and session.buyer_identity != buyer.buyer_identity
        ):
            raise Forbidden(SESSION_NOT_YOURS, layer="order", code=NOT_YOURS)
    elif actor.kind == STORE_SLUG:
        if session.store_id != actor.store.pk:
            raise Forbidden(SESSION_NOT_YOURS, layer="order", code=NOT_YOURS)
    else:
        role = getattr(session, "caller_role", None)
        if role is None:
            raise Forbidden(SESSION_NOT_YOURS, layer="order", code=NOT_YOURS)
        check_role(role, min_role, layer="store")
        session.store.caller_role = role
    return session


def buyer_owns_order(actor: Actor, order: Order) -> bool:
    """A buyer token owns the orders of its store and environment bought under its identity
    (an authenticated link's) or, when the identity is an email, with that email."""
    buyer = actor.buyer_session
    return (
        order.store_id == buyer.store_id
        and order.environment == actor.environment
        and buyer.buyer_identity in {order.buyer_identity, order.buyer_email}
    )


def access_order(
    actor: Actor,
    order_id: uuid.UUID,
    *,
    kind: str | None = None,
    lock: bool = False,
    min_role: str = Role.MEMBER,
) -> Order:
    """An order of the caller's, in the caller's environment (and of ``kind`` when given); with
    ``lock``, its row locked. Anything else, whoever's it is, is the same 404."""
    orders = Order.objects.filter(pk=order_id, store__deleted_at__isnull=True)
    if kind is not None:
        orders = orders.filter(kind=kind)
    if actor.kind == MERCHANT and actor.merchant is not None:
        orders = orders.annotate(caller_role=role_subquery(actor.merchant, Order))
    if lock:
        orders = orders.select_for_update(of=("self",))
    order = next(iter(orders[:1]), None)
    if order is None or order.environment != actor.environment:
        raise NotFound("Order not found", layer="order")
    if actor.kind == BUYER:
        if not buyer_owns_order(actor, order):
            raise NotFound("Order not found", layer="order")
    elif actor.kind == MERCHANT:
        role = getattr(order, "caller_role", None)
        if role is None:
            raise NotFound("Order not found", layer="order")
        check_role(role, min_role, layer="store")
    else:
        raise NotFound("Order not found", layer="order")
    return order
