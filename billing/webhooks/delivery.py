"""Delivering outbox events to webhook endpoints (SPEC 9, issue 11).

1. ``fan_out(event_id)``: after the change's transaction commits, one delivery per subscribed
   endpoint, its body rendered for the endpoint's API version and frozen; the event is marked
   dispatched in the same transaction, so it fans out once.
2. ``deliver(delivery_id)``: claims the row (a lease, so a worker that dies mid-POST loses
   nothing: the sweep takes the row again when the lease ends), checks the destination again
   after resolving it, signs the frozen body afresh and POSTs it; any 2xx is success. Failures are
   retried after 5 min, 30 min, 2 h, 8 h and 24 h; the last failure marks the delivery failed and
   disables the endpoint. Deliveries to a disabled endpoint are held (``next_attempt_at`` empty)
   until it is enabled again. Deliveries of one order or subscription to one endpoint go out in
   the order their events happened: a later one waits while an earlier one is pending.
3. ``sweep()``: the periodic safety net: events not fanned out (Redis was down at commit, a
   worker crashed) and deliveries that are due or whose lease ran out.

Every step re-reads its rows and is safe to run twice; receivers dedupe on the payload ``id``.

Speed (bench/bench_webhooks.py): the fan-out task claims its first due delivery in the
transaction that makes it and POSTs it once that commits (no second task, no claim statement set;
the others are kicked to run in parallel); every hot statement is compiled once per connection
(``pancake.api.prepared``) and an attempt's outcome is one conditional UPDATE while the lease is
still ours. Each worker thread keeps a urllib3 pool so a receiver's keep-alive connection is
reused (a response is read to its end, within bounds, before its connection goes back to the
pool; otherwise the connection is closed). Ordering holds whatever order the fan-outs run in: a
delivery waits while an earlier event of its order or subscription is not fanned out yet or has
a delivery pending for the same endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from datetime import timedelta
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from billing.models import WebhookAttempt, WebhookChannel, WebhookDelivery, WebhookEndpoint
from billing.webhooks import keys, payload, urls
from pancake.api import prepared
from pancake.api.prepared import PreparedSelect
from pancake.models import OutboxEvent

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
SNIPPET = 1000
DRAIN = 64 * 1024  # read at most this much more of a response to keep its connection
WAIT_FOR_EARLIER = timedelta(seconds=30)  # re-check a delivery queued behind an earlier one
# re-check a delivery whose order's earlier event was still being fanned out (by another worker)
WAIT_FOR_FAN_OUT = timedelta(seconds=2)
# seconds a fan-out task waits for receivers on a commit's first attempts; then it queues the rest
INLINE_BUDGET = 1.0


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def lease() -> timedelta:
    return timedelta(seconds=2 * timeout_seconds() + 20)


def _kick(delivery_ids, *, after: timedelta | None = None) -> None:
    """Queue deliveries once the current transaction commits, to run ``after`` that long if
    given (the sweep covers a lost kick)."""
    from billing import tasks

    ids = [str(i) for i in delivery_ids]
    if not ids:
        return
    countdown = after.total_seconds() if after else None

    def send():
        for delivery_id in ids:
            tasks.deliver_webhook.apply_async((delivery_id,), countdown=countdown)

    transaction.on_commit(send, robust=True)


# --- fan-out -------------------------------------------------------------------------------------


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return not endpoint.events or event_type in endpoint.events  # no list: every event


# Events that also send the buyer's receipt and the merchant's new-order email.
EMAIL_EVENTS = frozenset({"order.completed", "subscription.activated"})


def _queue_emails(payment_ids: list[str]) -> None:
    """Emails ride on the outbox too, so a broker outage at commit loses none: they are queued
    before the events are marked dispatched; if queuing fails, the events stay undispatched and
    the sweep tries again. The email task sends each email at most once (EmailDelivery rows). One
    message for the orders of one batch."""
    if not payment_ids:
        return
    from checkout.tasks import send_order_emails

    send_order_emails.delay(payment_ids[0] if len(payment_ids) == 1 else payment_ids)


def _queue_emails_of(events) -> None:
    """The emails of events whose type and subject the caller knows (``emit()`` put them in the
    fan-out message: no query, and an event that sends no email costs nothing here)."""
    _queue_emails([str(subject) for _, kind, subject in events if kind in EMAIL_EVENTS])


def _queue_emails_read(event_ids) -> None:
    """The emails of events known by id only (the sweep, messages of before): read them."""
    _queue_emails(
        [
            str(subject)
            for subject in OutboxEvent.objects.filter(
                pk__in=event_ids, dispatched_at__isnull=True, event_type__in=EMAIL_EVENTS
            )
            .order_by("created_at")
            .values_list("subject_id", flat=True)
        ]
    )


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def fan_out_events(events) -> list[uuid.UUID]:
    """The fan-out task's work for the events of one commit (``[event_id, event_type,
    subject_id]`` each, in the order they were emitted): their emails queued in one message, then
    their deliveries made in one transaction, each event's first due delivery claimed as it is
    made and POSTed right here once that commits (``_attempt_all``)."""
    _queue_emails_of(events)
    return _fan_out([_as_uuid(event_id) for event_id, _, _ in events], deliver_first=True)


def fan_out(
    event_id, *, deliver_first: bool = False, event_type: str | None = None, subject_id=None
) -> list[uuid.UUID]:
    """One event's fan-out (see ``_fan_out``); ``event_type`` and ``subject_id``, when the
    caller knows them, spare the email step a query."""
    event_id = _as_uuid(event_id)
    if event_type is None:
        _queue_emails_read([event_id])
    else:
        _queue_emails_of([(event_id, event_type, subject_id)])
    return _fan_out([event_id], deliver_first=deliver_first)


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
        _attempt_all(claimed)
    return [d.pk for d in deliveries]


def _events_to_fan_out(event_ids: list[uuid.UUID]):
    """The events among ``event_ids`` not fanned out yet, locked (those another worker holds are
    left out), oldest first, with their store (the payload's name), whether an earlier event of
    the same order or subscription, outside this batch, is still to be fanned out, and whether
    a delivery of it is pending anywhere (if none is, ``_pending_for`` has nothing to say)."""
    earlier = OutboxEvent.objects.filter(
        aggregate_id=OuterRef("aggregate_id"),
        created_at__lt=OuterRef("created_at"),
        dispatched_at__isnull=True,
    ).exclude(pk__any=event_ids)
    return (
        OutboxEvent.objects.select_related("store")
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk__any=event_ids, dispatched_at__isnull=True)
        .annotate(
            follows_undispatched=Exists(earlier),
            has_pending=Exists(
                WebhookDelivery.objects.filter(
                    aggregate_id=OuterRef("aggregate_id"), status=Status.PENDING, is_test=False
                )
            ),
        )
        .order_by("created_at", "pk")
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
    (deliveries made, the ones claimed for an attempt by the caller).

    Order per order or subscription and endpoint: a delivery is due at once only when no earlier
    delivery of it is pending there (made before, or just now for an earlier event of the batch)
    and no earlier event of it waits to be fanned out (its fan-out may be running on another
    worker right now); otherwise it waits: behind a pending delivery until that one's completion
    lets it go (``_kick_following``; WAIT_FOR_EARLIER at the latest), behind an event being
    fanned out for a re-check WAIT_FOR_FAN_OUT later."""
    events = _lock_events(event_ids)
    if not events:
        return [], []
    now = timezone.now()
    endpoints = {
        place: _ENDPOINTS_OF.fetch(*place)
        for place in {(e.store_id, e.environment) for e in events}
    }
    # the events (by time) each endpoint has a delivery pending for, per order or subscription
    pending: dict[tuple, list] = defaultdict(list)
    endpoint_ids = [endpoint.pk for found in endpoints.values() for endpoint in found]
    if endpoint_ids and any(e.has_pending for e in events):
        aggregate_ids = list({e.aggregate_id for e in events})
        for earlier in _PENDING_FOR.fetch(endpoint_ids, aggregate_ids):
            pending[(earlier.endpoint_id, earlier.aggregate_id)].append(earlier.event_created_at)
    deliveries, claimed, due = [], [], []
    for event in events:
        first = claim_first
        for endpoint in endpoints[(event.store_id, event.environment)]:
            if not _subscribed(endpoint, event.event_type):
                continue
            waiting_behind = pending[(endpoint.pk, event.aggregate_id)]
            if not endpoint.enabled:
                next_attempt_at = None  # held until the endpoint is enabled again
            elif any(created < event.created_at for created in waiting_behind):
                next_attempt_at = now + WAIT_FOR_EARLIER
            elif event.follows_undispatched:
                next_attempt_at = now + WAIT_FOR_FAN_OUT
            else:
                next_attempt_at = now
            waiting_behind.append(event.created_at)  # the batch's later events wait for it
            delivery = _delivery(event, endpoint, next_attempt_at)
            deliveries.append(delivery)
            if next_attempt_at != now:
                continue
            if first:
                first = False
                _lease(delivery, now)  # claimed as it is made: nobody else can hold it yet
                claimed.append(delivery)
            else:
                due.append(delivery)
    _insert_all(deliveries)
    if len(events) == 1:
        events[0].dispatched_at = now
        prepared.update_fields(events[0], ["dispatched_at"])
    else:
        OutboxEvent.objects.filter(pk__any=[e.pk for e in events]).update(dispatched_at=now)
    _kick([d.pk for d in due])
    recheck = now + WAIT_FOR_FAN_OUT
    _kick([d.pk for d in deliveries if d.next_attempt_at == recheck], after=WAIT_FOR_FAN_OUT)
    return deliveries, claimed


def _delivery(event: OutboxEvent, endpoint: WebhookEndpoint, next_attempt_at) -> WebhookDelivery:
    delivery_id = uuid.uuid4()
    body = payload.render(
        delivery_id=delivery_id,
        event_type=event.event_type,
        subject_id=event.subject_id,
        store=event.store,
        environment=event.environment,
        created_at=event.created_at,
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


def _insert_all(rows: list) -> None:
    """One INSERT for the rows of a batch (one row: the statement compiled once per connection)."""
    if len(rows) == 1:
        prepared.insert(rows[0])
    elif rows:
        type(rows[0]).objects.bulk_create(rows, batch_size=500)


# --- one attempt ---------------------------------------------------------------------------------


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


def _lease(delivery: WebhookDelivery, now) -> None:
    """Take the delivery for one attempt (in memory; the caller writes it in its transaction)."""
    delivery.locked_until = now + lease()
    delivery.attempt_count += 1
    delivery.last_attempted_at = now


def _claim(delivery_id) -> tuple[WebhookDelivery | None, str]:
    now = timezone.now()
    with transaction.atomic():
        delivery = _CLAIMABLE.first(_as_uuid(delivery_id))
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
        _lease(delivery, now)
        prepared.update_fields(delivery, _LEASE_FIELDS)
    return delivery, "claimed"


def _chat_message(delivery: WebhookDelivery) -> dict:
    """A short, human-readable message for the chat channels."""
    body = json.loads(delivery.body)
    data = body.get("data") or {}
    mode = "" if body.get("mode") == "prod" else "[test] "
    amount = data.get("chargedAmount") or data.get("refundedAmount") or data.get("total")
    parts = [f"{mode}{body.get('storeName')}: {body.get('eventType')}"]
    if data.get("productName"):
        parts.append(str(data["productName"]))
    if amount is not None and data.get("currency"):
        parts.append(f"{amount} {data['currency']}")
    if data.get("buyerEmail"):
        parts.append(str(data["buyerEmail"]))
    text = " · ".join(parts)
    if delivery.channel == WebhookChannel.SLACK:
        return {"text": text}
    if delivery.channel == WebhookChannel.DISCORD:
        return {"content": text}
    if delivery.channel == WebhookChannel.TELEGRAM:
        return {"text": text}
    return {"msg_type": "text", "content": {"text": text}}  # feishu


def _feishu_sign(secret: str) -> dict:
    import base64
    import hashlib
    import hmac

    timestamp = str(int(time.time()))
    key = f"{timestamp}\n{secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": timestamp, "sign": sign}


def _request(delivery: WebhookDelivery) -> tuple[bytes, dict, int | None]:
    headers = {"Content-Type": "application/json", "User-Agent": "Pancake-Webhooks/1.0"}
    if delivery.channel == WebhookChannel.HTTP:
        signature, signed_at = keys.signature_header(delivery.environment, delivery.body)
        headers.update(
            {
                keys.SIGNATURE_HEADER: signature,
                "X-Environment": delivery.environment,
                "X-Pancake-Event": delivery.event_type,
                "X-Pancake-Delivery": str(delivery.pk),
            }
        )
        return delivery.body.encode(), headers, signed_at
    message = _chat_message(delivery)
    secret = delivery.endpoint.secret if delivery.endpoint else None
    if delivery.channel == WebhookChannel.FEISHU and secret:
        message.update(_feishu_sign(secret))
    return json.dumps(message, ensure_ascii=False).encode(), headers, None


_local = threading.local()


POOLS_PER_THREAD = 64


def _ca_bundle() -> dict:
    """TLS is verified as requests did: against REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) when
    set, else certifi's bundle."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    bundle = bundle or certifi.where()
    return {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}


def _pool(url: str, address: str):
    """(connection pool, request target, Host header) for POSTing ``url`` to ``address``, the
    address the SSRF check just judged. The pool connects to that address itself: no second
    resolution of the name (DNS rebinding), no proxy from the environment (which would make the
    check moot), no ~/.netrc credentials; the name still goes in Host, in TLS SNI and in the
    certificate check. urllib3 itself, not requests: a third of the client's CPU per POST.

    One pool per (scheme, address, port, name) and worker thread, the least recently used
    closed beyond POOLS_PER_THREAD: receivers' keep-alive connections are reused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    key = (scheme, address, port, parts.hostname)
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = OrderedDict()
    pool = pools.get(key)
    if pool is None:
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                maxsize=1,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                server_hostname=parts.hostname,
                assert_hostname=parts.hostname,
                **_ca_bundle(),
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, maxsize=1, retries=False)
        pools[key] = pool
        if len(pools) > POOLS_PER_THREAD:
            pools.popitem(last=False)[1].close()
    else:
        pools.move_to_end(key)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return pool, target, parts.netloc.rpartition("@")[2]


