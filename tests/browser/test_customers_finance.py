"""The Customers and Finance pages in a real browser: a merchant searches the customers list,
opens a customer, switches tabs and generates a portal link; on the Finance page they verify the
payout email with the 6-digit code read from the email and save a payout account, after their
business details are complete; both pages pass axe on a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from stores import services
from stores.models import Merchant
from tests.billing.test_payments_dashboard import pay as paid_payment
from tests.browser.axe import assert_accessible
from tests.browser.helpers import PHONE, sign_in
from tests.factories import ProductFactory

DESKTOP = {"width": 1280, "height": 900}


def _shop(page, live, email):
    sign_in(page, live, email)
    merchant = Merchant.objects.get(email=email)
    return merchant, services.store_create(merchant=merchant, name="Cust Shop")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_customers_search_detail_tabs_and_portal_link(pages, live, viewport):
    page = pages.new(viewport=viewport)
    _merchant, store = _shop(page, live, "customers@example.com")
    ebook = ProductFactory(store=store)
    paid_payment(ebook, email="ann@example.com")
    paid_payment(ebook, email="bob@example.com")

    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    expect(page.locator(".customers-table tbody tr")).to_have_count(2)
    assert_accessible(page, "customers list")

    page.get_by_label("Search by email").fill("ann")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".customers-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="ann@example.com").click()
    expect(page.get_by_role("heading", name="ann@example.com", level=1)).to_be_visible()
    expect(page.locator("#customer-overview")).to_contain_text("One-time buyer")

    tabs = page.get_by_role("navigation", name="Customer sections")
    tabs.get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payments", level=2)).to_be_visible()
    expect(page.locator("tr[data-payment]")).to_have_count(1)
    tabs = page.get_by_role("navigation", name="Customer sections")
    tabs.get_by_role("link", name="Activity").click()
    expect(page.locator("#customer-activity li")).to_have_count(2)  # the order and its payment
    assert_accessible(page, "customer activity")

    page.get_by_role("button", name="Generate portal link").click()
    expect(
        page.get_by_text(re.compile(r"Customer portal link for ann@example\.com"))
    ).to_be_visible()


@pytest.mark.browser
def test_finance_payout_setup_in_three_steps(pages, live):
    page = pages.new(viewport=PHONE)
    merchant, store = _shop(page, live, "finance@example.com")
    for name, value in (
        ("legal_name", "Cust Shop GmbH"),
        ("address_line1", "1 Road"),
        ("address_city", "Berlin"),
        ("address_postcode", "10115"),
        ("address_country", "DE"),
    ):
        setattr(store, name, value)
    store.save()

    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Finance").click()
    expect(page.get_by_role("heading", name="Finance", level=1)).to_be_visible()
    expect(page.locator("#step-business")).to_have_attribute("data-step-status", "verified")
    expect(page.locator("#step-email")).to_have_attribute("data-step-status", "not_started")
    assert_accessible(page, "finance")

    page.get_by_label("Contact email").fill("payouts@example.com")
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("#step-email")).to_have_attribute("data-step-status", "pending")
    body = next(m.body for m in reversed(mail.outbox) if m.to == ["payouts@example.com"])
    code = re.search(r"\b(\d{6})\b", body).group(1)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#step-email")).to_have_attribute("data-step-status", "verified")

    page.get_by_label("Account holder").fill("Cust Shop GmbH")
    page.get_by_label("Bank country").fill("DE")
    page.get_by_label("IBAN or account number").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Save payout account").click()
    expect(page.locator("#step-account")).to_have_attribute("data-step-status", "verified")
    expect(page.locator("#account-summary")).to_contain_text("•••• 3000")
    assert any(m.to == [merchant.email] for m in mail.outbox)
    assert_accessible(page, "finance, set up")
