"""Queuing deliveries for the worker task (``billing.tasks.deliver_webhook``). A lost message
costs only time: the sweep sends whatever is due."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction


def _tasks():
    # billing.tasks imports the webhook modules (its tasks run them): the module is looked up when
    # a delivery is queued, once both are loaded, not while this one is being imported.
    from billing import tasks

    return tasks


def kick(delivery_ids, *, after: timedelta | None = None) -> None:
    """Queue deliveries once the current transaction commits, to run ``after`` that long if
    given (the sweep covers a lost kick)."""
    tasks = _tasks()
    ids = [str(i) for i in delivery_ids]
    if not ids:
        return
    countdown = after.total_seconds() if after else None

    def send():
        for delivery_id in ids:
            tasks.deliver_webhook.apply_async((delivery_id,), countdown=countdown)

    transaction.on_commit(send, robust=True)


def send_now(delivery_ids) -> None:
    """Queue deliveries at once, one message each (the sweep: no transaction to wait for)."""
    tasks = _tasks()
    for delivery_id in delivery_ids:
        tasks.deliver_webhook.delay(str(delivery_id))
