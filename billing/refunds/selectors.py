"""Refund reads: who may see a ticket, and what is left to refund of a payment."""

from __future__ import annotations

import uuid

from billing.models import OPEN_TICKET_STATUSES, Payment, PaymentStatus, RefundTicket
from checkout.selectors import access_order
from pancake.api.actor import Actor
from pancake.api.errors import NotFound
from stores.models import Role

# A payment can be refunded once it succeeded, and again while something is left.
REFUNDABLE_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def access_ticket(
    actor: Actor, ticket_id: uuid.UUID, *, min_role: str = Role.MEMBER
) -> RefundTicket:
    """A refund ticket of the caller's, in the caller's environment: one on an order
    ``checkout.selectors.access_order`` lets them see (a buyer: their own orders; a merchant:
    their stores', with at least ``min_role``). Anything else is the same 404."""
    ticket = RefundTicket.objects.filter(pk=ticket_id).first()
    if ticket is None or ticket.environment != actor.environment:
        raise NotFound("Refund ticket not found", layer="ticket", field="ticketId")
    try:
        access_order(actor, ticket.order_id, min_role=min_role)
    except NotFound:
        raise NotFound("Refund ticket not found", layer="ticket", field="ticketId") from None
    return ticket


def open_tickets_amount(payment: Payment, *, exclude: uuid.UUID | None = None) -> int:
    """What the payment's open tickets (pending, approved, processing) hold: each its approved
    amount, else its requested one."""
    tickets = RefundTicket.objects.filter(payment=payment, status__in=OPEN_TICKET_STATUSES)
    if exclude is not None:
        tickets = tickets.exclude(pk=exclude)
    held = 0
    for requested, approved in tickets.values_list("requested_amount", "approved_amount"):
        held += approved if approved is not None else requested
    return held


def refundable_amount(payment: Payment, *, exclude: uuid.UUID | None = None) -> int:
    """What a new ticket may still ask for: the payment's amount less what was refunded and
    what its other open tickets hold. 0 for a payment that cannot be refunded."""
    if payment.status not in REFUNDABLE_STATUSES:
        return 0
    left = payment.amount - payment.refunded_amount - open_tickets_amount(payment, exclude=exclude)
    return max(left, 0)


def approvable_amount(payment: Payment) -> int:
    """What an approval (or the merchant's own refund) may still send to the provider: the
    amount less what was refunded and what approved refunds in flight hold. Pending tickets do
    not hold money back from the merchant's decision."""
    if payment.status not in REFUNDABLE_STATUSES:
        return 0
    return max(payment.amount - payment.refunded_amount - payment.refunding_amount, 0)
