"""The payment-provider interface and the built-in test processor: card rules, every
documented test card, 3-D Secure, idempotent attempts, signed notifications, saved cards charged
off-session, injected failures, and no card number or CVC anywhere in our tables or logs."""

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import models

from billing import models as billing_models
from billing.providers import (
    InvalidNotification,
    PaymentProvider,
    ProviderTimeout,
    get_provider,
)
from billing.providers import test_processor as tp
from billing.providers.cards import detect_brand, luhn_valid, validate_card
from pancake.api.errors import InvalidInput, NotFound, ProviderFailed

FUTURE_YEAR = datetime.now(UTC).year + 5
NOW = "2026-11-23T10:00:00Z"


def open_payment(processor, *, amount=2900, currency="USD", save_method=False, attempt_id=None):
    return processor.create_payment(
        attempt_id=attempt_id or f"att-{uuid.uuid4()}",
        amount=amount,
        currency=currency,
        description="Pro plan",
        return_url="https://shop.example/thanks",
        save_method=save_method,
        metadata={"orderId": "ord-1"},
    )


def pay(processor, number, *, cvc=None, save_method=False, amount=2900, exp=(12, FUTURE_YEAR)):
    hosted = open_payment(processor, save_method=save_method, amount=amount)
    cvc = cvc or ("7319" if detect_brand(number.replace(" ", "")) == "amex" else "731")
    outcome = tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number=number,
        exp_month=exp[0],
        exp_year=exp[1],
        cvc=cvc,
        name="Ada Lovelace",
    )
    return hosted, outcome


# -- card rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4242424242424241", False),
        ("378282246310005", True),
        ("5555555555554444", True),
        ("79927398713", True),
        ("79927398710", False),
        ("0", True),
        ("42424242424242a2", False),
        ("", False),
    ],
)
def test_luhn_check(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("341111111111111", "amex"),
        ("6011111111111117", "discover"),
        ("3056930009020004", "diners"),
        ("3566002020360505", "jcb"),
        ("6200000000000005", "unionpay"),
        ("9999999999999995", "unknown"),
    ],
)
def test_brand_detection(number, brand):
    assert detect_brand(number) == brand


def check(**overrides):
    fields = {
        "number": "4242 4242 4242 4242",
        "exp_month": 12,
        "exp_year": FUTURE_YEAR,
        "cvc": "123",
        "name": "Ada Lovelace",
    }
    return validate_card(**{**fields, **overrides})


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": ""}, "number"),
        ({"number": "4242 4242 4242 4241"}, "number"),
        ({"number": "4242-4242-4242-424x"}, "number"),
        ({"number": "424242424242"}, "number"),  # Luhn-valid but too short for visa
        ({"number": "4242٤٢٤٢42424242"}, "number"),  # non-ASCII digits
        ({"exp_month": 0}, "expiry"),
        ({"exp_month": 13}, "expiry"),
        ({"exp_month": "ab"}, "expiry"),
        ({"exp_month": 10, "exp_year": 2026}, "expiry"),  # last month
        ({"exp_year": 2025}, "expiry"),
        ({"exp_year": 2047}, "expiry"),  # more than 20 years ahead
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "1234"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
        ({"number": "3782 822463 10005", "cvc": "123"}, "cvc"),  # amex wants 4 digits
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_card_fields_are_reported_per_field(overrides, field):
    result = check(**overrides)
    assert list(result.errors) == [field]
    assert result.errors[field]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"exp_month": 11, "exp_year": 2026},  # this month is still valid
        {"exp_month": "01", "exp_year": "46"},  # two-digit year, 20 years ahead
        {"number": "3782 822463 10005", "cvc": "1234"},
        {"number": "9999 9999 9999 9995"},  # any Luhn-valid number
    ],
)
def test_valid_cards_pass_and_keep_only_brand_last4_and_expiry(overrides):
    result = check(**overrides)
    assert result.is_valid, result.errors
    assert len(result.last4) == 4
    assert not hasattr(result, "number") and not hasattr(result, "cvc")


