"""The Stripe provider end to end against localstripe: an order's PaymentIntent paid on the
step-2 page, its webhook applied exactly once, bad signatures refused, refunds and disputes."""

from __future__ import annotations

import pytest
import stripe
from django.core import mail
from django.urls import reverse

from billing import services as billing_services
from billing.models import Payment, PaymentStatus, ProviderEvent, StripeIntent
from billing.providers import ProviderTimeout, get_provider
from billing.providers import stripe as stripe_provider
from billing.providers.stripe import StripeProvider, page_url
from checkout.models import OrderStatus
from pancake.api import ids
from pancake.models import OutboxEvent
from stores.models import Notification
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.stripe import helpers as h

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}
REFUND = "payment/refund-payment"

pytestmark = pytest.mark.usefixtures("stripe_settings")


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def placed(api, store) -> Payment:
    """A one-time order of 29.00 USD placed through the API, its payment pending at Stripe."""
    return buy(api, ProductFactory(store=store), currency="USD", billing=US)


def succeeded_event(intent_id: str) -> dict:
    (event,) = [
        e for e in h.events("payment_intent.succeeded") if e["data"]["object"]["id"] == intent_id
    ]
    return event


def paid_through_webhook(payment: Payment, capture, number="4242424242424242") -> Payment:
    assert h.pay(payment.pk, number)["status"] == "succeeded"
    with capture(execute=True):
        response = h.deliver(succeeded_event(payment.provider_payment_id))
    assert response.status_code == 200, response.content
    payment.refresh_from_db()
    return payment


def test_the_test_environment_uses_stripe_when_chosen():
    provider = get_provider("test")
    assert isinstance(provider, StripeProvider)
    assert provider.name == "stripe"


def test_an_order_is_a_payment_intent_on_a_customer_and_our_step_2_page(placed):
    assert placed.provider == "stripe"
    assert placed.provider_payment_id.startswith("pi_")
    intent = h.api().v1.payment_intents.retrieve(placed.provider_payment_id)
    assert (intent.amount, intent.currency, intent.status) == (
        2900,
        "usd",
        "requires_payment_method",
    )
    assert intent.metadata["paymentId"] == str(placed.pk)
    assert intent.metadata["orderId"] == str(placed.order_id)
    assert intent.customer.startswith("cus_")
    assert h.api().v1.customers.retrieve(intent.customer).email == "buyer@example.com"
    assert not getattr(intent, "setup_future_usage", None)  # a one-time payment keeps no card
    row = StripeIntent.objects.get(attempt_id=str(placed.pk))
    assert (row.intent_id, row.kind, row.amount, row.currency) == (
        intent.id,
        "payment",
        2900,
        "USD",
    )
    # The page's data: the intent's client secret (never stored) and the publishable key.
    data = billing_services.stripe_page_data(placed.pk)
    assert data["clientSecret"] == intent.client_secret
    assert data["publishableKey"].startswith("pk_test_")
    assert data["kind"] == "payment"
    assert data["returnUrl"].endswith(f"/checkout/{placed.order.session_id}")
    assert page_url(str(placed.pk)).endswith(f"/checkout/stripe/{placed.pk}/")


def test_showing_the_page_again_reuses_the_intent(api, placed):
    provider = get_provider("test")
    again = provider.create_payment(
        attempt_id=str(placed.pk),
        amount=2900,
        currency="USD",
        description="x",
        return_url="http://testserver/",
        save_method=False,
        metadata={"orderId": str(placed.order_id)},
    )
    assert again.provider_payment_id == placed.provider_payment_id
    assert StripeIntent.objects.count() == 1
    assert len(h.api().v1.payment_intents.list().data) == 1


def test_the_succeeded_webhook_pays_the_order_once(placed, capture):
    payment = paid_through_webhook(placed, capture)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.payment_method == "card"
    assert payment.payment_method_details["last4"] == "4242"
    assert payment.payment_method_details["expYear"] == 2040
    assert payment.order.status == OrderStatus.COMPLETED
    events_before = OutboxEvent.objects.count()
    assert [e.event_type for e in OutboxEvent.objects.filter(aggregate_id=payment.order_id)] == [
        "order.completed"
    ]
    # Redelivered (Stripe retries until it sees a 2xx): answered 200, nothing changes.
    with capture(execute=True):
        again = h.deliver(succeeded_event(payment.provider_payment_id))
    assert again.status_code == 200
    assert OutboxEvent.objects.count() == events_before
    assert ProviderEvent.objects.filter(provider="stripe").count() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_the_return_pages_recheck_and_the_webhook_are_one_event(placed, capture):
    h.pay(placed.pk)
    with capture(execute=True):
        synced = billing_services.provider_payment_sync(
            environment="test", attempt_id=str(placed.pk)
        )
    assert synced.status == PaymentStatus.SUCCEEDED
    events_before = OutboxEvent.objects.count()
    with capture(execute=True):
        assert h.deliver(succeeded_event(placed.provider_payment_id)).status_code == 200
    assert OutboxEvent.objects.count() == events_before
    assert ProviderEvent.objects.filter(provider="stripe").count() == 1


