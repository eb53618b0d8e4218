"""Attempts of one delivery (``deliver``, the worker task's work; ``attempt_all``, the fan-out
task's first attempts): claim the row (a lease, so a worker that dies mid-POST loses nothing: the
sweep takes the row again when the lease ends), POST it (``transport``: the destination checked
again after resolving it, the frozen body signed afresh) and record what came back; any 2xx is
success. Failures are retried after 5 min, 30 min, 2 h, 8 h and 24 h; the last failure marks
the delivery failed and disables the endpoint. Deliveries to a disabled endpoint are held
(``next_attempt_at`` empty) until it is enabled again (``release_held``). Deliveries of one
order or subscription to one endpoint go out in the order their events happened: a later one
waits while an earlier one is pending, and the earlier one's completion lets it go
(``_kick_following``). ``resend`` sends a delivery again, same id and bytes.

Speed (bench/bench_webhooks.py): the claim is one statement compiled once per connection
(``pancake.api.prepared``) and an attempt's outcome one conditional UPDATE while the lease is
still ours, which also says whether a later delivery may be waiting for it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing.webhooks import queue, transport
from billing.webhooks.selectors import access_webhook_delivery
from pancake.api import prepared
from pancake.api.actor import Actor
from pancake.api.prepared import PreparedSelect
from pancake.models import OutboxEvent
from stores.models import Role

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
RETRY_AFTER = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
    timedelta(hours=24),
)
MAX_ATTEMPTS = 1 + len(RETRY_AFTER)
WAIT_FOR_EARLIER = timedelta(seconds=30)  # re-check a delivery queued behind an earlier one
# seconds a fan-out task waits for receivers on a commit's first attempts; then it queues the rest
INLINE_BUDGET = 1.0


def lease() -> timedelta:
    """How long a claim holds a delivery: two timeouts and a margin; then the sweep retakes it."""
    return timedelta(seconds=2 * transport.timeout_seconds() + 20)


def as_uuid(value) -> uuid.UUID:
    """An id as a task message or a caller gives it (text or UUID), as a UUID."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def insert_all(rows: list) -> None:
    """One INSERT for the rows of a batch (one row: the statement compiled once per connection)."""
    if len(rows) == 1:
        prepared.insert(rows[0])
    elif rows:
        type(rows[0]).objects.bulk_create(rows, batch_size=500)


# --- one attempt ----------------------------------------------------------------------------------


def _claimable(delivery_id: uuid.UUID):
    """The pending delivery, locked (busy: nothing), with its endpoint and whether it must wait
    for an earlier event of the same order or subscription: one with a delivery pending for the
    same endpoint, or one not fanned out yet (events in the order they happened, whatever the
    order their fan-outs ran in)."""
    earlier = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        aggregate_id=OuterRef("aggregate_id"),
        status=Status.PENDING,
        is_test=False,
        event__created_at__lt=OuterRef("event__created_at"),
    )
    undispatched = OutboxEvent.objects.filter(
        aggregate_id=OuterRef("aggregate_id"),
        created_at__lt=OuterRef("event__created_at"),
        dispatched_at__isnull=True,
    )
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id, status=Status.PENDING)
        .annotate(waits_for_earlier=Exists(earlier) | Exists(undispatched))
    )


_CLAIMABLE = PreparedSelect(_claimable)
_LEASE_FIELDS = ["locked_until", "attempt_count", "last_attempted_at", "updated_at"]
_OUTCOME_FIELDS = [
    "status",
    "completed_at",
    "next_attempt_at",
    "locked_until",
    "last_status_code",
    "last_error",
    "updated_at",
]


def take_lease(delivery: WebhookDelivery, now) -> None:
    """Take the delivery for one attempt (in memory; the caller writes it in its transaction)."""
    delivery.locked_until = now + lease()
    delivery.attempt_count += 1
    delivery.last_attempted_at = now


def _claim(delivery_id) -> tuple[WebhookDelivery | None, str]:
    now = timezone.now()
    with transaction.atomic():
        delivery = _CLAIMABLE.first(as_uuid(delivery_id))
        if delivery is None:
            return None, "done or busy"
        if delivery.locked_until and delivery.locked_until > now:
            return None, "claimed"
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            return None, "not due"
        endpoint = delivery.endpoint
        if not delivery.is_test:
            if endpoint is None:
                delivery.status = Status.FAILED
                delivery.last_error = "The webhook was removed"
                delivery.completed_at = now
                delivery.save(update_fields=["status", "last_error", "completed_at", "updated_at"])
                return None, "endpoint removed"
            if not endpoint.enabled:
                delivery.next_attempt_at = None  # held until the endpoint is enabled again
                delivery.save(update_fields=["next_attempt_at", "updated_at"])
                return None, "held"
            if delivery.waits_for_earlier:
                delivery.next_attempt_at = now + WAIT_FOR_EARLIER
                delivery.save(update_fields=["next_attempt_at", "updated_at"])
                return None, "waits for an earlier event"
        take_lease(delivery, now)
        prepared.update_fields(delivery, _LEASE_FIELDS)
    return delivery, "claimed"


