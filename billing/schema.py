"""GraphQL: payments, refund tickets and their versions, refunds, webhook endpoints and
deliveries, email deliveries."""

from __future__ import annotations

import json

import graphene
from django.db.models import OuterRef, Subquery

from billing.models import (
    Payment,
    PlanChange,
    Refund,
    RefundTicket,
    RefundTicketVersion,
    SubmitterType,
    WebhookAttempt,
    WebhookDelivery,
)
from billing.subscriptions.lifecycle import FIRST_PAYMENT
from billing.subscriptions.steps import next_charge
from checkout.models import Order, OrderKind
from pancake.graphql import filters as f
from pancake.graphql.context import display, timestamp
from pancake.graphql.rows import memoized_list
from pancake.graphql.scope import buyer_orders_q, in_scope, merchant_only
from pancake.graphql.selection import Rel, optimized, prefetched, selection_tree
from pancake.graphql.types import JSON, BillingDetail, CurrencyAmount, id_field, ts_field
from pancake.models import EmailDelivery, Environment


class PaymentAmounts(graphene.ObjectType):
    """The payment's amounts in minor units (integers: ``2900`` is $29.00)."""

    amount = graphene.Int(required=True, description="Charged, tax included.")
    tax_amount = graphene.Int(required=True, description="Tax in the charge.")
    subtotal = graphene.Int(required=True, description="Charged before tax.")
    currency = graphene.String(required=True, description="ISO 4217 code.")
    settlement_currency = graphene.String(description="Currency the merchant is paid in.")
    settlement_amount = graphene.Int(description="Amount the merchant is paid, minor units.")
    refunded_amount = graphene.Int(required=True, description="Refunded so far, minor units.")


class SnapshotAmountDetails(graphene.ObjectType):
    """What this payment charged, as display strings (``"29.00"``)."""

    # Resolved field by field from the payment itself: a query asking for ``total`` reads the
    # payment's columns only (the tax category and phase come from its order and session).

    currency = graphene.String(required=True, description="ISO 4217 code.")
    subtotal = graphene.String(required=True, description="Before tax.")
    tax_amount = graphene.String(required=True, description="Tax.")
    total = graphene.String(required=True, description="Charged.")
    tax_category = graphene.String(description="Tax category of the order.")
    phase = graphene.String(
        required=True, description="regular, or special for a subscription's trial charge."
    )

    def resolve_currency(payment, info):
        return payment.currency

    def resolve_subtotal(payment, info):
        return display(payment.amount - payment.tax_amount, payment.currency)

    def resolve_tax_amount(payment, info):
        return display(payment.tax_amount, payment.currency)

    def resolve_total(payment, info):
        return display(payment.amount, payment.currency)

    def resolve_tax_category(payment, info):
        return payment.order.session.tax_category

    def resolve_phase(payment, info):
        # The order's first payment is the trial's charge when the order has a trial; renewals
        # and plan changes charge the regular price.
        first = payment.purpose in ("", FIRST_PAYMENT)
        return "special" if first and payment.order.with_trial else "regular"


class CardInfo(graphene.ObjectType):
    """The card's brand, last four digits and expiry: never more."""

    brand = graphene.String(description="visa, mastercard, …")
    last4 = graphene.String(description="Last four digits.")
    exp_month = graphene.Int(description="Expiry month.")
    exp_year = graphene.Int(description="Expiry year.")


def _refunds(ctx):
    return Refund.objects.order_by("created_at", "id")


def _versions(ctx):
    return RefundTicketVersion.objects.order_by("number", "id")


def _versions_newest_first(ctx):
    return RefundTicketVersion.objects.order_by("-number", "-id")


def _amount(minor: int | None, currency: str) -> CurrencyAmount | None:
    """The SDK guide's ``{currency amount}``: a display string whatever the API version."""
    if minor is None:
        return None
    return CurrencyAmount(currency=currency, amount=display(minor, currency))


