"""Changes of a subscription's state. ``set_status`` is the one place a status changes: it sets
the order's status too (``checkout.services.order_set_subscription_status``) and emits the event
in the same transaction. Every function here runs inside its caller's transaction, or opens one,
and locks the subscription before its order."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from billing import events
from billing.models import Payment, PaymentStatus, PlanChange, Subscription, SubscriptionStatus
from billing.subscriptions import clock, steps
from billing.subscriptions.selectors import access_subscription
from checkout import services as checkout_services
from checkout.models import Order, OrderStatus
from checkout.trials import order_trial_charge
from pancake.api.actor import Actor
from pancake.api.errors import InvalidInput
from pancake.outbox import emit
from products.models import ProductVersion
from products.periods import add_periods
from stores.models import Role

UNPAID_BALANCE = "Subscription with an unpaid balance cannot be reactivated"
FIRST_PAYMENT = "first"  # Payment.purpose of the order's first payment (a trial's: its charge)
S = SubscriptionStatus


def bad(message: str, code: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(message, layer="order", field=field, code=code)


def lock(subscription_id) -> Subscription:
    """The subscription's row, locked, then read with its version and order. The lock is taken
    by a statement of its own: PostgreSQL rechecks a join against the rows it first read when
    the locked row changed meanwhile, so a join with the version would lose the row that a
    concurrent plan change just moved to another version."""
    Subscription.objects.select_for_update().filter(pk=subscription_id).values_list("pk").get()
    return Subscription.objects.select_related("version", "order").get(pk=subscription_id)


# What the engine's batches read of an order: its events' columns, and what a status change
# (``set_status``) and a new charge use. A batch reads a few hundred orders at a time.
BATCH_ORDER_FIELDS = (
    *events.SUBSCRIPTION_ORDER_FIELDS,
    "store_id",
    "environment",
    "session_id",
    "kind",
    "completed_at",
    "canceled_at",
)


def lock_all(subscription_ids) -> list[Subscription]:
    """Several subscriptions locked, then their orders (through checkout), each in id order (two
    callers never wait on each other in a cycle), with their order and version set as ``lock``
    gives them (the order's ``BATCH_ORDER_FIELDS`` read, the rest when used). A batch's
    subscriptions share a few plans: each version is read once."""
    subscriptions = list(
        Subscription.objects.select_for_update()
        .filter(pk__in=list(subscription_ids))
        .order_by("pk")
    )
    orders = checkout_services.lock_orders(
        {s.order_id for s in subscriptions}, fields=BATCH_ORDER_FIELDS
    )
    versions = ProductVersion.objects.in_bulk({s.version_id for s in subscriptions})
    for subscription in subscriptions:
        subscription.order = orders[subscription.order_id]
        subscription.version = versions[subscription.version_id]
    return subscriptions


def event(
    subscription: Subscription,
    order: Order,
    event_type: str,
    *,
    payment: Payment | None = None,
    at: datetime | None = None,
) -> dict:
    """``emit()``'s arguments for one event about the subscription. Status events are about the
    order (their ``eventId``); payment events about the payment. A test clock's steps carry the
    simulated time as the payload's timestamp."""
    return {
        "store_id": subscription.store_id,
        "environment": subscription.environment,
        "event_type": event_type,
        "subject_id": payment.pk if payment is not None else order.pk,
        "aggregate_id": order.pk,
        "data": events.event_data(order=order, payment=payment, subscription=subscription),
        "occurred_at": at if clock.simulated(subscription) else None,
    }


def emit_event(
    subscription: Subscription,
    order: Order,
    event_type: str,
    *,
    payment: Payment | None = None,
    at: datetime | None = None,
) -> None:
    """One event about the subscription (``event``), in the caller's transaction."""
    emit(**event(subscription, order, event_type, payment=payment, at=at))


def set_status(
    subscription: Subscription,
    order: Order,
    status: str,
    *,
    at: datetime,
    event: str | None = None,
    payment: Payment | None = None,
) -> None:
    """Move the (locked) subscription and its (locked) order to ``status``, reschedule, save,
    and emit ``event`` when given."""
    subscription.status = status
    if status in (S.CANCELED, S.EXPIRED):
        subscription.ended_at = subscription.ended_at or at
        subscription.next_retry_at = None
        # A plan change waiting for a period that will not come never applies.
        PlanChange.objects.filter(
            subscription=subscription, status=PlanChange.Status.SCHEDULED
        ).update(status=PlanChange.Status.CANCELED, updated_at=timezone.now())
    steps.schedule(subscription)
    subscription.save()
    checkout_services.order_set_subscription_status(
        order=order, status=status, at=at, canceled_at=subscription.canceled_at
    )
    if event is not None:
        emit_event(subscription, order, event, at=at, payment=payment)


# --- the first payment ---------------------------------------------------------------------------


def start(*, order: Order, payment: Payment) -> Subscription:
    """The subscription of an order whose first payment succeeded (the order locked and already
    marked paid): trialing until the trial's end when placed with a trial (the first charge runs
    then), else active with period 1 paid by this payment. Periods count from the first charge,
    in UTC, keeping its day of the month."""
    session = order.session
    version = order.version
    paid_at = payment.paid_at
    trial = order_trial_charge(order) is not None
    subscription = Subscription(
        order=order,
        store_id=order.store_id,
        environment=order.environment,
        product_id=order.product_id,
        version=version,
        billing_period=version.billing_period,
        currency=order.currency,
        price_amount=session.amount,
        tax_category=session.tax_category,
        tax_included=session.tax_included,
        subtotal=order.subtotal,
        tax_amount=order.tax_amount,
        total=order.total,
        tax_rate=order.tax_rate,
        tax_name=order.tax_name,
        provider=payment.provider,
        method_token=payment.method_token,
        payment_method=payment.payment_method,
        payment_method_details=payment.payment_method_details,
        current_period_start=paid_at,
    )
    if trial:
        subscription.status = S.TRIALING
        subscription.trial_end_at = paid_at + timedelta(days=session.trial_days)
        subscription.current_period_end = subscription.trial_end_at
        subscription.period_number = 0
    else:
        subscription.status = S.ACTIVE
        subscription.anchor_at = paid_at
        subscription.period_number = 1
        subscription.current_period_end = add_periods(paid_at, version.billing_period)
    steps.schedule(subscription)
    subscription.save(force_insert=True)
    payment.subscription = subscription
    payment.purpose = FIRST_PAYMENT
    payment.period_number = subscription.period_number
    payment.attempt = 0
    payment.save(update_fields=["subscription", "purpose", "period_number", "attempt"])
    return subscription


def begin_period(subscription: Subscription, number: int) -> None:
    """Make period ``number`` current: [anchor + (n-1-k) periods, anchor + (n-k) periods), k
    the periods before the anchor. Counting from the anchor (never from the last period's end)
    keeps its day of the month: Jan 31 → Feb 28 → Mar 31."""
    period = subscription.billing_period
    since_anchor = number - subscription.anchor_period
    subscription.period_number = number
    subscription.current_period_start = add_periods(
        subscription.anchor_at, period, since_anchor - 1
    )
    subscription.current_period_end = add_periods(subscription.anchor_at, period, since_anchor)


def reanchor(subscription: Subscription, next_period_start: datetime) -> None:
    """Count the periods after the current one from ``next_period_start`` (a resume, a change
    of billing period): the current period ends there, the next starts there."""
    subscription.current_period_end = next_period_start
    subscription.anchor_at = next_period_start
    subscription.anchor_period = subscription.period_number


def expire_unpaid(*, now: datetime | None = None) -> int:
    """Subscription orders whose checkout expired before the first payment: ``expired``
    (``checkout.services.orders_expire_unpaid``), their open payments voided."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = checkout_services.orders_expire_unpaid(now=now)
        if ids:
            Payment.objects.filter(order_id__in=ids, status=PaymentStatus.PENDING).update(
                status=PaymentStatus.FAILED, failure_code="expired", updated_at=now
            )
    return len(ids)


# --- cancel, reactivate, pause, resume -----------------------------------------------------------


def _locked(actor: Actor, order_id: uuid.UUID, min_role: str = Role.ADMIN):
    """The caller's subscription and order, both locked, in that order."""
    order, subscription = access_subscription(actor, order_id, lock=True, min_role=min_role)
    order = checkout_services.lock_order(order.pk)
    return order, subscription


def cancel(
    *, actor: Actor, order_id: uuid.UUID, reason: str = ""
) -> tuple[Order, Subscription | None]:
    """Cancel at the period's end (API key, owner or admin; or the buyer's token or customer
    portal): active or trialing → canceling until the period (or trial) ends; past due →
    canceling with dunning stopped, until its dunning window would have closed; paused →
    canceled at once; never paid (pending) → canceled at once, its open payment voided.
    Canceling again answers as it is. ``reason`` (optional, the buyer's words) is kept."""
    with transaction.atomic():
        order, subscription = _locked(actor, order_id)
        if subscription is None:
            if order.status != OrderStatus.PENDING:
                raise bad("Subscription is already canceled", "not_cancelable")
            now = timezone.now()
            checkout_services.order_set_subscription_status(
                order=order, status=OrderStatus.CANCELED, at=now, canceled_at=now
            )
            Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
                status=PaymentStatus.FAILED, failure_code="canceled", updated_at=now
            )
            emit(
                store_id=order.store_id,
                environment=order.environment,
                event_type="subscription.canceled",
                subject_id=order.pk,
                aggregate_id=order.pk,
                data=events.event_data(order=order),
            )
            return order, None
        now = clock.now(subscription)
        status = subscription.status
        if status == S.CANCELING:
            return order, subscription
        if status in (S.CANCELED, S.EXPIRED):
            raise bad("Subscription is already canceled", "not_cancelable")
        subscription.canceled_at = now
        subscription.cancel_reason = (reason or "")[:500]
        if status == S.PAUSED:
            set_status(subscription, order, S.CANCELED, at=now, event="subscription.canceled")
            return order, subscription
        if status == S.PAST_DUE:
            days = steps.retry_days()
            subscription.cancel_at = max(
                now, subscription.current_period_end + timedelta(days=days[-1] if days else 0)
            )
            subscription.next_retry_at = None
        else:
            subscription.cancel_at = subscription.current_period_end
        subscription.cancel_at_period_end = True
        set_status(subscription, order, S.CANCELING, at=now, event="subscription.canceling")
    return order, subscription