def deliver(delivery_id) -> str:
    """One attempt of one delivery, if it is due and nobody else holds it. Returns what
    happened (for logs and tests)."""
    delivery, why = _claim(delivery_id)
    if delivery is None:
        return why
    return _attempt(delivery)


def _attempt(delivery: WebhookDelivery) -> str:
    """POST one claimed delivery and record what came back."""
    return attempt_all([delivery])[0]


def attempt_all(claimed: list[WebhookDelivery]) -> list[str]:
    """POST claimed deliveries one after the other (each signed as it goes) and record what came
    back, all in one transaction. Once the POSTs have waited INLINE_BUDGET for receivers, the
    rest are released and queued for other workers: a slow receiver holds up the rest of a
    commit's events by one timeout at most. Returns what happened to each attempted one."""
    results, waited = [], 0.0
    for index, delivery in enumerate(claimed):
        if waited >= INLINE_BUDGET:
            released = claimed[index:]
            break
        result = transport.post(delivery)
        waited += result["duration_ms"] / 1000
        results.append((delivery, result))
    else:
        released = []
    return _record(results, released)


def _record(results: list[tuple[WebhookDelivery, dict]], released: list[WebhookDelivery]):
    now = timezone.now()
    attempts, finished, outcomes = [], [], []
    with transaction.atomic():
        for delivery, result in results:
            ok = result["status_code"] is not None and 200 <= result["status_code"] < 300
            leased_until, number = delivery.locked_until, delivery.attempt_count
            delivery.last_status_code = result["status_code"]
            delivery.last_error = result["error"][:500]
            _outcome(delivery, ok, now)
            updated, followed = _update_if_leased(delivery, leased_until)
            if not updated:
                # The lease ran out mid-attempt and another worker took the row: the attempt is
                # recorded all the same, on the row as it is now.
                delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
                delivery.last_status_code = result["status_code"]
                delivery.last_error = result["error"][:500]
                _outcome(delivery, ok, now)
                delivery.save()
                followed = True
            attempts.append(
                WebhookAttempt(
                    delivery=delivery,
                    number=number,
                    signed_at_ms=result["signed_at"],
                    status_code=result["status_code"],
                    response_snippet=result["snippet"],
                    error=result["error"][:500],
                    duration_ms=result["duration_ms"],
                    succeeded=ok,
                )
            )
            if delivery.status != Status.PENDING and not delivery.is_test:
                if delivery.status == Status.FAILED:
                    _disable(delivery)
                if followed:
                    finished.append(delivery)
            outcomes.append(
                delivery.status if delivery.status != Status.PENDING else "retry scheduled"
            )
            logger.info(
                "webhook %s %s to %s: attempt %s, %s",
                delivery.pk,
                delivery.event_type,
                delivery.url,
                number,
                result["status_code"] or result["error"],
            )
        insert_all(attempts)
        _kick_following(finished)
        if released:
            _release(released)
    return outcomes


def _release(claimed: list[WebhookDelivery]) -> None:
    """Give back claims made by a fan-out that is not attempting them after all (they were
    made with it: no attempt yet) and queue them for other workers."""
    WebhookDelivery.objects.filter(
        pk__in=[d.pk for d in claimed],
        status=Status.PENDING,
        locked_until__in={d.locked_until for d in claimed},
    ).update(locked_until=None, attempt_count=0, last_attempted_at=None)
    queue.kick([d.pk for d in claimed])


def _outcome(delivery: WebhookDelivery, ok: bool, now) -> None:
    """Release the claim and set what comes next (in memory): done, the next retry of the
    round, or failed when the round's attempts are used up."""
    attempts_this_round = delivery.attempt_count - delivery.retry_base
    delivery.locked_until = None
    if ok:
        delivery.status = Status.SUCCESS
        delivery.completed_at = now
        delivery.next_attempt_at = None
    elif attempts_this_round >= MAX_ATTEMPTS:
        delivery.status = Status.FAILED
        delivery.completed_at = now
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + RETRY_AFTER[attempts_this_round - 1]


