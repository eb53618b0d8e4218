"""The event outbox: ``emit()`` writes an event row inside the transaction of the change it
describes, so a rolled-back change emits nothing and a committed one is never lost.

After the commit, the events of one transaction travel together in one message to the relay task
(``relay_events``), which hands them to each consumer named in ``settings.OUTBOX_CONSUMERS``, in
that order: the order emails' (``billing.tasks.queue_order_emails``), then the webhook fan-out
(``billing.webhooks.fanout.consume``), which claims the events and marks them dispatched in its
own transaction. The sweep (``sweep``, on Celery beat) relays whatever a lost message or a
crashed worker left undispatched, so losing Redis delays delivery, never loses it. Consumers are
safe to run twice for the same events.

Payloads are stored in the internal form (UUIDs, integer minor units); the webhook fan-out renders
them for each endpoint's API version and freezes the bytes it sends.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from pancake import bulk
from pancake.api import prepared
from pancake.models import OutboxEvent


def emit(
    *,
    store_id,
    environment: str,
    event_type: str,
    subject_id,
    aggregate_id,
    data: dict,
    occurred_at=None,
) -> OutboxEvent:
    """Record one event. Must run inside the caller's transaction (it refuses otherwise).

    ``subject_id`` is the business object the event is about (e.g. the payment: the webhook's
    ``eventId``); ``aggregate_id`` (the order) orders deliveries of one order or subscription;
    ``occurred_at``, when given, is the payload's ``timestamp`` (a test clock's simulated time)."""
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
        occurred_at=occurred_at,
    )
    prepared.insert(event)  # objects.create, from a statement compiled once per connection
    # After commit, hand it to a worker; if that fails (Redis down), the sweep finds it later.
    _dispatch_batch(connection).events.append(event)
    return event


def emit_all(events: list[dict]) -> list[OutboxEvent]:
    """Record several events (``emit()``'s arguments each, in the order they happened) with
    few statements: a batch of subscription renewals. Same rules as ``emit()``: inside the
    caller's transaction, relayed with its other events once it commits.

    One INSERT takes the first event of each order or subscription (``aggregate_id``), the next
    one its second, and so on: a row's ``created_at`` is the time its statement was compiled, so
    each event of an aggregate is strictly later than the one before it, as the consumers'
    ordering needs (the webhook fan-out delivers an aggregate's events one after the other)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("emit_all() must be called inside the transaction of the change")
    made = [OutboxEvent(**fields) for fields in events]
    rounds: list[list[OutboxEvent]] = []
    seen: dict = {}
    for event in made:
        n = seen[event.aggregate_id] = seen.get(event.aggregate_id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(event)
    for rows in rounds:
        bulk.insert(rows)
    if made:
        _dispatch_batch(connection).events.extend(made)
    return made


class _Dispatch:
    """The events of one transaction, handed to a worker in one message once it commits: one
    relay task per commit, not per event (a checkout's events, a batch import's orders).

    An event emitted in a savepoint that was rolled back is in the list all the same: its row is
    gone, so the fan-out finds nothing to do for it (and the email task, which re-reads the
    payment, sends nothing for an order the rollback left unpaid)."""

    __slots__ = ("events", "sent")

    def __init__(self):
        self.events: list[OutboxEvent] = []
        self.sent = False

    def send(self) -> None:
        self.sent = True
        relay_events.delay([[str(e.pk), e.event_type, str(e.subject_id)] for e in self.events])


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


# --- relaying to the consumers -------------------------------------------------------------------


def consumers() -> list:
    """The consumers of ``settings.OUTBOX_CONSUMERS``, in order: callables taking the events
    (``[event_id, event_type, subject_id]`` each, oldest first) and ``from_sweep``."""
    return [import_string(path) for path in settings.OUTBOX_CONSUMERS]


def relay(events: list, *, from_sweep: bool = False) -> None:
    """Hand events to every consumer, in order. ``from_sweep``: they were left behind (the
    consumers then queue their work rather than doing it in this process)."""
    for consume in consumers():
        consume(events, from_sweep=from_sweep)


@shared_task(ignore_result=True)
def relay_events(events: list) -> None:
    """The events one transaction emitted, in the order they were emitted (one message per
    commit)."""
    relay(events)


def sweep(*, limit: int = 500, batch: int = 100) -> int:
    """Relay the events left undispatched for longer than ``WEBHOOK_SWEEP_GRACE_SECONDS`` (a lost
    message, a crashed worker), oldest first, ``batch`` at a time; returns how many."""
    grace = timedelta(seconds=float(getattr(settings, "WEBHOOK_SWEEP_GRACE_SECONDS", 10)))
    events = [
        [str(pk), event_type, str(subject_id)]
        for pk, event_type, subject_id in OutboxEvent.objects.filter(
            dispatched_at__isnull=True, created_at__lte=timezone.now() - grace
        )
        .order_by("created_at", "pk")
        .values_list("pk", "event_type", "subject_id")[:limit]
    ]
    for start in range(0, len(events), batch):
        relay(events[start : start + batch], from_sweep=True)
    return len(events)


# --- claiming for dispatch -----------------------------------------------------------------------


def undispatched(event_ids: list[uuid.UUID]) -> QuerySet[OutboxEvent]:
    """The events among ``event_ids`` not dispatched yet, locked for the caller's transaction
    (those another worker holds are left out: ``SKIP LOCKED``), with their store, oldest first.
    The dispatching consumer may add annotations of its own before running it."""
    return (
        OutboxEvent.objects.select_related("store")
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk__any=event_ids, dispatched_at__isnull=True)
        .order_by("created_at", "pk")
    )


def mark_dispatched(events: list[OutboxEvent], now) -> None:
    """The events are dispatched: never relayed again (one statement, prepared for a single
    event). In the dispatching consumer's transaction, which holds their locks."""
    if len(events) == 1:
        events[0].dispatched_at = now
        prepared.update_fields(events[0], ["dispatched_at"])
    else:
        OutboxEvent.objects.filter(pk__any=[e.pk for e in events]).update(dispatched_at=now)
