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
    _dispatch_batch(connection).events.append(event)
    return event


class _Dispatch:
    """The events of one transaction, handed to a worker in one message once it commits: one
    fan-out task per commit, not per event (a checkout's events, a batch import's orders).

    An event emitted in a savepoint that was rolled back is in the list all the same: its row is
    gone, so the fan-out finds nothing to do for it (and the email task, which re-reads the
    payment, sends nothing for an order the rollback left unpaid)."""

    __slots__ = ("events", "sent")

    def __init__(self):
        self.events: list[OutboxEvent] = []
        self.sent = False

    def send(self) -> None:
        from billing.tasks import fan_out_events

        self.sent = True
        fan_out_events.delay([[str(e.pk), e.event_type, str(e.subject_id)] for e in self.events])


def _dispatch_batch(connection) -> _Dispatch:
    """This transaction's batch, registered with ``on_commit`` by its first event. A batch whose
    hook is gone (its transaction, or the savepoint it was made in, rolled back) is replaced."""
    batch = getattr(connection, "_pancake_outbox_batch", None)
    if (
        batch is None
        or batch.sent
        or not any(getattr(hook[1], "__self__", None) is batch for hook in connection.run_on_commit)
    ):
        batch = connection._pancake_outbox_batch = _Dispatch()
        transaction.on_commit(batch.send, robust=True)
    return batch