def _update_if_leased(delivery: WebhookDelivery, leased_until) -> tuple[bool, bool]:
    """``save(update_fields=_OUTCOME_FIELDS)`` while the row is still ours: pending and leased
    until the time our claim wrote. Returns (whether it was: false when the lease ran out and
    another worker claimed the row, whether a later delivery of the same order or subscription
    to the same endpoint may be waiting for this one: answered by the same statement where the
    database can return values from an UPDATE, else assumed). One statement, its text built
    without the ORM's compiler and prepared on the server."""
    connection = transaction.get_connection()
    meta = WebhookDelivery._meta
    fields = [meta.get_field(name) for name in _OUTCOME_FIELDS]
    qn = connection.ops.quote_name
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {table} SET {sets} "  # noqa: S608 - names from the model
        f"WHERE {pk} = %s AND {qn('status')} = %s AND {qn('locked_until')} = %s"
    )
    params = [f.get_db_prep_save(f.pre_save(delivery, False), connection) for f in fields]
    params += [
        meta.pk.get_db_prep_value(delivery.pk, connection),
        Status.PENDING.value,
        meta.get_field("locked_until").get_db_prep_value(leased_until, connection),
    ]
    returning = connection.features.can_return_columns_from_insert  # UPDATE … RETURNING too
    if returning:
        endpoint, aggregate = qn("endpoint_id"), qn("aggregate_id")
        sql += (
            f" RETURNING EXISTS(SELECT 1 FROM {table} later WHERE later.{endpoint} = "  # noqa: S608
            f"{table}.{endpoint} AND later.{aggregate} = {table}.{aggregate} AND "
            f"later.{qn('status')} = %s AND later.{qn('is_test')} = %s AND "
            f"later.{qn('next_attempt_at')} IS NOT NULL AND later.{pk} <> {table}.{pk})"
        )
        params += [
            Status.PENDING.value,
            meta.get_field("is_test").get_db_prep_value(False, connection),
        ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)  # the same text every time: prepared on the server
        if not returning:
            return cursor.rowcount == 1, True
        row = cursor.fetchone()
        return row is not None, row is not None and bool(row[0])


def _disable(delivery: WebhookDelivery) -> None:
    reason = (
        f"Disabled after {MAX_ATTEMPTS} failed attempts to deliver {delivery.event_type} "
        f"({delivery.last_error or f'HTTP {delivery.last_status_code}'})"
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, enabled=True).update(
        enabled=False, disabled_at=timezone.now(), disabled_reason=reason[:255]
    )


def _following(endpoint_ids: list[uuid.UUID], aggregate_ids: list[uuid.UUID]):
    """The deliveries of these orders or subscriptions to these endpoints still to go, in the
    order of their events."""
    return (
        WebhookDelivery.objects.filter(
            endpoint_id__any=endpoint_ids,
            aggregate_id__any=aggregate_ids,
            status=Status.PENDING,
            is_test=False,
            next_attempt_at__isnull=False,
        )
        .order_by("event__created_at", "created_at")
        .only("endpoint_id", "aggregate_id")
    )


_FOLLOWING = PreparedSelect(_following)


def _kick_following(finished: list[WebhookDelivery]) -> None:
    """Deliveries done: for each, the next delivery of the same order or subscription to the
    same endpoint, if any, may go now."""
    pairs = {(d.endpoint_id, d.aggregate_id) for d in finished if d.endpoint_id is not None}
    if not pairs:
        return  # (an endpoint removed: its deliveries fail when claimed)
    following = {}
    for later in _FOLLOWING.fetch(
        list({endpoint for endpoint, _ in pairs}), list({aggregate for _, aggregate in pairs})
    ):
        if (later.endpoint_id, later.aggregate_id) in pairs:
            following.setdefault((later.endpoint_id, later.aggregate_id), later.pk)
    if following:
        WebhookDelivery.objects.filter(pk__in=following.values()).update(
            next_attempt_at=timezone.now()
        )
        queue.kick(following.values())


# --- held and resent deliveries ------------------------------------------------------------------


def release_held(endpoint: WebhookEndpoint) -> int:
    """An endpoint enabled again: what waited goes out, oldest first."""
    held = list(
        WebhookDelivery.objects.filter(
            endpoint=endpoint, status=Status.PENDING, next_attempt_at__isnull=True
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=held).update(next_attempt_at=timezone.now())
    queue.kick(held)
    return len(held)


def resend(*, actor: Actor, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery again, same id and bytes, with a fresh round of retries. Owners and admins
    of its store only (``access_webhook_delivery``). Locks the delivery's row: one being attempted
    right now is left as it is. Queued for the worker once this commits."""
    with transaction.atomic():
        delivery = access_webhook_delivery(actor, delivery_id, min_role=Role.ADMIN)
        return _resend(delivery.pk)


def resend_by_staff(*, delivery_id: uuid.UUID) -> WebhookDelivery:
    """The admin's "Resend": as ``resend``, for platform staff (no store access check)."""
    with transaction.atomic():
        return _resend(delivery_id)


def _resend(delivery_id: uuid.UUID) -> WebhookDelivery:
    current = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if current.status == Status.PENDING and current.locked_until:
        return current  # being sent right now
    current.status = Status.PENDING
    current.retry_base = current.attempt_count
    current.next_attempt_at = timezone.now()
    current.completed_at = None
    current.save()
    queue.kick([current.pk])
    return current