# -- the documented test cards -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "status", "code", "brand"),
    [
        ("4242 4242 4242 4242", "succeeded", None, "visa"),
        ("5555 5555 5555 4444", "succeeded", None, "mastercard"),
        ("3782 822463 10005", "succeeded", None, "amex"),
        ("4000 0000 0000 0002", "failed", "card_declined", "visa"),
        ("4000 0000 0000 9995", "failed", "insufficient_funds", "visa"),
        ("4000 0000 0000 0069", "failed", "expired_card", "visa"),
        ("4000 0027 6000 3184", "requires_action", None, "visa"),
        ("4000 0000 0000 3220", "requires_action", None, "visa"),
        ("4000 0000 0000 0341", "failed", "card_declined", "visa"),
        ("6011 1111 1111 1117", "succeeded", None, "discover"),
    ],
)
def test_every_test_card_has_its_documented_outcome(processor, number, status, code, brand):
    hosted, outcome = pay(processor, number)

    assert (outcome.status, outcome.failure_code) == (status, code)
    assert outcome.method.brand == brand
    assert outcome.method.last4 == number.replace(" ", "")[-4:]
    assert (outcome.method.exp_month, outcome.method.exp_year) == (12, FUTURE_YEAR)
    row = billing_models.TestProcessorPayment.objects.get()
    assert row.status == status
    if status == "requires_action":
        assert outcome.notification is None
    else:
        note = processor.parse_notification(
            headers=outcome.notification.headers, body=outcome.notification.body
        )
        assert (note.status, note.failure_code) == (status, code)
        assert note.provider_payment_id == hosted.provider_payment_id


def test_an_invalid_card_changes_nothing_and_can_be_corrected(processor):
    hosted = open_payment(processor)
    outcome = tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number="4242 4242 4242 4241",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        cvc="12",
        name="",
    )
    assert outcome.status == "invalid"
    assert set(outcome.errors) == {"number", "cvc", "name"}
    assert outcome.notification is None
    assert billing_models.TestProcessorPayment.objects.get().status == "pending"

    fixed = tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number="4242424242424242",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        cvc="123",
        name="Ada",
    )
    assert fixed.status == "succeeded"


def test_a_declined_card_can_be_retried_with_another_card_as_a_new_event(processor):
    hosted, declined = pay(processor, "4000000000000002")
    retried = tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number="4242424242424242",
        exp_month=1,
        exp_year=FUTURE_YEAR,
        cvc="123",
        name="Ada",
    )
    assert (declined.status, retried.status) == ("failed", "succeeded")
    assert retried.notification.event_id != declined.notification.event_id
    assert retried.failure_code is None


def test_a_succeeded_payment_is_never_charged_again_by_a_second_submit(processor):
    hosted, first = pay(processor, "4242424242424242")
    again = tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number="4000000000000002",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        cvc="123",
        name="Ada",
    )
    assert again.status == "succeeded"
    assert again.notification == first.notification


def test_submitting_to_an_unknown_payment_is_not_found(processor):
    with pytest.raises(NotFound):
        tp.submit_card(
            provider_payment_id=f"tp_{uuid.uuid4()}",
            number="4242424242424242",
            exp_month=12,
            exp_year=FUTURE_YEAR,
            cvc="123",
            name="Ada",
        )


# -- 3-D Secure ----------------------------------------------------------------------------------


def test_the_3ds_card_succeeds_when_the_buyer_approves(processor):
    hosted, outcome = pay(processor, "4000 0027 6000 3184", save_method=True)
    assert outcome.status == "requires_action"
    assert billing_models.TestProcessorCard.objects.count() == 0

    done = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=True)

    assert done.status == "succeeded"
    assert done.method_token
    note = processor.parse_notification(
        headers=done.notification.headers, body=done.notification.body
    )
    assert (note.status, note.method_token, note.method.last4) == (
        "succeeded",
        done.method_token,
        "3184",
    )


def test_the_3ds_card_fails_when_the_buyer_refuses(processor):
    hosted, _ = pay(processor, "4000 0027 6000 3184", save_method=True)
    done = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=False)
    assert (done.status, done.failure_code) == ("failed", "authentication_failed")
    assert done.method_token is None
    assert billing_models.TestProcessorCard.objects.count() == 0


def test_the_failing_3ds_card_fails_even_when_approved(processor):
    hosted, _ = pay(processor, "4000 0000 0000 3220")
    done = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=True)
    assert (done.status, done.failure_code) == ("failed", "authentication_failed")


def test_confirming_3ds_twice_keeps_the_first_answer(processor):
    hosted, _ = pay(processor, "4000 0027 6000 3184")
    first = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=True)
    second = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=False)
    assert first == second
    assert second.status == "succeeded"


# -- idempotency ---------------------------------------------------------------------------------


