"""The data of billing's events, in their internal form (UUIDs, minor units, datetimes as ISO
8601): webhooks render it for each endpoint (``billing.webhooks.payload``), which keeps only the
fields the SDK declares for the event type (the others are for internal readers: the emails).
One builder for every event: a first payment, a renewal, a status change of a subscription."""

from __future__ import annotations

from pancake.api.fields import format_timestamp


def _price(total: int, subtotal: int, tax_amount: int, tax_rate, tax_name: str) -> dict:
    price = {
        "total": total,
        "subtotal": subtotal,
        "taxAmount": tax_amount,
        "taxRate": str((tax_rate * 100).normalize()),
        "taxName": tax_name or None,
    }
    return {key: value for key, value in price.items() if value is not None}


# The order's columns ``event_data`` reads when the event is about a subscription.
SUBSCRIPTION_ORDER_FIELDS = (
    "status",
    "buyer_email",
    "buyer_identity",
    "order_merchant_external_id",
    "currency",
    "billing_detail",
    "metadata",
)


def event_data(*, order, payment=None, subscription=None) -> dict:
    """Everything an event about ``order`` may carry: the order block, the amounts (the
    payment's charge when there is one), the price it refers to (``listPrice`` for payments,
    ``planPrice`` for a subscription's status), the product, the payment and the subscription.
    Absent values are left out, never zero-filled."""
    plan = subscription
    version = plan.version if plan is not None else order.version
    if plan is not None:
        subtotal, tax_amount, total = plan.subtotal, plan.tax_amount, plan.total
        tax_rate, tax_name = plan.tax_rate, plan.tax_name
    else:
        subtotal, tax_amount, total = order.subtotal, order.tax_amount, order.total
        tax_rate, tax_name = order.tax_rate, order.tax_name
    price = _price(total, subtotal, tax_amount, tax_rate, tax_name)
    data = {
        "orderId": str(order.pk),
        "orderStatus": order.status,
        "buyerEmail": order.buyer_email,
        "merchantProvidedBuyerIdentity": order.buyer_identity,
        "orderMerchantExternalId": order.order_merchant_external_id,
        "currency": order.currency,
        "billingDetail": order.billing_detail,
        "orderMetadata": order.metadata or None,
        "amount": subtotal,
        "taxAmount": tax_amount,
        "taxRate": str(tax_rate.normalize()),
        "taxName": tax_name or None,
        "subtotal": subtotal,
        "total": total,
        "listPrice": price,
        "planPrice": price,
        "productId": str(version.product_id),
        "productVersionId": str(version.pk),
        "productName": version.name,
        "productDescription": version.description or None,
        "productMetadata": version.metadata or None,
        "billingPeriod": version.billing_period or None,
    }
    if payment is not None:
        details = payment.payment_method_details or {}
        data.update(
            chargedAmount=payment.amount,
            paymentId=str(payment.pk),
            paymentStatus=payment.status,
            paymentMethod=payment.payment_method or None,
            paymentLast4=details.get("last4"),
            paymentFailureReason=payment.failure_message or None,
            paymentDate=format_timestamp(payment.paid_at),
        )
        if payment.period_number is not None:
            data["periodNumber"] = payment.period_number
    if plan is not None:
        data.update(
            billingPeriod=plan.billing_period,
            currentPeriodStart=format_timestamp(plan.current_period_start),
            currentPeriodEnd=format_timestamp(plan.current_period_end),
            canceledAt=format_timestamp(plan.canceled_at),
            # Internal (webhooks keep only the SDK's fields; the emails read these): when a
            # canceling subscription ends, when a failed charge is tried again, and the credit
            # the next charges take off.
            cancelAt=format_timestamp(plan.cancel_at),
            nextRetryAt=format_timestamp(plan.next_retry_at),
            creditBalance=plan.credit_balance or None,
        )
        data.setdefault("periodNumber", plan.period_number)
    return {key: value for key, value in data.items() if value is not None}


def refund_data(*, refund, ticket, payment, order_status: str, list_price: dict | None) -> dict:
    """What a refund event adds to ``event_data``'s: this refund's amounts (its tax the
    payment's share, half up), the payment it gives back part of (``originalPayment``, with the
    rate and name of the price it was charged at), and the ticket."""
    tax = (2 * payment.tax_amount * refund.amount + payment.amount) // (2 * payment.amount)
    original = {
        "total": payment.amount,
        "subtotal": payment.amount - payment.tax_amount,
        "taxAmount": payment.tax_amount,
        **{key: (list_price or {}).get(key) for key in ("taxRate", "taxName")},
    }
    original = {key: value for key, value in original.items() if value is not None}
    data = {
        "orderStatus": order_status,
        "refundedAmount": refund.amount,
        "amount": refund.amount - tax,
        "taxAmount": tax,
        "subtotal": refund.amount - tax,
        "total": refund.amount,
        "originalPayment": original,
        "originalChargedAmount": payment.amount,
        "refundTicketMerchantExternalId": ticket.refund_ticket_merchant_external_id,
        "refundStatus": refund.status,
        "refundReason": ticket.reason,
        "refundCreatedAt": format_timestamp(refund.created_at),
        "refundId": str(refund.pk),
        "ticketId": str(ticket.pk),
        "refundFailureReason": refund.failure_message or None,
    }
    return {key: value for key, value in data.items() if value is not None}