def test_a_declined_card_fails_the_payment_and_another_card_then_pays(placed, capture):
    answer = h.pay(placed.pk, "4000000000000341")
    assert (answer["status"], answer["failureCode"]) == ("requires_payment_method", "card_declined")
    (failed,) = h.events("payment_intent.payment_failed")
    with capture(execute=True):
        assert h.deliver(failed).status_code == 200
    placed.refresh_from_db()
    assert (placed.status, placed.failure_code) == (PaymentStatus.FAILED, "card_declined")
    payment = paid_through_webhook(placed, capture)
    assert payment.status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    "header",
    [
        "",  # none
        "t=1,v1=00",  # garbage
        "wrong-secret",  # signed with another secret
        "stale",  # an old timestamp (replayed)
    ],
)
def test_a_bad_signature_is_a_400_and_nothing_is_applied(placed, capture, header):
    h.pay(placed.pk)
    body = h.body_of(succeeded_event(placed.provider_payment_id))
    if header == "wrong-secret":
        header = h.signature(body, "whsec_someone_else")
    elif header == "stale":
        header = h.signature(body, timestamp=1_600_000_000)
    with capture(execute=True):
        response = h.deliver(body, header=header)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Invalid notification signature"
    placed.refresh_from_db()
    assert placed.status == PaymentStatus.PENDING
    assert not ProviderEvent.objects.exists()


def test_the_webhook_is_a_404_when_no_environment_uses_stripe(placed, settings):
    h.pay(placed.pk)
    event = succeeded_event(placed.provider_payment_id)
    settings.PAYMENT_PROVIDER_TEST = "test_processor"
    assert h.deliver(event).status_code == 404


# --- refunds -------------------------------------------------------------------------------------


def pay_id(payment) -> str:
    return ids.encode("PAY", payment.pk)


def stripe_refunded(payment) -> int:
    refunds = h.api().v1.refunds.list(params={"payment_intent": payment.provider_payment_id})
    return sum(refund.amount for refund in refunds.data)


def test_a_partial_then_the_full_remaining_refund_go_through_stripe_refunds(api, placed, capture):
    payment = paid_through_webhook(placed, capture)
    with capture(execute=True):
        api.call(REFUND, {"paymentId": pay_id(payment), "reason": "Late",
                          "amount": {"amount": "5.50", "currency": "USD"}})  # fmt: skip
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.PARTIALLY_REFUNDED, 550)
    assert stripe_refunded(payment) == 550
    refund = payment.refunds.get()
    assert refund.provider == "stripe" and refund.provider_refund_id.startswith("re_")
    with capture(execute=True):
        api.call(REFUND, {"paymentId": pay_id(payment), "reason": "The rest"})
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.REFUNDED, 2900)
    assert stripe_refunded(payment) == 2900
    # Stripe's charge.refunded events are recorded once each and change nothing more.
    for event in h.events("charge.refunded"):
        with capture(execute=True):
            assert h.deliver(event).status_code == 200
            assert h.deliver(event).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.REFUNDED, 2900)
    assert ProviderEvent.objects.filter(event_id__contains=":refunded:").count() == 2


def test_a_refund_retried_with_the_same_refund_id_refunds_once(placed, capture):
    payment = paid_through_webhook(placed, capture)
    provider = get_provider("test")
    first = provider.refund(attempt_id="ref-1", provider_payment_id=payment.provider_payment_id,
                            amount=1000, currency="USD")  # fmt: skip
    again = provider.refund(attempt_id="ref-1", provider_payment_id=payment.provider_payment_id,
                            amount=1000, currency="USD")  # fmt: skip
    assert first.status == again.status == "succeeded"
    assert first.provider_refund_id == again.provider_refund_id
    assert stripe_refunded(payment) == 1000