def _read_snippet(response) -> str:
    """The first SNIPPET bytes of the body. The rest is drained (at most DRAIN bytes, within the
    timeout) so the connection can be reused; otherwise, or on any error, it is closed. The
    status code is the answer: a body that breaks off changes nothing."""
    deadline = time.monotonic() + timeout_seconds()
    head = b""
    try:
        head = response.read(SNIPPET, decode_content=True) or b""
        drained = 0
        while drained <= DRAIN and time.monotonic() < deadline:
            chunk = response.read(16 * 1024, decode_content=True)
            if not chunk:
                response.release_conn()
                break
            drained += len(chunk)
        else:
            response.close()
    except Exception:  # noqa: BLE001 - a broken body: the connection goes, the status stands
        response.close()
    return head.decode("utf-8", "replace")[:SNIPPET]


def _post(delivery: WebhookDelivery) -> dict:
    started = time.monotonic()
    result = {"status_code": None, "snippet": "", "error": "", "signed_at": None}
    try:
        address = urls.resolve_checked(delivery.url, delivery.environment)
        body, headers, result["signed_at"] = _request(delivery)
        pool, target, host = _pool(delivery.url, address)
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host},
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=min(5.0, timeout_seconds()), read=timeout_seconds()),
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            result["status_code"] = response.status
            result["snippet"] = _read_snippet(response)
        finally:
            response.release_conn()  # a no-op once the connection went back to the pool
    except urls.UnsafeDestination as exc:
        result["error"] = f"Refused destination: {exc}"
    except urllib3.exceptions.TimeoutError:
        result["error"] = f"No answer within {timeout_seconds():g} s"
    except urllib3.exceptions.HTTPError as exc:
        result["error"] = f"Connection failed: {_failure_name(exc)}"
    result["duration_ms"] = int((time.monotonic() - started) * 1000)
    return result


