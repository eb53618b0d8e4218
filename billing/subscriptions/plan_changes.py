"""Plan changes: a subscription moves to another subscription product of its store
(docs/subscriptions.md, "Plan changes").

1. ``propose`` (``checkout/create-session`` with ``originOrderId``): checks the caller and the
   subscription, has checkout write the plan-change session (the new plan's version and price
   frozen, ``checkout.services.plan_change_session_create``) and records a ``PlanChange``
   (``proposed``) beside it, with its timing: as asked, else an upgrade (a higher price per
   period) at once and anything else at the period's end.
2. ``confirm`` (the session's confirmation page, or ``subscription-order/change-product``):
   - at the period end (``next_period``): the change is ``scheduled`` (one per subscription: a
     new one replaces the old) and ``apply_scheduled`` applies it at the renewal, before the
     renewal charges the new plan;
   - at once, with a credit (a downgrade) or nothing to pay: applied; the credit goes to the
     subscription's credit balance, which the next charges use up;
   - at once, with a charge (an upgrade): the prorated difference is charged off-session on the
     saved method, exactly once, as renewals charge (``renewals``): a ``Payment`` (purpose
     ``plan_change``) committed ``processing`` before the provider is called, its id the
     provider's idempotency key, the outcome recorded in a second transaction that finds it
     still processing. Paid: applied. Declined: ``failed``, the plan stays.

Proration is to the second on the subscription's clock: with ``remaining`` seconds left of a
period of ``length`` seconds, the charge (or credit) is ``round_half_up((new_total - old_total)
× remaining / length)``, both totals tax included, the new plan taxed for the order's billing
detail as checkout taxes it. A trialing subscription has paid nothing yet: its change costs
nothing and its first charge is the new plan's. The merchant may set the amount instead
(``changeAmount`` / ``changeCreditAmount``). The subscription's period never moves; a change
of billing period (monthly to yearly) takes effect from the current period's end.

Lock order: the subscription, its order, the plan change, then payments and the session.
Events: ``subscription.plan_change_scheduled``, ``subscription.plan_changed`` (after
``subscription.payment_succeeded`` when a charge paid for it), ``subscription.plan_change_failed``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.fees import platform_fee
from billing.invoices import services as invoices
from billing.models import (
    Payment,
    PaymentStatus,
    PlanChange,
    PlanChangeTiming,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import ChargeResult
from billing.subscriptions import clock, lifecycle, steps
from billing.subscriptions.charges import charge_off_session, tax_share
from billing.subscriptions.selectors import access_subscription
from checkout import services as checkout_services
from checkout.models import CheckoutSession, Order, SessionStatus
from checkout.tax.engine import TaxResult
from pancake import money
from pancake.api.actor import BUYER, MERCHANT, Actor
from pancake.api.errors import Conflict, Forbidden, InvalidInput, NotFound, ProviderFailed
from products.models import ProductKind, ProductStatus, ProductVersion
from products.selectors import access_product, groups_with, self_service_plans, store_product
from stores.models import Role

logger = logging.getLogger(__name__)

S = SubscriptionStatus
Status = PlanChange.Status
PLAN_CHANGE = "plan_change"  # Payment.purpose
CHANGEABLE = (S.ACTIVE, S.TRIALING, S.PAST_DUE)
NOT_YOURS = "Subscription order does not belong to this credential"
NOT_IN_GROUP = "Target plan is not in the same product group as the current plan"
NO_SELF_SERVICE = "Self-service plan change is not enabled for this product group"
SLUG_REFUSED = "Plan changes need an API key or the buyer's session token"
BUSY = "A charge of this subscription is in progress: try again in a minute"
NO_ANSWER = "The payment provider did not answer: nothing was charged twice, please try again"
# Fields only an API key may set; a buyer's are dropped with a warning.
API_KEY_ONLY = (
    "changeAmount",
    "changeCreditAmount",
    "priceSnapshot",
    "orderMerchantExternalId",
    "includePaymentMethods",
    "excludePaymentMethods",
)


def bad(message: str, field: str | None = None, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, layer="order", field=field, code=code)


# --- proposing a change --------------------------------------------------------------------------


def propose(
    *,
    actor: Actor,
    origin_order_id: uuid.UUID,
    product_id: uuid.UUID,
    currency,
    warn,
    change_timing: str | None = None,
    change_amount=None,
    change_credit_amount=None,
    price_snapshot: dict | None = None,
    store_id: uuid.UUID | None = None,
    product_type: str | None = None,
    success_url: str | None = None,
    expires_in_seconds: int | None = None,
    metadata: dict | None = None,
    dark_mode: bool | None = None,
    language: str | None = None,
    **ignored,
) -> CheckoutSession:
    """A plan-change session for the subscription of ``origin_order_id`` to ``product_id``.

    A merchant's API key (owner or admin) may move it to any subscription product of its
    store; a buyer's session token only their own subscription (403 ``NOT_YOURS``), to a plan
    of a group holding the current plan (403 ``NOT_IN_GROUP``) whose self-service rule is on
    (403 ``NO_SELF_SERVICE``), and the API-key-only options it sends are dropped with a
    warning; a store slug may not (403). The subscription must be active, trialing or past
    due; the currency is the subscription's. ``ignored`` holds the new-purchase options
    (``withTrial``, ``buyerEmail``, …), which a plan change has no use for: each sent is
    named in a warning."""
    if actor.kind not in (MERCHANT, BUYER):
        raise Forbidden(SLUG_REFUSED, layer="order")
    options = {
        "changeAmount": change_amount,
        "changeCreditAmount": change_credit_amount,
        "priceSnapshot": price_snapshot,
        "orderMerchantExternalId": ignored.pop("order_merchant_external_id", None),
        "includePaymentMethods": ignored.pop("include_payment_methods", None),
        "excludePaymentMethods": ignored.pop("exclude_payment_methods", None),
    }
    if actor.kind == BUYER:
        for name in API_KEY_ONLY:
            if options[name] is not None:
                warn(f"{name} ignored: it needs API key authentication")
        change_amount = change_credit_amount = price_snapshot = None
    else:
        if options["orderMerchantExternalId"] is not None:
            warn("orderMerchantExternalId ignored: a plan change keeps the order's")
        for name in API_KEY_ONLY[4:]:
            if options[name] is not None:
                warn(f"{name} ignored: a plan change charges the subscription's saved method")
    for name, value in ignored.items():
        if value is not None:
            warn(f"{_camel(name)} ignored: it has no use in a plan change")
    with transaction.atomic():
        order, subscription, product = _check_target(actor, origin_order_id, product_id)
        if store_id is not None and store_id != order.store_id:
            raise Forbidden("Product does not belong to this store", layer="order")
        if product_type is not None and product_type != ProductKind.SUBSCRIPTION:
            raise bad("Invalid productType: a plan is a subscription product", "productType")
        currency = money.check_currency(currency if isinstance(currency, str) else None)
        if currency != subscription.currency:
            raise bad(
                "Invalid currency: a plan change keeps the subscription's currency "
                f"({subscription.currency})",
                "currency",
            )
        charge, credit = _overrides(change_amount, change_credit_amount, currency)
        overridden = charge is not None or credit is not None
        if overridden and change_timing == PlanChangeTiming.NEXT_PERIOD:
            raise bad(
                "changeAmount and changeCreditAmount apply to changeTiming immediate only",
                "changeTiming",
            )
        session = checkout_services.plan_change_session_create(
            actor=actor,
            origin_order=order,
            product=product,
            currency=currency,
            warn=warn,
            change_timing=change_timing or "",
            change_amount=charge,
            change_credit_amount=credit,
            price_snapshot=price_snapshot,
            success_url=success_url,
            expires_in_seconds=expires_in_seconds,
            metadata=metadata,
            dark_mode=dark_mode,
            language=language,
        )
        if session.version_id == subscription.version_id:
            raise bad("The subscription is already on this plan", "productId", "same_plan")
        tax = new_plan_tax(session, order)
        timing = change_timing or _default_timing(subscription, tax.total, overridden)
        change = PlanChange(
            subscription=subscription,
            session=session,
            from_version_id=subscription.version_id,
            to_product=product,
            to_version_id=session.version_id,
            timing=timing,
            price_amount=session.amount,
            tax_category=session.tax_category,
            tax_included=session.tax_included,
            amount_overridden=overridden,
        )
        at = clock.now(subscription)
        change.charge_amount, change.credit_amount = amounts(change, subscription, tax.total, at)
        if timing == PlanChangeTiming.NEXT_PERIOD:
            change.effective_at = subscription.current_period_end
        change.save(force_insert=True)
    return session


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check_target(actor: Actor, order_id: uuid.UUID, product_id: uuid.UUID):
    """The caller's subscription order, its subscription (changeable) and the target plan, in
    the order the checks answer: the order, the target, the group rules, the status."""
    if actor.kind == BUYER:
        try:
            order, subscription = access_subscription(actor, order_id)
        except NotFound:
            raise Forbidden(NOT_YOURS, layer="order", code="not_yours") from None
        product = store_product(order.store_id, product_id, kind=ProductKind.SUBSCRIPTION)
        current = subscription.product_id if subscription else order.product_id
        groups = groups_with(environment=actor.environment, product_ids=[current, product.pk])
        if not groups:
            raise Forbidden(NOT_IN_GROUP, layer="order", code="not_in_group")
        if not any(group.self_service_plan_change for group in groups):
            raise Forbidden(NO_SELF_SERVICE, layer="order", code="no_self_service")
    else:
        order, subscription = access_subscription(actor, order_id, min_role=Role.ADMIN)
        product = access_product(
            actor, product_id, kind=ProductKind.SUBSCRIPTION, min_role=Role.ADMIN
        )
        if product.store_id != order.store_id:
            raise NotFound("Subscription product not found", layer="product")
    if subscription is None or subscription.status not in CHANGEABLE:
        raise bad(
            "Only an active, trialing or past-due subscription can change its plan",
            "originOrderId",
            "not_changeable",
        )
    return order, subscription, product


def _overrides(change_amount, change_credit_amount, currency: str):
    if change_amount is not None and change_credit_amount is not None:
        raise bad("Send changeAmount or changeCreditAmount, not both", "changeAmount")
    parsed = []
    sent = {"changeAmount": change_amount, "changeCreditAmount": change_credit_amount}
    for field, value in sent.items():
        if value is None:
            parsed.append(None)
            continue
        try:
            parsed.append(money.to_minor(value, currency, field=field))
        except InvalidInput as exc:
            raise bad(str(exc), field) from None
    return parsed[0], parsed[1]


def _default_timing(subscription: Subscription, new_total: int, overridden: bool) -> str:
    """An upgrade (a higher price per period) or an amount the merchant set: at once; a
    downgrade or the same price: at the period's end."""
    if overridden or new_total > subscription.total:
        return PlanChangeTiming.IMMEDIATE
    return PlanChangeTiming.NEXT_PERIOD


