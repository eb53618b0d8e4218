"""The payment-provider interface that checkout, orders and renewals depend on.

A provider is any object with these methods (a ``typing.Protocol``, like Polar's
``tax/calculation/base.py``); inputs and outputs are plain dataclasses, money is an ``int`` in the
currency's minor unit next to its ISO 4217 code.

Every call that moves money takes an ``attempt_id``: the id of an attempt row the caller committed
before calling. It is the provider's idempotency key: a second call with the same
attempt id returns the first call's result and never charges or refunds twice, so a retry after a
crash or a timeout resumes the attempt.

Payment methods are described by ``PaymentMethodInfo`` only: type, brand, last 4 digits and
expiry. A full card number or CVC never crosses this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from pancake.api.errors import InvalidInput, ProviderFailed

MethodType = Literal["card", "bank_transfer", "wallet"]
ChargeStatus = Literal["succeeded", "failed", "requires_action"]
NotificationStatus = Literal["succeeded", "failed"]
RefundStatus = Literal["succeeded", "failed"]
# What a notification is about: a payment's outcome (the usual), a refund the provider reports
# (``refunded_amount``: the payment's total refunded so far), a chargeback the buyer's bank
# opened (``dispute_id``, ``dispute_reason``), or an event Pancake does not act on (recorded
# once, nothing applied).
NotificationKind = Literal["payment", "refund", "dispute", "ignored"]


class ProviderTimeout(ProviderFailed):
    """The provider did not answer in time. The operation may or may not have happened: retry
    with the same attempt id to learn its outcome."""


class InvalidNotification(InvalidInput):
    """A provider notification whose signature or body does not verify; nothing is applied."""

    layer = "gateway"


@dataclass(frozen=True)
class PaymentMethodInfo:
    type: MethodType
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None

    def as_dict(self) -> dict:
        return {
            "type": self.type,
            "brand": self.brand,
            "last4": self.last4,
            "expMonth": self.exp_month,
            "expYear": self.exp_year,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PaymentMethodInfo:
        return cls(
            type=data["type"],
            brand=data.get("brand"),
            last4=data.get("last4"),
            exp_month=data.get("expMonth"),
            exp_year=data.get("expYear"),
        )


@dataclass(frozen=True)
class HostedPayment:
    """A payment the buyer completes on the provider's hosted page at ``url``."""

    provider_payment_id: str
    url: str


@dataclass(frozen=True)
class ChargeResult:
    """The outcome of an off-session charge of a saved method (renewals, upgrades)."""

    status: ChargeStatus
    provider_payment_id: str
    failure_code: str | None = None
    failure_message: str | None = None
    method: PaymentMethodInfo | None = None


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    provider_refund_id: str
    provider_payment_id: str
    amount: int
    currency: str
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class Notification:
    """A verified provider event about one payment. ``event_id`` is unique per event and the
    same on every redelivery: apply it once (unique key on it)."""

    event_id: str
    provider_payment_id: str
    status: NotificationStatus
    method: PaymentMethodInfo | None = None
    method_token: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    attempt_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    metadata: dict = field(default_factory=dict)
    kind: NotificationKind = "payment"
    refunded_amount: int | None = None
    dispute_id: str | None = None
    dispute_reason: str | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    """What the rest of Pancake needs from a payment provider."""

    name: str

    def create_payment(
        self,
        *,
        attempt_id: str,
        amount: int,
        currency: str,
        description: str,
        return_url: str,
        save_method: bool,
        metadata: dict,
        locale: str = "en",
        display: dict | None = None,
    ) -> HostedPayment:
        """Open a hosted payment for ``amount`` (0 with ``save_method`` saves the method without
        charging: trials). The outcome arrives as a notification; with ``save_method`` the
        notification carries the method token for later off-session charges.

        ``locale`` is the language of the hosted page (a checkout language code); ``display``
        what it shows beside the card form, already translated: ``{"lines": [[label, value],
        ...], "button": "Start trial", "branding": {...}}``, where ``branding`` is the store's
        checkout look in the ``checkoutSettings`` vocabulary (``theme`` light or dark, its colours
        and ``checkoutBorderRadius``, ``logo``, ``storeName``); providers that cannot show a key
        ignore it."""
        ...

    def charge_saved(
        self, *, attempt_id: str, method_token: str, amount: int, currency: str, metadata: dict
    ) -> ChargeResult:
        """Charge a saved method off-session, at once."""
        ...

    def refund(
        self, *, attempt_id: str, provider_payment_id: str, amount: int, currency: str
    ) -> RefundResult:
        """Refund all or part of a succeeded payment."""
        ...

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        """Verify and parse one inbound notification; raise ``InvalidNotification`` when the
        signature or body does not verify."""
        ...
