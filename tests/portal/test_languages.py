"""The portal in the checkout's seven languages: ``?lang=`` (remembered in a cookie under the
portal's path), else the browser's Accept-Language; the sign-in email in the page's language."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.portal.conftest import ALICE

pytestmark = pytest.mark.django_db

SIGN_IN_TITLE = {
    "en": "Your purchases at My Store",
    "de": "Deine Käufe bei My Store",
    "fr": "Vos achats chez My Store",
    "es": "Tus compras en My Store",
    "ja": "My Store でのご購入",
    "ko": "My Store 구매 내역",
    "zh": "您在 My Store 的购买",
}
ORDERS = {
    "en": "Orders and payments",
    "de": "Bestellungen und Zahlungen",
    "fr": "Commandes et paiements",
    "es": "Pedidos y pagos",
    "ja": "注文と支払い",
    "ko": "주문 및 결제",
    "zh": "订单和付款",
}


@pytest.mark.parametrize("lang", sorted(SIGN_IN_TITLE))
def test_the_sign_in_page_in_each_language(client, store, lang):
    response = client.get(reverse("portal:home", args=[store.slug]) + f"?lang={lang}")
    assert SIGN_IN_TITLE[lang] in response.content.decode()
    assert response["Content-Language"] == {"zh": "zh-hans"}.get(lang, lang)
    assert response.cookies["pancake_portal_lang"]["path"] == f"/store/{store.slug}/portal/"


@pytest.mark.parametrize("lang", sorted(ORDERS))
def test_the_signed_in_pages_in_each_language(alice, store, lang):
    alice.get(reverse("portal:orders", args=[store.slug]) + f"?lang={lang}")
    # The choice is remembered for the next page.
    body = alice.get(reverse("portal:orders", args=[store.slug])).content.decode()
    assert ORDERS[lang] in body


def test_the_browsers_language_is_used_without_a_choice(client, store):
    response = client.get(
        reverse("portal:home", args=[store.slug]), HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9,en;q=0.5"
    )
    assert SIGN_IN_TITLE["de"] in response.content.decode()


def test_the_sign_in_email_is_in_the_pages_language(client, store, alice_paid, capture):
    with capture(execute=True):
        client.post(
            reverse("portal:sign-in", args=[store.slug]),
            {"email": ALICE, "env": "test", "lang": "ja"},
        )
    (sent,) = [m for m in mail.outbox if "/portal/sign-in/" in m.body]
    assert sent.subject == "My Store にサインイン"
    assert "1回限り有効" in sent.body


SIGN_IN_BUTTON = {
    "en": "Sign in",
    "de": "Anmelden",
    "fr": "Se connecter",
    "es": "Iniciar sesión",
    "ja": "サインイン",
    "ko": "로그인",
    "zh": "登录",
}


@pytest.mark.parametrize("lang", sorted(SIGN_IN_BUTTON))
def test_the_links_confirm_button_in_each_language(client, store, lang):
    page = client.get(reverse("portal:sign-in-link", args=[store.slug, "x"]) + f"?lang={lang}")
    assert f">{SIGN_IN_BUTTON[lang]}</button>" in page.content.decode()