def reactivate(
    *, actor: Actor, order_id: uuid.UUID, product_name: str | None = None
) -> tuple[Order, Subscription]:
    """Undo a cancel before the period ends: canceling → active (or trialing, when canceled
    during the trial), ``subscription.uncanceled``. Anything not canceling is a 400; so is one
    canceled while past due (its period was never paid). ``productName``, when sent, must be
    the plan's name."""
    with transaction.atomic():
        order, subscription = _locked(actor, order_id)
        if (
            subscription is None
            or subscription.status != S.CANCELING
            or clock.now(subscription)
            >= (subscription.cancel_at or subscription.current_period_end)
        ):  # a canceling period that ran out has ended, whether or not the beat has run yet
            raise bad("Only a canceling subscription can be reactivated", "not_canceling")
        if product_name is not None and product_name != subscription.version.name:
            raise bad(
                "productName does not match the subscription's product",
                "product_mismatch",
                "productName",
            )
        if subscription.failed_attempts:
            raise bad(UNPAID_BALANCE, "unpaid_balance")
        now = clock.now(subscription)
        subscription.cancel_at_period_end = False
        subscription.cancel_at = subscription.canceled_at = None
        subscription.cancel_reason = ""
        status = S.TRIALING if subscription.period_number == 0 else S.ACTIVE
        set_status(subscription, order, status, at=now, event="subscription.uncanceled")
    return order, subscription


