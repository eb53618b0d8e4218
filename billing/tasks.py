"""Tasks of the billing app: ids in, rows re-read, safe to run twice."""

from celery import shared_task

from billing.webhooks import delivery


@shared_task(ignore_result=True)
def fan_out_event(event_id: str) -> int:
    return len(delivery.fan_out(event_id, deliver_first=True))


@shared_task(ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    return delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> dict:
    return delivery.sweep()
