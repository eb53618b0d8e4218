"""Fan-out: after the change's transaction commits, one delivery per committed outbox event and
subscribed endpoint, its body rendered for the endpoint's API version and frozen; the event is
marked dispatched in the same transaction (``pancake.outbox.mark_dispatched``), so it fans out
once. The outbox's relay task hands it the events of one commit together (``consume``: one lock,
one endpoints read, one insert, one update), and it attempts each event's first due delivery
itself once that commits (``attempts.attempt_all``); the others are queued to run in parallel.

Ordering holds whatever order the fan-outs run in: a delivery waits while an earlier event of
its order or subscription is not fanned out yet or has a delivery pending for the same endpoint.

Speed (bench/bench_webhooks.py): every hot statement is compiled once per connection
(``pancake.api.prepared``), its id lists one array parameter (``__any``) whatever the batch size.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.webhooks import attempts, payload, queue
from pancake import outbox
from pancake.api.prepared import PreparedSelect
from pancake.models import OutboxEvent

Status = WebhookDelivery.Status
# re-check a delivery whose order's earlier event was still being fanned out (by another worker)
WAIT_FOR_FAN_OUT = timedelta(seconds=2)


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Only the public event types go out (``payment.failed`` and other internal events feed
    the other consumers); an endpoint without a list takes every public one."""
    if event_type not in payload.EVENT_TYPES:
        return False
    return not endpoint.events or event_type in endpoint.events


def consume(events, *, from_sweep: bool = False) -> list[uuid.UUID]:
    """Outbox consumer (``OUTBOX_CONSUMERS``): the deliveries of the events of one commit
    (``[event_id, event_type, subject_id]`` each, in the order they were emitted), made in one
    transaction that also marks the events dispatched. From the relay task, each event's first due
    delivery is claimed as it is made and POSTed right here once that commits
    (``attempts.attempt_all``); from the sweep, every delivery is queued. Returns the ids of the
    deliveries made."""
    event_ids = [attempts.as_uuid(event_id) for event_id, _, _ in events]
    return _fan_out(event_ids, deliver_first=not from_sweep)


def _fan_out(event_ids: list[uuid.UUID], *, deliver_first: bool) -> list[uuid.UUID]:
    """Make the deliveries of committed outbox events (once each). With ``deliver_first`` (the
    fan-out task), each event's first due delivery is claimed in the transaction that makes it
    and attempted right here once that commits, the others are queued; without it (the sweep),
    all are queued. Returns the ids of the deliveries made."""
    # Only outside a transaction: a POST must never go out before the rows are committed.
    inline = deliver_first and not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        deliveries, claimed = _make_deliveries(event_ids, claim_first=inline)
    if claimed:
        # a crash here leaves the rows leased: the sweep sends them after the lease
        attempts.attempt_all(claimed)
    return [d.pk for d in deliveries]


def _events_to_fan_out(event_ids: list[uuid.UUID]):
    """The events among ``event_ids`` not fanned out yet, locked by the outbox (those another
    worker holds are left out), oldest first, with their store (the payload's name), whether an
    earlier event of the same order or subscription, outside this batch, is still to be fanned
    out, and whether a delivery of it is pending anywhere (if none is, ``_pending_for`` has
    nothing to say)."""
    earlier = OutboxEvent.objects.filter(
        aggregate_id=OuterRef("aggregate_id"),
        created_at__lt=OuterRef("created_at"),
        dispatched_at__isnull=True,
    ).exclude(pk__any=event_ids)
    return outbox.undispatched(event_ids).annotate(
        follows_undispatched=Exists(earlier),
        has_pending=Exists(
            WebhookDelivery.objects.filter(
                aggregate_id=OuterRef("aggregate_id"), status=Status.PENDING, is_test=False
            )
        ),
    )


def _endpoints_of(store_id: uuid.UUID, environment: str):
    """A store's endpoints of one environment, oldest first."""
    return WebhookEndpoint.objects.filter(store_id=store_id, environment=environment).order_by(
        "created_at", "pk"
    )


def _pending_for(endpoint_ids: list[uuid.UUID], aggregate_ids: list[uuid.UUID]):
    """The pending deliveries of these orders or subscriptions to these endpoints, each with
    its event's time (``event_created_at``)."""
    return (
        WebhookDelivery.objects.filter(
            endpoint_id__any=endpoint_ids,
            aggregate_id__any=aggregate_ids,
            status=Status.PENDING,
            is_test=False,
        )
        .annotate(event_created_at=F("event__created_at"))
        .only("endpoint_id", "aggregate_id")
    )


# Run for every commit's events: compiled once per connection (pancake.api.prepared; the id
# lists are one array parameter each, however long).
_EVENTS_TO_FAN_OUT = PreparedSelect(_events_to_fan_out)
_ENDPOINTS_OF = PreparedSelect(_endpoints_of)
_PENDING_FOR = PreparedSelect(_pending_for)


def _lock_events(event_ids: list[uuid.UUID]) -> list[OutboxEvent]:
    """``_events_to_fan_out``; for the batch's events this call could not take (in the rare case
    there are any), whether one of them holds up a later event of its order."""
    events = _EVENTS_TO_FAN_OUT.fetch(event_ids)
    not_taken = set(event_ids).difference(e.pk for e in events)
    if events and not_taken:
        # done before, rolled back, or being fanned out by another worker right now: only the
        # last kind (still undispatched) holds up the later events of its order
        held = list(
            OutboxEvent.objects.filter(pk__in=not_taken, dispatched_at__isnull=True).values_list(
                "aggregate_id", "created_at"
            )
        )
        for event in events:
            event.follows_undispatched = event.follows_undispatched or any(
                aggregate == event.aggregate_id and created < event.created_at
                for aggregate, created in held
            )
    return events


