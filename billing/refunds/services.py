"""Refund writes: tickets filed, resubmitted, approved or rejected, the merchant's own refunds,
and their execution at the provider (docs/refunds.md).

Money rules, each held by a lock and backed by a constraint:
- a ticket asks for at most what is left: the payment's amount less what was refunded and what
  its other open tickets hold (the payment's row is locked while this is decided);
- an approval sends at most the amount less what was refunded and what approved refunds in flight
  hold: ``Payment.refunding_amount`` grows in the approval's transaction, under the payment's
  lock, and a check constraint keeps ``refunded_amount + refunding_amount <= amount``, so two
  approvals racing on one payment can never refund more than was paid;
- the provider is called with the ``Refund`` row's id as its idempotency key, after that row was
  committed: a task run twice (a retry, the sweep) asks for the same refund and gets the first
  answer, never a second refund.

Locks, always in this order: the subscription and the order (only the merchant's refund that
also cancels), then the payment, the ticket, the refund (then, for a refund that succeeded, the
payment's invoice and the credit-note sequence: its credit note is written in the same
transaction, ``billing.invoices.services.credit_note_issue``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing import events
from billing.invoices import services as invoices
from billing.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefundTicket,
    RefundTicketStatus,
    RefundTicketVersion,
    SubmitterType,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import get_provider
from billing.refunds.selectors import (
    REFUNDABLE_STATUSES,
    access_ticket,
    approvable_amount,
    refundable_amount,
)
from billing.selectors import access_payment
from billing.subscriptions import lifecycle
from checkout.models import OrderKind
from pancake import money
from pancake.api.actor import Actor
from pancake.api.errors import Conflict, InvalidInput, ProviderFailed
from pancake.celery import registered
from pancake.outbox import emit
from stores.models import Role

logger = logging.getLogger(__name__)

# Buyers may ask for their money back on a one-time purchase within this many days of paying.
BUYER_REFUND_WINDOW = timedelta(days=7)

# The task that runs ``refund_execute``, named, not imported: the tasks module imports this one.
EXECUTE_TASK = "billing.tasks.execute_refund"


def _bad(message: str, code: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(message, layer="ticket", field=field, code=code)


def _conflict(message: str, code: str, field: str | None = None) -> Conflict:
    return Conflict(message, layer="ticket", field=field, code=code)


# --- amounts -------------------------------------------------------------------------------------


def requested_minor(payment: Payment, amount, currency: str | None, *, field: str) -> int | None:
    """An amount as the API sends it (a display string or minor units; with the currency the
    caller named, which must be the payment's) in minor units; None when none was sent."""
    if amount is None:
        if currency is not None and currency != payment.currency:
            raise _currency_mismatch(payment, field)
        return None
    if currency is not None and currency.upper() != payment.currency:
        raise _currency_mismatch(payment, field)
    value = money.to_minor(amount, payment.currency, field=field)
    if value <= 0:
        raise _bad("Amount must be greater than zero", "invalid", field)
    return value


def _currency_mismatch(payment: Payment, amount_field: str) -> InvalidInput:
    """``requestedAmount.amount`` → its ``requestedAmount.currency``; a bare ``amount`` →
    ``currency``."""
    head, dot, _ = amount_field.rpartition(".")
    field = f"{head}.currency" if dot else "currency"
    return _bad(f"Currency must be the payment's ({payment.currency})", "currency_mismatch", field)


def _amount_within(payment: Payment, amount, currency, field: str, left: int) -> int:
    """The amount asked for (``requested_minor``), or everything ``left`` when none was sent;
    never more than ``left``."""
    requested = requested_minor(payment, amount, currency, field=field)
    if requested is None:
        if left <= 0:
            raise _bad("Nothing is left to refund", "amount_too_large", field)
        requested = left
    _check_left(payment, requested, left, field)
    return requested


def _new_ticket(payment: Payment, *, reason: str, requested: int, **fields) -> RefundTicket:
    """A ticket on ``payment`` and its first version."""
    ticket = RefundTicket.objects.create(
        store_id=payment.store_id,
        environment=payment.environment,
        payment=payment,
        order=payment.order,
        reason=reason,
        requested_amount=requested,
        currency=payment.currency,
        **fields,
    )
    RefundTicketVersion.objects.create(
        ticket=ticket,
        number=1,
        reason=reason,
        requested_amount=requested,
        currency=payment.currency,
    )
    return ticket


def _check_left(payment: Payment, amount: int, left: int, field: str) -> None:
    if amount > left:
        raise _bad(
            "Amount exceeds what is left to refund "
            f"({money.to_display(left, payment.currency)} {payment.currency})",
            "amount_too_large",
            field,
        )


def _check_refundable(payment: Payment) -> None:
    if payment.status not in REFUNDABLE_STATUSES or payment.amount <= 0:
        raise _conflict("This payment cannot be refunded", "not_refundable", "paymentId")


def _submitter(actor: Actor) -> tuple[str, str]:
    if actor.is_buyer:
        return SubmitterType.CUSTOMER, actor.buyer_identity or ""
    return SubmitterType.MERCHANT, str(actor.merchant.pk)


# --- tickets -------------------------------------------------------------------------------------


def ticket_create(
    *,
    actor: Actor,
    payment_id: uuid.UUID,
    reason: str,
    amount=None,
    currency: str | None = None,
    amount_field: str = "requestedAmount.amount",
    metadata: dict | None = None,
    external_id: str | None = None,
) -> RefundTicket:
    """File a ticket for all or part of a payment (``pending``). A buyer (session token) files
    for their own payment, a one-time one within 7 days of paying; the merchant (API key) for
    any of their stores'. Without an amount it asks for everything that is left."""
    with transaction.atomic():
        payment = access_payment(actor, payment_id, lock=True)
        _check_refundable(payment)
        order = payment.order
        if (
            actor.is_buyer
            and order.kind == OrderKind.ONETIME
            and payment.paid_at is not None
            and timezone.now() - payment.paid_at > BUYER_REFUND_WINDOW
        ):
            raise _bad(
                "One-time payments can be refunded within 7 days of payment",
                "refund_window_passed",
                "paymentId",
            )
        left = refundable_amount(payment)
        requested = _amount_within(payment, amount, currency, amount_field, left)
        submitter_type, submitter_id = _submitter(actor)
        ticket = _new_ticket(
            payment,
            reason=reason,
            requested=requested,
            submitter_type=submitter_type,
            submitter_id=submitter_id,
            metadata=metadata or {},
            refund_ticket_merchant_external_id=external_id,
        )
        _emit_ticket(ticket, payment, "refund_ticket.created")
    return ticket


def ticket_resubmit(
    *,
    actor: Actor,
    ticket_id: uuid.UUID,
    payment_id: uuid.UUID,
    reason: str,
    amount=None,
    currency: str | None = None,
    amount_field: str = "requestedAmount.amount",
) -> RefundTicket:
    """Send a rejected ticket back for review as its next version: ``pending`` again, with the
    new reason and amount, keeping its external id. The amount rule is checked again (the
    7-day window is not: the buyer asked in time)."""
    with transaction.atomic():
        found = access_ticket(actor, ticket_id)
        if found.payment_id != payment_id:
            raise _bad("The ticket is not for this payment", "ticket_payment_mismatch", "paymentId")
        payment = access_payment(actor, payment_id, lock=True)
        ticket = _lock_ticket(found.pk)
        if ticket.status != RefundTicketStatus.REJECTED:
            raise _conflict("Only a rejected ticket can be resubmitted", "not_rejected", "ticketId")
        _check_refundable(payment)
        left = refundable_amount(payment, exclude=ticket.pk)
        requested = requested_minor(payment, amount, currency, field=amount_field)
        if requested is None:
            requested = min(ticket.requested_amount, left)
            if requested <= 0:
                raise _bad("Nothing is left to refund", "amount_too_large", amount_field)
        _check_left(payment, requested, left, amount_field)
        ticket.version_number += 1
        RefundTicketVersion.objects.create(
            ticket=ticket,
            number=ticket.version_number,
            reason=reason,
            requested_amount=requested,
            currency=ticket.currency,
            previous_reject_reason=ticket.reject_reason,
        )
        ticket.status = RefundTicketStatus.PENDING
        ticket.reason = reason
        ticket.requested_amount = requested
        ticket.approved_amount = None
        ticket.reviewer_id = None
        ticket.reviewed_at = None
        ticket.review_note = ""
        ticket.reject_reason = ""
        ticket.resolved_at = None
        ticket.save()
        _emit_ticket(ticket, payment, "refund_ticket.resubmitted")
    return ticket


def ticket_approve(
    *, actor: Actor, ticket_id: uuid.UUID, approved_amount=None, note: str = ""
) -> RefundTicket:
    """Approve a pending ticket, for its amount or a smaller ``approved_amount`` (display string
    or minor units): ``approved``, the money held back on the payment, and the refund queued for
    the provider (``processing``, then ``succeeded`` or ``failed``)."""
    with transaction.atomic():
        found = access_ticket(actor, ticket_id, min_role=Role.ADMIN)
        payment = access_payment(actor, found.payment_id, lock=True, min_role=Role.ADMIN)
        ticket = _lock_ticket(found.pk)
        if ticket.status != RefundTicketStatus.PENDING:
            raise _conflict("Only a pending ticket can be approved", "not_pending", "ticketId")
        _check_refundable(payment)
        approved = requested_minor(payment, approved_amount, None, field="approvedAmount")
        if approved is not None and approved > ticket.requested_amount:
            raise _bad(
                "The approved amount cannot exceed the requested amount",
                "amount_too_large",
                "approvedAmount",
            )
        amount = approved if approved is not None else ticket.requested_amount
        _check_left(payment, amount, approvable_amount(payment), "approvedAmount")
        ticket.approved_amount = amount
        ticket.review_note = note or ""
        _approve(actor, ticket, payment)
    return ticket


def ticket_reject(*, actor: Actor, ticket_id: uuid.UUID, reason: str) -> RefundTicket:
    """Reject a pending ticket with a reason the buyer sees; they may resubmit it."""
    with transaction.atomic():
        found = access_ticket(actor, ticket_id, min_role=Role.ADMIN)
        payment = access_payment(actor, found.payment_id, lock=True, min_role=Role.ADMIN)
        ticket = _lock_ticket(found.pk)
        if ticket.status != RefundTicketStatus.PENDING:
            raise _conflict("Only a pending ticket can be rejected", "not_pending", "ticketId")
        now = timezone.now()
        ticket.status = RefundTicketStatus.REJECTED
        ticket.reject_reason = reason
        ticket.review_note = reason
        ticket.reviewer_id = str(actor.merchant.pk)
        ticket.reviewed_at = now
        ticket.resolved_at = now
        ticket.save()
        _emit_ticket(ticket, payment, "refund_ticket.rejected")
    return ticket


def payment_refund(
    *,
    actor: Actor,
    payment_id: uuid.UUID,
    reason: str,
    amount=None,
    currency: str | None = None,
    amount_field: str = "amount.amount",
    cancel_subscription: bool = False,
) -> RefundTicket:
    """The merchant refunds a payment themselves (any payment, subscription charges too, any
    time): a merchant ticket approved at once, for ``amount`` or everything that is left, and
    with ``cancel_subscription`` the subscription ended now (in the same transaction)."""
    with transaction.atomic():
        found = access_payment(actor, payment_id, min_role=Role.ADMIN)
        order = found.order
        if cancel_subscription:
            if order.kind != OrderKind.SUBSCRIPTION:
                raise _bad(
                    "This payment is not a subscription's", "not_subscription", "cancelSubscription"
                )
            _cancel_subscription(actor, order.pk, reason)
        payment = access_payment(actor, payment_id, lock=True, min_role=Role.ADMIN)
        _check_refundable(payment)
        left = approvable_amount(payment)
        requested = _amount_within(payment, amount, currency, amount_field, left)
        ticket = _new_ticket(
            payment,
            reason=reason,
            requested=requested,
            submitter_type=SubmitterType.MERCHANT,
            submitter_id=str(actor.merchant.pk),
            approved_amount=requested,
            cancel_subscription=cancel_subscription,
        )
        _approve(actor, ticket, payment)
    return ticket


def refund_retry(*, ticket_id: uuid.UUID, actor: Actor | None = None) -> RefundTicket:
    """Try a failed ticket's refund again (support staff, from the admin; or a merchant): a new
    refund row, so a new idempotency key, for the same amount, if it is still left."""
    with transaction.atomic():
        if actor is not None:
            found = access_ticket(actor, ticket_id, min_role=Role.ADMIN)
        else:
            found = RefundTicket.objects.get(pk=ticket_id)
        payment = Payment.objects.select_for_update().get(pk=found.payment_id)
        ticket = _lock_ticket(found.pk)
        if ticket.status != RefundTicketStatus.FAILED:
            raise _conflict("Only a failed refund can be retried", "not_failed", "ticketId")
        _check_refundable(payment)
        _check_left(payment, ticket.refund_amount, approvable_amount(payment), "ticketId")
        ticket.resolved_at = None
        _approve(actor, ticket, payment, review=False)
    return ticket


def _cancel_subscription(actor: Actor, order_id: uuid.UUID, reason: str) -> None:
    status = Subscription.objects.filter(order_id=order_id).values_list("status", flat=True).first()
    if status is not None and status not in (
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.EXPIRED,
        SubscriptionStatus.PENDING,
    ):
        lifecycle.cancel_now(actor=actor, order_id=order_id, reason=reason)


def _lock_ticket(ticket_id) -> RefundTicket:
    return RefundTicket.objects.select_for_update().get(pk=ticket_id)


def _approve(actor: Actor | None, ticket: RefundTicket, payment: Payment, *, review=True) -> None:
    """The ticket approved and its refund row made (pending), the amount held back on the
    locked payment, and the provider's refund queued for after the commit."""
    amount = ticket.refund_amount
    now = timezone.now()
    ticket.status = RefundTicketStatus.APPROVED
    if review and actor is not None and actor.merchant is not None:
        ticket.reviewer_id = str(actor.merchant.pk)
        ticket.reviewed_at = now
    ticket.save()
    # Backed by the constraint payment_refunding_within_amount.
    Payment.objects.filter(pk=payment.pk).update(
        refunding_amount=F("refunding_amount") + amount, updated_at=now
    )
    payment.refunding_amount += amount
    refund = Refund.objects.create(
        store_id=payment.store_id,
        environment=payment.environment,
        ticket=ticket,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        provider=payment.provider,
    )
    _emit_ticket(ticket, payment, "refund_ticket.approved")
    # robust: a broker that is down loses only time (the sweep runs the refund later).
    transaction.on_commit(lambda: registered(EXECUTE_TASK).delay(str(refund.pk)), robust=True)


# --- execution at the provider -------------------------------------------------------------------


def refund_execute(*, refund_id) -> Refund | None:
    """Send one refund to the provider and record its answer; safe to run twice and after a
    crash anywhere. The row is marked ``processing`` (and its ticket) in a first commit, the
    provider is called with the row's id as idempotency key, and the answer is applied in a
    second transaction under the payment's lock. No answer (a timeout, an error) leaves the
    row processing for the sweep to ask again with the same key."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(skip_locked=True)
            .filter(pk=refund_id, status__in=(RefundStatus.PENDING, RefundStatus.PROCESSING))
            .first()
        )
        if refund is None:
            return None  # finished, or another worker has it right now
        if refund.status == RefundStatus.PENDING:
            refund.status = RefundStatus.PROCESSING
            refund.save(update_fields=["status", "updated_at"])
            RefundTicket.objects.filter(pk=refund.ticket_id).update(
                status=RefundTicketStatus.PROCESSING, updated_at=timezone.now()
            )
        else:
            refund.save(update_fields=["updated_at"])  # the sweep waits again before retrying
        payment = Payment.objects.only("pk", "provider", "provider_payment_id", "environment").get(
            pk=refund.payment_id
        )
    try:
        result = get_provider(payment.environment).refund(
            attempt_id=str(refund.pk),
            provider_payment_id=payment.provider_payment_id or "",
            amount=refund.amount,
            currency=refund.currency,
        )
    except ProviderFailed as exc:
        logger.warning("refund %s: provider did not answer: %s", refund.pk, exc)
        return refund
    return _record(refund.pk, result)


def _record(refund_id, result) -> Refund | None:
    """The provider's answer on the payment, the ticket and the refund, locked in that order;
    a second answer for the same row changes nothing."""
    with transaction.atomic():
        payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        ticket = _lock_ticket(refund.ticket_id)
        if refund.status != RefundStatus.PROCESSING:
            return refund
        now = timezone.now()
        refund.provider_refund_id = result.provider_refund_id or None
        payment.refunding_amount -= refund.amount
        if result.status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
            refund.executed_at = now
            payment.refunded_amount += refund.amount
            payment.status = (
                PaymentStatus.REFUNDED
                if payment.refunded_amount >= payment.amount
                else PaymentStatus.PARTIALLY_REFUNDED
            )
            ticket.status = RefundTicketStatus.SUCCEEDED
            ticket.executed_at = now
            event_type = "refund.succeeded"
        else:
            refund.status = RefundStatus.FAILED
            refund.failure_code = (result.failure_code or "")[:64]
            refund.failure_message = (result.failure_message or "")[:255]
            ticket.status = RefundTicketStatus.FAILED
            event_type = "refund.failed"
        ticket.resolved_at = now
        refund.save()
        payment.save(update_fields=["refunding_amount", "refunded_amount", "status", "updated_at"])
        ticket.save()
        if refund.status == RefundStatus.SUCCEEDED:  # the credit note, in the same transaction
            invoices.credit_note_issue(refund)
        _emit_refund(event_type, refund, ticket, payment)
    return refund


def unfinished_refund_ids(*, older_than: timedelta | None = None, limit: int = 500) -> list:
    """Refunds left pending or processing (a lost message, a crash, a provider that did not
    answer) for longer than ``older_than``: the sweep runs them again."""
    age = older_than if older_than is not None else settings.REFUND_SWEEP_AFTER
    cutoff = timezone.now() - age
    return list(
        Refund.objects.filter(
            status__in=(RefundStatus.PENDING, RefundStatus.PROCESSING), updated_at__lt=cutoff
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- events --------------------------------------------------------------------------------------


def _emit_ticket(ticket: RefundTicket, payment: Payment, event_type: str) -> None:
    """Internal events of a ticket's life (the merchant's notifications read them; webhooks
    carry only the public ``refund.*`` events)."""
    emit(
        store_id=ticket.store_id,
        environment=ticket.environment,
        event_type=event_type,
        subject_id=ticket.pk,
        aggregate_id=ticket.order_id,
        data={
            "ticketId": str(ticket.pk),
            "paymentId": str(payment.pk),
            "orderId": str(ticket.order_id),
            "status": ticket.status,
            "requestedAmount": ticket.requested_amount,
            "approvedAmount": ticket.approved_amount,
            "currency": ticket.currency,
            "submitterType": ticket.submitter_type,
            "reason": ticket.reason,
            "rejectReason": ticket.reject_reason or None,
        },
    )


def _emit_refund(event_type: str, refund: Refund, ticket: RefundTicket, payment: Payment) -> None:
    order = ticket.order
    subscription = None
    if order.kind == OrderKind.SUBSCRIPTION:
        subscription = Subscription.objects.filter(order_id=order.pk).first()
    data = events.event_data(order=order, payment=payment, subscription=subscription)
    data.update(
        events.refund_data(
            refund=refund,
            ticket=ticket,
            payment=payment,
            order_status=order.status,
            list_price=data.get("listPrice"),
        )
    )
    emit(
        store_id=refund.store_id,
        environment=refund.environment,
        event_type=event_type,
        subject_id=refund.pk,
        aggregate_id=order.pk,
        data=data,
    )
