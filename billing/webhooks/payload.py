"""An outbox event as an endpoint receives it, in the SDK's event shape. The outbox keeps the
internal form (UUIDs, integer minor units); this renders it for the endpoint's API version (short
ids and display amounts, or UUIDs and integers: docs/api-versions.md) with the SDK's presence
rules. The bytes made here are frozen on the delivery and sent unchanged at every attempt."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

from pancake.api.fields import format_timestamp, render_amount, render_id

EVENT_TYPES = (
    "order.completed",
    "subscription.activated",
    "subscription.payment_succeeded",
    "subscription.renewed",
    "subscription.recovered",
    "subscription.plan_changed",
    "subscription.plan_change_scheduled",
    "subscription.plan_change_failed",
    "subscription.canceling",
    "subscription.uncanceled",
    "subscription.canceled",
    "subscription.past_due",
    "refund.succeeded",
    "refund.failed",
)
# The hosted service's documented name, accepted when subscribing: delivered as plan_changed.
ALIASES = {"subscription.updated": "subscription.plan_changed"}

PAYMENT_EVENTS = frozenset(
    {
        "order.completed",
        "subscription.activated",
        "subscription.payment_succeeded",
        "subscription.renewed",
        "subscription.recovered",
    }
)
REFUND_EVENTS = frozenset({"refund.succeeded", "refund.failed"})
# What each event's eventId is: the payment, the refund, or (subscription status) the order.
_SUBJECT_PREFIX = {**dict.fromkeys(PAYMENT_EVENTS, "PAY"), **dict.fromkeys(REFUND_EVENTS, "REF")}

_ORDER = (
    "orderId",
    "orderStatus",
    "buyerEmail",
    "merchantProvidedBuyerIdentity",
    "orderMerchantExternalId",
    "refundTicketMerchantExternalId",
    "currency",
    "billingDetail",
    "orderMetadata",
)
_AMOUNTS = ("chargedAmount", "refundedAmount", "amount", "taxAmount", "taxRate", "taxName")
_AMOUNTS += ("subtotal", "total")
_BREAKDOWN = ("listPrice", "originalPayment", "originalChargedAmount", "planPrice")
_PRODUCT = ("productName", "productDescription", "productMetadata")
_PAYMENT = (
    "paymentId",
    "paymentStatus",
    "paymentMethod",
    "paymentLast4",
    "paymentFailureReason",
    "paymentDate",
)
_SUBSCRIPTION = ("billingPeriod", "currentPeriodStart", "currentPeriodEnd", "canceledAt")
_SUBSCRIPTION += ("periodNumber",)
_REFUND = ("refundStatus", "refundReason", "refundCreatedAt")
FIELDS = _ORDER + _AMOUNTS + _BREAKDOWN + _PRODUCT + _PAYMENT + _SUBSCRIPTION + _REFUND

_MONEY = frozenset(
    {"chargedAmount", "refundedAmount", "amount", "taxAmount", "subtotal", "total"}
    | {"originalChargedAmount"}
)
_IDS = {"orderId": "ORD", "paymentId": "PAY"}
_BILLING_KEYS = ("country", "isBusiness", "postcode", "state", "businessName", "taxId")


def _allowed(event_type: str) -> frozenset[str]:
    """The SDK's presence rules as the fields an event may carry."""
    fields = set(_ORDER + _AMOUNTS + _PRODUCT + ("periodNumber",))
    if event_type not in REFUND_EVENTS:
        fields -= {"refundTicketMerchantExternalId", "refundedAmount"}
    if event_type in PAYMENT_EVENTS:
        fields.add("listPrice")
    else:
        fields.discard("chargedAmount")
    if event_type in ("order.completed", "subscription.payment_succeeded"):
        fields |= set(_PAYMENT)
    if event_type.startswith("subscription.") and event_type != "subscription.payment_succeeded":
        fields |= set(_SUBSCRIPTION)
        if event_type not in PAYMENT_EVENTS:
            fields.add("planPrice")
    if event_type == "subscription.payment_succeeded":
        fields.discard("orderStatus")
    if event_type in REFUND_EVENTS:
        fields |= set(_REFUND) | {"originalPayment", "originalChargedAmount"}
    return frozenset(fields)


def _breakdown(value: dict, currency: str, version: str) -> dict:
    out = {}
    for key in ("total", "subtotal", "taxAmount"):
        if value.get(key) is not None:
            out[key] = render_amount(int(value[key]), currency, version)
    if value.get("taxRate") is not None:  # a percentage here, as the SDK declares it
        out["taxRate"] = float(Decimal(str(value["taxRate"])))
    if value.get("taxName"):
        out["taxName"] = value["taxName"]
    return out


def _timestamp(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_timestamp(value) if isinstance(value, datetime) else str(value)


def render_data(event_type: str, data: dict, version: str) -> dict:
    allowed = _allowed(event_type)
    currency = data.get("currency") or "USD"
    out: dict = {}
    for key in FIELDS:
        if key not in allowed or data.get(key) is None:
            continue  # optional fields are absent when unknown, never zero-filled
        value = data[key]
        if key in _MONEY:
            value = render_amount(int(value), currency, version)
        elif key in _IDS:
            value = render_id(value, _IDS[key], version)
        elif key in ("listPrice", "planPrice", "originalPayment"):
            value = _breakdown(value, currency, version)
        elif key == "taxRate":
            value = float(Decimal(str(value)))
        elif key == "billingDetail":
            value = {k: value[k] for k in _BILLING_KEYS if k in value}
        out[key] = value
    return out


def render(
    *,
    delivery_id: uuid.UUID,
    event_type: str,
    subject_id,
    store,
    environment: str,
    created_at: datetime,
    data: dict,
    version: str,
) -> str:
    """The exact body of one delivery: compact JSON, keys in a fixed order."""
    payload = {
        "id": str(delivery_id),
        "event": event_type,
        "eventType": event_type,
        "eventId": render_id(subject_id, _SUBJECT_PREFIX.get(event_type, "ORD"), version),
        "timestamp": _timestamp(created_at),
        "storeId": render_id(store.pk, "STO", version),
        "storeName": store.name,
        "mode": environment,
        "data": render_data(event_type, data, version),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
