"""Signing in to the customer portal: the emailed link (single use, 15 minutes, hashed, a
confirm step, no account enumeration, rate limits), the 30-minute sliding session, sign-out,
the cookie's scope, CSRF, the buyer session token and the merchant's portal link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from pancake.api import ids
from portal.models import PortalSession
from portal.views.base import COOKIE
from stores.models import MagicLink
from tests.factories import StoreFactory
from tests.portal.conftest import ALICE, BOB, sign_in

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https?://[^\s\"<]+/portal/sign-in/[A-Za-z0-9_\-]+")
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def home(store) -> str:
    return reverse("portal:home", args=[store.slug])


def ask(client, store, email, env="test", **extra):
    return client.post(
        reverse("portal:sign-in", args=[store.slug]), {"email": email, "env": env}, **extra
    )


def links_to(email) -> list:
    return [m for m in mail.outbox if m.to == [email] and "/portal/sign-in/" in m.body]


def emailed_link(email) -> str:
    sent = links_to(email)
    assert len(sent) == 1, [m.to for m in mail.outbox]
    return LINK_RE.search(sent[0].body).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _page_text(response, email) -> str:
    text = response.content.decode().replace(email, "EMAIL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_signed_out_portal_shows_the_sign_in_form_and_test_banner(client, store):
    response = client.get(home(store) + "?env=test")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="email"' in body and 'autocomplete="email"' in body
    assert 'name="env" value="test"' in body
    assert "checkout-test-banner" in body
    assert "checkout-test-banner" not in client.get(home(store)).content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_answer_is_the_same_whether_the_email_bought_or_not(client, store, alice_paid, capture):
    with capture(execute=True):
        bought = ask(client, store, ALICE)
    with capture(execute=True):
        unknown = ask(client, store, "nobody@example.com")
    assert bought.status_code == unknown.status_code == 200
    assert _page_text(bought, ALICE) == _page_text(unknown, "nobody@example.com")
    assert len(links_to(ALICE)) == 1
    assert not [m for m in mail.outbox if m.to == ["nobody@example.com"]]


def test_the_link_is_hashed_confirmed_by_a_button_and_works_once(
    client, store, alice_paid, capture
):
    with capture(execute=True):
        ask(client, store, ALICE)
    url = emailed_link(ALICE)
    token = url.rsplit("/", 1)[1]
    link = MagicLink.objects.get(email=ALICE)
    assert token not in link.token_hash and len(link.token_hash) == 64
    assert (link.store_id, link.environment) == (store.pk, "test")

    # A mail scanner's GETs do not use it up: the page shows one button.
    for _ in range(2):
        page = client.get(path_of(url))
        assert page.status_code == 200
        assert '<form method="post">' in page.content.decode()
    assert MagicLink.objects.get(pk=link.pk).used_at is None

    used = client.post(path_of(url))
    assert used.status_code == 302 and used["Location"] == home(store)
    cookie = used.cookies[COOKIE]
    assert cookie["path"] == home(store)
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    overview = client.get(home(store))
    assert ALICE in overview.content.decode()
    assert reverse("portal:sign-out", args=[store.slug]) in overview.content.decode()

    again = Client().post(path_of(url))
    assert again.status_code == 400
    assert COOKIE not in again.cookies


def test_the_link_expires_after_15_minutes(client, store, alice_paid, capture):
    with time_machine.travel(T0, tick=False):
        with capture(execute=True):
            ask(client, store, ALICE)
    url = emailed_link(ALICE)
    with time_machine.travel(T0 + timedelta(minutes=15, seconds=1), tick=False):
        assert client.post(path_of(url)).status_code == 400
    with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
        assert client.post(path_of(url)).status_code == 302


def test_a_link_of_one_store_does_not_open_another(client, store, alice_paid, capture, api):
    other = StoreFactory()
    with capture(execute=True):
        ask(client, store, ALICE)
    token = emailed_link(ALICE).rsplit("/", 1)[1]
    wrong = client.post(reverse("portal:sign-in-link", args=[other.slug, token]))
    assert wrong.status_code == 400
    # ... and a dashboard sign-in cannot use a portal link either.
    assert client.post(reverse("dashboard:magic-link", args=[token])).status_code == 400


@override_settings(PORTAL_SIGN_IN_RATE_PER_EMAIL=2, PORTAL_SIGN_IN_RATE_PER_IP=100)
def test_sign_in_requests_are_capped_per_email(client, store, alice_paid, capture):
    for _ in range(4):
        with capture(execute=True):
            assert ask(client, store, ALICE).status_code == 200
    assert len(links_to(ALICE)) == 2


@override_settings(PORTAL_SIGN_IN_RATE_PER_EMAIL=100, PORTAL_SIGN_IN_RATE_PER_IP=2)
def test_sign_in_requests_are_capped_per_ip(client, store, alice_paid, bob_paid, capture):
    for email in (ALICE, BOB, ALICE):
        with capture(execute=True):
            ask(client, store, email, REMOTE_ADDR="203.0.113.9")
    assert len([m for m in mail.outbox if "/portal/sign-in/" in m.body]) == 2
    with capture(execute=True):
        ask(client, store, BOB, REMOTE_ADDR="203.0.113.10")
    assert len([m for m in mail.outbox if "/portal/sign-in/" in m.body]) == 3


def test_the_email_is_matched_whatever_its_case(client, store, alice_paid, capture):
    with capture(execute=True):
        ask(client, store, "  Alice@Example.COM ")
    assert client.post(path_of(emailed_link(ALICE))).status_code == 302
    assert (
        str(alice_paid.order_id)
        in client.get(reverse("portal:orders", args=[store.slug])).content.decode()
    )


def test_an_invalid_email_is_a_form_error(client, store):
    response = ask(client, store, "not-an-email")
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_the_session_slides_for_30_minutes(client, store, alice_paid):
    orders = reverse("portal:orders", args=[store.slug])
    with time_machine.travel(T0, tick=False):
        sign_in(client, store, ALICE)
    for minutes in (20, 45, 70):  # each request 25 minutes after the last
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            assert client.get(orders).status_code == 200, minutes
    with time_machine.travel(T0 + timedelta(minutes=101), tick=False):
        expired = client.get(orders)
    assert expired.status_code == 302
    assert expired["Location"] == home(store) + "?env=test"  # the test-mode sign-in page


def test_sign_out_ends_the_session(client, store, alice_paid):
    sign_in(client, store, ALICE)
    cookie = client.cookies[COOKIE].value
    response = client.post(reverse("portal:sign-out", args=[store.slug]))
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == ""
    assert PortalSession.objects.get().ended_at is not None
    stale = Client()
    stale.cookies[COOKIE] = cookie
    assert stale.get(reverse("portal:orders", args=[store.slug])).status_code == 302


def test_every_form_needs_the_csrf_token(store, alice_paid, ebook):
    client = Client(enforce_csrf_checks=True)
    assert ask(client, store, ALICE).status_code == 403
    sign_in(client, store, ALICE)
    assert client.post(reverse("portal:sign-out", args=[store.slug])).status_code == 403
    refund = reverse("portal:refund", args=[store.slug, alice_paid.pk])
    assert client.post(refund, {"reason": "x"}).status_code == 403


def test_a_buyer_session_token_opens_the_portal(client, api, store, alice_paid):
    data = api.call(
        "auth/issue-session-token", {"storeId": ids.encode("STO", store.pk), "buyerIdentity": ALICE}
    )["data"]
    response = client.get(home(store) + "?token=" + data["token"])
    assert response.status_code == 302 and response["Location"] == home(store)
    assert response.cookies[COOKIE]["path"] == home(store)
    page = client.get(reverse("portal:orders", args=[store.slug]))
    assert str(alice_paid.order_id) in page.content.decode()
    session = PortalSession.objects.get()
    assert (session.buyer_identity, session.environment) == (ALICE, "test")


def test_a_bad_or_foreign_buyer_token_does_not(client, api, store, make_api):
    assert client.get(home(store) + "?token=nonsense").status_code == 400
    other_api = make_api("other@example.com")
    other_store = other_api.call("store/create-store", {"name": "Elsewhere"})["data"]["store"]
    token = other_api.call(
        "auth/issue-session-token", {"storeId": other_store["id"], "buyerIdentity": ALICE}
    )["data"]["token"]
    assert client.get(home(store) + "?token=" + token).status_code == 400
    assert not PortalSession.objects.exists()


def test_create_portal_link_signs_the_buyer_in_once(api, store, alice_paid):
    data = api.call(
        "customer/create-portal-link",
        {
            "storeId": ids.encode("STO", store.pk),
            "buyerEmail": ALICE,
            "returnUrl": "https://shop.example.com/account",
        },
    )["data"]
    assert set(data) == {"url", "expiresAt"}
    link = MagicLink.objects.get(email=ALICE)
    assert (link.store_id, link.environment) == (store.pk, "test")
    assert abs((link.expires_at - link.created_at).total_seconds() - 900) < 1
    client = Client()
    assert client.get(path_of(data["url"])).status_code == 200
    assert client.post(path_of(data["url"])).status_code == 302
    overview = client.get(home(store)).content.decode()
    assert "https://shop.example.com/account" in overview
    assert Client().post(path_of(data["url"])).status_code == 400


def test_create_portal_link_checks_store_url_and_caller(api, store, make_api, alice_paid):
    other = make_api("other@example.com")
    response = other.post(
        "customer/create-portal-link",
        {"storeId": ids.encode("STO", store.pk), "buyerEmail": ALICE},
    )
    assert response.status_code == 404
    bad = api.post(
        "customer/create-portal-link",
        {"storeId": ids.encode("STO", store.pk), "buyerEmail": ALICE, "returnUrl": "javascript:x"},
    )
    assert bad.status_code == 400
    assert "returnUrl" in bad.content.decode()
    token = api.call(
        "auth/issue-session-token", {"storeId": ids.encode("STO", store.pk), "buyerIdentity": ALICE}
    )["data"]["token"]
    as_buyer = Client().post(
        "/v1/actions/customer/create-portal-link",
        data=b'{"storeId": "x", "buyerEmail": "a@example.com"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT="test",
    )
    assert as_buyer.status_code == 403
    assert not MagicLink.objects.exists()