@dataclass(frozen=True)
class Offer:
    """A plan a buyer may move their subscription to on their own: the product, the version
    on sale and its price in the subscription's currency (minor units, before tax)."""

    product_id: uuid.UUID
    version: ProductVersion
    amount: int
    tax_included: bool


def offered_plans(*, actor: Actor, order_id: uuid.UUID) -> list[Offer]:
    """The plans the buyer's subscription may change to by itself (the customer portal's
    list): the other subscription products of the self-service groups holding its plan, on
    sale in the environment and priced in the subscription's currency. Empty when the
    subscription cannot change plans (not active, trialing or past due). Another buyer's
    order is a 404 (``access_subscription``); ``propose`` checks everything again."""
    _order, subscription = access_subscription(actor, order_id)
    if subscription is None or subscription.status not in CHANGEABLE:
        return []
    offers = []
    for product in self_service_plans(
        environment=subscription.environment, product_id=subscription.product_id
    ):
        version = product.version_for(subscription.environment)
        if version is None or product.status_for(subscription.environment) != ProductStatus.ACTIVE:
            continue
        price = (version.prices or {}).get(subscription.currency)
        if price is None or version.pk == subscription.version_id:
            continue
        offers.append(
            Offer(product.pk, version, price["amount"], bool(price.get("taxIncluded", False)))
        )
    return offers