def test_create_payment_twice_with_one_attempt_id_makes_one_payment(processor):
    first = open_payment(processor, attempt_id="att-1")
    second = open_payment(processor, attempt_id="att-1")
    assert first == second
    assert first.url.endswith(f"/test-processor/pay/{first.provider_payment_id}/")
    assert billing_models.TestProcessorPayment.objects.count() == 1


def test_an_attempt_id_reused_with_another_amount_is_refused(processor):
    open_payment(processor, attempt_id="att-1")
    with pytest.raises(ProviderFailed) as exc:
        open_payment(processor, attempt_id="att-1", amount=100)
    assert exc.value.status == 502


def test_charge_saved_twice_with_one_attempt_id_charges_once(processor):
    _, saved = pay(processor, "4242424242424242", save_method=True)
    kwargs = dict(
        attempt_id="renewal-2", method_token=saved.method_token, amount=2900, currency="USD"
    )
    first = processor.charge_saved(**kwargs, metadata={})
    second = processor.charge_saved(**kwargs, metadata={})
    assert first == second
    assert billing_models.TestProcessorPayment.objects.filter(off_session=True).count() == 1


def test_refund_twice_with_one_attempt_id_refunds_once(processor):
    hosted, _ = pay(processor, "4242424242424242")
    kwargs = dict(provider_payment_id=hosted.provider_payment_id, amount=900, currency="USD")
    first = processor.refund(attempt_id="refund-1", **kwargs)
    second = processor.refund(attempt_id="refund-1", **kwargs)
    assert first == second
    assert first.status == "succeeded"
    assert billing_models.TestProcessorPayment.objects.get().refunded_amount == 900


def test_refunds_never_exceed_the_payment(processor):
    hosted, _ = pay(processor, "4242424242424242")
    ref = hosted.provider_payment_id
    assert processor.refund(attempt_id="r1", provider_payment_id=ref, amount=2000, currency="USD")
    too_much = processor.refund(
        attempt_id="r2", provider_payment_id=ref, amount=1000, currency="USD"
    )
    rest = processor.refund(attempt_id="r3", provider_payment_id=ref, amount=900, currency="USD")
    assert (too_much.status, too_much.failure_code) == ("failed", "amount_too_large")
    assert rest.status == "succeeded"


def test_a_failed_payment_cannot_be_refunded(processor):
    hosted, _ = pay(processor, "4000000000000002")
    result = processor.refund(
        attempt_id="r1", provider_payment_id=hosted.provider_payment_id, amount=1, currency="USD"
    )
    assert (result.status, result.failure_code) == ("failed", "payment_not_refundable")


@pytest.mark.parametrize(
    ("amount", "currency", "save_method"),
    [(0, "USD", False), (-1, "USD", False), (10, "XXX", False), (1.5, "USD", False)],
)
def test_create_payment_refuses_bad_amounts(processor, amount, currency, save_method):
    with pytest.raises(InvalidInput):
        open_payment(processor, amount=amount, currency=currency, save_method=save_method)


# -- notifications -------------------------------------------------------------------------------


def test_a_redelivered_notification_has_the_same_event_id(processor):
    hosted, outcome = pay(processor, "4242424242424242")
    again = tp.redeliver(hosted.provider_payment_id)
    assert again == outcome.notification
    assert outcome.notification.event_id.startswith("tpevt_")


def test_notification_headers_are_found_in_any_case_and_in_request_meta(processor):
    _, outcome = pay(processor, "4242424242424242")
    signature = outcome.notification.headers[tp.SIGNATURE_HEADER]
    for headers in (
        {"x-test-processor-signature": signature},
        {"HTTP_X_TEST_PROCESSOR_SIGNATURE": signature},
    ):
        note = processor.parse_notification(headers=headers, body=outcome.notification.body)
        assert note.status == "succeeded"
        assert note.metadata == {"orderId": "ord-1"}


def test_a_tampered_or_unsigned_notification_is_refused(processor):
    _, outcome = pay(processor, "4000000000000002")
    body = json.loads(outcome.notification.body)
    body["status"] = "succeeded"
    tampered = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(InvalidNotification) as exc:
        processor.parse_notification(headers=outcome.notification.headers, body=tampered)
    assert exc.value.status == 400
    with pytest.raises(InvalidNotification):
        processor.parse_notification(headers={}, body=outcome.notification.body)
    with pytest.raises(InvalidNotification):
        processor.parse_notification(
            headers={tp.SIGNATURE_HEADER: "0" * 64}, body=outcome.notification.body
        )