def _failure_name(exc: Exception) -> str:
    """The names the attempt log has always shown (requests' exception classes)."""
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "SSLError"
    if isinstance(exc, urllib3.exceptions.LocationValueError):
        return "InvalidURL"
    return "ConnectionError"


def deliver(delivery_id) -> str:
    """One attempt of one delivery, if it is due and nobody else holds it. Returns what
    happened (for logs and tests)."""
    delivery, why = _claim(delivery_id)
    if delivery is None:
        return why
    return _attempt(delivery)


def _attempt(delivery: WebhookDelivery) -> str:
    """POST one claimed delivery and record what came back."""
    return _attempt_all([delivery])[0]


def _attempt_all(claimed: list[WebhookDelivery]) -> list[str]:
    """POST claimed deliveries one after the other (each signed as it goes) and record what came
    back, all in one transaction. Once the POSTs have waited INLINE_BUDGET for receivers, the
    rest are released and queued for other workers: a slow receiver holds up the rest of a
    commit's events by one timeout at most. Returns what happened to each attempted one."""
    results, waited = [], 0.0
    for index, delivery in enumerate(claimed):
        if waited >= INLINE_BUDGET:
            released = claimed[index:]
            break
        result = _post(delivery)
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
        _insert_all(attempts)
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
    _kick([d.pk for d in claimed])


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
        _kick(following.values())