# --- what a change costs -------------------------------------------------------------------------


def new_plan_tax(session: CheckoutSession, order: Order) -> TaxResult:
    """The new plan's price taxed for the order's billing detail, as checkout taxes it."""
    return checkout_services.session_tax(session, order.billing_detail)


def prorate(difference: int, remaining: int, length: int) -> int:
    """``round_half_up(|difference| × remaining / length)`` in whole minor units."""
    if length <= 0 or remaining <= 0:
        return 0
    remaining = min(remaining, length)
    return (2 * abs(difference) * remaining + length) // (2 * length)


def amounts(change: PlanChange, subscription: Subscription, new_total: int, at: datetime):
    """(charge, credit) of applying ``change`` at ``at`` on the subscription's clock: the
    merchant's amount when it set one; nothing for a change at the period's end or during a
    trial; else the prorated difference of the two plans' totals over what is left of the
    period, to the second."""
    if change.amount_overridden:
        session = change.session
        return session.change_amount or 0, session.change_credit_amount or 0
    if change.timing == PlanChangeTiming.NEXT_PERIOD or subscription.period_number == 0:
        return 0, 0
    second = timedelta(seconds=1)
    length = (subscription.current_period_end - subscription.current_period_start) // second
    remaining = (subscription.current_period_end - at) // second
    difference = new_total - subscription.total
    value = prorate(difference, remaining, length)
    return (value, 0) if difference > 0 else (0, value)


