"""Every sign-in path runs the same known-device check: the emailed magic link, a social
provider through django-allauth (GitHub here, its HTTP answered by a local transport: no
network), and the admin's password form. A browser the merchant has used before (its
``pancake_device`` cookie) is known; another one announces "sign-in from a new device" to each of
the merchant's stores; the first sign-in ever records the browser without announcing it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from pancake.models import OutboxEvent
from stores import notifications
from stores.auth import SocialAccountAdapter, link_issue
from stores.models import KnownDevice, Merchant, Notification

NEW_DEVICE = "merchant.new_device_sign_in"


def new_device_events():
    return OutboxEvent.objects.filter(event_type=NEW_DEVICE)


class GitHub(requests.adapters.BaseAdapter):
    """GitHub's token and user endpoints, answered in-process for one account."""

    def __init__(self, email: str):
        super().__init__()
        self.email = email
        self.calls: list[str] = []

    def send(self, request, **kwargs):
        self.calls.append(request.url)
        path = urlsplit(request.url).path
        body = {
            "/login/oauth/access_token": {"access_token": "gho_test", "token_type": "bearer"},
            "/user": {"id": 4242, "login": "ada", "name": "Ada", "email": self.email},
            "/user/emails": [{"email": self.email, "primary": True, "verified": True}],
        }[path]
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(body).encode()
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def github(db, settings, monkeypatch):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {
            "APPS": [{"client_id": "client-id", "secret": "client-secret", "key": ""}],
            "SCOPE": ["email"],
        }
    }
    transport = GitHub("owner@example.com")

    def session(adapter):
        s = requests.Session()
        s.mount("https://", transport)
        return s

    monkeypatch.setattr(SocialAccountAdapter, "get_requests_session", session)
    return transport


def github_sign_in(client: Client, user_agent: str):
    """The provider round trip: start (POST), GitHub sends the browser back with a code."""
    start = client.post("/accounts/github/login/", HTTP_USER_AGENT=user_agent)
    assert start.status_code == 302, start.content
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    return client.get(
        "/accounts/github/login/callback/",
        {"code": "the-code", "state": state},
        HTTP_USER_AGENT=user_agent,
    )


def test_a_social_sign_in_from_a_new_browser_announces_it(
    owner, shop, github, django_capture_on_commit_callbacks
):
    KnownDevice.objects.create(merchant=owner, token_hash="0" * 64)  # signed in before
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = github_sign_in(browser, "Safari on iPhone")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    assert any(url.endswith("/user") for url in github.calls)
    assert browser.session["_auth_user_id"] == str(owner.pk)
    cookie = response.cookies[notifications.DEVICE_COOKIE]
    assert cookie["httponly"] and len(cookie.value) >= 40
    assert KnownDevice.objects.filter(merchant=owner).count() == 2
    made = Notification.objects.get(kind="new_device")
    assert (made.recipient_id, made.store_id) == (owner.pk, shop.pk)
    assert made.details == {"userAgent": "Safari on iPhone"}

    # The same browser signs in again with GitHub: known, nothing announced.
    browser.logout()  # (which also drops the test client's cookies)
    browser.cookies[notifications.DEVICE_COOKIE] = cookie.value
    again = github_sign_in(browser, "Safari on iPhone")
    assert again.status_code == 302
    assert new_device_events().count() == 1
    assert KnownDevice.objects.filter(merchant=owner).count() == 2


def test_a_first_social_sign_up_records_the_browser_quietly(github):
    github.email = "newcomer@example.com"
    response = github_sign_in(Client(), "Firefox on Linux")
    assert response.status_code == 302
    merchant = Merchant.objects.get(email="newcomer@example.com")
    assert KnownDevice.objects.filter(merchant=merchant).count() == 1
    assert notifications.DEVICE_COOKIE in response.cookies
    assert not new_device_events().exists()


def test_the_magic_link_and_a_social_sign_in_share_the_device(owner, shop, github):
    """A browser known from a magic link is known to the GitHub sign-in too (one check)."""
    browser = Client()
    token, _link = link_issue(email=owner.email, max_age=600)
    first = browser.post(reverse("dashboard:magic-link", args=[token]))
    assert first.status_code == 302
    assert KnownDevice.objects.filter(merchant=owner).count() == 1
    browser.logout()
    browser.cookies[notifications.DEVICE_COOKIE] = first.cookies[notifications.DEVICE_COOKIE].value
    assert github_sign_in(browser, "Firefox on Linux").status_code == 302
    assert KnownDevice.objects.filter(merchant=owner).count() == 1
    assert not new_device_events().exists()
    # Another browser through the magic link: announced.
    token, _link = link_issue(email=owner.email, max_age=600)
    Client().post(reverse("dashboard:magic-link", args=[token]), HTTP_USER_AGENT="Edge")
    assert new_device_events().count() == 1


def test_the_admin_sign_in_checks_the_device_too(shop, owner):
    owner.is_staff = True
    owner.set_password("a long admin passphrase")
    owner.save()
    KnownDevice.objects.create(merchant=owner, token_hash="0" * 64)
    response = Client().post(
        reverse("admin:login"),
        {"username": owner.email, "password": "a long admin passphrase", "next": "/admin/"},
        HTTP_USER_AGENT="Chrome on Windows",
    )
    assert response.status_code == 302
    assert notifications.DEVICE_COOKIE in response.cookies
    event = new_device_events().get()
    assert event.data["userAgent"] == "Chrome on Windows"


def test_a_failed_sign_in_records_nothing(shop, owner):
    response = Client().post(reverse("admin:login"), {"username": owner.email, "password": "wrong"})
    assert response.status_code == 200
    assert notifications.DEVICE_COOKIE not in response.cookies
    assert not KnownDevice.objects.exists()


def test_force_login_in_tests_records_nothing(client, owner, shop):
    """A login with no response to carry the cookie (the test client's) leaves no device."""
    client.force_login(owner)
    client.force_login(owner)
    assert not KnownDevice.objects.exists()
    assert not new_device_events().exists()
