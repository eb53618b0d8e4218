"""The merchant's notification center (docs/notifications.md): the outbox consumer that writes
a store's notifications from committed events, what a member sees of them, and marking read.

Notifications are written only here, after commit, from the outbox (``consume`` is an
``OUTBOX_CONSUMERS`` entry), never inline in a request: a rolled-back change left no event, so it
leaves no notification. Each event makes at most one notification (``event_id`` is unique), so
relaying an event twice writes it once.

Who sees one: its ``recipient`` alone when it has one (a sign-in from a new device: the merchant
who signed in), else every active member of the store, or its owners and admins only
(``managers_only``: an API key made or deleted by a member, which can act on the store). Which
environment: the event's, as the header's toggle chooses; sign-ins show in both. Read state is
per member. The store's notification settings (``notifyNewOrders``, ``notifyNewSubscriptions``,
``notifySubscriptionCanceled``) turn their kinds off for new events."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from pancake.api.errors import NotFound
from pancake.models import Environment, OutboxEvent
from pancake.outbox import emit
from stores.models import (
    KnownDevice,
    Merchant,
    Notification,
    NotificationKind,
    NotificationRead,
    Role,
)
from stores.selectors import active_stores_for, has_role

K = NotificationKind

# Event type → the kind of notification it makes.
KINDS = {
    "order.completed": K.PAYMENT,
    "subscription.payment_succeeded": K.PAYMENT,
    "payment.failed": K.PAYMENT_FAILED,
    "subscription.payment_failed": K.PAYMENT_FAILED,
    "refund_ticket.created": K.REFUND_REQUEST,
    "refund_ticket.resubmitted": K.REFUND_REQUEST,
    "subscription.activated": K.SUBSCRIPTION,
    "subscription.canceling": K.CANCELLATION,
    "subscription.canceled": K.CANCELLATION,
    "api_key.created": K.API_KEY_CREATED,
    "api_key.deleted": K.API_KEY_DELETED,
    "merchant.new_device_sign_in": K.NEW_DEVICE,
}

# The store's notification switches that turn a kind off (kinds without one are always on).
SETTINGS = {
    K.PAYMENT: "notifyNewOrders",
    K.SUBSCRIPTION: "notifyNewSubscriptions",
    K.CANCELLATION: "notifySubscriptionCanceled",
}

# The fields of an event's data a notification keeps to say what happened.
DETAIL_FIELDS = (
    "currency",
    "productName",
    "buyerEmail",
    "reason",
    "keyName",
    "userAgent",
    "merchantEmail",
)
# The object a kind links to: the data field holding its id.
OBJECT_FIELD = {
    K.PAYMENT: "paymentId",
    K.PAYMENT_FAILED: "paymentId",
    K.REFUND_REQUEST: "ticketId",
    K.SUBSCRIPTION: "orderId",
    K.CANCELLATION: "orderId",
}

DEVICE_COOKIE = "pancake_device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
UNREAD_CAP = 100  # the bell counts up to 99, then says "99+"
PAGE_SIZE = 25


# --- the outbox consumer ------------------------------------------------------------------------


def _notification(event: OutboxEvent) -> Notification | None:
    kind = KINDS.get(event.event_type)
    if kind is None:
        return None
    data = event.data or {}
    if kind == K.REFUND_REQUEST and data.get("submitterType") != "customer":
        return None  # a refund the merchant filed themselves is no news to them
    switch = SETTINGS.get(kind)
    if switch and not event.store.notifications.get(switch, True):
        return None
    details = {key: data[key] for key in DETAIL_FIELDS if data.get(key) is not None}
    for field in ("chargedAmount", "requestedAmount", "total"):  # the amount it is about
        if isinstance(data.get(field), int):
            details["amount"] = data[field]
            break
    if kind == K.CANCELLATION:
        details["scheduled"] = event.event_type == "subscription.canceling"
    object_field = OBJECT_FIELD.get(kind)
    recipient_id = data.get("merchantId") if kind == K.NEW_DEVICE else None
    return Notification(
        event_id=event.pk,
        store_id=event.store_id,
        environment="" if kind == K.NEW_DEVICE else event.environment,
        kind=kind,
        recipient_id=recipient_id,
        managers_only=kind in (K.API_KEY_CREATED, K.API_KEY_DELETED),
        object_id=data.get(object_field) if object_field else None,
        details=details,
        created_at=event.occurred_at or event.created_at,
    )


def consume(events, *, from_sweep: bool = False) -> None:
    """Outbox consumer (``OUTBOX_CONSUMERS``): the notifications of a commit's events, in one
    INSERT that skips the events already written (safe to run twice, and concurrently)."""
    ids = [event_id for event_id, event_type, _subject in events if event_type in KINDS]
    if not ids:
        return
    rows = OutboxEvent.objects.select_related("store").filter(pk__in=ids).order_by("created_at")
    made = [n for n in (_notification(event) for event in rows) if n is not None]
    if made:
        Notification.objects.bulk_create(made, ignore_conflicts=True)


# --- what a member sees -------------------------------------------------------------------------


def visible(store, merchant, role: str, environment: str) -> QuerySet[Notification]:
    """The store's notifications ``merchant`` (with ``role`` in it) sees in ``environment``,
    newest first, each with ``is_read`` (theirs)."""
    audience = Q(recipient=merchant) | Q(recipient__isnull=True, managers_only=False)
    if has_role(role, Role.ADMIN):
        audience |= Q(recipient__isnull=True, managers_only=True)
    reads = NotificationRead.objects.filter(notification=OuterRef("pk"), merchant=merchant)
    return (
        Notification.objects.filter(store=store)
        .filter(Q(environment=environment) | Q(environment=""))
        .filter(audience)
        .annotate(is_read=Exists(reads))
        .order_by("-created_at", "-id")
    )


def unread_count(store, merchant, role: str, environment: str) -> int:
    """How many are unread, counted up to ``UNREAD_CAP`` (the bell says "99+" beyond)."""
    unread = visible(store, merchant, role, environment).filter(is_read=False)
    return unread.values("pk")[:UNREAD_CAP].count()


def page_of(
    store,
    merchant,
    role: str,
    environment: str,
    *,
    kind: str = "",
    unread_only: bool = False,
    after: tuple[datetime, uuid.UUID] | None = None,
    size: int = PAGE_SIZE,
) -> tuple[list[Notification], tuple[datetime, uuid.UUID] | None]:
    """One page, newest first, after the keyset ``after`` (the last row of the page before:
    its time and id); returns the rows and the next page's keyset (None on the last page)."""
    rows = visible(store, merchant, role, environment)
    if kind:
        rows = rows.filter(kind=kind)
    if unread_only:
        rows = rows.filter(is_read=False)
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    found = list(rows[: size + 1])
    more = len(found) > size
    found = found[:size]
    return found, ((found[-1].created_at, found[-1].pk) if more else None)


