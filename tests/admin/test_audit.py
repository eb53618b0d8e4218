"""The audit trail: each merchant action that changes money or access (refund approval, an API
key created or deleted, a role change, an ownership transfer, a store's deletion, a webhook
endpoint's change) and each staff change in the admin is recorded with who made it, the values
before and after, the client's IP and user agent."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from billing.models import ExchangeRate, RefundTicket, WebhookEndpoint
from pancake import audit, staff_groups
from pancake.api import ids
from pancake.api.actor import merchant_actor
from stores import payouts
from stores import services as store_services
from stores.models import ApiKey, Merchant, PayoutSetup, Role, Store, StoreMembership
from tests.factories import MembershipFactory, MerchantFactory, public_pem

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


def _entries(model, pk=None) -> list[LogEntry]:
    found = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model))
    if pk is not None:
        found = found.filter(object_pk=str(pk))
    return list(found.order_by("timestamp", "pk"))


def _browser(merchant) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    client.force_login(merchant)
    return client


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.pk, *args])


# --- merchant actions through the API ------------------------------------------------------------


def test_a_refund_approval_through_the_api_is_recorded_with_the_merchant(api, paid, capture):
    filed = api.call(
        "refund-ticket/create-ticket",
        {"paymentId": ids.encode("PAY", paid.pk), "reason": "Broken", "amount": "10.00"},
    )["data"]
    with capture(execute=True):
        api.call(
            "refund-ticket/approve-ticket",
            {"ticketId": filed["ticketId"]},
            headers={"HTTP_USER_AGENT": "pancake-sdk/1.4", "REMOTE_ADDR": "198.51.100.4"},
        )
    ticket = RefundTicket.objects.get(payment=paid)
    approved = [
        e
        for e in _entries(RefundTicket, ticket.pk)
        if e.changes.get("status", [0])[-1] == "approved"
    ]
    [entry] = approved
    assert entry.actor == api.merchant
    assert entry.actor_email == api.merchant.email
    assert entry.changes["status"] == ["pending", "approved"]
    assert entry.changes["approved_amount"] == [None, 1000]
    assert entry.remote_addr == "198.51.100.4"
    assert entry.additional_data["user_agent"] == "pancake-sdk/1.4"
    assert entry.additional_data["via"] == "api"
    assert entry.additional_data["store_id"] == str(paid.store_id)


def test_a_webhook_endpoint_change_is_recorded_and_its_secret_never_is(api, store):
    api.call(
        "store/add-webhook",
        {
            "storeId": ids.encode("STO", store.pk),
            "channel": "http",
            "url": "https://hooks.example.com/one",
            "secret": "first-secret-value-123",
            "testMode": True,
        },
    )
    endpoint = WebhookEndpoint.objects.get(store=store)
    api.call(
        "store/update-webhook",
        {
            "id": str(endpoint.pk),
            "url": "https://hooks.example.com/two",
            "secret": "second-secret-value-456",
        },
    )
    created, changed = _entries(WebhookEndpoint, endpoint.pk)
    assert created.action == LogEntry.Action.CREATE
    assert changed.actor == api.merchant
    assert changed.changes["url"] == [
        "https://hooks.example.com/one",
        "https://hooks.example.com/two",
    ]
    assert "secret" in changed.changes
    stored = str(LogEntry.objects.values_list("changes", "changes_text", "serialized_data"))
    assert "first-secret-value-123" not in stored and "second-secret-value-456" not in stored


# --- merchant actions in the dashboard -----------------------------------------------------------


def test_an_api_key_created_and_deleted_in_the_dashboard_is_recorded(owner, shop, key_pool):
    browser = _browser(owner)
    form = {
        "name": "Server",
        "environment": "test",
        "api_version": "2026-09-23",
        "public_key": public_pem(key_pool[1]),
    }
    assert browser.post(_url("developers", shop), form).status_code == 302
    key = ApiKey.objects.get(merchant=owner)
    assert browser.post(_url("api-key-delete", shop, key.pk)).status_code == 302
    created, deleted = _entries(ApiKey, key.pk)
    assert (created.action, deleted.action) == (LogEntry.Action.CREATE, LogEntry.Action.DELETE)
    for entry in (created, deleted):
        assert entry.actor == owner
        assert entry.remote_addr == "203.0.113.7"
        assert entry.additional_data["user_agent"] == BROWSER
        assert entry.additional_data["merchant_id"] == str(owner.pk)
    assert created.changes["name"] == [None, "Server"]
    assert deleted.changes["name"] == ["Server", None]
    assert "public_key_pem" not in created.changes


def test_a_role_change_and_an_ownership_transfer_are_recorded(owner, shop):
    member = MerchantFactory()
    membership = MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    browser = _browser(owner)
    assert browser.post(_url("team-role", shop, member.pk), {"role": "admin"}).status_code == 302
    transfer = {"merchant": str(member.pk), "confirm": "on"}
    assert browser.post(_url("team-transfer", shop), transfer).status_code == 302

    roles = [
        e.changes["role"] for e in _entries(StoreMembership, membership.pk) if e.actor == owner
    ]
    assert roles == [["member", "admin"], ["admin", "owner"]]
    own = StoreMembership.objects.get(store=shop, merchant=owner)
    [stepped_down] = [e for e in _entries(StoreMembership, own.pk) if e.actor == owner]
    assert stepped_down.changes["role"] == ["owner", "admin"]
    assert stepped_down.additional_data["store_id"] == str(shop.pk)


def test_a_store_deletion_is_recorded(owner, shop):
    browser = _browser(owner)
    response = browser.post(_url("settings-delete", shop), {"confirm_name": "Maple Shop"})
    assert response.status_code == 302
    [entry] = [e for e in _entries(Store, shop.pk) if "deleted_at" in e.changes]
    assert entry.actor == owner
    before, after = entry.changes["deleted_at"]
    assert before is None and after
    assert entry.remote_addr == "203.0.113.7"


def test_a_change_outside_a_request_has_no_actor(shop):
    store_services.store_suspend(store_id=shop.pk)
    [entry] = [e for e in _entries(Store, shop.pk) if e.action == LogEntry.Action.UPDATE]
    assert entry.actor is None and entry.remote_addr is None
    assert entry.changes["status"] == ["active", "suspended"]


# --- staff changes in the admin ------------------------------------------------------------------


@pytest.fixture
def staff(db) -> Client:
    user = Merchant.objects.create_superuser(email="root@example.com", password="pw-12345678")
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.10")
    client.force_login(user)
    client.user = user
    return client


def test_a_staff_edit_of_an_untracked_table_is_recorded_before_and_after(staff):
    rate, _ = ExchangeRate.objects.update_or_create(
        currency="USD", defaults={"per_eur": "1.08000000", "rate_date": "2026-12-01", "source": ""}
    )
    url = reverse("admin:billing_exchangerate_change", args=[rate.pk])
    form = {"currency": "USD", "per_eur": "1.10000000", "rate_date": "2026-12-01", "source": "x"}
    assert staff.post(url, form).status_code == 302
    [entry] = _entries(ExchangeRate, rate.pk)
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == staff.user
    assert entry.changes["per_eur"] == ["1.08000000", "1.10000000"]
    assert entry.changes["source"] == ["", "x"]
    assert entry.remote_addr == "192.0.2.10"
    assert entry.additional_data["via"] == "admin"
    assert entry.additional_data["user_agent"] == BROWSER


def test_a_staff_edit_of_a_store_is_recorded_once(staff, shop):
    url = reverse("admin:stores_store_change", args=[shop.pk])
    html = staff.get(url).content.decode()
    assert 'name="name"' in html
    form = {
        "name": "Maple Shop Renamed",
        "slug": shop.slug,
        "status": shop.status,
        "default_currency": shop.default_currency,
        "country": shop.country,
        "timezone": shop.timezone,
        "notification_settings": "{}",
        "checkout_settings": "null",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = staff.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    renamed = [e for e in _entries(Store, shop.pk) if e.action == LogEntry.Action.UPDATE]
    assert len(renamed) == 1
    assert renamed[0].changes["name"] == ["Maple Shop", "Maple Shop Renamed"]
    assert renamed[0].actor == staff.user


def test_putting_a_staff_member_in_a_group_is_recorded(staff):
    member = Merchant.objects.create_user(email="new-agent@example.com", is_staff=True)
    agent_group = Group.objects.get(name=staff_groups.AGENT)
    url = reverse("admin:stores_merchant_change", args=[member.pk])
    form = {
        "email": member.email,
        "name": "",
        "locale": "en",
        "is_active": "on",
        "is_staff": "on",
        "groups": [str(agent_group.pk)],
        "date_joined_0": "2026-12-01",
        "date_joined_1": "10:00:00",
    }
    assert staff.post(url, form).status_code == 302
    [entry] = [e for e in _entries(Merchant, member.pk) if "groups" in e.changes]
    assert entry.changes["groups"] == [[], [staff_groups.AGENT]]
    assert entry.actor == staff.user


def test_setting_the_payout_account_is_recorded_without_the_full_number(owner, shop):
    context = audit.AuditContext(owner, "203.0.113.7", BROWSER, "dashboard")
    with audit.acting(context):
        payouts.account_set(
            actor=merchant_actor(owner, "prod"),
            store_id=shop.pk,
            holder="Maple Shop GmbH",
            bank_country="DE",
            number="DE89 3704 0044 0532 0130 00",
        )
    [entry] = [e for e in _entries(PayoutSetup) if e.changes.get("account_last4", [0])[-1]]
    assert entry.actor == owner
    assert entry.changes["account_last4"][1] == "3000"
    assert entry.additional_data["store_id"] == str(shop.pk)
    assert "0532013000" not in str(entry.changes)
