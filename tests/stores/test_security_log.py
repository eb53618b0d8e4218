"""The Security log section of a store's settings: the store's own audit entries (team, API keys
of its members, webhook endpoints, refunds, the store itself), newest first and paginated, with
who, when, from where and each change; owners and admins only; in English, Chinese and
Japanese."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pancake import audit
from stores import services
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, make_api_key, public_pem
from tests.html_checks import unlabelled_controls

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh) Safari/605.1"


def _client(merchant) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")
    client.force_login(merchant)
    return client


def _log_url(store) -> str:
    return reverse("dashboard:settings-security-log", args=[store.pk])


def _as(merchant):
    """Changes made as if by ``merchant`` in the dashboard."""
    return audit.acting(audit.AuditContext(merchant, "203.0.113.9", BROWSER, "dashboard"))


def _rows(html: str) -> int:
    return html.count('class="security-entry"')


def test_the_owner_sees_the_stores_changes_and_not_another_stores(owner, shop, key_pool):
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    browser = _client(owner)
    browser.post(reverse("dashboard:team-role", args=[shop.pk, member.pk]), {"role": "admin"})
    other_owner = MerchantFactory(email="other@example.com")
    other = services.store_create(merchant=other_owner, name="Other Shop Secret")
    services.store_suspend(store_id=other.pk)
    stranger_key = make_api_key(other_owner, key_pool[3], name="Stranger key")

    response = browser.get(_log_url(shop))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Security log" in html
    assert "member@example.com" in html  # the membership changed
    assert "owner@example.com" in html  # who changed it
    assert "<code>role</code>" in html
    assert '<span class="before">member</span> → <span class="after">admin</span>' in html
    assert "203.0.113.9" in html and BROWSER in html
    assert "Other Shop Secret" not in html
    assert stranger_key.name not in html
    assert unlabelled_controls(html) == []


def test_api_keys_of_the_stores_members_are_in_its_log(owner, shop, key_pool):
    browser = _client(owner)
    form = {
        "name": "Build server",
        "environment": "test",
        "api_version": "2026-09-23",
        "public_key": public_pem(key_pool[2]),
    }
    assert browser.post(reverse("dashboard:developers", args=[shop.pk]), form).status_code == 302
    html = browser.get(_log_url(shop)).content.decode()
    assert "API key" in html and "Build server" in html


def test_members_cannot_open_the_security_log_and_do_not_see_its_link(owner, shop):
    member = MerchantFactory()
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    browser = _client(member)
    assert browser.get(_log_url(shop)).status_code == 403
    settings_html = browser.get(reverse("dashboard:settings-details", args=[shop.pk]))
    assert _log_url(shop) not in settings_html.content.decode()

    admin = MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    admin_browser = _client(admin)
    assert admin_browser.get(_log_url(shop)).status_code == 200
    settings_html = admin_browser.get(reverse("dashboard:settings-details", args=[shop.pk]))
    assert _log_url(shop) in settings_html.content.decode()


def test_another_stores_owner_gets_a_404(shop):
    stranger = MerchantFactory()
    services.store_create(merchant=stranger, name="Mine")
    assert _client(stranger).get(_log_url(shop)).status_code == 404


def test_the_log_is_paginated_newest_first(owner, shop):
    member = MerchantFactory(email="paged@example.com")
    membership = MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    with _as(owner):
        for n in range(30):
            membership.role = Role.ADMIN if n % 2 == 0 else Role.MEMBER
            membership.save(update_fields=["role", "updated_at"])
    browser = _client(owner)
    first = browser.get(_log_url(shop)).content.decode()
    assert _rows(first) == 25
    assert "Page 1 of 2" in first
    # The newest change (the 30th, admin -> member) comes first.
    newest = first.index('<span class="before">admin</span> → <span class="after">member</span>')
    older = first.index('<span class="before">member</span> → <span class="after">admin</span>')
    assert newest < older
    second = browser.get(_log_url(shop), {"page": 2}).content.decode()
    # 30 role changes, the store's creation and the owner's and member's memberships.
    assert _rows(second) == 30 + 3 - 25


@pytest.mark.parametrize(
    ("accept", "title", "who"),
    [
        ("ja", "セキュリティログ", "実行者"),
        ("zh-CN", "安全日志", "操作人"),
        ("en", "Security log", "Who"),
    ],
)
def test_the_security_log_is_translated(owner, shop, accept, title, who):
    html = _client(owner).get(_log_url(shop), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert title in html and who in html