def _make_deliveries(event_ids: list[uuid.UUID], *, claim_first: bool):
    """In the caller's transaction: one delivery per event and subscribed endpoint, its body
    rendered for the endpoint's API version and frozen; the events marked dispatched. Returns
    (deliveries made, the ones claimed for an attempt by the caller)."""
    events = _lock_events(event_ids)
    if not events:
        return [], []
    now = timezone.now()
    endpoints = _endpoints_by_place(events)
    pending = _pending_by_endpoint(events, endpoints)
    deliveries, claimed, due = _plan(events, endpoints, pending, now, claim_first=claim_first)
    attempts.insert_all(deliveries)
    outbox.mark_dispatched(events, now)
    queue.kick([d.pk for d in due])
    _kick_rechecks(deliveries, now)
    return deliveries, claimed


def _endpoints_by_place(events: list[OutboxEvent]) -> dict[tuple, list[WebhookEndpoint]]:
    """The endpoints of each (store, environment) the events happened in."""
    return {
        place: _ENDPOINTS_OF.fetch(*place)
        for place in {(e.store_id, e.environment) for e in events}
    }


def _pending_by_endpoint(events: list[OutboxEvent], endpoints: dict) -> dict[tuple, list]:
    """The events (by time) each endpoint has a delivery pending for, per order or
    subscription: ``{(endpoint id, aggregate id): [event created_at, ...]}``."""
    pending: dict[tuple, list] = defaultdict(list)
    endpoint_ids = [endpoint.pk for found in endpoints.values() for endpoint in found]
    if endpoint_ids and any(e.has_pending for e in events):
        aggregate_ids = list({e.aggregate_id for e in events})
        for earlier in _PENDING_FOR.fetch(endpoint_ids, aggregate_ids):
            pending[(earlier.endpoint_id, earlier.aggregate_id)].append(earlier.event_created_at)
    return pending


def _plan(events, endpoints, pending, now, *, claim_first: bool):
    """The deliveries of the events in the order they happened, each due when
    ``_first_attempt_at`` says, and which of the due ones are claimed (with ``claim_first``,
    each event's first: the caller attempts them itself) and which are queued. A delivery made
    here is pending for the batch's later events of its order or subscription."""
    deliveries, claimed, due = [], [], []
    for event in events:
        first = claim_first
        for endpoint in endpoints[(event.store_id, event.environment)]:
            if not _subscribed(endpoint, event.event_type):
                continue
            waiting_behind = pending[(endpoint.pk, event.aggregate_id)]
            next_attempt_at = _first_attempt_at(event, endpoint, waiting_behind, now)
            waiting_behind.append(event.created_at)  # the batch's later events wait for it
            delivery = _delivery(event, endpoint, next_attempt_at)
            deliveries.append(delivery)
            if next_attempt_at != now:
                continue
            if first:
                first = False
                attempts.take_lease(delivery, now)  # claimed as it is made: nobody else has it yet
                claimed.append(delivery)
            else:
                due.append(delivery)
    return deliveries, claimed, due


def _first_attempt_at(event: OutboxEvent, endpoint: WebhookEndpoint, waiting_behind: list, now):
    """When a new delivery is due. Order per order or subscription and endpoint: at once only
    when no earlier delivery of it is pending there (made before, or just now for an earlier
    event of the batch) and no earlier event of it waits to be fanned out (its fan-out may be
    running on another worker right now); otherwise it waits: behind a pending delivery until
    that one's completion lets it go (``attempts._kick_following``; WAIT_FOR_EARLIER at the
    latest), behind an event being fanned out for a re-check WAIT_FOR_FAN_OUT later. A disabled
    endpoint's deliveries are held (None) until it is enabled again."""
    if not endpoint.enabled:
        return None
    if any(created < event.created_at for created in waiting_behind):
        return now + attempts.WAIT_FOR_EARLIER
    if event.follows_undispatched:
        return now + WAIT_FOR_FAN_OUT
    return now


def _kick_rechecks(deliveries: list[WebhookDelivery], now) -> None:
    """Deliveries behind an event still being fanned out: queued for their re-check."""
    recheck = now + WAIT_FOR_FAN_OUT
    queue.kick([d.pk for d in deliveries if d.next_attempt_at == recheck], after=WAIT_FOR_FAN_OUT)


def _delivery(event: OutboxEvent, endpoint: WebhookEndpoint, next_attempt_at) -> WebhookDelivery:
    delivery_id = uuid.uuid4()
    body = payload.render(
        delivery_id=delivery_id,
        event_type=event.event_type,
        subject_id=event.subject_id,
        store=event.store,
        environment=event.environment,
        created_at=event.occurred_at or event.created_at,
        data=event.data,
        version=endpoint.api_version,
    )
    return WebhookDelivery(
        id=delivery_id,
        event=event,
        endpoint=endpoint,
        store_id=event.store_id,
        environment=event.environment,
        event_type=event.event_type,
        subject_id=event.subject_id,
        aggregate_id=event.aggregate_id,
        channel=endpoint.channel,
        url=endpoint.url,
        body=body,
        next_attempt_at=next_attempt_at,
    )