@dataclass(frozen=True)
class Preview:
    """What confirming the change now would do (the confirmation page)."""

    tax: TaxResult
    charge: int
    credit: int
    effective_at: datetime
    immediate: bool


def preview(change: PlanChange) -> Preview:
    """The change's effect if confirmed now (reads only)."""
    subscription = change.subscription
    at = clock.now(subscription)
    tax = new_plan_tax(change.session, subscription.order)
    charge, credit = amounts(change, subscription, tax.total, at)
    immediate = change.timing == PlanChangeTiming.IMMEDIATE
    effective_at = at if immediate else (change.effective_at or subscription.current_period_end)
    return Preview(tax, charge, credit, effective_at, immediate)


# --- confirming it -------------------------------------------------------------------------------


def confirm(*, session_id: uuid.UUID) -> PlanChange:
    """Confirm the plan change of a session (holding the session's id is the permission, as
    for the hosted checkout). Confirming again, or twice at once, charges at most once: the
    second finds the first's payment and answers its outcome. An expired or used session is
    409; a subscription no longer active, trialing or past due is 400; another charge of the
    subscription in flight is 409; no answer from the provider is 502 (the payment stays
    processing and a retry asks again with the same key)."""
    found = PlanChange.objects.filter(session_id=session_id).values_list("pk", "subscription_id")
    found = found.first()
    if found is None:
        raise NotFound("Checkout session not found", layer="order")
    change_id, subscription_id = found
    with transaction.atomic():
        subscription, order, change = _lock(subscription_id, change_id)
        if change.status != Status.PROPOSED:
            return change
        payment = change.payment
        if payment is None or payment.status != PaymentStatus.PROCESSING:
            payment = _decide(subscription, order, change)
            if payment is None:
                return change
    result = charge_off_session(subscription, payment)
    if result is None:
        raise ProviderFailed(NO_ANSWER, layer="order")
    with transaction.atomic():
        return _record(subscription_id, change_id, payment.pk, result)


def _lock(subscription_id, change_id) -> tuple[Subscription, Order, PlanChange]:
    """The subscription, its order and the plan change, locked in that order."""
    subscription = lifecycle.lock(subscription_id)
    order = checkout_services.lock_order(subscription.order_id)
    change = (
        PlanChange.objects.select_for_update(of=("self",))
        .select_related("session", "session__store", "to_version", "payment")
        .get(pk=change_id)
    )
    return subscription, order, change


def _decide(subscription: Subscription, order: Order, change: PlanChange) -> Payment | None:
    """Use the session and act on the change: schedule it, apply it, or open its charge (the
    payment returned, committed by the caller before the provider is called)."""
    at = clock.now(subscription)
    checkout_services.plan_change_session_use(session_id=change.session_id, at=at)
    if subscription.status not in CHANGEABLE:
        raise bad(
            "Only an active, trialing or past-due subscription can change its plan",
            code="not_changeable",
        )
    tax = new_plan_tax(change.session, order)
    if change.timing == PlanChangeTiming.NEXT_PERIOD:
        _schedule(subscription, order, change, at)
        return None
    charge, credit = amounts(change, subscription, tax.total, at)
    change.charge_amount, change.credit_amount = charge, credit
    if not charge:
        _apply(subscription, order, change, tax, at)
        return None
    if Payment.objects.filter(subscription=subscription, status=PaymentStatus.PROCESSING).exists():
        raise Conflict(BUSY, layer="order", code="busy")
    payment = _open_payment(subscription, order, change, charge, tax)
    change.payment = payment
    change.save(update_fields=["payment", "charge_amount", "credit_amount", "updated_at"])
    return payment


