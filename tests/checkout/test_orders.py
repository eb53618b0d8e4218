"""Orders: every documented create-order error message and status, one transaction with the
provider call, one order per session under concurrency, and provider notifications applied
exactly once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from billing.models import Payment, ProviderEvent
from billing.providers import test_processor
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from products.services import product_create
from tests.factories import ProductFactory
from tests.helpers import ApiClient

US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}
DE = {"country": "DE", "isBusiness": False}


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, trial=True, name="Pro")


def new_session(api, product, currency="USD", **body) -> str:
    payload = {"productId": ids.encode("PROD", product.pk), "currency": currency, **body}
    return api.call("checkout/create-session", payload)["data"]["sessionId"]


def order(api, session_id, path="onetime-order/create-order", **body):
    return api.post(path, {"checkoutSessionId": session_id, **body})


def error_of(response):
    return response.status_code, response.json()["errors"][0]["message"]


def test_a_one_time_order_is_written_with_its_tax_and_a_pending_payment(api, book):
    session_id = new_session(api, book, currency="EUR")
    response = order(
        api, session_id, billingDetail=DE, buyerEmail=" Buyer@Example.com ", buyerIp="203.0.113.9"
    )
    assert response.status_code == 200, response.content
    url = response.json()["data"]["checkoutUrl"]
    placed = Order.objects.get()
    assert (placed.status, placed.subtotal, placed.tax_amount, placed.total) == (
        "pending",
        10000,
        1900,
        11900,
    )
    assert placed.buyer_email == "buyer@example.com" and placed.tax_name == "VAT"
    assert placed.tax_evidence["country"] == "DE" and placed.tax_evidence["rule"] == "eu_vat"
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.tax_amount, payment.currency) == (
        "pending",
        11900,
        1900,
        "EUR",
    )
    assert url.endswith(f"/test-processor/pay/{payment.provider_payment_id}/")
    session = CheckoutSession.objects.get(pk=session_id)
    assert (session.buyer_email, session.billing_detail) == ("buyer@example.com", DE)


def test_prefilled_details_on_the_session_are_enough(api, book):
    session_id = new_session(api, book, buyerEmail="pre@example.com", billingDetail=US)
    assert order(api, session_id).status_code == 200
    assert Order.objects.get().billing_detail == US


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {},
            (400, "Missing billingDetail: provide in request body or pre-fill in checkout session"),
        ),
        (
            {"billingDetail": {"country": "US", "isBusiness": False}, "buyerEmail": "a@b.co"},
            (400, "State is required for US/CA"),
        ),
        (
            {"billingDetail": US},
            (400, "Missing buyerEmail: provide in request body or pre-fill in checkout session"),
        ),
    ],
)
def test_create_order_refuses_missing_details_with_the_documented_messages(
    api, book, body, expected
):
    session_id = new_session(api, book)
    assert error_of(order(api, session_id, **body)) == expected
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_missing_session_id_malformed_json_and_unknown_sessions(api, book):
    assert error_of(api.post("onetime-order/create-order", {})) == (
        400,
        "Missing required field: checkoutSessionId",
    )
    assert error_of(api.raw("/v1/actions/onetime-order/create-order", b"{oops")) == (
        400,
        "Invalid JSON body",
    )
    unknown = order(
        api, "00000000-0000-4000-8000-000000000000", billingDetail=US, buyerEmail="a@b.co"
    )
    assert error_of(unknown) == (409, "Checkout session invalid, please re-enter")


def test_an_expired_session_must_be_re_entered(api, book):
    session_id = new_session(api, book)
    from django.utils import timezone

    CheckoutSession.objects.update(expires_at=timezone.now())
    assert error_of(order(api, session_id, billingDetail=US, buyerEmail="a@b.co")) == (
        409,
        "Checkout session invalid, please re-enter",
    )


def test_product_type_and_environment_must_match_the_session(api, book, merchant, key_pool):
    session_id = new_session(api, book)
    wrong = order(
        api,
        session_id,
        path="subscription-order/create-order",
        billingDetail=US,
        buyerEmail="a@b.co",
    )
    assert error_of(wrong) == (400, "Session product type mismatch: expected subscription")
    from tests.factories import make_api_key

    make_api_key(merchant, key_pool[1], environment="prod")
    prod = ApiClient(merchant, key_pool[1])
    assert error_of(order(prod, session_id, billingDetail=US, buyerEmail="a@b.co")) == (
        400,
        "Environment mismatch between request and session",
    )


def test_another_stores_key_is_refused(api, book, make_api):
    session_id = new_session(api, book)
    stranger = make_api(email="stranger@example.com")
    assert error_of(order(stranger, session_id, billingDetail=US, buyerEmail="a@b.co")) == (
        403,
        "Session does not belong to this store",
    )


def test_no_authentication_is_a_401(book, api):
    session_id = new_session(api, book)
    response = Client().post(
        "/v1/actions/onetime-order/create-order",
        data={"checkoutSessionId": session_id},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_a_buyer_token_places_the_order_and_its_email_identity_wins(api, book):
    session_id = new_session(api, book)
    token = api.call(
        "auth/issue-session-token",
        {"productId": ids.encode("PROD", book.pk), "buyerIdentity": "Token@Example.com"},
    )["data"]["token"]
    response = Client().post(
        "/v1/actions/onetime-order/create-order",
        data={
            "checkoutSessionId": session_id,
            "billingDetail": US,
            "buyerEmail": "ignored@example.com",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT="test",
    )
    assert response.status_code == 200, response.content
    placed = Order.objects.get()
    assert (placed.buyer_email, placed.buyer_identity) == ("token@example.com", "token@example.com")


def test_a_provider_failure_rolls_everything_back_and_a_retry_succeeds(api, book):
    session_id = new_session(api, book)
    test_processor.fail_next("create_payment", kind="error")
    failed = order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    assert failed.status_code == 502
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert CheckoutSession.objects.get(pk=session_id).buyer_email is None
    assert order(api, session_id, billingDetail=US, buyerEmail="a@b.co").status_code == 200
    assert Order.objects.count() == 1


def test_a_second_call_on_a_session_gets_the_same_payment_page(api, book):
    session_id = new_session(api, book)
    first = order(api, session_id, billingDetail=US, buyerEmail="a@b.co").json()["data"][
        "checkoutUrl"
    ]
    second = order(api, session_id, billingDetail=US, buyerEmail="a@b.co").json()["data"][
        "checkoutUrl"
    ]
    assert first == second
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def pay(payment, number="4242424242424242"):
    outcome = test_processor.submit_card(
        provider_payment_id=payment.provider_payment_id,
        number=number,
        exp_month=12,
        exp_year=2040,
        cvc="123",
        name="Ada",
    )
    return outcome


def deliver(notification):
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in notification.headers.items()}
    return Client().post(
        "/providers/test/notifications",
        data=notification.body,
        content_type="application/json",
        **headers,
    )


def test_a_paid_one_time_order_completes_once_even_when_the_notification_is_redelivered(api, book):
    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    payment = Payment.objects.get()
    outcome = pay(payment)
    assert deliver(outcome.notification).status_code == 200
    payment.refresh_from_db()
    placed = Order.objects.get()
    assert (payment.status, placed.status) == ("succeeded", "completed")
    assert payment.payment_method == "card"
    assert (
        payment.payment_method_details["brand"] == "visa"
        and payment.payment_method_details["last4"] == "4242"
    )
    first_paid = payment.paid_at
    assert deliver(outcome.notification).status_code == 200
    payment.refresh_from_db()
    assert payment.paid_at == first_paid and ProviderEvent.objects.count() == 1
    assert CheckoutSession.objects.get(pk=session_id).status == "completed"
    assert error_of(order(api, session_id, billingDetail=US, buyerEmail="a@b.co")) == (
        409,
        "Checkout session invalid, please re-enter",
    )


def test_a_declined_card_fails_the_payment_and_a_second_card_completes_the_order(api, book):
    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    payment = Payment.objects.get()
    deliver(pay(payment, "4000000000000002").notification)
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code, Order.objects.get().status) == (
        "failed",
        "card_declined",
        "pending",
    )
    deliver(pay(payment).notification)
    payment.refresh_from_db()
    assert (payment.status, Order.objects.get().status) == ("succeeded", "completed")


def test_a_tampered_notification_is_refused_and_changes_nothing(api, book):
    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    notification = pay(Payment.objects.get()).notification
    response = Client().post(
        "/providers/test/notifications",
        data=notification.body.replace(b"succeeded", b"failed"),
        content_type="application/json",
        HTTP_X_TEST_PROCESSOR_SIGNATURE=list(notification.headers.values())[0],
    )
    assert response.status_code == 400
    assert Payment.objects.get().status == "pending" and not ProviderEvent.objects.exists()


def test_a_subscription_with_a_trial_starts_trialing_without_a_charge(api, plan):
    session_id = new_session(api, plan, withTrial=True)
    response = order(
        api,
        session_id,
        path="subscription-order/create-order",
        billingDetail=US,
        buyerEmail="a@b.co",
    )
    assert response.status_code == 200, response.content
    payment = Payment.objects.get()
    assert payment.amount == 0
    deliver(pay(payment).notification)
    assert Order.objects.get().status == "trialing"
    assert Payment.objects.get().method_token


def test_a_subscription_without_trial_becomes_active_when_paid(api, plan):
    session_id = new_session(api, plan)
    order(
        api,
        session_id,
        path="subscription-order/create-order",
        billingDetail=US,
        buyerEmail="a@b.co",
    )
    payment = Payment.objects.get()
    assert payment.amount == 999 + Order.objects.get().tax_amount
    deliver(pay(payment).notification)
    assert Order.objects.get().status == "active"


def test_pending_one_time_orders_can_be_canceled_and_paid_ones_cannot(api, book):
    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    order_id = ids.encode("ORD", Order.objects.get().pk)
    response = api.post("onetime-order/cancel-order", {"orderId": order_id})
    assert response.json()["data"] == {"orderId": order_id, "status": "canceled"}
    again = api.post("onetime-order/cancel-order", {"orderId": order_id})
    assert error_of(again) == (400, "Only pending orders can be canceled: request a refund instead")


def test_no_card_number_or_cvc_is_stored_anywhere_after_a_purchase(api, book):
    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    deliver(pay(Payment.objects.get()).notification)
    with connection.cursor() as cursor:
        for table in (
            "billing_payment",
            "checkout_order",
            "checkout_checkoutsession",
            "billing_providerevent",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert "4242424242424242" not in dump and "'123'" not in dump


@pytest.mark.django_db(transaction=True)
def test_concurrent_create_order_calls_on_one_session_make_one_order(
    require_postgres, merchant, key_pool, store
):
    from tests.factories import make_api_key

    make_api_key(merchant, key_pool[2])
    product = product_create(
        store=store,
        kind="onetime",
        name="Race",
        prices={"USD": {"amount": 500, "taxCategory": "saas"}},
    )
    api = ApiClient(merchant, key_pool[2])
    session_id = new_session(api, product)
    barrier = threading.Barrier(6)
    results = []

    def worker():
        client = ApiClient(merchant, key_pool[2], Client())
        barrier.wait()
        response = order(client, session_id, billingDetail=US, buyerEmail="a@b.co")
        results.append((response.status_code, response.json()))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    urls = {body["data"]["checkoutUrl"] for status, body in results if status == 200}
    assert len(urls) == 1
    assert all(status in (200, 409) for status, _ in results)


def test_paying_on_the_hosted_card_page_completes_the_order(api, book):
    """Order → the provider page from create-order → card form → the order is completed."""
    session_id = new_session(api, book)
    url = order(api, session_id, billingDetail=US, buyerEmail="a@b.co").json()["data"][
        "checkoutUrl"
    ]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    browser = Client()
    assert browser.get(path).status_code == 200
    response = browser.post(
        path,
        {"number": "4242 4242 4242 4242", "expiry": "12/40", "cvc": "123", "name": "Ada Lovelace"},
    )
    assert response.status_code == 302
    assert "status=succeeded" in response["Location"]
    assert Order.objects.get().status == "completed"
    assert Payment.objects.get().payment_method_details["last4"] == "4242"


def test_a_paid_order_writes_its_event_once_in_the_same_transaction(api, book):
    from pancake.models import OutboxEvent

    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    payment = Payment.objects.get()
    assert not OutboxEvent.objects.exists()  # nothing happened yet
    outcome = pay(payment)
    deliver(outcome.notification)
    deliver(outcome.notification)  # redelivered: applied once
    event = OutboxEvent.objects.get()
    assert (event.event_type, event.subject_id, event.aggregate_id) == (
        "order.completed",
        payment.pk,
        Order.objects.get().pk,
    )
    assert (
        event.data["orderStatus"] == "completed" and event.data["chargedAmount"] == payment.amount
    )
    assert event.data["paymentLast4"] == "4242" and "4242424242424242" not in str(event.data)


def test_a_subscription_emits_activation_before_its_payment(api, plan):
    from pancake.models import OutboxEvent

    session_id = new_session(api, plan)
    order(
        api,
        session_id,
        path="subscription-order/create-order",
        billingDetail=US,
        buyerEmail="a@b.co",
    )
    deliver(pay(Payment.objects.get()).notification)
    types = list(
        OutboxEvent.objects.order_by("created_at", "event_type").values_list(
            "event_type", flat=True
        )
    )
    assert sorted(types) == ["subscription.activated", "subscription.payment_succeeded"]


def test_a_failed_apply_leaves_no_event(api, book, monkeypatch):
    from billing import services as billing_services
    from pancake.models import OutboxEvent

    session_id = new_session(api, book)
    order(api, session_id, billingDetail=US, buyerEmail="a@b.co")
    outcome = pay(Payment.objects.get())

    def explode(payment, subscription=None):
        billing_services.emit(
            store_id=payment.store_id, environment="test", event_type="x",
            subject_id=payment.pk, aggregate_id=payment.order_id, data={},
        )  # fmt: skip
        raise RuntimeError("crash after the event row")

    monkeypatch.setattr(billing_services, "_emit_payment_events", explode)
    with pytest.raises(RuntimeError):
        billing_services.notification_receive(
            environment="test", headers=outcome.notification.headers, body=outcome.notification.body
        )
    assert not OutboxEvent.objects.exists()
    assert Payment.objects.get().status == "pending" and not ProviderEvent.objects.exists()


def test_emit_refuses_to_run_outside_a_transaction(transactional_db):
    import uuid

    from pancake.outbox import emit

    some = uuid.uuid4()
    with pytest.raises(RuntimeError):
        emit(
            store_id=some,
            environment="test",
            event_type="x",
            subject_id=some,
            aggregate_id=some,
            data={},
        )
