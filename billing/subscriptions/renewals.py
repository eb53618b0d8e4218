"""The engine that runs what falls due on a subscription: trial ends, renewals, dunning retries,
the end of a canceling period, scheduled plan changes and the reminder emails. The beat task and
test clocks call the same ``run``, one step at a time, in time order.

Exactly once per period: a charge is a ``Payment`` row (subscription, period, try) committed as
``processing`` before the provider is called, with its id as the provider's idempotency key.
The database refuses a second try row for the same (subscription, period, try), a second charge
in flight for one subscription, and a second paid charge for one period. The outcome is recorded
in a second transaction that finds the row still processing; a crash, a timeout or a killed
worker between the two leaves the row processing, and the next run calls the provider again
with the same key, which answers the first call's outcome instead of charging again. Two runs of
one subscription at once are kept apart by a lease (``locked_until``) and, under it, by the
row lock each transaction takes. A plan change's charge left processing is settled first
(``plan_changes.settle``), so the database's one-charge-in-flight rule never stops a renewal.

A claimed batch (``run_claimed``) goes through the same steps for all its charges at once: one
transaction commits the batch's new charges as processing (one INSERT), the provider is called
for each, one transaction records the outcomes. A plain renewal (active, paid) is recorded with
a few statements for the whole batch (``_renew_all``: one UPDATE of the payments, one of the
subscriptions, the events in one INSERT per event of a renewal); any other outcome is recorded
one subscription at a time, as ``run`` does it, in the same transaction. Whatever else is due,
or is still due afterwards, runs one subscription at a time (``run``). If anything goes wrong
with the batch, every subscription of it is run alone; rows the batch left processing are
reconciled there like any others.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.fees import platform_fee
from billing.invoices import services as invoices
from billing.models import Payment, PaymentStatus, Subscription, SubscriptionStatus
from billing.providers import ChargeResult
from billing.subscriptions import clock, lifecycle, plan_changes, steps
from billing.subscriptions.charges import charge_off_session, tax_share
from checkout import services as checkout_services
from checkout.models import OrderStatus
from pancake import bulk, outbox

logger = logging.getLogger(__name__)

S = SubscriptionStatus
LEASE = timedelta(minutes=5)
# How soon a charge whose provider call failed or timed out is asked about again.
RECONCILE_AFTER = timedelta(minutes=1)
MAX_STEPS = 2000
RENEWAL = "renewal"
CHARGES = (steps.FIRST_CHARGE, steps.RENEW, steps.RETRY)
# Internal events (not among the SDK's 14, never sent to webhooks): emails read them.
PAYMENT_FAILED = "subscription.payment_failed"
TRIAL_ENDING = "subscription.trial_ending"
UPCOMING_CHARGE = "subscription.upcoming_charge"


# --- finding due subscriptions -------------------------------------------------------------------


def claim_due(*, limit: int = 500, real_now: datetime | None = None) -> list[uuid.UUID]:
    """Claim up to ``limit`` subscriptions with a step due: their lease is set in one UPDATE,
    taken from a ``SKIP LOCKED`` read, so two beat processes claim disjoint sets."""
    real_now = real_now or timezone.now()
    with transaction.atomic():
        ids = list(
            Subscription.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=real_now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=real_now))
            .order_by("due_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Subscription.objects.filter(pk__in=ids).update(locked_until=real_now + LEASE)
    return ids


def claim(subscription_id, *, real_now: datetime | None = None) -> bool:
    """Take one subscription's lease (a test clock's advance); False when a run holds it."""
    real_now = real_now or timezone.now()
    taken = (
        Subscription.objects.filter(pk=subscription_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=real_now))
        .update(locked_until=real_now + LEASE)
    )
    return bool(taken)


# --- running steps -------------------------------------------------------------------------------


def run_claimed(subscription_ids) -> int:
    """Run what is due on each claimed subscription: the batch's charges together
    (``_run_batch``), then the rest one at a time (``run``). An error in one is logged and
    leaves its lease to run out, so the beat takes it again later; an error in the batch runs
    each of its subscriptions alone."""
    ids = [uuid.UUID(str(pk)) for pk in subscription_ids]
    try:
        done, rest = _run_batch(ids)
    except Exception:
        logger.exception("subscriptions batch failed: running its subscriptions one by one")
        done, rest = 0, ids
    for subscription_id in rest:
        try:
            done += run(subscription_id)
        except Exception:
            logger.exception("subscription %s: step failed", subscription_id)
    return done


def run(subscription_id, *, until: datetime | None = None) -> int:
    """Run every step due on the subscription, in time order, up to its clock's now (or
    ``until`` on its clock, for a test clock's advance: each step then runs at its own time).
    The caller holds the lease; it is released at the end. Returns the number of steps run."""
    done = 0
    try:
        if not plan_changes.settle(subscription_id):  # a plan change's charge still unanswered
            Subscription.objects.filter(pk=subscription_id).update(
                due_at=timezone.now() + RECONCILE_AFTER
            )
            return done
        while done < MAX_STEPS:
            if not _run_one(subscription_id, until):
                break
            done += 1
    finally:
        Subscription.objects.filter(pk=subscription_id).update(locked_until=None)
    return done


def _run_one(subscription_id, until: datetime | None) -> bool:
    """One due step; False when nothing is due (or a charge must wait for the provider)."""
    with transaction.atomic():
        subscription = lifecycle.lock(subscription_id)
        now = until if until is not None else clock.now(subscription)
        step = steps.next_step(subscription)
        if step is None or step.at > now:
            steps.schedule(subscription)
            subscription.save(update_fields=["due_at", "updated_at"])
            return False
        at = step.at if until is not None else now
        if step.kind not in CHARGES:
            _run_other(subscription, step, at)
            return True
        if step.kind in (steps.RENEW, steps.FIRST_CHARGE):
            plan_changes.apply_scheduled(subscription, at)
        try:
            payment = _open_charge(subscription, at)
        except _Busy:
            subscription.due_at = timezone.now() + RECONCILE_AFTER
            subscription.save(update_fields=["due_at", "updated_at"])
            return False
        if payment.status == PaymentStatus.SUCCEEDED:  # the credit covered it: no provider
            _record(subscription_id, payment.pk, None, at)
            return True
    result = charge_off_session(subscription, payment)
    if result is None:  # no answer: the next run asks again with the same key
        Subscription.objects.filter(pk=subscription_id).update(
            due_at=timezone.now() + RECONCILE_AFTER
        )
        return False
    with transaction.atomic():
        _record(subscription_id, payment.pk, result, at)
    return True


# --- a claimed batch ------------------------------------------------------------------------------

# What recording a plain renewal changes (``_renew_all``): the fields ``_set_outcome`` and
# ``_advance`` set, the schedule and the lease.
_PAID_PAYMENT = [
    "status",
    "paid_at",
    "provider_payment_id",
    "payment_method",
    "payment_method_details",
    "fee_amount",
    "updated_at",
]
_RENEWED_SUBSCRIPTION = [
    "credit_balance",
    "period_number",
    "current_period_start",
    "current_period_end",
    "failed_attempts",
    "next_retry_at",
    "payment_method",
    "payment_method_details",
    "due_at",
    "locked_until",
    "updated_at",
]


@dataclass
class _Charge:
    """A charge of the batch: the subscription as it was when the charge was opened, the
    processing payment, the step's time and the provider's answer (None: none yet)."""

    subscription: Subscription
    payment: Payment
    at: datetime
    result: ChargeResult | None = None


def _run_batch(ids: list[uuid.UUID]) -> tuple[int, list[uuid.UUID]]:
    """The charges due on the batch's subscriptions, together: committed as processing in one
    transaction (``_open_charges``), the provider called for each with the payment's id as the
    idempotency key, the answers recorded in one transaction (``_record_all``). A charge without
    an answer stays processing and is asked about again after ``RECONCILE_AFTER``. Returns the
    number of steps run and the subscriptions to run one at a time (nothing to charge, or more
    due after the charge: they keep their lease; the others' leases are released)."""
    real_now = timezone.now()
    with transaction.atomic():
        charges, rest, done = _open_charges(ids, real_now)
    for charge in charges:
        try:
            charge.result = charge_off_session(charge.subscription, charge.payment)
        except Exception:  # a fault of ours: reconciled like a provider that did not answer
            logger.exception("renewal charge %s: provider call failed", charge.payment.pk)
    answered = [charge for charge in charges if charge.result is not None]
    waiting = [charge.subscription.pk for charge in charges if charge.result is None]
    with transaction.atomic():
        again = _record_all(answered) if answered else []
        if waiting:
            Subscription.objects.filter(pk__in=waiting).update(
                due_at=timezone.now() + RECONCILE_AFTER, locked_until=None
            )
    return done + len(answered), rest + again


def _open_charges(ids: list[uuid.UUID], real_now: datetime):
    """In the caller's transaction: the batch locked; for each subscription whose next step is a
    charge due now, its processing payment (the one an earlier run left processing, or a new
    try, all inserted together), as ``_run_one`` opens it. A period the credit balance covers is
    paid and recorded here. Returns the charges, the subscriptions left to ``run`` and the
    number of steps run."""
    subscriptions = lifecycle.lock_all(ids)
    found = {subscription.pk for subscription in subscriptions}
    rest = [pk for pk in ids if pk not in found]
    processing = {
        payment.subscription_id: payment
        for payment in Payment.objects.filter(
            subscription_id__in=list(found), status=PaymentStatus.PROCESSING
        )
    }
    scheduled = plan_changes.scheduled_among(found)
    charges, new, done = [], [], 0
    for subscription in subscriptions:
        at = clock.now(subscription, real_now)
        step = steps.next_step(subscription)
        if step is None or step.at > at or step.kind not in CHARGES:
            rest.append(subscription.pk)
            continue
        payment = processing.get(subscription.pk)
        if payment is not None and payment.purpose != RENEWAL:
            rest.append(subscription.pk)  # a plan change's charge to settle first: ``run``
            continue
        if (
            payment is None
            and subscription.pk in scheduled
            and step.kind in (steps.RENEW, steps.FIRST_CHARGE)
        ):  # a change scheduled for the period's end is applied before the period is priced
            plan_changes.apply_scheduled(subscription, at)
        if payment is None:
            payment = _new_charge(subscription, at)
            if payment.status == PaymentStatus.SUCCEEDED:  # the credit covered it: no provider
                payment.save(force_insert=True)
                _record(subscription.pk, payment.pk, None, at)
                rest.append(subscription.pk)
                done += 1
                continue
            new.append(payment)
        charges.append(_Charge(subscription, payment, at))
    bulk.insert(new)
    return charges, rest, done


def _record_all(charges: list[_Charge]) -> list[uuid.UUID]:
    """In the caller's transaction: the answered charges' outcomes, each once. Locks the
    subscriptions, then their orders, then the payments. Plain renewals are recorded together
    (``_renew_all``); anything else (a decline, a payment another run recorded, a subscription
    canceled or past due meanwhile) one at a time as ``_record`` does. Returns the
    subscriptions with another step due (still leased)."""
    subscriptions = {s.pk: s for s in lifecycle.lock_all(c.subscription.pk for c in charges)}
    # Whether each payment is still processing, under its lock: a processing payment changes
    # only by being recorded (by another run, or the provider's notification), which its status
    # shows; the plain renewals write the instances the batch opened.
    statuses = dict(
        Payment.objects.select_for_update()
        .filter(pk__in=[charge.payment.pk for charge in charges])
        .order_by("pk")
        .values_list("pk", "status")
    )
    renewed, one_by_one = [], []
    for charge in charges:
        subscription = subscriptions[charge.subscription.pk]
        order = subscription.order
        if (
            statuses[charge.payment.pk] == PaymentStatus.PROCESSING
            and charge.result.status == "succeeded"
            and subscription.status == S.ACTIVE
            and subscription.anchor_at is not None
            and order.status == OrderStatus.ACTIVE
            and order.canceled_at == subscription.canceled_at
        ):
            renewed.append((subscription, order, charge.payment, charge))
        else:
            payment = Payment.objects.get(pk=charge.payment.pk)
            _apply(subscription, order, payment, charge.result, charge.at)
            one_by_one.append(subscription.pk)
    return one_by_one + _renew_all(renewed)


def _renew_all(renewed: list[tuple]) -> list[uuid.UUID]:
    """Paid renewals of active subscriptions, recorded together: what ``_apply`` and ``_paid``
    write for one (the payment succeeded, the next period current, the status and the order
    unchanged, ``subscription.payment_succeeded`` then ``subscription.renewed``) in one UPDATE
    of the payments, one of the subscriptions and the events' INSERTs, and their invoices
    numbered with one locked update per sequence and written in one INSERT
    (``invoices.invoices_issue``). The lease is released unless another step is due already.
    Returns those subscriptions."""
    if not renewed:
        return []
    real_now = timezone.now()
    events, again = [], []
    for subscription, order, payment, charge in renewed:
        _set_outcome(payment, charge.result, charge.at)
        payment.updated_at = real_now
        _advance(subscription, payment)
        steps.schedule(subscription)
        subscription.updated_at = real_now
        step = steps.next_step(subscription)
        if step is not None and step.at <= clock.now(subscription, real_now):
            again.append(subscription.pk)
        else:
            subscription.locked_until = None
        for event_type in ("subscription.payment_succeeded", "subscription.renewed"):
            events.append(
                lifecycle.event(subscription, order, event_type, payment=payment, at=charge.at)
            )
    bulk.update([payment for _, _, payment, _ in renewed], _PAID_PAYMENT)
    bulk.update([subscription for subscription, _, _, _ in renewed], _RENEWED_SUBSCRIPTION)
    invoices.invoices_issue(
        [invoices.Issue(payment, subscription) for subscription, _, payment, _ in renewed]
    )
    outbox.emit_all(events)
    return again


# --- one subscription's steps ---------------------------------------------------------------------


def _run_other(subscription: Subscription, step: steps.Step, at: datetime) -> None:
    if step.kind == steps.END:
        subscription.ended_at = step.at  # when the period ran out, whenever this runs
        order = checkout_services.lock_order(subscription.order_id)
        lifecycle.set_status(subscription, order, S.CANCELED, at=at, event="subscription.canceled")
        return
    if step.kind == steps.TRIAL_REMINDER:
        subscription.trial_reminded = True
        event = TRIAL_ENDING
    else:
        subscription.reminded_period = subscription.period_number
        event = UPCOMING_CHARGE
    steps.schedule(subscription)
    subscription.save()
    _emit_internal(subscription, event, at)


def _emit_internal(subscription: Subscription, event_type: str, at, payment=None) -> None:
    lifecycle.emit_event(subscription, subscription.order, event_type, at=at, payment=payment)


def _open_charge(subscription: Subscription, at: datetime) -> Payment:
    """The charge of the subscription's next period: the one still processing from an earlier
    run (reconciled with the same key), or a new try committed as processing. A period whose
    amount the credit balance covers is paid at once, without the provider."""
    in_flight = Payment.objects.filter(
        subscription=subscription, status=PaymentStatus.PROCESSING
    ).first()
    if in_flight is not None:
        if in_flight.purpose != RENEWAL:
            raise _Busy  # another charge (a plan change's) is still to be settled first
        return in_flight
    payment = _new_charge(subscription, at)
    payment.save(force_insert=True)
    return payment


def _new_charge(subscription: Subscription, at: datetime) -> Payment:
    """The next period's charge, not saved yet: processing, or succeeded when the credit
    balance covers the period."""
    order = subscription.order
    total = subscription.total
    amount = steps.charge_amount(subscription)
    credit = total - amount
    tax = (
        subscription.tax_amount if not credit else tax_share(subscription.tax_amount, amount, total)
    )
    return Payment(
        order_id=subscription.order_id,
        store_id=subscription.store_id,
        environment=subscription.environment,
        product_id=subscription.product_id,
        subscription=subscription,
        purpose=RENEWAL,
        period_number=subscription.period_number + 1,
        attempt=subscription.failed_attempts,
        amount=amount,
        tax_amount=tax,
        currency=subscription.currency,
        provider=subscription.provider,
        payment_method=subscription.payment_method,
        payment_method_details=subscription.payment_method_details,
        method_token=subscription.method_token,
        billing_detail=order.billing_detail,
        order_merchant_external_id=order.order_merchant_external_id,
        status=PaymentStatus.PROCESSING if amount else PaymentStatus.SUCCEEDED,
        paid_at=None if amount else at,
        fee_amount=None if amount else 0,
    )


class _Busy(Exception):
    pass


def _record(subscription_id, payment_id, result: ChargeResult | None, at: datetime) -> None:
    """The charge's outcome on the payment and the subscription, once: a row no longer
    processing was recorded by another run."""
    subscription = lifecycle.lock(subscription_id)
    order = checkout_services.lock_order(subscription.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    _apply(subscription, order, payment, result, at)


def _set_outcome(payment: Payment, result: ChargeResult, at: datetime) -> None:
    """The provider's answer on the (processing) payment, not saved yet."""
    if result.method is not None:
        payment.payment_method = result.method.type
        payment.payment_method_details = result.method.as_dict()
    payment.provider_payment_id = result.provider_payment_id or None
    if result.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = at
        payment.fee_amount = platform_fee(payment.amount, payment.currency)
    else:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = (result.failure_code or "declined")[:64]
        payment.failure_message = (result.failure_message or "")[:255]


def _apply(subscription, order, payment: Payment, result: ChargeResult | None, at) -> None:
    """``_record`` on the locked rows (subscription, order, payment)."""
    if result is not None:
        if payment.status != PaymentStatus.PROCESSING:
            return
        _set_outcome(payment, result, at)
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:  # the period was paid by another try: this one stays unrecorded
            logger.error("renewal charge %s: period already paid", payment.pk)
            return
    if payment.status == PaymentStatus.SUCCEEDED:
        _paid(subscription, order, payment, at)
    else:
        _failed(subscription, order, payment, at)


def _advance(subscription: Subscription, payment: Payment) -> None:
    """The paid period becomes the current one (not saved): the credit used, dunning reset, the
    method the provider charged kept."""
    subscription.credit_balance = max(
        subscription.credit_balance - (subscription.total - payment.amount), 0
    )
    if subscription.anchor_at is None:  # the first charge, at the trial's end
        subscription.anchor_at = subscription.trial_end_at or subscription.current_period_end
    lifecycle.begin_period(subscription, payment.period_number)
    subscription.failed_attempts = 0
    subscription.next_retry_at = None
    if payment.payment_method_details:
        subscription.payment_method = payment.payment_method
        subscription.payment_method_details = payment.payment_method_details


def _paid(subscription: Subscription, order, payment: Payment, at: datetime) -> None:
    """A paid period: the subscription advanced, the payment invoiced (none for a period the
    credit balance paid), the events emitted and the status set."""
    previous = subscription.status
    _advance(subscription, payment)
    invoices.invoice_issue(payment, subscription=subscription)
    if previous == S.CANCELING:  # canceled while the charge was in flight: runs to its end
        subscription.cancel_at = subscription.current_period_end
        status, event = S.CANCELING, None
    elif previous == S.PAST_DUE:
        status, event = S.ACTIVE, "subscription.recovered"
    else:
        status, event = S.ACTIVE, "subscription.renewed"
    lifecycle.emit_event(
        subscription, order, "subscription.payment_succeeded", payment=payment, at=at
    )
    lifecycle.set_status(subscription, order, status, at=at)
    if event is not None:
        lifecycle.emit_event(subscription, order, event, payment=payment, at=at)


def _failed(subscription: Subscription, order, payment: Payment, at: datetime) -> None:
    """Dunning: the first failure makes the subscription past due and schedules the retries
    (``SUBSCRIPTION_RETRY_DAYS`` after the charge was due); when the last one fails, canceled."""
    if subscription.status not in (S.ACTIVE, S.TRIALING, S.PAST_DUE):
        subscription.save()
        return
    subscription.failed_attempts += 1
    days = steps.retry_days()
    tries = subscription.failed_attempts
    last = tries > len(days)
    subscription.next_retry_at = (
        None if last else subscription.current_period_end + timedelta(days=days[tries - 1])
    )
    if payment.method_token and subscription.method_token not in (None, payment.method_token):
        # The buyer saved a new method while this charge of the old one was in flight (the
        # portal's "Replace card"): the next try is now, on the new one, not days later.
        last = False
        subscription.next_retry_at = at
    # The event carries the next try's date (none after the last): the buyer's email names it.
    _emit_internal(subscription, PAYMENT_FAILED, at, payment=payment)
    if last:
        subscription.canceled_at = at
        lifecycle.set_status(subscription, order, S.CANCELED, at=at, event="subscription.canceled")
        return
    if subscription.status == S.PAST_DUE:
        steps.schedule(subscription)
        subscription.save()
    else:
        lifecycle.set_status(subscription, order, S.PAST_DUE, at=at, event="subscription.past_due")