def _open_payment(
    subscription: Subscription, order: Order, change: PlanChange, charge: int, tax: TaxResult
):
    """The change's charge, committed as processing by the caller: its id is the provider's
    idempotency key. ``attempt`` numbers the subscription's plan-change charges (the
    subscription's lock makes the count safe; a constraint backs it)."""
    attempt = Payment.objects.filter(subscription=subscription, purpose=PLAN_CHANGE).count() + 1
    tax_amount = min(charge, tax_share(tax.tax_amount, charge, tax.total))
    payment = Payment(
        order_id=order.pk,
        store_id=subscription.store_id,
        environment=subscription.environment,
        product_id=change.to_product_id,
        subscription=subscription,
        purpose=PLAN_CHANGE,
        period_number=subscription.period_number,
        attempt=attempt,
        amount=charge,
        tax_amount=tax_amount,
        currency=subscription.currency,
        provider=subscription.provider,
        payment_method=subscription.payment_method,
        payment_method_details=subscription.payment_method_details,
        method_token=subscription.method_token,
        billing_detail=order.billing_detail,
        order_merchant_external_id=order.order_merchant_external_id,
        status=PaymentStatus.PROCESSING,
    )
    try:
        with transaction.atomic():
            payment.save(force_insert=True)
    except IntegrityError:  # another charge went in flight first (the database's last word)
        raise Conflict(BUSY, layer="order", code="busy") from None
    return payment


def _record(subscription_id, change_id, payment_id, result: ChargeResult) -> PlanChange:
    """The charge's outcome, once: a payment no longer processing was recorded by another
    confirm (or the engine's ``settle``). Paid: the change is applied; declined: it failed and
    the plan stays."""
    subscription, order, change = _lock(subscription_id, change_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status != PaymentStatus.PROCESSING:
        return change
    at = clock.now(subscription)
    if result.method is not None:
        payment.payment_method = result.method.type
        payment.payment_method_details = result.method.as_dict()
    payment.provider_payment_id = result.provider_payment_id or None
    if result.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = at
        payment.fee_amount = platform_fee(payment.amount, payment.currency)
        payment.save()
        lifecycle.emit_event(
            subscription, order, "subscription.payment_succeeded", payment=payment, at=at
        )
        _apply(subscription, order, change, new_plan_tax(change.session, order), at)
        invoices.invoice_issue(payment, subscription=subscription)
        return change
    payment.status = PaymentStatus.FAILED
    payment.failure_code = (result.failure_code or "declined")[:64]
    payment.failure_message = (result.failure_message or "")[:255]
    payment.save()
    change.status = Status.FAILED
    change.failure_message = payment.failure_message or payment.failure_code
    change.save(update_fields=["status", "failure_message", "updated_at"])
    lifecycle.emit_event(subscription, order, "subscription.plan_change_failed", at=at)
    return change


def _schedule(subscription: Subscription, order: Order, change: PlanChange, at) -> None:
    """The change waits for the period's end; it replaces any change scheduled before it."""
    PlanChange.objects.filter(subscription=subscription, status=Status.SCHEDULED).exclude(
        pk=change.pk
    ).update(status=Status.CANCELED, updated_at=timezone.now())
    change.status = Status.SCHEDULED
    change.effective_at = subscription.current_period_end
    change.charge_amount = change.credit_amount = 0
    change.save()
    lifecycle.emit_event(subscription, order, "subscription.plan_change_scheduled", at=at)


def _apply(subscription, order, change: PlanChange, tax: TaxResult, at: datetime) -> None:
    """The new plan on the (locked) subscription, its period unchanged: product, version,
    price and tax; the change's credit added to the balance the next charges use. A new
    billing period counts from the current period's end."""
    version = change.to_version
    if version.billing_period != subscription.billing_period and subscription.anchor_at:
        subscription.anchor_at = subscription.current_period_end
        subscription.anchor_period = subscription.period_number
    subscription.product_id = change.to_product_id
    subscription.version = version
    subscription.billing_period = version.billing_period
    subscription.price_amount = change.price_amount
    subscription.tax_category = change.tax_category
    subscription.tax_included = change.tax_included
    subscription.subtotal = tax.subtotal
    subscription.tax_amount = tax.tax_amount
    subscription.total = tax.total
    subscription.tax_rate = tax.rate
    subscription.tax_name = tax.tax_name
    subscription.credit_balance += change.credit_amount
    steps.schedule(subscription)
    subscription.save()
    change.status = Status.APPLIED
    change.applied_at = at
    change.effective_at = change.effective_at or at
    change.save()
    lifecycle.emit_event(subscription, order, "subscription.plan_changed", at=at)


# --- the renewal engine's hooks ------------------------------------------------------------------


def apply_scheduled(subscription: Subscription, at: datetime) -> None:
    """Apply the subscription's scheduled change due at ``at`` (its period's end) to the locked
    row, before the renewal's charge is computed, so the renewal charges the new plan. Runs in
    the engine's transaction. Idempotent (an applied change is no longer scheduled), and
    nothing is done while the period's charge is in flight: it was priced already."""
    if Payment.objects.filter(subscription=subscription, status=PaymentStatus.PROCESSING).exists():
        return
    change = (
        PlanChange.objects.select_for_update(of=("self",))
        .select_related("session", "session__store", "to_version")
        .filter(subscription=subscription, status=Status.SCHEDULED, effective_at__lte=at)
        .first()
    )
    if change is None:
        return
    order = checkout_services.lock_order(subscription.order_id)
    _apply(subscription, order, change, new_plan_tax(change.session, order), at)


def scheduled_among(subscription_ids) -> set:
    """Which of these subscriptions have a change scheduled (one statement for a batch)."""
    return set(
        PlanChange.objects.filter(
            subscription_id__in=list(subscription_ids), status=Status.SCHEDULED
        ).values_list("subscription_id", flat=True)
    )


def settle(subscription_id) -> bool:
    """A plan change's charge left processing (a crash, or no answer from the provider) is
    asked about again with the same key and recorded, before the engine charges anything
    else. False while the provider still gives no answer."""
    payment = Payment.objects.filter(
        subscription_id=subscription_id, purpose=PLAN_CHANGE, status=PaymentStatus.PROCESSING
    ).first()
    if payment is None:
        return True
    change_id = PlanChange.objects.filter(payment=payment).values_list("pk", flat=True).first()
    subscription = Subscription.objects.get(pk=subscription_id)
    result = charge_off_session(subscription, payment)
    if result is None:
        return False
    with transaction.atomic():
        if change_id is None:  # not a change's charge: only the payment is recorded
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PROCESSING).update(
                status=PaymentStatus.FAILED, failure_code="orphaned", updated_at=timezone.now()
            )
            return True
        _record(subscription_id, change_id, payment.pk, result)
    return True


