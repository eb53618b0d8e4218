"""The event outbox (STYLE 4): ``emit()`` writes an event row inside the transaction of the change
it describes, so a rolled-back change emits nothing and a committed one is never lost. The webhooks
issue delivers these rows (after commit, and by a periodic sweep for anything left behind).

Payloads are stored in the internal form (UUIDs, integer minor units); the delivery renders them
for each endpoint's API version and freezes the bytes it sends.
"""

from __future__ import annotations

from django.db import transaction

from pancake.api import prepared
from pancake.models import OutboxEvent


def emit(
    *, store_id, environment: str, event_type: str, subject_id, aggregate_id, data: dict
) -> OutboxEvent:
    """Record one event. Must run inside the caller's transaction (it refuses otherwise).

    ``subject_id`` is the business object the event is about (e.g. the payment: the webhook's
    ``eventId``); ``aggregate_id`` (the order) orders deliveries of one order or subscription."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("emit() must be called inside the transaction of the change")
    event = OutboxEvent(
        store_id=store_id,
        environment=environment,
        event_type=event_type,
        subject_id=subject_id,
        aggregate_id=aggregate_id,
        data=data,
    )
    prepared.insert(event)  # objects.create, from a statement compiled once per connection
    # After commit, hand it to a worker; if that fails (Redis down), the sweep finds it later.
    transaction.on_commit(lambda: _dispatch(event), robust=True)
    return event


def _dispatch(event: OutboxEvent) -> None:
    from billing.tasks import fan_out_event

    fan_out_event.delay(str(event.pk), event.event_type, str(event.subject_id))
