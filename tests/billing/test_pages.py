"""The test processor's hosted card page and 3-D Secure step: every test card's
path through the pages, field errors, 404s, and no card number or CVC in any rendered page."""

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from billing.models import TestProcessorPayment
from billing.providers import test_processor as tp

FUTURE = f"12/{(datetime.now(UTC).year + 5) % 100:02d}"
RETURN_URL = "https://shop.example/thanks?order=ord-1"

pytestmark = pytest.mark.django_db


class Browser:
    """A Django test client that keeps every response's HTML, to scan for card data."""

    def __init__(self, client):
        self.client = client
        self.html: list[str] = []

    def _keep(self, response):
        self.html.append(response.content.decode())
        return response

    def get(self, url):
        return self._keep(self.client.get(url))

    def post(self, url, data):
        return self._keep(self.client.post(url, data))

    def assert_never_shown(self, *secrets):
        """No secret in any page, leaving out what legitimately looks alike: the documented
        list of test cards, the CSRF token and payment ids (random text a CVC could match)."""
        assert self.html
        for raw in self.html:
            html = re.sub(r'<details class="tp-cards">.*?</details>', "", raw, flags=re.S)
            html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
            html = re.sub(r"tp_[0-9a-f-]{36}", "", html)
            for secret in secrets:
                assert secret not in html
                assert secret.replace(" ", "") not in html


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def hosted(processor):
    def open_payment(amount=2900, currency="USD", return_url=RETURN_URL):
        return processor.create_payment(
            attempt_id=f"att-{uuid.uuid4()}",
            amount=amount,
            currency=currency,
            description="Pro plan",
            return_url=return_url,
            save_method=False,
            metadata={},
        )

    return open_payment


def path_of(hosted_payment) -> str:
    return urlsplit(hosted_payment.url).path


def card(number, cvc="731", expiry=FUTURE, name="Ada Lovelace"):
    return {"number": number, "expiry": expiry, "cvc": cvc, "name": name}


def assert_returned(response, payment_id, status):
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://shop.example/thanks"
    query = parse_qs(url.query)
    assert query == {"order": ["ord-1"], "payment": [payment_id], "status": [status]}


def test_card_page_shows_the_form(browser, hosted):
    payment = hosted()
    response = browser.get(path_of(payment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pancake test processor — no real money moves" in html
    assert "$29.00" in html and "Pro plan" in html
    assert "Pay $29.00" in html
    for label in ("Card number", "Expiry (MM/YY)", "CVC", "Name on card"):
        assert f">{label}</label>" in html
    for autocomplete in ("cc-number", "cc-exp", "cc-csc", "cc-name"):
        assert f'autocomplete="{autocomplete}"' in html
    assert 'inputmode="numeric"' in html
    assert "<details" in html and "4000 0027 6000 3184" in html
    assert "csrfmiddlewaretoken" in html
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_4242_succeeds_and_returns(browser, hosted):
    payment = hosted()
    response = browser.post(path_of(payment), card("4242 4242 4242 4242"))
    assert_returned(response, payment.provider_payment_id, "succeeded")
    row = TestProcessorPayment.objects.get()
    assert (row.status, row.method_brand, row.method_last4) == ("succeeded", "visa", "4242")
    # Coming back to the page: complete, no form.
    again = browser.get(path_of(payment))
    assert "This payment is complete" in again.content.decode()
    assert 'name="number"' not in again.content.decode()
    # A second submission changes nothing.
    repeat = browser.post(path_of(payment), card("4000 0000 0000 0002"))
    assert "This payment is complete" in repeat.content.decode()
    assert TestProcessorPayment.objects.get().status == "succeeded"
    browser.assert_never_shown("4242 4242 4242 4242", "731")


def test_amex_with_four_digit_cvc_succeeds(browser, hosted):
    payment = hosted()
    response = browser.post(path_of(payment), card("3782 822463 10005", cvc="7319"))
    assert_returned(response, payment.provider_payment_id, "succeeded")
    browser.assert_never_shown("378282246310005", "7319")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000 0000 0000 9995", "Your card has insufficient funds."),
        ("4000 0000 0000 0069", "Your card has expired."),
    ],
)
def test_declined_card_shows_reason_and_retry_succeeds(browser, hosted, number, reason):
    payment = hosted()
    response = browser.post(path_of(payment), card(number))
    assert response.status_code == 402
    html = response.content.decode()
    assert reason in html
    assert "Try another card." in html
    assert 'name="number"' in html and 'value="Ada Lovelace"' in html
    assert TestProcessorPayment.objects.get().status == "failed"
    # The page shown again later keeps the reason and the form.
    assert reason in browser.get(path_of(payment)).content.decode()
    retry = browser.post(path_of(payment), card("4242 4242 4242 4242"))
    assert_returned(retry, payment.provider_payment_id, "succeeded")
    browser.assert_never_shown(number, "4242 4242 4242 4242", "731")