def test_a_signed_but_malformed_body_is_refused(processor):
    body = b'{"nothing": 1}'
    with pytest.raises(InvalidNotification):
        processor.parse_notification(headers={tp.SIGNATURE_HEADER: tp._sign(body)}, body=body)


# -- saved cards, off-session --------------------------------------------------------------------


def test_a_saved_card_is_charged_again_off_session(processor):
    _, first = pay(processor, "5555 5555 5555 4444", save_method=True)
    result = processor.charge_saved(
        attempt_id="renewal-2",
        method_token=first.method_token,
        amount=2900,
        currency="USD",
        metadata={"period": 2},
    )
    assert result.status == "succeeded"
    assert (result.method.brand, result.method.last4) == ("mastercard", "4444")
    assert result.provider_payment_id != first.provider_payment_id


def test_a_card_is_only_saved_when_asked(processor):
    _, outcome = pay(processor, "4242424242424242", save_method=False)
    assert outcome.method_token is None
    assert billing_models.TestProcessorCard.objects.count() == 0


def test_a_trial_saves_the_card_without_charging(processor):
    _, outcome = pay(processor, "4242424242424242", save_method=True, amount=0)
    assert outcome.status == "succeeded"
    assert outcome.method_token


def test_the_attach_then_decline_card_saves_but_fails_off_session(processor):
    _, saved = pay(processor, "4000 0000 0000 0341", save_method=True, amount=0)
    assert saved.status == "succeeded"
    result = processor.charge_saved(
        attempt_id="r", method_token=saved.method_token, amount=100, currency="USD", metadata={}
    )
    assert (result.status, result.failure_code) == ("failed", "card_declined")


@time_machine.travel(NOW)
def test_a_saved_card_can_be_told_to_decline_later_and_expires(processor):
    _, saved = pay(processor, "4242424242424242", save_method=True, exp=(12, 2027))
    tp.card_set_off_session_outcome(saved.method_token, "insufficient_funds")
    declined = processor.charge_saved(
        attempt_id="a", method_token=saved.method_token, amount=100, currency="USD", metadata={}
    )
    tp.card_set_off_session_outcome(saved.method_token, "succeed")
    with time_machine.travel("2028-01-15T00:00:00Z"):
        expired = processor.charge_saved(
            attempt_id="b", method_token=saved.method_token, amount=100, currency="USD", metadata={}
        )
    assert (declined.status, declined.failure_code) == ("failed", "insufficient_funds")
    assert (expired.status, expired.failure_code) == ("failed", "expired_card")


def test_an_unknown_token_is_a_failed_charge(processor):
    result = processor.charge_saved(
        attempt_id="a", method_token="tpcard_nope", amount=100, currency="USD", metadata={}
    )
    assert (result.status, result.failure_code) == ("failed", "invalid_payment_method")


# -- injected failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", tp.OPERATIONS)
def test_an_injected_error_fails_once_with_a_502_and_does_nothing(processor, operation):
    hosted, saved = pay(processor, "4242424242424242", save_method=True)
    calls = {
        "create_payment": lambda: open_payment(processor, attempt_id="x"),
        "charge_saved": lambda: processor.charge_saved(
            attempt_id="x", method_token=saved.method_token, amount=1, currency="USD", metadata={}
        ),
        "refund": lambda: processor.refund(
            attempt_id="x", provider_payment_id=hosted.provider_payment_id, amount=1, currency="USD"
        ),
    }
    before = (
        billing_models.TestProcessorPayment.objects.count(),
        billing_models.TestProcessorRefund.objects.count(),
    )
    tp.fail_next(operation)
    with pytest.raises(ProviderFailed) as exc:
        calls[operation]()
    assert exc.value.status == 502
    assert not isinstance(exc.value, ProviderTimeout)
    assert (
        billing_models.TestProcessorPayment.objects.count(),
        billing_models.TestProcessorRefund.objects.count(),
    ) == before
    assert calls[operation]()  # only once


def test_a_timed_out_charge_happened_and_the_retry_finds_it(processor):
    _, saved = pay(processor, "4242424242424242", save_method=True)
    kwargs = dict(attempt_id="renewal-2", method_token=saved.method_token, amount=2900)
    tp.fail_next("charge_saved", kind="timeout")
    with pytest.raises(ProviderTimeout) as exc:
        processor.charge_saved(**kwargs, currency="USD", metadata={})
    assert exc.value.status == 502

    retried = processor.charge_saved(**kwargs, currency="USD", metadata={})

    assert retried.status == "succeeded"
    assert billing_models.TestProcessorPayment.objects.filter(off_session=True).count() == 1


