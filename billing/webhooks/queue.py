"""Queuing deliveries for the worker task (``billing.tasks.deliver_webhook``). A lost message
costs only time: the sweep sends whatever is due.

The task is looked up by its registered name, not imported: it runs the attempts that queue it
(``billing.tasks`` imports this app's webhook modules)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from pancake.celery import registered

DELIVER_TASK = "billing.tasks.deliver_webhook"


def kick(delivery_ids, *, after: timedelta | None = None) -> None:
    """Queue deliveries once the current transaction commits, to run ``after`` that long if
    given (the sweep covers a lost kick)."""
    ids = [str(i) for i in delivery_ids]
    if not ids:
        return
    countdown = after.total_seconds() if after else None

    def send():
        for delivery_id in ids:
            registered(DELIVER_TASK).apply_async((delivery_id,), countdown=countdown)

    transaction.on_commit(send, robust=True)


def send_now(delivery_ids) -> None:
    """Queue deliveries at once, one message each (the sweep: no transaction to wait for)."""
    for delivery_id in delivery_ids:
        registered(DELIVER_TASK).delay(str(delivery_id))