# --- marking read -------------------------------------------------------------------------------


def mark_read(store, merchant, role: str, environment: str, notification_id) -> None:
    """``merchant`` has read one notification (another member's or store's: 404)."""
    if not visible(store, merchant, role, environment).filter(pk=notification_id).exists():
        raise NotFound("Notification not found", layer="store")
    NotificationRead.objects.bulk_create(
        [NotificationRead(notification_id=notification_id, merchant=merchant)],
        ignore_conflicts=True,
    )


def mark_all_read(
    store, merchant, role: str, environment: str, *, kind: str = "", batch: int = 1000
) -> int:
    """Every notification ``merchant`` sees unread in ``environment`` is read, only those of
    ``kind`` when the page is filtered to one (those written since the page was shown
    included); returns how many, written ``batch`` at a time."""
    unread = visible(store, merchant, role, environment).filter(is_read=False)
    if kind:
        unread = unread.filter(kind=kind)
    total = 0
    while ids := list(unread.values_list("pk", flat=True)[:batch]):
        NotificationRead.objects.bulk_create(
            [NotificationRead(notification_id=pk, merchant=merchant) for pk in ids],
            ignore_conflicts=True,
        )
        total += len(ids)
    return total


# --- events the stores app emits ----------------------------------------------------------------


def emit_api_key_event(key, event_type: str) -> None:
    """``api_key.created``/``api_key.deleted`` in each store the key's merchant is an active
    member of (a key acts on all of them), in the key's environment. In the caller's
    transaction."""
    for store_id in active_stores_for(key.merchant).values_list("pk", flat=True):
        emit(
            store_id=store_id,
            environment=key.environment,
            event_type=event_type,
            subject_id=key.pk,
            aggregate_id=key.pk,
            data={
                "apiKeyId": str(key.pk),
                "keyName": key.name,
                "merchantId": str(key.merchant_id),
                "merchantEmail": key.merchant.email,
            },
        )


def _device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_sign_in(merchant: Merchant, token: str | None, user_agent: str) -> str:
    """A sign-in from the browser holding the device cookie ``token`` (None: no cookie).
    Returns the cookie to keep (a new one for a browser not seen before). A browser the merchant
    has not signed in from before tells each of their stores (``merchant.new_device_sign_in``),
    except on the first sign-in ever recorded (nothing to compare with)."""
    now = timezone.now()
    known = KnownDevice.objects.filter(merchant=merchant, token_hash=_device_hash(token or ""))
    if token and known.update(last_seen_at=now):
        return token
    token = secrets.token_urlsafe(32)
    user_agent = (user_agent or "")[:300]
    with transaction.atomic():
        first = not KnownDevice.objects.filter(merchant=merchant).exists()
        device = KnownDevice.objects.create(
            merchant=merchant, token_hash=_device_hash(token), user_agent=user_agent
        )
        if not first:
            for store_id in active_stores_for(merchant).values_list("pk", flat=True):
                emit(
                    store_id=store_id,
                    environment=Environment.PROD,
                    event_type="merchant.new_device_sign_in",
                    subject_id=uuid.uuid4(),
                    aggregate_id=merchant.pk,
                    data={
                        "merchantId": str(merchant.pk),
                        "deviceId": device.pk,
                        "userAgent": user_agent,
                    },
                )
    return token