# --- the change-product shortcut -----------------------------------------------------------------


def change_product(
    *,
    actor: Actor,
    order_id: uuid.UUID,
    target_product_id: uuid.UUID,
    warn,
    currency: str | None = None,
    change_timing: str | None = None,
    change_amount=None,
    change_credit_amount=None,
) -> tuple[Subscription, PlanChange]:
    """``subscription-order/change-product`` (API key): a plan-change session made and
    confirmed at once, as the hosted confirmation page would. A retry after the provider did
    not answer resumes that change's charge (same key) instead of making another."""
    _order, subscription = access_subscription(actor, order_id, min_role=Role.ADMIN)
    unanswered = (
        PlanChange.objects.filter(
            subscription=subscription,
            status=Status.PROPOSED,
            to_product_id=target_product_id,
            payment__status=PaymentStatus.PROCESSING,
        ).first()
        if subscription is not None
        else None
    )
    if unanswered is not None:
        change = confirm(session_id=unanswered.session_id)
        return Subscription.objects.select_related("order").get(pk=change.subscription_id), change
    if currency is None:
        currency = subscription.currency if subscription else None
    session = propose(
        actor=actor,
        origin_order_id=order_id,
        product_id=target_product_id,
        currency=currency,
        warn=warn,
        change_timing=change_timing,
        change_amount=change_amount,
        change_credit_amount=change_credit_amount,
    )
    change = confirm(session_id=session.pk)
    return Subscription.objects.select_related("order").get(pk=change.subscription_id), change


def session_is_open(session: CheckoutSession) -> bool:
    return session.status == SessionStatus.OPEN and session.expires_at > timezone.now()
