"""Tasks of the billing app: ids in, rows re-read, safe to run twice."""

from celery import shared_task

from billing.webhooks import delivery


@shared_task(ignore_result=True)
def fan_out_event(event_id: str, event_type: str | None = None, subject_id: str | None = None):
    # event_type and subject_id: what emit() knew (spares the email step a query); absent in
    # messages queued before they were passed, which read them instead.
    deliveries = delivery.fan_out(
        event_id, deliver_first=True, event_type=event_type, subject_id=subject_id
    )
    return len(deliveries)


@shared_task(ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    return delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> dict:
    return delivery.sweep()