# --- held, resent and test deliveries ------------------------------------------------------------


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
    _kick(held)
    return len(held)


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, same id and bytes, with a fresh round of retries."""
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if current.status == Status.PENDING and current.locked_until:
            return current  # being sent right now
        current.status = Status.PENDING
        current.retry_base = current.attempt_count
        current.next_attempt_at = timezone.now()
        current.completed_at = None
        current.save()
        _kick([current.pk])
    return current


def send_test(endpoint: WebhookEndpoint, event_type: str = "order.completed") -> WebhookDelivery:
    """A sample event to one endpoint, marked as a test in the log (not in the payload: the
    receiver sees a normal event of its type, with made-up ids)."""
    from pancake.api.fields import format_timestamp

    delivery_id, subject, order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    data = {
        "orderId": str(order),
        "orderStatus": "completed",
        "buyerEmail": "buyer@example.com",
        "currency": "USD",
        "billingDetail": {"country": "US", "isBusiness": False, "state": "CA"},
        "amount": 2900,
        "taxAmount": 0,
        "taxRate": "0",
        "subtotal": 2900,
        "total": 2900,
        "chargedAmount": 2900,
        "listPrice": {"total": 2900, "subtotal": 2900, "taxAmount": 0},
        "productName": "Test event",
        "paymentId": str(subject),
        "paymentStatus": "succeeded",
        "paymentMethod": "card",
        "paymentLast4": "4242",
        "paymentDate": format_timestamp(now),
        "billingPeriod": "monthly",
    }
    body = payload.render(
        delivery_id=delivery_id,
        event_type=event_type,
        subject_id=subject,
        store=endpoint.store,
        environment=endpoint.environment,
        created_at=now,
        data=data,
        version=endpoint.api_version,
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            id=delivery_id,
            endpoint=endpoint,
            store_id=endpoint.store_id,
            environment=endpoint.environment,
            event_type=event_type,
            subject_id=subject,
            aggregate_id=order,
            channel=endpoint.channel,
            url=endpoint.url,
            body=body,
            is_test=True,
            next_attempt_at=now,
        )
        _kick([delivery.pk])
    return delivery


# --- the sweep -----------------------------------------------------------------------------------


def sweep(*, limit: int = 500) -> dict:
    """Fan out events left behind and send deliveries that are due or whose lease ran out."""
    from billing import tasks

    now = timezone.now()
    grace = now - timedelta(seconds=float(getattr(settings, "WEBHOOK_SWEEP_GRACE_SECONDS", 10)))
    events = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=grace)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(events), 100):
        batch = events[start : start + 100]
        _queue_emails_read(batch)
        _fan_out(batch, deliver_first=False)
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        tasks.deliver_webhook.delay(str(delivery_id))
    return {"events": len(events), "deliveries": len(due)}