def cancel_now(*, actor: Actor, order_id: uuid.UUID, reason: str = "") -> Subscription:
    """End a subscription at once (the merchant, from the dashboard): nothing more is charged,
    ``subscription.canceled``. Refunding the current period is a separate decision."""
    with transaction.atomic():
        order, subscription = _locked(actor, order_id)
        if subscription is None or subscription.status in (S.CANCELED, S.EXPIRED, S.PENDING):
            raise bad("Subscription is already canceled", "not_cancelable")
        now = clock.now(subscription)
        subscription.canceled_at = subscription.canceled_at or now
        subscription.cancel_reason = reason[:500]
        set_status(subscription, order, S.CANCELED, at=now, event="subscription.canceled")
    return subscription


def pause(*, actor: Actor, order_id: uuid.UUID) -> Subscription:
    """Stop charging an active subscription until it is resumed (the dashboard)."""
    with transaction.atomic():
        order, subscription = _locked(actor, order_id)
        if subscription is None or subscription.status != S.ACTIVE:
            raise bad("Only an active subscription can be paused", "not_active")
        subscription.paused_at = clock.now(subscription)
        set_status(subscription, order, S.PAUSED, at=subscription.paused_at)
    return subscription


def resume(*, actor: Actor, order_id: uuid.UUID) -> Subscription:
    """Resume a paused subscription. The part of the period that was left when it was paused is
    given back: the next billing date is now plus that, and later periods count from there."""
    with transaction.atomic():
        order, subscription = _locked(actor, order_id)
        if subscription is None or subscription.status != S.PAUSED:
            raise bad("Only a paused subscription can be resumed", "not_paused")
        now = clock.now(subscription)
        left = max(subscription.current_period_end - subscription.paused_at, timedelta(0))
        reanchor(subscription, now + left)
        subscription.paused_at = None
        set_status(subscription, order, S.ACTIVE, at=now)
    return subscription
