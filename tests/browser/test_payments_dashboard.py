"""The Payments and Refund tickets pages in a real browser, on a phone and on a desktop: the
payments list reached through the nav, filtered by status and email (a bookmarkable GET) and
exported as CSV (the download holds the filtered rows); a merchant approves a buyer's ticket for
less than asked; a merchant refunds a payment partially from its detail page (the test
processor's refund runs in-process: eager tasks)."""

import csv
import io
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from billing.models import Payment, PaymentStatus, RefundTicket, RefundTicketStatus
from pancake.api import ids
from stores import services
from stores.models import Merchant
from tests.billing.test_payments_dashboard import pay as paid_payment
from tests.browser.helpers import PHONE, sign_in
from tests.factories import ProductFactory, make_api_key
from tests.helpers import ApiClient, buy, deliver
from tests.helpers import pay as submit_card

DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


def _shop(page, live, email):
    sign_in(page, live, email)
    merchant = Merchant.objects.get(email=email)
    return merchant, services.store_create(merchant=merchant, name="Pay Shop")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_payments_list_filters_and_exports_csv(pages, live, viewport):
    page = pages.new(viewport=viewport)
    _merchant, store = _shop(page, live, "payments@example.com")
    ebook = ProductFactory(store=store)
    ann = paid_payment(ebook, email="ann@example.com")
    paid_payment(ebook, email="bob@example.com")
    paid_payment(ebook, email="ann.failed@example.com", status=PaymentStatus.FAILED)

    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()
    expect(page.locator(".payments-table tbody tr")).to_have_count(3)
    expect(page.locator('[data-status="succeeded"] .badge')).to_have_text("2")

    page.get_by_label("Status", exact=True).select_option(label="Succeeded")
    page.get_by_label("Customer email").fill("ann@")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{live.url}/dashboard/{store.pk}/payments/?" + "&".join(
        ["q=", "status=succeeded", "product=", "date_from=", "date_to=", "email=ann%40",
         "currency=", "amount_min=", "amount_max="]
    ))  # fmt: skip
    rows = page.locator(".payments-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ann@example.com")
    expect(page.locator("#payments-total")).to_have_text("1")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"payments-{store.slug}-test-")
    body = open(download.path(), encoding="utf-8").read()
    exported = list(csv.DictReader(io.StringIO(body)))
    assert [r["payment_id"] for r in exported] == [str(ann.pk)]
    assert exported[0]["customer_email"] == "ann@example.com"
    assert exported[0]["amount"] == f"{ann.amount / 100:.2f}"

    # The row leads to the payment's page.
    rows.first.get_by_role("link").click()
    expect(page.locator("#payment-status")).to_have_text("Succeeded")
    expect(page.locator("#payment-method")).to_contain_text("4242")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def _paid_through_the_test_processor(api, product) -> Payment:
    """A real test-processor payment (its refund goes through the processor), paid with the
    test card and its notification applied."""
    payment = buy(api, product, currency="USD")
    deliver(submit_card(payment), _commits)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_merchant_approves_a_buyers_ticket_for_less(pages, live, key_pool, viewport):
    page = pages.new(viewport=viewport)
    merchant, store = _shop(page, live, "tickets@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    payment = _paid_through_the_test_processor(api, ProductFactory(store=store))
    filed = api.call(
        "refund-ticket/create-ticket",
        {"paymentId": ids.encode("PAY", payment.pk), "reason": "It broke on day one"},
    )
    assert filed.get("errors") is None, filed
    ticket = RefundTicket.objects.get(payment=payment)

    page.goto(f"/dashboard/{store.pk}/")
    nav = page.get_by_role("navigation", name="Store")
    nav.get_by_role("link", name="Refund tickets").click()
    expect(page.locator('[data-status="pending"] .badge')).to_have_text("1")
    page.get_by_role("link", name="buyer@example.com").click()
    expect(page.locator("#ticket-status")).to_have_text("Pending")
    expect(page.locator("#ticket-reason")).to_have_text("It broke on day one")

    # More than asked is refused beside the amount; then a smaller amount is approved.
    amount = page.get_by_label("Amount to refund")
    amount.fill(f"{payment.amount / 100 + 1:.2f}")
    page.get_by_role("button", name="Approve and refund").click()
    expect(page.get_by_label("Amount to refund")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ticket-status")).to_have_text("Pending")
    page.get_by_label("Amount to refund").fill("10.00")
    page.get_by_label("Note (optional)").fill("Half, as agreed")
    page.get_by_role("button", name="Approve and refund").click()
    expect(page.get_by_text("Refunded $10.00.")).to_be_visible()
    expect(page.locator("#ticket-status")).to_have_text("Succeeded")
    expect(page.locator("#ticket-approved")).to_have_text("$10.00")
    expect(page.locator(".refunds-table")).to_contain_text("Succeeded")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.approved_amount) == (RefundTicketStatus.SUCCEEDED, 1000)
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 1000)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_merchant_refunds_a_payment_partially_from_its_page(pages, live, key_pool, viewport):
    page = pages.new(viewport=viewport)
    merchant, store = _shop(page, live, "refunds@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    payment = _paid_through_the_test_processor(api, ProductFactory(store=store))

    page.goto(f"/dashboard/{store.pk}/payments/")
    page.locator(f"#payment-{payment.pk}").get_by_role("link").click()
    expect(page.locator("#refund-status")).to_have_text("Not refunded")
    amount = page.get_by_label("Amount to refund")
    expect(amount).to_have_value(f"{payment.amount / 100:.2f}")  # everything, by default

    # A reason is required; the error shows beside it.
    amount.fill("5.50")
    page.get_by_role("button", name="Refund payment").click()
    expect(page.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Amount to refund").fill("5.50")
    page.get_by_label("Reason").fill("Late delivery")
    page.get_by_role("button", name="Refund payment").click()
    expect(page.get_by_text("Refunded $5.50.")).to_be_visible()
    expect(page.locator("#payment-status")).to_have_text("Partially refunded")
    expect(page.locator("#refund-status")).to_have_text("Partially refunded")
    expect(page.locator("#amount-refunded")).to_have_text("$5.50")
    expect(page.locator(".refunds-table tbody tr")).to_have_count(1)
    expect(page.locator(".payment-tickets")).to_contain_text("Late delivery")
    left = (payment.amount - 550) / 100
    expect(page.get_by_label("Amount to refund")).to_have_value(f"{left:.2f}")
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 550)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
