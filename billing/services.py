"""Billing writes: provider notifications applied exactly once (SPEC 6.4, 6.5)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Payment, PaymentStatus, ProviderEvent
from billing.providers import get_provider
from pancake.outbox import emit


def lock_payment(payment_id) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def notification_receive(*, environment: str, headers: dict, body: bytes) -> Payment | None:
    """Verify a provider notification and apply it once: the (provider, event id) row is written
    in the same transaction, so a redelivery changes nothing. Moves the payment to succeeded or
    failed, the one-time order to completed and a subscription order to active (trialing when the
    session had a trial), and the session to completed."""
    from checkout.models import OrderKind, OrderStatus, SessionStatus

    provider = get_provider(environment)
    notification = provider.parse_notification(headers=headers, body=body)
    with transaction.atomic():
        payment = (
            Payment.objects.filter(
                provider=provider.name, provider_payment_id=notification.provider_payment_id
            )
            .only("pk")
            .first()
        )
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(
                    provider=provider.name, event_id=notification.event_id, payment=payment
                )
        except IntegrityError:
            return payment  # applied before
        if payment is None:
            return None
        payment = lock_payment(payment.pk)
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.PROCESSING,
            PaymentStatus.FAILED,
        ):
            return payment
        now = timezone.now()
        if notification.method is not None:
            payment.payment_method = notification.method.type
            payment.payment_method_details = notification.method.as_dict()
        if notification.status == "succeeded":
            payment.status = PaymentStatus.SUCCEEDED
            payment.paid_at = now
            payment.failure_code = payment.failure_message = ""
            payment.method_token = notification.method_token or payment.method_token
            order = payment.order
            if order.status == OrderStatus.PENDING:
                if order.kind == OrderKind.ONETIME:
                    order.status = OrderStatus.COMPLETED
                else:
                    order.status = OrderStatus.TRIALING if order.with_trial else OrderStatus.ACTIVE
                order.completed_at = now
                order.save(update_fields=["status", "completed_at", "updated_at"])
                order.session.__class__.objects.filter(pk=order.session_id).update(
                    status=SessionStatus.COMPLETED, completed_at=now
                )
                # The receipt and the merchant's email follow the outbox event emitted below
                # (billing.webhooks.delivery.fan_out), so a broker outage loses neither.
        else:
            payment.status = PaymentStatus.FAILED
            payment.failure_code = notification.failure_code or ""
            payment.failure_message = (notification.failure_message or "")[:255]
        payment.save()
        _emit_payment_events(payment)
    return payment


def _event_data(payment: Payment) -> dict:
    """The internal form of an event's data (UUIDs, minor units); webhooks render it for each
    endpoint (billing.webhooks.payload), keeping the SDK's fields and presence rules."""
    from pancake.api.fields import format_timestamp

    order = payment.order
    version = order.version
    details = payment.payment_method_details or {}
    list_price = {
        "total": order.total,
        "subtotal": order.subtotal,
        "taxAmount": order.tax_amount,
        "taxRate": str((order.tax_rate * 100).normalize()),
        "taxName": order.tax_name or None,
    }
    data = {
        "orderId": str(order.pk),
        "orderStatus": order.status,
        "buyerEmail": order.buyer_email,
        "merchantProvidedBuyerIdentity": order.buyer_identity,
        "orderMerchantExternalId": order.order_merchant_external_id,
        "currency": order.currency,
        "billingDetail": order.billing_detail,
        "orderMetadata": order.metadata or None,
        "amount": order.subtotal,
        "taxAmount": order.tax_amount,
        "taxRate": str(order.tax_rate.normalize()),
        "taxName": order.tax_name or None,
        "subtotal": order.subtotal,
        "total": order.total,
        "chargedAmount": payment.amount,
        "listPrice": {k: v for k, v in list_price.items() if v is not None},
        "productId": str(order.product_id),
        "productVersionId": str(order.version_id),
        "productName": version.name,
        "productDescription": version.description or None,
        "productMetadata": version.metadata or None,
        "billingPeriod": version.billing_period or None,
        "paymentId": str(payment.pk),
        "paymentStatus": payment.status,
        "paymentMethod": payment.payment_method or None,
        "paymentLast4": details.get("last4"),
        "paymentFailureReason": payment.failure_message or None,
        "paymentDate": format_timestamp(payment.paid_at),
    }
    return {key: value for key, value in data.items() if value is not None}


def _emit_payment_events(payment: Payment) -> None:
    """Events of a first payment, in the order they happened: the subscription's activation
    before its payment; ``payment.failed`` is internal (the SDK's 14 have no one-time failure)."""
    from checkout.models import OrderKind

    order = payment.order
    if payment.status == PaymentStatus.SUCCEEDED:
        if order.kind == OrderKind.ONETIME:
            types = ["order.completed"]
        else:
            types = ["subscription.activated"]
            if payment.amount > 0:
                types.append("subscription.payment_succeeded")
    else:
        types = ["payment.failed"]
    data = _event_data(payment)
    for event_type in types:
        emit(
            store_id=order.store_id,
            environment=order.environment,
            event_type=event_type,
            subject_id=payment.pk,
            aggregate_id=order.pk,
            data=data,
        )


def test_processor_notification_receive(*, headers: dict, body: bytes) -> Payment | None:
    """The built-in test processor delivers in-process (settings.TEST_PROCESSOR_NOTIFICATION_
    HANDLER): the same verification and exactly-once path as a provider's webhook."""
    return notification_receive(environment="test", headers=headers, body=body)


test_processor_notification_receive.__test__ = False  # not a pytest test, despite its name