def test_a_timed_out_create_payment_and_refund_are_resumed_by_their_attempt_id(processor):
    tp.fail_next("create_payment", kind="timeout")
    with pytest.raises(ProviderTimeout):
        open_payment(processor, attempt_id="att-1")
    hosted = open_payment(processor, attempt_id="att-1")
    tp.submit_card(
        provider_payment_id=hosted.provider_payment_id,
        number="4242424242424242",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        cvc="123",
        name="Ada",
    )
    tp.fail_next("refund", kind="timeout")
    kwargs = dict(provider_payment_id=hosted.provider_payment_id, amount=2900, currency="USD")
    with pytest.raises(ProviderTimeout):
        processor.refund(attempt_id="r1", **kwargs)
    assert processor.refund(attempt_id="r1", **kwargs).status == "succeeded"
    assert billing_models.TestProcessorRefund.objects.count() == 1


def test_unknown_faults_are_refused():
    with pytest.raises(ValueError):
        tp.fail_next("submit_card")
    with pytest.raises(ValueError):
        tp.fail_next("refund", kind="slow")


# -- choosing a provider -------------------------------------------------------------------------


def test_the_test_environment_uses_the_test_processor():
    provider = get_provider("test")
    assert isinstance(provider, tp.TestProcessor)
    assert isinstance(provider, PaymentProvider)


def test_production_without_a_configured_provider_refuses_with_a_502(settings):
    settings.PAYMENT_PROVIDER_PROD = ""
    with pytest.raises(ProviderFailed) as exc:
        get_provider("prod")
    assert exc.value.status == 502
    assert str(exc.value) == "No payment provider is configured for production"
    assert exc.value.layer == "order"


def test_production_never_falls_back_to_the_test_processor(settings):
    settings.PAYMENT_PROVIDER_PROD = "test"
    with pytest.raises(ProviderFailed) as exc:
        get_provider("prod")
    assert exc.value.status == 502


# -- no card data anywhere -----------------------------------------------------------------------

CARD_RUN = re.compile(r"\d{13,19}")
CVCS = {"731", "7319"}


def billing_rows():
    for model in (
        billing_models.TestProcessorCard,
        billing_models.TestProcessorPayment,
        billing_models.TestProcessorRefund,
    ):
        for row in model.objects.all():
            for f in model._meta.concrete_fields:
                value = getattr(row, f.attname)
                text = json.dumps(value) if isinstance(f, models.JSONField) else str(value)
                yield model.__name__, f.name, text


def test_no_card_number_or_cvc_lands_in_the_database_or_the_logs(processor, caplog):
    caplog.set_level("DEBUG")
    numbers = ["4242 4242 4242 4242", "3782 822463 10005", "4000 0000 0000 0002"]
    for number in numbers:
        pay(processor, number, save_method=True)
    hosted, _ = pay(processor, "4000 0027 6000 3184", save_method=True)
    done = tp.confirm_3ds(provider_payment_id=hosted.provider_payment_id, approve=True)
    processor.charge_saved(
        attempt_id="renewal",
        method_token=done.method_token,
        amount=100,
        currency="USD",
        metadata={},
    )
    processor.refund(
        attempt_id="refund",
        provider_payment_id=hosted.provider_payment_id,
        amount=1,
        currency="USD",
    )
    invalid = open_payment(processor)
    tp.submit_card(
        provider_payment_id=invalid.provider_payment_id,
        number="4242 4242 4242 4241",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        cvc="731",
        name="Ada",
    )

    rows = list(billing_rows())
    assert len({model for model, _, _ in rows}) == 3
    full_numbers = {n.replace(" ", "") for n in numbers} | {"4000002760003184"}
    for model, name, text in rows:
        assert not CARD_RUN.search(text), (model, name, text)
        assert not any(n in text for n in full_numbers), (model, name)
        assert text not in CVCS, (model, name)
        if name in ("metadata", "description", "failure_message", "return_url"):
            assert not any(cvc in text for cvc in CVCS), (model, name)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # the flow does log
    assert not CARD_RUN.search(logged)
    assert not any(re.search(rf"\b{cvc}\b", logged) for cvc in CVCS)
