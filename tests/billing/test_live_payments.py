"""Live mode tells the truth: until prod has a configured payment provider
(``billing.providers.live_payments_available``), a live purchase link and a live checkout page say
"This store can't accept payments yet" before the buyer types anything, the dashboard shows a
banner on every store page in Live mode, and publishing to Live says that buyers can't pay yet."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing import providers
from billing.providers import live_payments_available
from checkout.models import CheckoutSession, Order
from checkout.services import session_open_from_link
from pancake.api.actor import merchant_actor
from products import services as product_services
from stores.context_processors import ENVIRONMENT_SESSION_KEY

pytestmark = pytest.mark.django_db

CANNOT_PAY = "This store can't accept payments yet"
BANNER = 'id="live-payments-banner"'
EBOOK = {"EUR": {"amount": 1900, "taxCategory": "ebook"}}


class Unconfigured:
    """A real provider named for prod whose own settings (keys) are missing."""

    @staticmethod
    def is_configured() -> bool:
        return False


class WithoutCheck:
    """A provider that needs no settings of its own."""


@pytest.fixture
def registered(monkeypatch):
    for name, cls in (("unconfigured", "Unconfigured"), ("nocheck", "WithoutCheck")):
        monkeypatch.setitem(providers.PROD_PROVIDERS, name, f"{__name__}.{cls}")


@pytest.mark.parametrize(
    ("setting", "available"),
    [
        ("", False),
        ("test", False),  # the test processor never takes real payments
        ("test_processor", False),
        ("no-such-provider", False),
        ("unconfigured", False),
        ("nocheck", True),
        ("configured-live", True),
    ],
)
def test_live_payments_need_a_named_and_configured_real_provider(
    settings, registered, live_payments, setting, available
):
    settings.PAYMENT_PROVIDER_PROD = setting
    assert live_payments_available() is available


def test_without_the_setting_at_all_there_are_no_live_payments(settings):
    if hasattr(settings, "PAYMENT_PROVIDER_PROD"):
        del settings.PAYMENT_PROVIDER_PROD
    assert live_payments_available() is False


# --- the buyer -----------------------------------------------------------------------------------


@pytest.fixture
def product(owner, shop):
    product = product_services.product_create(
        store=shop, kind="onetime", name="E-Book", prices=EBOOK
    )
    return product_services.product_publish(
        actor=merchant_actor(owner, "test"), product_id=product.pk, kind="onetime"
    )


def _link(product, query="") -> str:
    return f"/{product.store.slug}/{product.slug}{query}"


def test_a_live_link_says_the_store_cant_accept_payments_and_opens_no_checkout(client, product):
    response = client.get(_link(product), HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.status_code == 503
    html = response.content.decode()
    assert CANNOT_PAY in html and "<form" not in html.split("</header>")[-1]
    assert response["Cache-Control"] == "no-store"
    assert not CheckoutSession.objects.exists()
    # In the buyer's language.
    japanese = client.get(_link(product), HTTP_ACCEPT_LANGUAGE="ja")
    assert japanese.status_code == 503
    assert "このストアはまだ支払いを受け付けられません" in japanese.content.decode()
    # Test mode is not affected.
    assert client.get(_link(product, "?env=test")).status_code == 302


def test_a_live_link_opens_the_checkout_once_a_provider_is_configured(
    client, product, live_payments
):
    response = client.get(_link(product))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert CANNOT_PAY not in page.content.decode()
    assert 'name="email"' in page.content.decode()


def test_a_live_checkout_page_shows_the_message_instead_of_the_form(client, product):
    session = session_open_from_link(product=product, environment="prod", accept_language="")
    url = reverse("checkout:page", args=[product.store.slug, session.pk])
    response = client.get(url)
    assert response.status_code == 503
    html = response.content.decode()
    assert 'id="cannot-pay"' in html and CANNOT_PAY in html
    assert 'name="email"' not in html and "Continue to payment" not in html
    # Posting the details anyway creates no order.
    posted = client.post(url, {"email": "buyer@example.com", "country": "DE"})
    assert posted.status_code == 503
    assert not Order.objects.exists()
    # In the page's language (the seven checkout languages).
    french = client.get(url + "?lang=fr")
    assert "Cette boutique ne peut pas encore accepter de paiements" in french.content.decode()
    # A test session is unaffected.
    test_session = session_open_from_link(product=product, environment="test", accept_language="")
    test_page = client.get(reverse("checkout:page", args=[product.store.slug, test_session.pk]))
    assert test_page.status_code == 200 and 'name="email"' in test_page.content.decode()


# --- the dashboard -------------------------------------------------------------------------------


def _live(client) -> None:
    session = client.session
    session[ENVIRONMENT_SESSION_KEY] = "prod"
    session.save()


@pytest.mark.parametrize(
    "name", ["dashboard:store", "products:list", "dashboard:payments", "dashboard:settings-details"]
)
def test_every_store_page_in_live_mode_shows_the_banner(owner_client, shop, name):
    url = reverse(name, args=[shop.pk])
    assert BANNER not in owner_client.get(url).content.decode()  # Test mode: no banner
    _live(owner_client)
    html = owner_client.get(url).content.decode()
    assert BANNER in html and CANNOT_PAY in html
    assert "PAYMENT_PROVIDER_PROD" in html  # what to do


def test_no_banner_once_live_payments_are_configured(owner_client, shop, live_payments):
    _live(owner_client)
    assert (
        BANNER not in owner_client.get(reverse("dashboard:store", args=[shop.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [("ja", "このストアはまだ支払いを受け付けられません"), ("zh-hans", "此商店尚无法收款")],
)
def test_the_banner_is_translated(owner_client, shop, language, text):
    _live(owner_client)
    response = owner_client.get(
        reverse("dashboard:store", args=[shop.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert text in response.content.decode()


def test_publishing_to_live_says_buyers_cannot_pay_yet(owner_client, shop):
    product = product_services.product_create(
        store=shop, kind="onetime", name="E-Book", prices=EBOOK
    )
    response = owner_client.post(reverse("products:publish", args=[shop.pk, product.pk]))
    assert response.status_code == 302
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert warnings == [
        "Buyers can't pay in Live yet: this store can't accept payments until a live payment "
        "provider is configured on this Pancake."
    ]


def test_publishing_with_live_payments_configured_warns_of_nothing(
    owner_client, shop, live_payments
):
    product = product_services.product_create(
        store=shop, kind="onetime", name="E-Book", prices=EBOOK
    )
    response = owner_client.post(reverse("products:publish", args=[shop.pk, product.pk]))
    levels = [m.level_tag for m in get_messages(response.wsgi_request)]
    assert levels == ["success"]
