"""A subscription's billing details from the portal (``checkout.services.
order_billing_detail_update``): address, and for a business its name and tax ID, checked as at
checkout; the country stays; a change that would change the tax is refused; only the buyer's."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.urls import reverse

from checkout import services
from checkout.models import Order
from tests.portal.conftest import ALICE, BOB, purchase, sign_in

pytestmark = pytest.mark.django_db

DE_BUSINESS = {
    "country": "DE",
    "isBusiness": True,
    "businessName": "Example GmbH",
    "taxId": "DE136695976",
    "address": "Unter den Linden 1",
    "city": "Berlin",
    "postcode": "10117",
}


def billing_url(store, order_id):
    return reverse("portal:subscription-billing", args=[store.slug, order_id])


@pytest.fixture
def business_subscription(api, plan, capture):
    payment = purchase(api, plan, capture, ALICE, subscription=True, billing=DE_BUSINESS)
    return payment.order


def test_a_consumer_changes_the_address_for_the_next_invoice(client, store, alice_subscription):
    sign_in(client, store, ALICE)
    order_id = alice_subscription.order_id
    page = client.get(billing_url(store, order_id)).content.decode()
    assert 'name="address"' in page and 'name="tax_id"' not in page
    assert "United States" in page
    response = client.post(
        billing_url(store, order_id),
        {"address": "1 Main St", "city": "Portland", "postcode": "97201"},
    )
    assert response.status_code == 302
    assert "next invoice uses them" in client.get(response["Location"]).content.decode()
    detail = Order.objects.get(pk=order_id).billing_detail
    assert detail == {
        "country": "US",
        "isBusiness": False,
        "state": "OR",
        "address": "1 Main St",
        "city": "Portland",
        "postcode": "97201",
    }


def test_a_business_changes_its_name_and_vat_number(client, store, business_subscription):
    sign_in(client, store, ALICE)
    form = {**{"address": "Unter den Linden 1", "city": "Berlin", "postcode": "10117"}}
    response = client.post(
        billing_url(store, business_subscription.pk),
        {**form, "business_name": "Example AG", "tax_id": "DE811128135"},
    )
    assert response.status_code == 302
    business_subscription.refresh_from_db()
    detail = business_subscription.billing_detail
    assert (detail["businessName"], detail["taxId"], detail["country"]) == (
        "Example AG",
        "DE811128135",
        "DE",
    )


def test_an_invalid_or_missing_vat_number_is_refused_beside_it(
    client, store, business_subscription
):
    sign_in(client, store, ALICE)
    before = business_subscription.billing_detail
    for tax_id in ("DE123456789", ""):
        response = client.post(
            billing_url(store, business_subscription.pk),
            {"business_name": "Example GmbH", "tax_id": tax_id, "address": "x", "city": "Berlin",
             "postcode": "10117"},
        )  # fmt: skip
        assert response.status_code == 400, tax_id
        body = response.content.decode()
        assert 'id="id_tax_id-error"' in body
        assert "valid VAT or tax number" in body
    business_subscription.refresh_from_db()
    assert business_subscription.billing_detail == before


def test_only_the_buyers_own_subscription(client, api, plan, store, capture, alice_paid):
    bobs = purchase(api, plan, capture, BOB, subscription=True).order
    sign_in(client, store, ALICE)
    assert client.get(billing_url(store, bobs.pk)).status_code == 404
    assert client.post(billing_url(store, bobs.pk), {"address": "mine"}).status_code == 404
    bobs.refresh_from_db()
    assert "address" not in bobs.billing_detail
    # A one-time order has no next invoice: no such page.
    assert client.get(billing_url(store, alice_paid.order_id)).status_code == 404


def test_a_change_that_would_change_the_tax_is_refused(
    client, store, alice_subscription, monkeypatch
):
    order = alice_subscription.order
    real = services.session_tax

    def taxed_differently(session, detail, ip_country=None):
        return dataclasses.replace(real(session, detail, ip_country), rate=Decimal("0.07"))

    monkeypatch.setattr(services, "session_tax", taxed_differently)
    sign_in(client, store, ALICE)
    response = client.post(billing_url(store, order.pk), {"postcode": "97202"})
    assert response.status_code == 400
    assert "would change the tax of your subscription" in response.content.decode()
    order.refresh_from_db()
    assert order.billing_detail.get("postcode") != "97202"


def test_the_buyer_adds_their_name_for_the_next_invoices(
    client, store, alice_subscription, capture
):
    sign_in(client, store, ALICE)
    order_id = alice_subscription.order_id
    page = client.get(billing_url(store, order_id)).content.decode()
    assert 'name="name"' in page and 'autocomplete="name"' in page
    response = client.post(billing_url(store, order_id), {"name": "Alice Liddell"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order_id).billing_detail["name"] == "Alice Liddell"
    # A name with a control character is refused beside the field, nothing saved.
    refused = client.post(billing_url(store, order_id), {"name": "Alice\x07"})
    assert refused.status_code == 400
    assert Order.objects.get(pk=order_id).billing_detail["name"] == "Alice Liddell"
