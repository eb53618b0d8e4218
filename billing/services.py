"""Billing writes: provider notifications applied exactly once (SPEC 6.4, 6.5)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Payment, PaymentStatus, ProviderEvent
from billing.providers import get_provider


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
        else:
            payment.status = PaymentStatus.FAILED
            payment.failure_code = notification.failure_code or ""
            payment.failure_message = (notification.failure_message or "")[:255]
        payment.save()
    return payment


def test_processor_notification_receive(*, headers: dict, body: bytes) -> Payment | None:
    """The built-in test processor delivers in-process (settings.TEST_PROCESSOR_NOTIFICATION_
    HANDLER): the same verification and exactly-once path as a provider's webhook."""
    return notification_receive(environment="test", headers=headers, body=body)


test_processor_notification_receive.__test__ = False  # not a pytest test, despite its name