def test_3ds_complete_succeeds(browser, hosted):
    payment = hosted()
    response = browser.post(path_of(payment), card("4000 0027 6000 3184"))
    three_ds = f"/test-processor/3ds/{payment.provider_payment_id}/"
    assert response.status_code == 302 and response["Location"] == three_ds
    # The card page sends a buyer back to the step while it is pending.
    assert browser.get(path_of(payment))["Location"] == three_ds
    step = browser.get(three_ds)
    html = step.content.decode()
    assert "Complete authentication" in html and "Fail authentication" in html
    assert "3184" in html  # last 4 only
    done = browser.post(three_ds, {"decision": "complete"})
    assert_returned(done, payment.provider_payment_id, "succeeded")
    # The step is over: its URL leads back to the (complete) card page.
    assert browser.get(three_ds)["Location"] == path_of(payment)
    browser.assert_never_shown("4000 0027 6000 3184", "731")


def test_3ds_fail_fails(browser, hosted):
    payment = hosted()
    browser.post(path_of(payment), card("4000 0027 6000 3184"))
    done = browser.post(f"/test-processor/3ds/{payment.provider_payment_id}/", {"decision": "fail"})
    assert_returned(done, payment.provider_payment_id, "failed")
    row = TestProcessorPayment.objects.get()
    assert (row.status, row.failure_code) == ("failed", "authentication_failed")


def test_3220_fails_even_when_completed(browser, hosted):
    payment = hosted()
    response = browser.post(path_of(payment), card("4000 0000 0000 3220"))
    three_ds = f"/test-processor/3ds/{payment.provider_payment_id}/"
    assert response["Location"] == three_ds
    done = browser.post(three_ds, {"decision": "complete"})
    assert_returned(done, payment.provider_payment_id, "failed")
    # Back on the card page the buyer sees why, and may try another card.
    html = browser.get(path_of(payment)).content.decode()
    assert "The 3-D Secure authentication of your card failed." in html
    retry = browser.post(path_of(payment), card("5555 5555 5555 4444"))
    assert_returned(retry, payment.provider_payment_id, "succeeded")
    browser.assert_never_shown("4000 0000 0000 3220", "5555 5555 5555 4444", "731")


