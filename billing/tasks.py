"""Tasks of the billing app: ids in, rows re-read, safe to run twice."""

from celery import shared_task

from billing.webhooks import attempts, fanout, sweep


@shared_task(ignore_result=True)
def fan_out_event(event_id: str, event_type: str | None = None, subject_id: str | None = None):
    # One event per message: what emit() queued before it sent a commit's events together
    # (fan_out_events); kept for messages still queued. event_type and subject_id spare the email
    # step a query; absent in older messages, which read them instead.
    deliveries = fanout.fan_out(
        event_id, deliver_first=True, event_type=event_type, subject_id=subject_id
    )
    return len(deliveries)


@shared_task(ignore_result=True)
def fan_out_events(events: list[list[str]]) -> int:
    """The events one transaction emitted, ``[event_id, event_type, subject_id]`` each, in the
    order they were emitted (``pancake.outbox``: one message per commit)."""
    return len(fanout.fan_out_events(events))


@shared_task(ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    return attempts.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> dict:
    return sweep.sweep()
