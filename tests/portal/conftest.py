"""Portal fixtures: buyers who bought in a store (through the API and the test processor) and
a browser client signed in to the portal as one of them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from billing.models import Payment, Subscription
from pancake.api import ids
from portal import services
from portal.views.base import COOKIE
from stores import auth as store_auth
from tests.factories import ProductFactory
from tests.helpers import CARD, deliver, pay

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}
ALICE = "alice@example.com"
BOB = "bob@example.com"


@pytest.fixture(autouse=True)
def _fresh_ip_caps():
    """The per-IP sign-in counters of the addresses tests use live in the shared cache (Redis
    in CI) for an hour: start each test with them at zero (per-email counters include the
    store, new in each test)."""
    keys = [
        f"sign-in-rate:{store_auth._hash(f'portal-ip:{ip}')}"
        for ip in ("127.0.0.1", "203.0.113.9", "203.0.113.10")
    ]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def purchase(
    api, product, capture, email, *, subscription=False, pay_it=True, billing=None
) -> Payment:
    """``email`` buys ``product`` (USD; billed in Oregon, no tax, unless ``billing``) and pays
    with a test card."""
    body = {"productId": ids.encode("PROD", product.pk), "currency": "USD"}
    session_id = api.call("checkout/create-session", body)["data"]["sessionId"]
    path = "subscription-order/create-order" if subscription else "onetime-order/create-order"
    api.call(
        path, {"checkoutSessionId": session_id, "billingDetail": billing or US, "buyerEmail": email}
    )
    payment = Payment.objects.get(order__session_id=session_id)
    if pay_it:
        deliver(pay(payment, CARD), capture)
        payment.refresh_from_db()
    return payment


def sign_in(client: Client, store, email: str, environment: str = "test") -> Client:
    """Sign ``client`` in to ``store``'s portal as ``email`` (as a used emailed link would)."""
    token, _link = store_auth.link_issue(
        email=email, max_age=900, store=store, environment=environment
    )
    cookie = services.session_from_link(store=store, token=token)
    assert cookie
    client.cookies[COOKIE] = cookie
    return client


@pytest.fixture
def ebook(store):
    return ProductFactory(store=store)


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, subscription=True)


@pytest.fixture
def alice_paid(api, ebook, capture) -> Payment:
    return purchase(api, ebook, capture, ALICE)


@pytest.fixture
def bob_paid(api, ebook, capture) -> Payment:
    return purchase(api, ebook, capture, BOB)


@pytest.fixture
def alice_subscription(api, plan, capture) -> Subscription:
    payment = purchase(api, plan, capture, ALICE, subscription=True)
    return Subscription.objects.get(order_id=payment.order_id)


@pytest.fixture
def alice(client, store, alice_paid) -> Client:
    return sign_in(client, store, ALICE)
