"""Whole purchases through the hosted checkout in chromium, at phone size: a session opened the
way a merchant's code opens it (``checkout/create-session``, signed like the SDK) or by the
purchase link, step 1 "Your details", the test processor's card page (and its 3-D Secure step),
then our success or failure page. The database is checked after each purchase; card numbers and
the CVC must never be stored or logged. Every page must run without console or script errors
(the ``pages`` fixture fails the test otherwise)."""

import json
import logging
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from billing.models import Payment
from checkout.models import Order
from pancake.api import ids
from products.periods import add_periods
from products.services import product_create
from stores.models import Store
from tests.browser.helpers import (
    BUYER,
    CARD_PAGE,
    CVC,
    DECLINED,
    FUTURE,
    PHONE,
    THREE_DS,
    THREE_DS_PAGE,
    VISA,
    fill_details,
    pay,
    submit_details,
    summary_of,
)
from tests.factories import MerchantFactory, make_api_key
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser


# --- the merchant, its products and sessions ----------------------------------------------------


class Seller:
    """A merchant with an API key and a store, calling the API like the SDK."""

    def __init__(self, key):
        merchant = MerchantFactory(email="seller@example.com")
        make_api_key(merchant, key)
        self.api = ApiClient(merchant, key)
        store = self.api.call("store/create-store", {"name": "Flow Store"})["data"]["store"]
        self.store = Store.objects.get(pk=ids.parse_id(store["id"], "STO"))

    def book(self):
        return product_create(
            store=self.store,
            kind="onetime",
            name="E-Book",
            prices={
                "USD": {"amount": 2900, "taxCategory": "saas"},
                "EUR": {"amount": 10000, "taxCategory": "saas"},
            },
        )

    def plan(self):
        return product_create(
            store=self.store,
            kind="subscription",
            name="Pro Plan",
            billing_period="monthly",
            prices={"USD": {"amount": 1000, "taxCategory": "saas"}},
            metadata={"trialDays": 14},
        )

    def open_session(self, product, currency="USD", **body) -> "Checkout":
        payload = {"productId": ids.encode("PROD", product.pk), "currency": currency, **body}
        data = self.api.call("checkout/create-session", payload)["data"]
        return Checkout(data["checkoutUrl"], ids.parse_id(data["sessionId"], "CS"))

    def session_token(self, product, identity: str) -> str:
        payload = {"productId": ids.encode("PROD", product.pk), "buyerIdentity": identity}
        return self.api.call("auth/issue-session-token", payload)["data"]["token"]


class Checkout:
    def __init__(self, url: str, session_id):
        self.url = url
        self.session_id = session_id

    def order(self) -> Order:
        return Order.objects.get(session_id=self.session_id)

    def payment(self) -> Payment:
        return Payment.objects.filter(order=self.order()).order_by("-created_at").first()


@pytest.fixture
def seller(live, key_pool):
    return Seller(key_pool[0])


# --- driving the pages ---------------------------------------------------------------------------


def expect_success(page, checkout: Checkout, heading="Thank you for your order!") -> Order:
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+\?payment=tp_[^&]+&status=succeeded$"))
    assert page.url.startswith(checkout.url)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    order = checkout.order()
    expect(page.get_by_text("Order number")).to_be_visible()
    expect(page.locator("[data-order-number]")).to_have_text(ids.encode("ORD", order.pk))
    expect(page.get_by_text(f"A receipt has been sent to {order.buyer_email}.")).to_be_visible()
    return order


def assert_paid_by_visa(checkout: Checkout):
    payment = checkout.payment()
    assert payment.status == "succeeded"
    assert (payment.payment_method_details["brand"], payment.payment_method_details["last4"]) == (
        "visa",
        "4242",
    )


def assert_fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def long_date(value) -> str:
    return value.strftime("%B %-d, %Y")


# --- one-time purchases --------------------------------------------------------------------------