class RefundType(graphene.ObjectType):
    """One execution of an approved refund ticket at the payment provider (a failed one retried
    is a new refund)."""

    class Meta:
        name = "Refund"

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "paymentId": ("payment_id",),
        "storeId": ("store_id",),
        "ticketId": ("ticket_id",),
        "status": ("status",),
        "amount": ("amount",),
        "currency": ("currency",),
        "orderMerchantExternalId": ("payment__order_merchant_external_id",),
        "refundTicketMerchantExternalId": ("ticket__refund_ticket_merchant_external_id",),
        "requestedAmountDetails": ("amount", "currency"),
        "pspAmountDetails": ("amount", "currency"),
        "failureReason": ("failure_message",),
        "failureCode": ("failure_code",),
        "testMode": ("environment",),
        "executedAt": ("executed_at",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "payment": Rel("payment", lambda: PaymentType),
        "store": Rel("store", "stores.schema.StoreType"),
    }

    id = id_field("pk", "REF", "Refund id.", required=True)
    payment_id = id_field("payment_id", "PAY", "The payment refunded.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    ticket_id = id_field("ticket_id", "TKT", "The refund ticket it executes.", required=True)
    status = graphene.String(required=True, description="pending, processing, succeeded or failed.")
    amount = graphene.Int(required=True, description="Refunded (or to refund), minor units.")
    currency = graphene.String(required=True, description="ISO 4217 code.")
    order_merchant_external_id = graphene.String(description="The order's merchant reference.")
    refund_ticket_merchant_external_id = graphene.String(
        description="The ticket's merchant reference."
    )
    requested_amount_details = graphene.Field(
        CurrencyAmount,
        required=True,
        description="What this refund gives back, as a display string.",
    )
    psp_amount_details = graphene.Field(
        CurrencyAmount,
        required=True,
        description="What the payment provider is asked to return, as a display string.",
    )
    failure_reason = graphene.String(description="Why the provider refused, if it did.")
    failure_code = graphene.String(description="The provider's failure code.")
    test_mode = graphene.Boolean(required=True, description="Made in the test environment.")
    payment = graphene.Field(lambda: PaymentType, description="The payment refunded.")
    store = graphene.Field("stores.schema.StoreType", description="The store.")
    executed_at = ts_field("executed_at", "When the provider answered.")
    created_at = ts_field("created_at", "When the refund was made.")
    updated_at = ts_field("updated_at", "When it last changed.")

    def resolve_order_merchant_external_id(refund, info):
        return refund.payment.order_merchant_external_id

    def resolve_refund_ticket_merchant_external_id(refund, info):
        return refund.ticket.refund_ticket_merchant_external_id

    def resolve_requested_amount_details(refund, info):
        return _amount(refund.amount, refund.currency)

    def resolve_psp_amount_details(refund, info):
        return _amount(refund.amount, refund.currency)

    def resolve_failure_reason(refund, info):
        return refund.failure_message or None

    def resolve_failure_code(refund, info):
        return refund.failure_code or None

    def resolve_test_mode(refund, info):
        return refund.environment == Environment.TEST


class PaymentType(graphene.ObjectType):
    """One charge of an order."""

    class Meta:
        name = "Payment"

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "orderId": ("order_id",),
        "storeId": ("store_id",),
        "status": ("status",),
        "amount": ("amount",),
        "taxAmount": ("tax_amount",),
        "currency": ("currency",),
        "paymentMethod": ("payment_method",),
        "amountDetails": (
            "amount",
            "tax_amount",
            "currency",
            "settlement_currency",
            "settlement_amount",
            "refunded_amount",
        ),
        "snapshotAmountDetails": (
            "amount",
            "tax_amount",
            "currency",
            "purpose",
            "order__with_trial",
            "order__session__tax_category",
        ),
        "billingDetail": ("billing_detail", "order__billing_detail"),
        "cardInfo": ("payment_method_details",),
        "refundStatus": ("refunded_amount", "amount"),
        "refundedAmount": ("refunded_amount",),
        "failureReason": ("failure_message",),
        "failureCode": ("failure_code",),
        "periodNumber": ("period_number",),
        "orderMerchantExternalId": ("order_merchant_external_id",),
        "testMode": ("environment",),
        "onetimeOrder": ("order__kind",),
        "subscriptionOrder": ("order__kind",),
        "paidAt": ("paid_at",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "order": Rel("order", "checkout.schema.OrderType"),
        "onetimeOrder": Rel("order", "checkout.schema.OnetimeOrder"),
        "subscriptionOrder": Rel("order", "checkout.schema.SubscriptionOrder"),
        "store": Rel("store", "stores.schema.StoreType"),
        "refunds": Rel(
            "refunds",
            "billing.schema.RefundType",
            many=True,
            queryset=_refunds,
            to_attr="gql_refunds",
        ),
    }

    id = id_field("pk", "PAY", "Payment id.", required=True)
    order_id = id_field("order_id", "ORD", "The order.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    status = graphene.String(required=True, description="pending, succeeded, failed, …")
    amount = graphene.Int(required=True, description="Charged, minor units (2900 = $29.00).")
    tax_amount = graphene.Int(required=True, description="Tax in the charge, minor units.")
    currency = graphene.String(required=True, description="ISO 4217 code.")
    payment_method = graphene.String(description="card, …")
    amount_details = graphene.Field(
        PaymentAmounts, required=True, description="Amounts in minor units."
    )
    snapshot_amount_details = graphene.Field(
        SnapshotAmountDetails, required=True, description="Amounts as display strings."
    )
    billing_detail = graphene.Field(BillingDetail, description="Tax address and business data.")
    card_info = graphene.Field(CardInfo, description="The card used, if any.")
    refund_status = graphene.String(
        description="null, partially_refunded or refunded (from the amount refunded)."
    )
    refunded_amount = graphene.Int(required=True, description="Refunded so far, minor units.")
    failure_reason = graphene.String(description="Why the payment failed.")
    failure_code = graphene.String(description="The provider's failure code.")
    period_number = graphene.Int(
        description="A subscription's charge: the period it pays for (1 = the first charge)."
    )
    order_merchant_external_id = graphene.String(description="The merchant's order reference.")
    test_mode = graphene.Boolean(required=True, description="Made in the test environment.")
    order = graphene.Field("checkout.schema.OrderType", description="The order.")
    onetime_order = graphene.Field(
        "checkout.schema.OnetimeOrder", description="The order, if it is one-time."
    )
    subscription_order = graphene.Field(
        "checkout.schema.SubscriptionOrder", description="The order, if it is a subscription."
    )
    store = graphene.Field("stores.schema.StoreType", description="The store.")
    refunds = graphene.List(
        graphene.NonNull(RefundType),
        required=True,
        description="Refunds of this payment, oldest first.",
    )
    paid_at = ts_field("paid_at", "When the payment succeeded.")
    created_at = ts_field("created_at", "When the payment was made.")
    updated_at = ts_field("updated_at", "When the payment last changed.")

    def resolve_amount_details(payment, info):
        return PaymentAmounts(
            amount=payment.amount,
            tax_amount=payment.tax_amount,
            subtotal=payment.amount - payment.tax_amount,
            currency=payment.currency,
            settlement_currency=payment.settlement_currency or None,
            settlement_amount=payment.settlement_amount,
            refunded_amount=payment.refunded_amount,
        )

    def resolve_snapshot_amount_details(payment, info):
        return payment  # SnapshotAmountDetails reads the fields asked for from the payment

    def resolve_billing_detail(payment, info):
        return BillingDetail.from_json(payment.billing_detail or payment.order.billing_detail)

    def resolve_card_info(payment, info):
        details = payment.payment_method_details or {}
        if not any(details.get(k) for k in ("brand", "last4")):
            return None
        return CardInfo(
            brand=details.get("brand"),
            last4=details.get("last4"),
            exp_month=details.get("expMonth"),
            exp_year=details.get("expYear"),
        )

    def resolve_refund_status(payment, info):
        if payment.refunded_amount <= 0:
            return None
        return "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"

    def resolve_failure_reason(payment, info):
        return payment.failure_message or None

    def resolve_failure_code(payment, info):
        return payment.failure_code or None

    def resolve_test_mode(payment, info):
        return payment.environment == Environment.TEST

    def resolve_onetime_order(payment, info):
        return payment.order if payment.order.kind == OrderKind.ONETIME else None

    def resolve_subscription_order(payment, info):
        return payment.order if payment.order.kind == OrderKind.SUBSCRIPTION else None

    def resolve_refunds(payment, info):
        return prefetched(
            payment, "gql_refunds", lambda: _refunds(info.context).filter(payment=payment)
        )


class RefundTicketVersionData(graphene.ObjectType):
    """What the current submission of a ticket asks for."""

    reason = graphene.String(required=True, description="Why the buyer asks.")
    requested_amount = graphene.Field(
        CurrencyAmount, description="The amount asked, as a display string."
    )


class RefundTicketVersionType(graphene.ObjectType):
    """One submission of a refund ticket: the first, and one per resubmission after a
    rejection."""

    class Meta:
        name = "RefundTicketVersion"

    # What each field reads (pancake/graphql/selection.py).
    columns = {
        "id": ("id",),
        "versionNumber": ("number",),
        "reason": ("reason",),
        "requestedAmount": ("requested_amount",),
        "currency": ("currency",),
        "requestedAmountDetails": ("requested_amount", "currency"),
        "previousRejectReason": ("previous_reject_reason",),
        "createdAt": ("created_at",),
    }

    id = id_field("pk", None, "Version id (UUID).", required=True)
    version_number = graphene.Int(required=True, description="1 for the first submission.")
    reason = graphene.String(required=True, description="Why the buyer asks.")
    requested_amount = graphene.Int(required=True, description="Asked, minor units.")
    currency = graphene.String(required=True, description="ISO 4217 code.")
    requested_amount_details = graphene.Field(
        CurrencyAmount, required=True, description="Asked, as a display string."
    )
    previous_reject_reason = graphene.String(
        description="Why the submission before this one was rejected (null on the first)."
    )
    created_at = ts_field("created_at", "When it was submitted.")

    def resolve_version_number(version, info):
        return version.number

    def resolve_requested_amount_details(version, info):
        return _amount(version.requested_amount, version.currency)

    def resolve_previous_reject_reason(version, info):
        return version.previous_reject_reason or None


class RefundTicketType(graphene.ObjectType):
    """A request to refund all or part of one payment: filed by the buyer (or the merchant's
    server for them), reviewed by the merchant, then executed as a refund. A merchant's refund
    straight from a payment is a ticket approved at once."""

    class Meta:
        name = "RefundTicket"

    # What each field reads (pancake/graphql/selection.py); relations below. ``customerId`` is
    # an annotation the roots add when it is asked for.
    columns = {
        "id": ("id",),
        "type": (),
        "paymentId": ("payment_id",),
        "subjectId": ("payment_id",),
        "orderId": ("order_id",),
        "storeId": ("store_id",),
        "customerId": (),
        "buyerEmail": ("order__buyer_email",),
        "reason": ("reason",),
        "status": ("status",),
        "requestedAmount": ("requested_amount",),
        "approvedAmount": ("approved_amount",),
        "currency": ("currency",),
        "requestedAmountDetails": ("requested_amount", "currency"),
        "approvedAmountDetails": ("approved_amount", "currency"),
        "refundTicketMerchantExternalId": ("refund_ticket_merchant_external_id",),
        "submitterType": ("submitter_type",),
        "submitterId": ("submitter_type", "submitter_id"),
        "reviewerId": ("reviewer_id",),
        "versionNumber": ("version_number",),
        "versionData": ("reason", "requested_amount", "currency"),
        "reviewNote": ("review_note",),
        "rejectReason": ("reject_reason",),
        "metadata": ("metadata",),
        "cancelSubscription": ("cancel_subscription",),
        "testMode": ("environment",),
        "reviewedAt": ("reviewed_at",),
        "executedAt": ("executed_at",),
        "resolvedAt": ("resolved_at",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "payment": Rel("payment", "billing.schema.PaymentType"),
        "order": Rel("order", "checkout.schema.OrderType"),
        "store": Rel("store", "stores.schema.StoreType"),
        "currentVersionId": Rel(
            "versions",
            "billing.schema.RefundTicketVersionType",
            many=True,
            queryset=_versions_newest_first,
            to_attr="gql_versions_newest_first",
        ),
        "versions": Rel(
            "versions",
            "billing.schema.RefundTicketVersionType",
            many=True,
            queryset=_versions,
            to_attr="gql_versions",
        ),
        "refunds": Rel(
            "refunds",
            "billing.schema.RefundType",
            many=True,
            queryset=_refunds,
            to_attr="gql_refunds",
        ),
    }

    id = id_field("pk", "TKT", "Ticket id.", required=True)
    type = graphene.String(required=True, description='Always "refund".')
    payment_id = id_field("payment_id", "PAY", "The payment.", required=True)
    subject_id = id_field("payment_id", "PAY", "The payment (the SDK's name).", required=True)
    order_id = id_field("order_id", "ORD", "The payment's order.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    customer_id = graphene.ID(
        description="The buyer: the id of the `customer` root (their first order in the store)."
    )
    buyer_email = graphene.String(required=True, description="The buyer's email.")
    reason = graphene.String(required=True, description="Why the refund is asked for.")
    status = graphene.String(
        required=True,
        description="pending, approved, rejected, processing, succeeded or failed.",
    )
    requested_amount = graphene.Int(required=True, description="Asked, minor units.")
    approved_amount = graphene.Int(
        description="Approved, minor units (may be less than asked; null until approved)."
    )
    currency = graphene.String(required=True, description="ISO 4217 code.")
    requested_amount_details = graphene.Field(
        CurrencyAmount, required=True, description="Asked, as a display string."
    )
    approved_amount_details = graphene.Field(
        CurrencyAmount, description="Approved, as a display string."
    )
    refund_ticket_merchant_external_id = graphene.String(
        description="The merchant's reference, kept across resubmissions."
    )
    submitter_type = graphene.String(required=True, description="customer or merchant.")
    submitter_id = graphene.String(
        required=True, description="Who filed it: the buyer's identity, or the merchant's id."
    )
    reviewer_id = graphene.ID(description="The merchant who decided.")
    version_number = graphene.Int(
        required=True, description="The current submission (1, then +1 per resubmission)."
    )
    version_data = graphene.Field(
        RefundTicketVersionData, required=True, description="What the current submission asks."
    )
    current_version_id = graphene.ID(description="The current submission's id (UUID).")
    versions = graphene.List(
        graphene.NonNull(RefundTicketVersionType),
        required=True,
        description="Every submission, oldest first.",
    )
    review_note = graphene.String(description="The merchant's note on approval.")
    reject_reason = graphene.String(description="Why the merchant rejected it.")
    metadata = graphene.Field(JSON, description="The submitter's metadata.")
    cancel_subscription = graphene.Boolean(
        required=True, description="A merchant refund that also ends the subscription."
    )
    test_mode = graphene.Boolean(required=True, description="Made in the test environment.")
    payment = graphene.Field("billing.schema.PaymentType", description="The payment.")
    order = graphene.Field("checkout.schema.OrderType", description="The payment's order.")
    store = graphene.Field("stores.schema.StoreType", description="The store.")
    refunds = graphene.List(
        graphene.NonNull(RefundType),
        required=True,
        description="Its executions at the provider, oldest first (a retry is a new one).",
    )
    reviewed_at = ts_field("reviewed_at", "When the merchant decided.")
    executed_at = ts_field("executed_at", "When the refund was carried out.")
    resolved_at = ts_field("resolved_at", "When it reached a final status.")
    created_at = ts_field("created_at", "When the ticket was opened.")
    updated_at = ts_field("updated_at", "When it last changed.")

    def resolve_type(ticket, info):
        return "refund"

    def resolve_customer_id(ticket, info):
        customer = getattr(ticket, "gql_customer_id", None)
        return None if customer is None else str(customer)

    def resolve_buyer_email(ticket, info):
        return ticket.order.buyer_email

    def resolve_submitter_id(ticket, info):
        if ticket.submitter_type == SubmitterType.MERCHANT:
            return info.context.id(ticket.submitter_id, "MER")
        return ticket.submitter_id

    def resolve_reviewer_id(ticket, info):
        return info.context.id(ticket.reviewer_id, "MER") if ticket.reviewer_id else None

    def resolve_requested_amount_details(ticket, info):
        return _amount(ticket.requested_amount, ticket.currency)

    def resolve_approved_amount_details(ticket, info):
        return _amount(ticket.approved_amount, ticket.currency)

    def resolve_version_data(ticket, info):
        return RefundTicketVersionData(
            reason=ticket.reason,
            requested_amount=_amount(ticket.requested_amount, ticket.currency),
        )

    def resolve_current_version_id(ticket, info):
        newest = prefetched(
            ticket,
            "gql_versions_newest_first",
            lambda: _versions_newest_first(info.context).filter(ticket=ticket)[:1],
        )
        return str(newest[0].pk) if newest else None

    def resolve_versions(ticket, info):
        return prefetched(
            ticket, "gql_versions", lambda: _versions(info.context).filter(ticket=ticket)
        )

    def resolve_review_note(ticket, info):
        return ticket.review_note or None

    def resolve_reject_reason(ticket, info):
        return ticket.reject_reason or None

    def resolve_test_mode(ticket, info):
        return ticket.environment == Environment.TEST

    def resolve_refunds(ticket, info):
        return prefetched(
            ticket, "gql_refunds", lambda: _refunds(info.context).filter(ticket=ticket)
        )


# --- subscriptions (fields of a subscription order) -----------------------------------------


class SubscriptionNextCharge(graphene.ObjectType):
    """The next charge a subscription will try by itself: at the end of its trial, at the end
    of its period (a renewal), or a dunning retry."""

    at = graphene.String(required=True, description="When, on the subscription's clock.")
    amount = graphene.String(
        required=True,
        description='Tax included, less any credit from a downgrade; a display string ("29.00"). '
        "A scheduled plan change due by then is applied first and may change it.",
    )
    currency = graphene.String(required=True, description="ISO 4217 code.")
    period_number = graphene.Int(required=True, description="The period it pays for.")

    @staticmethod
    def of(subscription) -> SubscriptionNextCharge | None:
        charge = next_charge(subscription)
        if charge is None:
            return None
        return SubscriptionNextCharge(
            at=timestamp(charge.at),
            amount=display(charge.amount, subscription.currency),
            currency=subscription.currency,
            period_number=charge.period_number,
        )


# What SubscriptionNextCharge.of reads of the subscription (``subscription__`` from an order).
NEXT_CHARGE_COLUMNS = (
    "status",
    "trial_end_at",
    "current_period_end",
    "next_retry_at",
    "total",
    "credit_balance",
    "period_number",
    "currency",
)


def scheduled_plan_changes(ctx):
    return PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED).order_by(
        "created_at", "id"
    )


class ScheduledPlanChange(graphene.ObjectType):
    """A change of plan waiting for the end of the current period: the renewal then moves the
    subscription to the new plan before it charges."""

    # What each field reads (pancake/graphql/selection.py).
    columns = {
        "id": ("id",),
        "productId": ("to_product_id",),
        "productVersionId": ("to_version_id",),
        "productName": ("to_version__name",),
        "billingPeriod": ("to_version__billing_period",),
        "price": ("price_amount", "subscription__currency"),
        "taxCategory": ("tax_category",),
        "changeTiming": ("timing",),
        "effectiveAt": ("effective_at", "subscription__current_period_end"),
        "createdAt": ("created_at",),
    }

    id = id_field("pk", None, "Plan change id (UUID).", required=True)
    product_id = id_field("to_product_id", "PROD", "The new plan.", required=True)
    product_version_id = id_field(
        "to_version_id", None, "The new plan's product version (UUID).", required=True
    )
    product_name = graphene.String(required=True, description="The new plan's name.")
    billing_period = graphene.String(required=True, description="The new plan's billing period.")
    price = graphene.Field(
        CurrencyAmount, required=True, description="The new plan's list price per period."
    )
    tax_category = graphene.String(required=True, description="The new plan's tax category.")
    change_timing = graphene.String(required=True, description="next_period.")
    effective_at = graphene.String(
        required=True,
        description="When it takes effect: the end of the current period, on the "
        "subscription's clock.",
    )
    created_at = ts_field("created_at", "When the change was scheduled.")

    def resolve_product_name(change, info):
        return change.to_version.name

    def resolve_billing_period(change, info):
        return change.to_version.billing_period

    def resolve_price(change, info):
        currency = change.subscription.currency
        return CurrencyAmount(currency=currency, amount=display(change.price_amount, currency))

    def resolve_change_timing(change, info):
        return change.timing

    def resolve_effective_at(change, info):
        return timestamp(change.effective_at or change.subscription.current_period_end)


class StoreWebhook(graphene.ObjectType):
    """A webhook endpoint of a store in one environment. Its secret is never shown."""

    # What each field reads (pancake/graphql/selection.py).
    columns = {
        "id": ("id",),
        "storeId": ("store_id",),
        "environment": ("environment",),
        "channel": ("channel",),
        "url": ("url",),
        "events": ("events",),
        "apiVersion": ("api_version",),
        "isDefault": ("is_default",),
        "enabled": ("enabled",),
        "disabledReason": ("disabled_reason",),
        "disabledAt": ("disabled_at",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }

    id = id_field("pk", None, "Endpoint id (UUID).", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    environment = graphene.String(required=True, description="test or prod.")
    channel = graphene.String(required=True, description="http, slack, discord, …")
    url = graphene.String(required=True, description="Where events are sent.")
    events = graphene.Field(JSON, description="Event types subscribed to.")
    api_version = graphene.String(required=True, description="Payload version.")
    is_default = graphene.Boolean(required=True, description="The store's default endpoint.")
    enabled = graphene.Boolean(required=True, description="Receiving events.")
    disabled_reason = graphene.String(description="Why it was disabled.")
    disabled_at = ts_field("disabled_at", "When it was disabled.")
    created_at = ts_field("created_at", "When it was added.")
    updated_at = ts_field("updated_at", "When it last changed.")


class WebhookDeliveryType(graphene.ObjectType):
    """One event sent (or to be sent) to one endpoint."""

    class Meta:
        name = "WebhookDelivery"

    id = id_field("pk", None, "Delivery id (UUID): the payload's id.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    event_type = graphene.String(required=True, description="order.completed, …")
    event_id = graphene.ID(required=True, description="The business object (UUID).")
    payload = graphene.Field(JSON, description="The exact body sent, parsed.")
    webhook_url = graphene.String(required=True, description="Where it was sent.")
    channel = graphene.String(required=True, description="http, slack, …")
    status = graphene.String(required=True, description="pending, success or failed.")
    http_status = graphene.Int(description="The last attempt's HTTP status.")
    response_body = graphene.String(description="The last attempt's response (truncated).")
    error_message = graphene.String(description="The last attempt's error.")
    attempt_count = graphene.Int(required=True, description="Attempts so far.")
    test_mode = graphene.Boolean(required=True, description="Test environment.")
    last_attempted_at = ts_field("last_attempted_at", "When it was last tried.")
    next_attempt_at = ts_field("next_attempt_at", "When it will be tried again.")
    created_at = ts_field("created_at", "When the delivery was made.")

    def resolve_event_id(delivery, info):
        return str(delivery.subject_id)

    def resolve_payload(delivery, info):
        try:
            return json.loads(delivery.body)
        except ValueError:
            return delivery.body

    def resolve_webhook_url(delivery, info):
        return delivery.url

    def resolve_http_status(delivery, info):
        return delivery.last_status_code

    def resolve_response_body(delivery, info):
        return getattr(delivery, "gql_response", None) or None

    def resolve_error_message(delivery, info):
        return delivery.last_error or None

    def resolve_test_mode(delivery, info):
        return delivery.environment == Environment.TEST


class EmailDeliveryType(graphene.ObjectType):
    """One transactional email to one address."""

    class Meta:
        name = "EmailDelivery"

    id = id_field("pk", None, "Email delivery id (UUID).", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    event_type = graphene.String(required=True, description="What the email is about.")
    event_id = graphene.String(
        required=True,
        description=(
            "What the email is about: the payment's id for order emails, the event's id for "
            "subscription emails."
        ),
    )
    recipient_type = graphene.String(required=True, description="buyer or merchant.")
    to_address = graphene.String(required=True, description="The recipient.")
    subject = graphene.String(required=True, description="The subject line.")
    status = graphene.String(required=True, description="pending, sent or failed.")
    error_message = graphene.String(description="Why sending failed.")
    attempt_count = graphene.Int(required=True, description="Attempts so far.")
    test_mode = graphene.Boolean(required=True, description="Test environment.")
    last_attempted_at = ts_field("last_attempted_at", "When it was last tried.")
    created_at = ts_field("created_at", "When it was queued.")

    def resolve_error_message(delivery, info):
        return delivery.error_message or None

    def resolve_test_mode(delivery, info):
        return delivery.environment == Environment.TEST


# --- roots ----------------------------------------------------------------------------------

PAYMENT_COLUMNS = {
    "id": f.Column("pk", f.ID, "PAY"),
    "orderId": f.Column("order_id", f.ID, "ORD"),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "status": f.Column("status"),
    "currency": f.Column("currency"),
    "amount": f.Column("amount", f.INT, description="Minor units."),
    "paymentMethod": f.Column("payment_method"),
    "orderMerchantExternalId": f.Column("order_merchant_external_id"),
    "buyerEmail": f.Column("order__buyer_email"),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
}
WEBHOOK_DELIVERY_COLUMNS = {
    "id": f.Column("pk", f.ID),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "eventType": f.Column("event_type"),
    "eventId": f.Column("subject_id", f.ID),
    "status": f.Column("status"),
    "webhookUrl": f.Column("url"),
    "attemptCount": f.Column("attempt_count", f.INT),
    "isTest": f.Column("is_test", f.BOOL),
    "createdAt": f.Column("created_at", f.DATETIME),
}
EMAIL_DELIVERY_COLUMNS = {
    "id": f.Column("pk", f.ID),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "eventType": f.Column("event_type"),
    "eventId": f.Column("event_id"),
    "recipientType": f.Column("recipient_type"),
    "toAddress": f.Column("to_address"),
    "status": f.Column("status"),
    "attemptCount": f.Column("attempt_count", f.INT),
    "createdAt": f.Column("created_at", f.DATETIME),
}
REFUND_TICKET_COLUMNS = {
    "id": f.Column("pk", f.ID, "TKT"),
    "paymentId": f.Column("payment_id", f.ID, "PAY"),
    "orderId": f.Column("order_id", f.ID, "ORD"),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "status": f.Column("status"),
    "reason": f.Column("reason"),
    "currency": f.Column("currency"),
    "requestedAmount": f.Column("requested_amount", f.INT, description="Minor units."),
    "approvedAmount": f.Column("approved_amount", f.INT, description="Minor units."),
    "refundTicketMerchantExternalId": f.Column("refund_ticket_merchant_external_id"),
    "orderMerchantExternalId": f.Column("payment__order_merchant_external_id"),
    "submitterType": f.Column("submitter_type"),
    "buyerEmail": f.Column("order__buyer_email"),
    "versionNumber": f.Column("version_number", f.INT),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
    "resolvedAt": f.Column("resolved_at", f.DATETIME),
}
REFUND_COLUMNS = {
    "id": f.Column("pk", f.ID, "REF"),
    "paymentId": f.Column("payment_id", f.ID, "PAY"),
    "ticketId": f.Column("ticket_id", f.ID, "TKT"),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "status": f.Column("status"),
    "currency": f.Column("currency"),
    "amount": f.Column("amount", f.INT, description="Minor units."),
    "orderMerchantExternalId": f.Column("payment__order_merchant_external_id"),
    "refundTicketMerchantExternalId": f.Column("ticket__refund_ticket_merchant_external_id"),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
}
PaymentFilter = f.filter_input("PaymentFilter", PAYMENT_COLUMNS, "Filters for payments.")
WebhookDeliveryFilter = f.filter_input(
    "WebhookDeliveryFilter", WEBHOOK_DELIVERY_COLUMNS, "Filters for webhook deliveries."
)
EmailDeliveryFilter = f.filter_input(
    "EmailDeliveryFilter", EMAIL_DELIVERY_COLUMNS, "Filters for email deliveries."
)
RefundTicketFilter = f.filter_input(
    "RefundTicketFilter", REFUND_TICKET_COLUMNS, "Filters for refund tickets."
)
RefundFilter = f.filter_input("RefundFilter", REFUND_COLUMNS, "Filters for refunds.")


def payments_in_scope(ctx, store_id=None):
    qs = in_scope(Payment.objects.all(), ctx).filter(buyer_orders_q(ctx, "order__"))
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("-created_at", "-id")


def _store_rows(model, ctx, store_id):
    if not merchant_only(ctx):
        return model.objects.none()
    qs = in_scope(model.objects.all(), ctx)
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("-created_at", "-id")


def _webhook_deliveries(ctx, store_id):
    latest = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number")
    return _store_rows(WebhookDelivery, ctx, store_id).annotate(
        gql_response=Subquery(latest.values("response_snippet")[:1])
    )


def _customer_ids(ctx):
    """A ticket's buyer as the ``customer`` root knows them: their first order in the store and
    environment (a subquery of the ticket's row)."""
    return Subquery(
        Order.objects.filter(
            store_id=OuterRef("store_id"),
            environment=OuterRef("environment"),
            buyer_email=OuterRef("order__buyer_email"),
        )
        .order_by("created_at", "id")
        .values("pk")[:1]
    )


def refund_tickets_in_scope(ctx, store_id=None):
    """The tickets the caller may read: their stores' in the environment (a buyer: those of
    their own orders), newest first."""
    qs = in_scope(RefundTicket.objects.all(), ctx).filter(buyer_orders_q(ctx, "order__"))
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("-created_at", "-id")


def _tickets_for(info, qs):
    """``qs`` loading what the selection reads, with the buyer's customer id when asked."""
    if "customerId" in selection_tree(info):
        qs = qs.annotate(gql_customer_id=_customer_ids(info.context))
    return optimized(qs, RefundTicketType, info)


def refunds_in_scope(ctx, store_id=None):
    """The refunds the caller may read: their stores' in the environment (a buyer: those of
    their own orders), newest first."""
    qs = in_scope(Refund.objects.all(), ctx).filter(buyer_orders_q(ctx, "ticket__order__"))
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("-created_at", "-id")


class BillingQueries(graphene.ObjectType):
    payments = graphene.List(
        graphene.NonNull(PaymentType),
        description="Payments of the request's environment, newest first (a buyer: their own).",
        **f.list_args(PaymentFilter, store_id=f.store_id_arg()),
    )
    payments_count = graphene.Int(
        required=True,
        description="How many payments the list would return.",
        **f.count_args(PaymentFilter, store_id=f.store_id_arg()),
    )
    payment = graphene.Field(
        PaymentType,
        id=graphene.Argument(graphene.ID, required=True, description="Payment id."),
        description="One payment; null if the caller may not see it.",
    )
    webhook_deliveries = graphene.List(
        graphene.NonNull(WebhookDeliveryType),
        description="Webhook deliveries of the request's environment, newest first.",
        **f.list_args(WebhookDeliveryFilter, store_id=f.store_id_arg()),
    )
    webhook_deliveries_count = graphene.Int(
        required=True,
        description="How many webhook deliveries the list would return.",
        **f.count_args(WebhookDeliveryFilter, store_id=f.store_id_arg()),
    )
    email_deliveries = graphene.List(
        graphene.NonNull(EmailDeliveryType),
        description="Transactional emails of the request's environment, newest first.",
        **f.list_args(EmailDeliveryFilter, store_id=f.store_id_arg()),
    )
    email_deliveries_count = graphene.Int(
        required=True,
        description="How many email deliveries the list would return.",
        **f.count_args(EmailDeliveryFilter, store_id=f.store_id_arg()),
    )
    refund_tickets = graphene.List(
        graphene.NonNull(RefundTicketType),
        description="Refund tickets of the request's environment, newest first (a buyer: those "
        "of their own orders).",
        **f.list_args(RefundTicketFilter, store_id=f.store_id_arg()),
    )
    refund_tickets_count = graphene.Int(
        required=True,
        description="How many refund tickets the list would return.",
        **f.count_args(RefundTicketFilter, store_id=f.store_id_arg()),
    )
    refund_ticket = graphene.Field(
        RefundTicketType,
        id=graphene.Argument(graphene.ID, required=True, description="Ticket id."),
        description="One refund ticket; null if the caller may not see it.",
    )
    refunds = graphene.List(
        graphene.NonNull(RefundType),
        description="Refunds of the request's environment, newest first (a buyer: those of "
        "their own orders).",
        **f.list_args(RefundFilter, store_id=f.store_id_arg()),
    )
    refunds_count = graphene.Int(
        required=True,
        description="How many refunds the list would return.",
        **f.count_args(RefundFilter, store_id=f.store_id_arg()),
    )
    refund = graphene.Field(
        RefundType,
        id=graphene.Argument(graphene.ID, required=True, description="Refund id."),
        description="One refund; null if the caller may not see it.",
    )

    def resolve_payments(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(payments_in_scope(ctx, store_id), filter, PAYMENT_COLUMNS, ctx)
            return f.paginate(optimized(qs, PaymentType, info), limit, offset)

        parts = ("payments", f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_payments_count(root, info, filter=None, store_id=None):
        ctx = info.context
        return f.apply_filter(
            payments_in_scope(ctx, store_id), filter, PAYMENT_COLUMNS, ctx
        ).count()

    def resolve_payment(root, info, id):
        pk = f.parse_arg_id(id, "PAY", "id")
        return optimized(payments_in_scope(info.context).filter(pk=pk), PaymentType, info).first()

    def resolve_webhook_deliveries(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context
        qs = _webhook_deliveries(ctx, store_id)
        qs = f.apply_filter(qs, filter, WEBHOOK_DELIVERY_COLUMNS, ctx)
        return f.paginate(qs, limit, offset)

    def resolve_webhook_deliveries_count(root, info, filter=None, store_id=None):
        ctx = info.context
        qs = _store_rows(WebhookDelivery, ctx, store_id)
        return f.apply_filter(qs, filter, WEBHOOK_DELIVERY_COLUMNS, ctx).count()

    def resolve_email_deliveries(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context
        qs = f.apply_filter(
            _store_rows(EmailDelivery, ctx, store_id), filter, EMAIL_DELIVERY_COLUMNS, ctx
        )
        return f.paginate(qs, limit, offset)

    def resolve_email_deliveries_count(root, info, filter=None, store_id=None):
        ctx = info.context
        qs = _store_rows(EmailDelivery, ctx, store_id)
        return f.apply_filter(qs, filter, EMAIL_DELIVERY_COLUMNS, ctx).count()

    def resolve_refund_tickets(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context

        def build():
            qs = refund_tickets_in_scope(ctx, store_id)
            qs = f.apply_filter(qs, filter, REFUND_TICKET_COLUMNS, ctx)
            return f.paginate(_tickets_for(info, qs), limit, offset)

        parts = ("refundTickets", f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_refund_tickets_count(root, info, filter=None, store_id=None):
        ctx = info.context
        qs = refund_tickets_in_scope(ctx, store_id)
        return f.apply_filter(qs, filter, REFUND_TICKET_COLUMNS, ctx).count()

    def resolve_refund_ticket(root, info, id):
        pk = f.parse_arg_id(id, "TKT", "id")
        qs = refund_tickets_in_scope(info.context).filter(pk=pk)
        return _tickets_for(info, qs).first()

    def resolve_refunds(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(refunds_in_scope(ctx, store_id), filter, REFUND_COLUMNS, ctx)
            return f.paginate(optimized(qs, RefundType, info), limit, offset)

        parts = ("refunds", f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_refunds_count(root, info, filter=None, store_id=None):
        ctx = info.context
        qs = refunds_in_scope(ctx, store_id)
        return f.apply_filter(qs, filter, REFUND_COLUMNS, ctx).count()

    def resolve_refund(root, info, id):
        pk = f.parse_arg_id(id, "REF", "id")
        qs = refunds_in_scope(info.context).filter(pk=pk)
        return optimized(qs, RefundType, info).first()