def test_a_refund_stripe_refuses_is_a_failed_result(placed, capture):
    provider = get_provider("test")
    result = provider.refund(attempt_id="ref-2", provider_payment_id=placed.provider_payment_id,
                             amount=1000, currency="USD")  # fmt: skip
    assert result.status == "failed"
    assert result.failure_code


# --- disputes ------------------------------------------------------------------------------------


def test_a_dispute_flags_the_payment_and_notifies_the_merchant_once(
    placed, capture, client, merchant
):
    payment = paid_through_webhook(placed, capture)
    charge = h.api().v1.payment_intents.retrieve(payment.provider_payment_id).latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    event = h.dispute_event(charge_id, payment.provider_payment_id, 2900, "USD")
    with capture(execute=True):
        assert h.deliver(event).status_code == 200
    payment.refresh_from_db()
    assert payment.dispute_id == f"dp_{charge_id[3:]}"
    assert payment.dispute_reason == "fraudulent"
    assert payment.disputed_at is not None
    assert payment.status == PaymentStatus.SUCCEEDED  # the money is only held: not a refund
    disputed = OutboxEvent.objects.filter(event_type="payment.disputed")
    assert disputed.count() == 1
    assert disputed.get().data["reason"] == "fraudulent"
    # The payment's page shows it.
    client.force_login(merchant)
    page = client.get(reverse("dashboard:payment", args=[payment.store_id, payment.pk]))
    assert page.status_code == 200
    assert 'id="payment-dispute" data-reason="fraudulent"' in page.content.decode()
    # The merchant's notification center says so, linking to the payment.
    (notice,) = Notification.objects.filter(store_id=payment.store_id, kind="chargeback")
    assert notice.object_id == payment.pk
    assert notice.details["amount"] == 2900 and notice.details["reason"] == "fraudulent"
    # And the owner's email.
    (email,) = [m for m in mail.outbox if m.subject.startswith("[Test] Chargeback")]
    assert email.to == [merchant.email]
    assert "$29.00" in email.subject and "fraudulent" in email.body
    assert f"/payments/{payment.pk}/" in email.body
    with capture(execute=True):
        assert h.deliver(event).status_code == 200
    assert OutboxEvent.objects.filter(event_type="payment.disputed").count() == 1
    assert Notification.objects.filter(kind="chargeback").count() == 1
    assert len([m for m in mail.outbox if "Chargeback" in m.subject]) == 1


def test_a_dispute_is_not_notified_when_the_merchant_turned_chargebacks_off(placed, capture):
    store = placed.store
    store.notification_settings = {**store.notifications, "notifyChargeback": False}
    store.save(update_fields=["notification_settings"])
    payment = paid_through_webhook(placed, capture)
    event = h.dispute_event("ch_offswitch", payment.provider_payment_id, 2900, "USD")
    with capture(execute=True):
        assert h.deliver(event).status_code == 200
    payment.refresh_from_db()
    assert payment.dispute_id  # still flagged
    assert not Notification.objects.filter(kind="chargeback").exists()
    assert not [m for m in mail.outbox if "Chargeback" in m.subject]


class LosesTheRefundAnswer(stripe.RequestsClient):
    """Sends the request, then loses Stripe's answer to the first refund, as a timeout would."""

    lost: list[str] = []

    def request(self, method, url, headers, post_data=None):
        answer = super().request(method, url, headers, post_data)
        if method == "post" and url.endswith("/v1/refunds") and not LosesTheRefundAnswer.lost:
            LosesTheRefundAnswer.lost.append(url)
            raise stripe.APIConnectionError("Request timed out (lost by the test)")
        return answer


def test_a_refund_whose_answer_was_lost_is_found_again_not_made_twice(placed, capture, monkeypatch):
    payment = paid_through_webhook(placed, capture)
    LosesTheRefundAnswer.lost = []
    monkeypatch.setattr(stripe_provider, "http_client", lambda: LosesTheRefundAnswer(timeout=10))
    provider = get_provider("test")
    with pytest.raises(ProviderTimeout):
        provider.refund(attempt_id="ref-3", provider_payment_id=payment.provider_payment_id,
                        amount=700, currency="USD")  # fmt: skip
    assert stripe_refunded(payment) == 700  # Stripe did refund
    again = provider.refund(attempt_id="ref-3", provider_payment_id=payment.provider_payment_id,
                            amount=700, currency="USD")  # fmt: skip
    assert (again.status, again.amount) == ("succeeded", 700)
    assert stripe_refunded(payment) == 700  # once