def test_a_us_buyer_pays_with_4242_and_sees_the_order_number(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    expect(page.get_by_text("Test Mode - No real charges will be made")).to_be_visible()
    summary = page.locator("[data-summary]")
    expect(summary.get_by_text("E-Book")).to_be_visible()
    fill_details(page)
    submit_details(page)
    pay(page)
    order = expect_success(page, checkout)
    expect(page.get_by_text("Paid with Visa ending in 4242.")).to_be_visible()
    assert order.status == "completed"
    assert order.buyer_email == BUYER
    assert order.billing_detail == {
        "country": "US",
        "isBusiness": False,
        "state": "CA",
        "postcode": "94105",
    }
    assert_paid_by_visa(checkout)


def test_a_declined_card_is_retried_on_the_same_card_page(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    fill_details(page)
    submit_details(page)
    pay(page, DECLINED)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    expect(page).to_have_url(CARD_PAGE)
    expect(page.get_by_label("Card number")).to_have_value("")
    expect(page.get_by_label("CVC")).to_have_value("")
    assert checkout.payment().status == "failed"
    pay(page, VISA)
    order = expect_success(page, checkout)
    assert order.status == "completed"
    assert Order.objects.count() == 1
    assert_paid_by_visa(checkout)


def test_3d_secure_completed_succeeds(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    fill_details(page)
    submit_details(page)
    pay(page, THREE_DS)
    expect(page).to_have_url(THREE_DS_PAGE)
    page.get_by_role("button", name="Complete authentication").click()
    order = expect_success(page, checkout)
    assert order.status == "completed"
    payment = checkout.payment()
    assert (payment.status, payment.payment_method_details["last4"]) == ("succeeded", "3184")


def test_3d_secure_failed_shows_our_failure_page_then_try_again_pays(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    fill_details(page)
    submit_details(page)
    pay(page, THREE_DS)
    expect(page).to_have_url(THREE_DS_PAGE)
    page.get_by_role("button", name="Fail authentication").click()
    page.wait_for_url(re.compile(r"/checkout/[0-9a-f-]+\?payment=tp_[^&]+&status=failed$"))
    expect(page.get_by_role("heading", name="Payment failed", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("The card's 3-D Secure authentication failed.")
    assert checkout.order().status == "pending"
    page.get_by_role("button", name="Try again").click()
    pay(page, VISA)
    order = expect_success(page, checkout)
    assert order.status == "completed"
    assert_paid_by_visa(checkout)


# --- subscriptions -------------------------------------------------------------------------------


def test_a_subscription_with_a_free_trial_saves_the_card_and_starts_trialing(pages, seller):
    checkout = seller.open_session(seller.plan(), withTrial=True)
    page = pages.new()
    page.goto(checkout.url)
    summary = page.locator("[data-summary]")
    expect(summary).to_contain_text("14-day free trial")
    first_charge = long_date(timezone.now().date() + timedelta(days=14))
    expect(summary).to_contain_text(first_charge)
    expect(summary.locator('[data-field="recurring"]')).to_have_text("$10.00 / month")
    fill_details(page)
    submit_details(page)
    pay(page, button="Save card and start trial")
    order = expect_success(page, checkout, heading="Your trial has started")
    assert order.status == "trialing"
    payment = checkout.payment()
    assert (payment.amount, payment.status) == (0, "succeeded")


def test_a_subscription_without_a_trial_is_charged_and_active(pages, seller):
    checkout = seller.open_session(seller.plan())
    page = pages.new()
    page.goto(checkout.url)
    summary = page.locator("[data-summary]")
    expect(summary).to_contain_text("Next billing date")
    expect(summary).to_contain_text(long_date(add_periods(timezone.now().date(), "monthly")))
    expect(summary).not_to_contain_text("Free trial")
    fill_details(page)
    submit_details(page)
    pay(page)
    order = expect_success(page, checkout, heading="Your subscription is active")
    assert order.status == "active"
    assert checkout.payment().amount == order.total > 0


# --- tax, validation ----------------------------------------------------------------------------


def test_an_eu_business_with_a_vat_number_sees_the_reverse_charge_before_paying(pages, seller):
    checkout = seller.open_session(seller.book(), currency="EUR")
    page = pages.new()
    page.goto(checkout.url)
    summary = page.locator("[data-summary]")
    fill_details(
        page,
        country="FR",
        state=None,
        address="1 rue de Rivoli",
        city="Paris",
        postcode="75001",
    )
    expect(summary.locator('[data-field="tax"]')).to_have_text("€20.00")
    expect(summary.locator('[data-field="note"]')).to_be_hidden()
    with page.expect_response(summary_of(is_business="on", tax_id="FR40303265045")):
        page.get_by_label("I'm purchasing as a business").check()
        page.get_by_label("Business name", exact=True).fill("Acme SARL")
        tax_id = page.get_by_label("N° TVA", exact=True)  # as France names it
        expect(tax_id).to_have_attribute("placeholder", "FR12345678901")
        tax_id.fill("FR40303265045")
    expect(summary.locator('[data-field="tax"]')).to_have_text("€0.00")
    expect(summary.locator('[data-field="total"]')).to_have_text("€100.00")
    note = summary.locator('[data-field="note"]')
    expect(note).to_be_visible()
    expect(note).to_have_text("VAT reverse charged: you account for the VAT.")
    submit_details(page)
    pay(page, button="Pay €100.00")
    order = expect_success(page, checkout)
    assert (order.tax_amount, order.total, order.reverse_charge) == (0, 10000, True)
    assert order.billing_detail["businessName"] == "Acme SARL"
    assert order.billing_detail["taxId"] == "FR40303265045"
    assert order.billing_detail["city"] == "Paris"


def test_a_us_buyer_without_a_state_is_asked_for_one_and_no_order_is_made(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    fill_details(page, state=None)
    submit_details(page)
    expect(page.get_by_role("heading", name="Your details", level=1)).to_be_visible()
    state = page.get_by_label("State / province", exact=True)
    expect(state).to_have_attribute("aria-invalid", "true")
    expect(state).to_have_accessible_description("Choose your state or province.")
    expect(page.get_by_text("Choose your state or province.", exact=True)).to_be_visible()
    # What the buyer typed is still there.
    expect(page.get_by_label("Email", exact=True)).to_have_value(BUYER)
    expect(page.get_by_label("Postcode", exact=True)).to_have_value("94105")
    assert not Order.objects.exists()


# --- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "ja"])
def test_a_session_in_another_language_shows_step_one_in_it(pages, seller, language):
    checkout = seller.open_session(seller.book(), language=language)
    with translation.override(language):
        heading, button = gettext("Your details"), gettext("Continue to payment")
    page = pages.new()
    page.goto(checkout.url)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("form[data-details] button[type=submit]")).to_have_text(button)
    assert (heading, button) != ("Your details", "Continue to payment"), (
        f"no {language} translation of step 1 in locale/ yet"
    )
    assert heading != "Your details" and button != "Continue to payment"


# --- authenticated links -------------------------------------------------------------------------


@pytest.mark.parametrize("identity", ["ada@example.com", "user-123"])
def test_an_authenticated_link_puts_the_buyer_identity_on_the_order(pages, seller, identity):
    book = seller.book()
    checkout = seller.open_session(book)
    token = seller.session_token(book, identity)
    page = pages.new()
    page.goto(checkout.url + "#token=" + token)
    page.wait_for_selector("body[data-buyer-bound='true']")
    assert "#token" not in page.url
    email = page.get_by_label("Email", exact=True)
    if "@" in identity:
        expect(email).to_have_value(identity)
        expect(email).not_to_be_editable()
        fill_details(page, email=None)
    else:
        expect(email).to_be_editable()
        fill_details(page)
    submit_details(page)
    pay(page)
    order = expect_success(page, checkout)
    assert order.buyer_identity == identity
    assert order.buyer_email == (identity if "@" in identity else BUYER)


# --- keyboard only, on a phone -------------------------------------------------------------------


def focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page, locator, limit=40):
    """Tab (never click) until ``locator`` has the focus."""
    for _ in range(limit):
        if focused(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def assert_every_field_has_a_visible_label(page, form_selector: str):
    unlabeled = page.locator(form_selector).evaluate(
        """form => [...form.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.checkVisibility())
            .filter(el => ![...el.labels].some(label => label.checkVisibility()))
            .map(el => el.name)"""
    )
    assert unlabeled == []


def test_the_whole_purchase_by_keyboard_from_the_purchase_link_on_a_phone(pages, seller, live):
    book = seller.book()
    page = pages.new(viewport=PHONE)
    page.goto(f"{live.url}/{seller.store.slug}/{book.slug}?env=test")
    page.wait_for_url(re.compile(r"/store/[^/]+/checkout/[0-9a-f-]+$"))
    checkout = Checkout(page.url, page.url.rsplit("/", 1)[1])
    expect(page.get_by_text("Test Mode - No real charges will be made")).to_be_visible()
    assert_fits_the_phone(page)

    tab_to(page, page.get_by_label("Email", exact=True))
    page.keyboard.type(BUYER)
    page.keyboard.press("Tab")
    country = page.get_by_label("Country", exact=True)
    assert focused(country)
    page.keyboard.type("United States")
    expect(country).to_have_value("US")
    page.keyboard.press("Tab")
    state = page.get_by_label("State / province", exact=True)
    assert focused(state)
    page.keyboard.type("California")
    expect(state).to_have_value("CA")
    page.keyboard.press("Tab")
    assert focused(page.get_by_label("Postcode", exact=True))
    with page.expect_response(summary_of(country="US", state="CA", postcode="94105")):
        page.keyboard.type("94105")
    for label in ("Email", "Country", "State / province", "Postcode"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_label("I'm purchasing as a business")).to_be_visible()
    assert_every_field_has_a_visible_label(page, "form[data-details]")
    # The business fields open and close with Space on the checkbox.
    page.keyboard.press("Tab")
    business = page.get_by_label("I'm purchasing as a business")
    assert focused(business)
    page.keyboard.press("Space")
    expect(page.get_by_label("Business name", exact=True)).to_be_visible()
    expect(page.get_by_label("Tax ID", exact=True)).to_be_visible()
    assert_every_field_has_a_visible_label(page, "form[data-details]")
    with page.expect_response(summary_of(postcode="94105", is_business=None)):
        page.keyboard.press("Space")
    expect(page.get_by_label("Business name", exact=True)).to_be_hidden()
    page.keyboard.press("Tab")
    assert focused(page.get_by_role("button", name="Continue to payment"))
    page.keyboard.press("Enter")

    page.wait_for_url(CARD_PAGE)
    assert_fits_the_phone(page)
    assert_every_field_has_a_visible_label(page, "form.tp-form")
    tab_to(page, page.get_by_label("Card number"))
    for label, text in (
        ("Card number", VISA),
        ("Expiry (MM/YY)", FUTURE),
        ("CVC", CVC),
        ("Name on card", "Ada Buyer"),
    ):
        assert focused(page.get_by_label(label))
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    assert focused(page.get_by_role("button", name=re.compile(r"^Pay ")))
    page.keyboard.press("Enter")

    order = expect_success(page, checkout)
    assert_fits_the_phone(page)
    assert order.status == "completed"
    assert_paid_by_visa(checkout)


# --- no card data kept ---------------------------------------------------------------------------


def every_text_value() -> str:
    """Every text and JSON value of every table (tables without a model, or whose model is
    newer than the database, included). Numbers, dates and ids are left out: a table's
    sequence passes 857 soon enough."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):  # PostgreSQL's jsonb
                        value = json.dumps(value)
                    if isinstance(value, str):
                        values.append(f"{table}: {value}")
    return "\n".join(values)


def test_no_card_number_or_cvc_is_stored_or_logged(pages, seller, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.server", "django.request", "billing", "checkout", "pancake"):
        caplog.set_level(logging.DEBUG, logger=name)
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    fill_details(page)
    submit_details(page)
    pay(page, DECLINED)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    pay(page, VISA)
    expect_success(page, checkout)

    database = every_text_value()
    assert checkout.payment().provider_payment_id in database  # the scan sees the payment
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "tp_" in logs  # the test processor's log lines are captured
    # A CVC is three digits: only a standalone "857" (not inside an id, a hash or a timestamp's
    # ".857123") would be the CVC.
    cvc = re.compile(rf"(?<![\w.:-]){CVC}(?![\w.-])")
    for where, text in (("database", database), ("logs", logs)):
        for number in (VISA, DECLINED):
            assert number not in text, where
            assert number.replace(" ", "") not in text, where
        assert not cvc.search(text), (where, cvc.search(text))
