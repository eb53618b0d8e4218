"""The dashboard's "customer portal link" on a payment's page: a single-use link for that
payment's customer, in the dashboard's environment, for members of the store only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from stores import services as store_services
from stores.models import MagicLink
from tests.factories import MerchantFactory, ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.portal.conftest import ALICE, purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_paid(owner, shop, rsa_private_key, capture):
    make_api_key(owner, rsa_private_key)
    api = ApiClient(owner, rsa_private_key)
    return purchase(api, ProductFactory(store=shop), capture, ALICE)


def test_a_member_makes_a_portal_link_for_the_payments_customer(owner_client, shop, shop_paid):
    path = reverse("dashboard:payment-portal-link", args=[shop.pk, shop_paid.pk])
    page = owner_client.get(reverse("dashboard:payment", args=[shop.pk, shop_paid.pk]))
    assert path in page.content.decode()
    response = owner_client.post(path, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    url = re.search(r"https?://[^\s<\"]+/portal/sign-in/[A-Za-z0-9_\-]+", body).group(0)
    link = MagicLink.objects.get()
    assert (link.email, link.store_id, link.environment) == (ALICE, shop.pk, "test")
    buyer = Client()
    assert buyer.post("/" + url.split("://", 1)[1].split("/", 1)[1]).status_code == 302
    orders = buyer.get(reverse("portal:orders", args=[shop.slug])).content.decode()
    assert str(shop_paid.order_id) in orders


def test_no_link_for_another_stores_payment_or_a_stranger(client, shop, shop_paid):
    stranger = MerchantFactory(email="stranger@example.com")
    own = store_services.store_create(merchant=stranger, name="Stranger Shop")
    client.force_login(stranger)
    path = reverse("dashboard:payment-portal-link", args=[shop.pk, shop_paid.pk])
    assert client.post(path).status_code == 404
    # Their own store in the URL, this store's payment: still not theirs.
    mixed = reverse("dashboard:payment-portal-link", args=[own.pk, shop_paid.pk])
    assert client.post(mixed).status_code == 404
    assert Client().post(path).status_code == 302  # to the sign-in page
    assert not MagicLink.objects.exists()