def test_invalid_inputs_show_field_errors_without_echoing_card(browser, hosted):
    payment = hosted()
    response = browser.post(
        path_of(payment),
        {"number": "4242 4242 4242 4241", "expiry": "13/99", "cvc": "98", "name": " "},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field, message in (
        ("number", "Your card number is invalid."),
        ("expiry", "expiration"),
        ("cvc", "Your card&#x27;s security code is invalid."),
        ("name", "Enter the name on the card."),
    ):
        assert f'aria-describedby="tp-{field}-error"' in html
        assert f'id="tp-{field}-error"' in html
        assert message in html
    assert 'value="13/99"' in html  # the expiry is kept, the number and CVC are not
    assert TestProcessorPayment.objects.get().status == "pending"
    browser.assert_never_shown("4242 4242 4242 4241", '"98"', ">98<")


def test_empty_form_and_expired_card(browser, hosted):
    payment = hosted()
    html = browser.post(path_of(payment), {}).content.decode()
    assert "Enter your card number." in html
    html = browser.post(path_of(payment), card("4242424242424242", expiry="01/20")).content.decode()
    assert "Your card has expired." in html
    assert 'aria-describedby="tp-expiry-error"' in html
    browser.assert_never_shown("4242424242424242")


def test_expiry_without_slash_is_accepted(browser, hosted):
    payment = hosted()
    response = browser.post(
        path_of(payment), card("4242424242424242", expiry=FUTURE.replace("/", ""))
    )
    assert_returned(response, payment.provider_payment_id, "succeeded")


def test_unknown_ids_are_404(browser, hosted, processor):
    for ref in ("nope", "tp_nope", f"tp_{uuid.uuid4()}", f"tpcard_{uuid.uuid4()}"):
        assert browser.get(f"/test-processor/pay/{ref}/").status_code == 404
        assert browser.get(f"/test-processor/3ds/{ref}/").status_code == 404
        assert (
            browser.post(f"/test-processor/pay/{ref}/", card("4242424242424242")).status_code == 404
        )
    # An off-session charge has no hosted page.
    hosted_payment = hosted()
    browser.post(path_of(hosted_payment), card("4242424242424242"))
    browser.get(path_of(hosted_payment))
    charge_token = None
    saved = processor.create_payment(
        attempt_id="att-save",
        amount=0,
        currency="USD",
        description="Trial",
        return_url=RETURN_URL,
        save_method=True,
        metadata={},
    )
    outcome = tp.submit_card(
        provider_payment_id=saved.provider_payment_id,
        number="4242424242424242",
        exp_month=12,
        exp_year=datetime.now(UTC).year + 5,
        cvc="731",
        name="Ada",
    )
    charge_token = outcome.method_token
    charge = processor.charge_saved(
        attempt_id="att-renew", method_token=charge_token, amount=2900, currency="USD", metadata={}
    )
    assert charge.status == "succeeded"
    assert browser.get(f"/test-processor/pay/{charge.provider_payment_id}/").status_code == 404


def test_csrf_is_enforced(hosted):
    from django.test import Client

    payment = hosted()
    response = Client(enforce_csrf_checks=True).post(path_of(payment), card("4242424242424242"))
    assert response.status_code == 403
    assert TestProcessorPayment.objects.get().status == "pending"


def test_notification_is_delivered_to_the_configured_handler(browser, hosted, settings, processor):
    received = []
    settings.TEST_PROCESSOR_NOTIFICATION_HANDLER = "tests.billing.test_pages.record_notification"
    record_notification.calls = received
    payment = hosted()
    browser.post(path_of(payment), card("4000 0000 0000 0002"))
    browser.post(path_of(payment), card("4242 4242 4242 4242"))
    assert [processor.parse_notification(**call).status for call in received] == [
        "failed",
        "succeeded",
    ]
    assert len({processor.parse_notification(**call).event_id for call in received}) == 2


def record_notification(*, headers, body):
    record_notification.calls.append({"headers": headers, "body": body})


def test_no_return_url_shows_our_result_page(browser, hosted):
    payment = hosted(return_url="")
    response = browser.post(path_of(payment), card("4242424242424242"))
    assert response["Location"] == path_of(payment)
    assert "This payment is complete" in browser.get(path_of(payment)).content.decode()


def test_card_number_and_cvc_are_not_logged(browser, hosted, caplog):
    payment = hosted()
    with caplog.at_level("DEBUG"):
        browser.post(path_of(payment), card("4000 0000 0000 0002", cvc="913"))
        browser.post(path_of(payment), card("4242 4242 4242 4242", cvc="913"))
    assert "4000000000000002" not in caplog.text and "4242424242424242" not in caplog.text
    assert "913" not in caplog.text
