"""The built-in test processor: a payment provider that lives in our own database.

Flow: ``create_payment`` opens a pending payment and answers the URL of our hosted card page
(``HOSTED_PAGE_PATH``); the page calls ``submit_card`` and, for 3-D Secure cards, ``confirm_3ds``.
Each outcome comes with a signed notification (``SignedNotification``) that ``parse_notification``
verifies, exactly as a real provider's webhook would arrive. ``charge_saved`` charges a saved card
off-session (renewals); ``refund`` refunds a succeeded payment.

Test cards (any future expiry, any CVC of the right length, any name):

=====================  =======================================================================
4242 4242 4242 4242    succeeds (visa)
5555 5555 5555 4444    succeeds (mastercard)
3782 822463 10005      succeeds (amex, 4-digit CVC)
4000 0000 0000 0002    declined, ``card_declined``
4000 0000 0000 9995    declined, ``insufficient_funds``
4000 0000 0000 0069    declined, ``expired_card``
4000 0027 6000 3184    3-D Secure step: approve -> succeeds, refuse -> ``authentication_failed``
4000 0000 0000 3220    3-D Secure step that fails whatever the buyer does, ``authentication_failed``
4000 0000 0000 0341    saves (amount 0, a trial) but is declined on every charge, ``card_declined``
any other Luhn-valid   succeeds
=====================  =======================================================================

A declined hosted payment may be retried on the page with another card (the later success is a
new notification event). Only brand, last 4 and expiry are stored; never the number or CVC.

Failures for tests: ``fail_next("charge_saved", kind="timeout")``. An ``error`` raises
``ProviderFailed`` before anything happens; a ``timeout`` does the work and then raises
``ProviderTimeout``, so a retry with the same attempt id finds the outcome; a ``hang`` does the
work and then does not answer for ``HANG_SECONDS`` before timing out (a caller that dies
meanwhile never learns the outcome: the crash between a charge and its record). Faults live in the
cache, not the database, so a caller's rolled-back transaction does not bring them back (shared
across processes when the cache is Redis; per process with the local-memory cache).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import router, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from billing.models import (
    TestProcessorCard,
    TestProcessorOutcome,
    TestProcessorPayment,
    TestProcessorRefund,
)
from billing.providers.base import (
    ChargeResult,
    HostedPayment,
    InvalidNotification,
    Notification,
    PaymentMethodInfo,
    ProviderTimeout,
    RefundResult,
)
from billing.providers.cards import normalize_number, validate_card
from pancake.api import prepared, rediscache
from pancake.api.errors import InvalidInput, NotFound, ProviderFailed
from pancake.money import check_currency

logger = logging.getLogger(__name__)

HOSTED_PAGE_PATH = "/test-processor/pay/{provider_payment_id}/"
SIGNATURE_HEADER = "X-Test-Processor-Signature"
OPERATIONS = ("create_payment", "charge_saved", "refund")
HANG_SECONDS = 60
_SIGNING_SALT = "pancake.billing.test_processor.notification"
_FAULT_KEY = "billing:test_processor:fault:{}"
_PAYMENT_PREFIX = "tp_"
_CARD_PREFIX = "tpcard_"
_REFUND_PREFIX = "tpref_"

Status = TestProcessorPayment.Status
ThreeDS = TestProcessorPayment.ThreeDS


@dataclass(frozen=True)
class CardBehaviour:
    decline: str = ""  # failure code when charged on the card page
    three_ds: str = ThreeDS.NONE
    off_session: str = TestProcessorOutcome.SUCCEED
    saves_without_charge: bool = False  # amount 0 (setup) succeeds even though charges decline


TEST_CARDS: dict[str, CardBehaviour] = {
    "4242424242424242": CardBehaviour(),
    "5555555555554444": CardBehaviour(),
    "378282246310005": CardBehaviour(),
    "4000000000000002": CardBehaviour(decline="card_declined"),
    "4000000000009995": CardBehaviour(decline="insufficient_funds"),
    "4000000000000069": CardBehaviour(decline="expired_card"),
    "4000002760003184": CardBehaviour(three_ds=ThreeDS.APPROVE),
    "4000000000003220": CardBehaviour(three_ds=ThreeDS.FAIL),
    "4000000000000341": CardBehaviour(
        decline="card_declined",
        off_session=TestProcessorOutcome.CARD_DECLINED,
        saves_without_charge=True,
    ),
}
_DEFAULT_BEHAVIOUR = CardBehaviour()


def failure_message(code: str) -> str:
    messages = {
        "card_declined": _("Your card was declined."),
        "insufficient_funds": _("Your card has insufficient funds."),
        "expired_card": _("Your card has expired."),
        "authentication_failed": _("The 3-D Secure authentication of your card failed."),
        "authentication_required": _("Your bank requires you to authenticate this payment."),
        "invalid_payment_method": _("The saved payment method does not exist."),
        "payment_not_refundable": _("Only a succeeded payment can be refunded."),
        "amount_too_large": _("The refund exceeds what is left to refund on the payment."),
        "currency_mismatch": _("The refund currency differs from the payment's."),
    }
    return str(messages.get(code, _("Your payment failed.")))


# -- injectable failures -------------------------------------------------------------------------


def fail_next(operation: str, kind: str = "error") -> None:
    """Make the next call of ``operation`` (create_payment, charge_saved, refund) fail once."""
    if operation not in OPERATIONS or kind not in ("error", "timeout", "hang"):
        raise ValueError(f"Unknown fault: {operation} {kind}")
    cache.set(_FAULT_KEY.format(operation), kind, timeout=None)


def clear_faults() -> None:
    cache.delete_many([_FAULT_KEY.format(op) for op in OPERATIONS])


def _take_fault(operation: str) -> str | None:
    key = _FAULT_KEY.format(operation)
    redis = rediscache.client()
    if redis is not None:
        backend, client = redis
        if not client.exists(backend.make_and_validate_key(key)):
            return None  # the usual case: one round trip on the thread's client
    kind = cache.get(key)
    # Only the caller whose delete removed the key suffers the fault: it happens once.
    if kind and cache.delete(key):
        return kind
    return None


def _raise_error(operation: str) -> None:
    logger.warning("test processor: injected error in %s", operation)
    raise ProviderFailed(f"The test processor failed ({operation})", layer="order")


def _raise_timeout(operation: str, fault: str = "timeout") -> None:
    if fault == "hang":
        time.sleep(HANG_SECONDS)
    logger.warning("test processor: injected timeout in %s", operation)
    raise ProviderTimeout(f"The test processor timed out ({operation})", layer="order")


# -- ids -----------------------------------------------------------------------------------------


def _payment_ref(payment: TestProcessorPayment) -> str:
    return f"{_PAYMENT_PREFIX}{payment.id}"


def _card_ref(card: TestProcessorCard | None) -> str | None:
    return f"{_CARD_PREFIX}{card.id}" if card is not None else None


def _parse_ref(value: str, prefix: str) -> uuid.UUID | None:
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    try:
        return uuid.UUID(value[len(prefix) :])
    except ValueError:
        return None


def _lock_payment(provider_payment_id: str) -> TestProcessorPayment:
    pk = _parse_ref(provider_payment_id, _PAYMENT_PREFIX)
    payment = TestProcessorPayment.objects.select_for_update().filter(pk=pk).first() if pk else None
    if payment is None:
        raise NotFound("Payment not found")
    return payment


def _method(payment: TestProcessorPayment) -> PaymentMethodInfo | None:
    if not payment.method_type:
        return None
    return PaymentMethodInfo(
        type=payment.method_type,
        brand=payment.method_brand or None,
        last4=payment.method_last4 or None,
        exp_month=payment.method_exp_month,
        exp_year=payment.method_exp_year,
    )


# What an off-session charge reads of the saved card.
_CARD = prepared.PreparedSelect(
    lambda pk: TestProcessorCard.objects.filter(pk=pk).only(
        "brand", "last4", "exp_month", "exp_year", "off_session_outcome"
    )[:1]
)


def _check_amount(amount: int, currency: str, *, allow_zero: bool) -> None:
    check_currency(currency)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput("Invalid amount: expected a whole number of minor units")
    if amount == 0 and not allow_zero:
        raise InvalidInput("Invalid amount: must be greater than 0")


def _check_same(payment: TestProcessorPayment, **wanted) -> None:
    for name, value in wanted.items():
        if getattr(payment, name) != value:
            raise ProviderFailed(
                f"Attempt {payment.attempt_id} was already used with a different {name}",
                layer="order",
            )


def _insert_new(payment: TestProcessorPayment) -> bool:
    """Insert ``payment`` unless one with its attempt id exists: one ``INSERT … ON CONFLICT DO
    NOTHING RETURNING id`` (SQLite: ``INSERT OR IGNORE … RETURNING``), no savepoint and no
    read first. True when this row went in; False when the attempt id was already taken (a
    concurrent twin's insert is waited for, so the caller can read it at once)."""
    # The statement text is compiled once per connection (pancake.api.prepared).
    return prepared.insert(
        payment, router.db_for_write(TestProcessorPayment), ignore_conflicts=True
    )


# -- notifications -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedNotification:
    """A notification as it travels: deliver ``body`` with ``headers`` to the notification
    endpoint, where ``parse_notification`` verifies it."""

    event_id: str
    headers: dict[str, str]
    body: bytes


def _sign(body: bytes) -> str:
    return salted_hmac(_SIGNING_SALT, body, algorithm="sha256").hexdigest()


def notification_for(payment: TestProcessorPayment) -> SignedNotification | None:
    """The notification of the payment's current outcome (None while it has none). Building it
    again is a redelivery: same event id, same body."""
    if payment.status not in (Status.SUCCEEDED, Status.FAILED):
        return None
    event_id = f"tpevt_{uuid.uuid5(payment.id, str(payment.event_seq))}"
    method = _method(payment)
    payload = {
        "eventId": event_id,
        "type": f"payment.{payment.status}",
        "paymentId": _payment_ref(payment),
        "attemptId": payment.attempt_id,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": method.as_dict() if method else None,
        "methodToken": _card_ref(payment.card) if payment.save_method else None,
        "failureCode": payment.failure_code or None,
        "failureMessage": payment.failure_message or None,
        "metadata": payment.metadata,
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return SignedNotification(
        event_id=event_id,
        headers={SIGNATURE_HEADER: _sign(body), "Content-Type": "application/json"},
        body=body,
    )


def redeliver(provider_payment_id: str) -> SignedNotification | None:
    pk = _parse_ref(provider_payment_id, _PAYMENT_PREFIX)
    payment = TestProcessorPayment.objects.select_related("card").filter(pk=pk).first()
    if payment is None:
        raise NotFound("Payment not found")
    return notification_for(payment)


def _header(headers: dict, name: str) -> str:
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}  # also request.META keys
    for key, value in (headers or {}).items():
        if isinstance(key, str) and key.lower() in wanted:
            return str(value)
    return ""


# -- the hosted card page's operations -----------------------------------------------------------


@dataclass(frozen=True)
class CardOutcome:
    """What the card page shows next. ``status``: ``invalid`` (fix ``errors`` and resubmit),
    ``requires_action`` (show the 3-D Secure step), ``succeeded`` or ``failed`` (with the
    notification to deliver)."""

    status: str
    provider_payment_id: str
    return_url: str
    errors: dict[str, str] = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    method: PaymentMethodInfo | None = None
    method_token: str | None = None
    notification: SignedNotification | None = None


def _outcome(payment: TestProcessorPayment) -> CardOutcome:
    return CardOutcome(
        status=payment.status,
        provider_payment_id=_payment_ref(payment),
        return_url=payment.return_url,
        failure_code=payment.failure_code or None,
        failure_message=payment.failure_message or None,
        method=_method(payment),
        method_token=_card_ref(payment.card) if payment.save_method else None,
        notification=notification_for(payment),
    )


def _succeed(payment: TestProcessorPayment, *, off_session_outcome: str) -> None:
    payment.status = Status.SUCCEEDED
    payment.failure_code = payment.failure_message = ""
    if payment.save_method and payment.card_id is None:
        payment.card = TestProcessorCard.objects.create(
            brand=payment.method_brand,
            last4=payment.method_last4,
            exp_month=payment.method_exp_month,
            exp_year=payment.method_exp_year,
            off_session_outcome=off_session_outcome or TestProcessorOutcome.SUCCEED,
        )
    payment.event_seq += 1
    payment.save()


def _fail(payment: TestProcessorPayment, code: str) -> None:
    payment.status = Status.FAILED
    payment.failure_code = code
    payment.failure_message = failure_message(code)
    payment.event_seq += 1
    payment.save()


def submit_card(
    *, provider_payment_id: str, number: str, exp_month, exp_year, cvc, name: str
) -> CardOutcome:
    """Pay a pending (or declined) hosted payment with a card typed on the card page. Checks
    Luhn, expiry, CVC and name first; an invalid card changes nothing. A payment that succeeded
    or waits for its 3-D Secure step is answered as it is. Locks the payment row."""
    check = validate_card(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name=name)
    behaviour = TEST_CARDS.get(normalize_number(number), _DEFAULT_BEHAVIOUR)
    with transaction.atomic():
        payment = _lock_payment(provider_payment_id)
        if payment.off_session or payment.status in (Status.SUCCEEDED, Status.REQUIRES_ACTION):
            return _outcome(payment)
        if not check.is_valid:
            return CardOutcome(
                status="invalid",
                provider_payment_id=_payment_ref(payment),
                return_url=payment.return_url,
                errors=check.errors,
            )
        payment.method_type = "card"
        payment.method_brand = check.brand
        payment.method_last4 = check.last4
        payment.method_exp_month = check.exp_month
        payment.method_exp_year = check.exp_year
        payment.pending_off_session_outcome = behaviour.off_session
        if behaviour.three_ds:
            payment.status = Status.REQUIRES_ACTION
            payment.three_ds = behaviour.three_ds
            payment.failure_code = payment.failure_message = ""
            payment.save()
        elif behaviour.decline and not (behaviour.saves_without_charge and payment.amount == 0):
            _fail(payment, behaviour.decline)
        else:
            _succeed(payment, off_session_outcome=behaviour.off_session)
    logger.info(
        "test processor: payment %s %s (%s %s)",
        _payment_ref(payment),
        payment.status,
        payment.method_brand,
        payment.method_last4,
    )
    return _outcome(payment)


def confirm_3ds(*, provider_payment_id: str, approve: bool) -> CardOutcome:
    """The buyer's answer on the 3-D Secure step. Locks the payment row."""
    with transaction.atomic():
        payment = _lock_payment(provider_payment_id)
        if payment.status != Status.REQUIRES_ACTION:
            return _outcome(payment)
        if approve and payment.three_ds == ThreeDS.APPROVE:
            _succeed(payment, off_session_outcome=payment.pending_off_session_outcome)
        else:
            _fail(payment, "authentication_failed")
    logger.info("test processor: 3-D Secure for %s: %s", _payment_ref(payment), payment.status)
    return _outcome(payment)


def card_set_off_session_outcome(method_token: str, outcome: str) -> None:
    """Make a saved card behave differently on its next off-session charges (dunning tests)."""
    pk = _parse_ref(method_token, _CARD_PREFIX)
    if outcome not in TestProcessorOutcome.values:
        raise ValueError(f"Unknown outcome: {outcome}")
    if not pk or not TestProcessorCard.objects.filter(pk=pk).update(off_session_outcome=outcome):
        raise NotFound("Payment method not found")


# -- the provider --------------------------------------------------------------------------------


def _charge_result(payment: TestProcessorPayment) -> ChargeResult:
    return ChargeResult(
        status=payment.status,
        provider_payment_id=_payment_ref(payment),
        failure_code=payment.failure_code or None,
        failure_message=payment.failure_message or None,
        method=_method(payment),
    )


def _refund_result(refund: TestProcessorRefund) -> RefundResult:
    return RefundResult(
        status=refund.status,
        provider_refund_id=f"{_REFUND_PREFIX}{refund.id}",
        provider_payment_id=f"{_PAYMENT_PREFIX}{refund.payment_id}",
        amount=refund.amount,
        currency=refund.currency,
        failure_code=refund.failure_code or None,
        failure_message=refund.failure_message or None,
    )


class TestProcessor:
    """The ``PaymentProvider`` of the test environment."""

    __test__ = False
    name = "test"

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
        fault = _take_fault("create_payment")
        if fault == "error":
            _raise_error("create_payment")
        _check_amount(amount, currency, allow_zero=save_method)
        payment = TestProcessorPayment(
            attempt_id=attempt_id,
            amount=amount,
            currency=currency,
            save_method=save_method,
            description=description[:500],
            return_url=return_url,
            metadata=metadata or {},
            locale=locale[:16],
            display=display or {},
        )
        if not _insert_new(payment):
            # The attempt id was used before (a retry): that payment, if it is the same one.
            payment = TestProcessorPayment.objects.get(attempt_id=attempt_id)
            _check_same(
                payment,
                amount=amount,
                currency=currency,
                save_method=save_method,
                off_session=False,
            )
        ref = _payment_ref(payment)
        hosted = HostedPayment(
            provider_payment_id=ref,
            url=settings.BASE_URL + HOSTED_PAGE_PATH.format(provider_payment_id=ref),
        )
        if fault == "timeout":
            _raise_timeout("create_payment")
        return hosted

    def charge_saved(
        self, *, attempt_id: str, method_token: str, amount: int, currency: str, metadata: dict
    ) -> ChargeResult:
        """Charge a saved card at once. The attempt id makes it happen at most once: a repeat
        answers the stored outcome."""
        fault = _take_fault("charge_saved")
        if fault == "error":
            _raise_error("charge_saved")
        _check_amount(amount, currency, allow_zero=False)
        payment = self._charge_once(attempt_id, method_token, amount, currency, metadata)
        _check_same(payment, amount=amount, currency=currency, off_session=True)
        if fault in ("timeout", "hang"):
            _raise_timeout("charge_saved", fault)
        return _charge_result(payment)

    def _charge_once(
        self, attempt_id: str, method_token: str, amount: int, currency: str, metadata: dict
    ) -> TestProcessorPayment:
        """The charge of ``attempt_id``: made now, its outcome decided by the card, or the one
        an earlier call with the same attempt id made (the insert finds the id taken, so the
        card's outcome now does not matter). Two statements, each compiled once per
        connection: renewals run one per subscription (bench/bench_renewals.py)."""
        pk = _parse_ref(method_token, _CARD_PREFIX)
        card = _CARD.first(pk) if pk else None
        payment = TestProcessorPayment(
            attempt_id=attempt_id,
            amount=amount,
            currency=currency,
            off_session=True,
            card=card,
            metadata=metadata or {},
            event_seq=1,
        )
        today = timezone.now().date()
        if card is None:
            code = "invalid_payment_method"
        else:
            payment.method_type = "card"
            payment.method_brand = card.brand
            payment.method_last4 = card.last4
            payment.method_exp_month = card.exp_month
            payment.method_exp_year = card.exp_year
            if (card.exp_year, card.exp_month) < (today.year, today.month):
                code = "expired_card"
            elif card.off_session_outcome == TestProcessorOutcome.SUCCEED:
                code = ""
            else:
                code = card.off_session_outcome
        if not code:
            payment.status = Status.SUCCEEDED
        else:
            payment.status = (
                Status.REQUIRES_ACTION if code == "authentication_required" else Status.FAILED
            )
            payment.failure_code = code
            payment.failure_message = failure_message(code)
        if not _insert_new(payment):
            # An earlier or concurrent call with the same attempt id charged: its outcome.
            return TestProcessorPayment.objects.get(attempt_id=attempt_id)
        logger.info(
            "test processor: off-session charge %s %s %s",
            _payment_ref(payment),
            payment.status,
            payment.failure_code,
        )
        return payment

    def refund(
        self, *, attempt_id: str, provider_payment_id: str, amount: int, currency: str
    ) -> RefundResult:
        fault = _take_fault("refund")
        if fault == "error":
            _raise_error("refund")
        _check_amount(amount, currency, allow_zero=False)
        with transaction.atomic():
            refund = TestProcessorRefund.objects.filter(attempt_id=attempt_id).first()
            if refund is None:
                payment = _lock_payment(provider_payment_id)
                refund = TestProcessorRefund.objects.filter(attempt_id=attempt_id).first()
            if refund is None:
                refund = TestProcessorRefund(
                    attempt_id=attempt_id,
                    payment=payment,
                    amount=amount,
                    currency=currency,
                    status=TestProcessorRefund.Status.SUCCEEDED,
                )
                if payment.status != Status.SUCCEEDED:
                    code = "payment_not_refundable"
                elif currency != payment.currency:
                    code = "currency_mismatch"
                elif amount > payment.amount - payment.refunded_amount:
                    code = "amount_too_large"
                else:
                    code = ""
                    payment.refunded_amount += amount
                    payment.save(update_fields=["refunded_amount", "updated_at"])
                if code:
                    refund.status = TestProcessorRefund.Status.FAILED
                    refund.failure_code = code
                    refund.failure_message = failure_message(code)
                refund.save(force_insert=True)
        if (
            refund.amount != amount
            or refund.currency != currency
            or f"{_PAYMENT_PREFIX}{refund.payment_id}" != provider_payment_id
        ):
            raise ProviderFailed(
                f"Attempt {attempt_id} was already used for a different refund", layer="order"
            )
        if fault == "timeout":
            _raise_timeout("refund")
        return _refund_result(refund)

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature or not constant_time_compare(signature, _sign(body)):
            raise InvalidNotification("Invalid notification signature")
        try:
            data = json.loads(body)
            method = data.get("method")
            return Notification(
                event_id=data["eventId"],
                provider_payment_id=data["paymentId"],
                status=data["status"],
                method=PaymentMethodInfo.from_dict(method) if method else None,
                method_token=data.get("methodToken"),
                failure_code=data.get("failureCode"),
                failure_message=data.get("failureMessage"),
                attempt_id=data.get("attemptId"),
                amount=data.get("amount"),
                currency=data.get("currency"),
                metadata=data.get("metadata") or {},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidNotification("Invalid notification body") from exc
