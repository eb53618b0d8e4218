"""The admin for support staff: every table of the project is in it, every list and search
answers, money shows formatted in its currency, frozen records have no editable field, and the
three staff groups hold the permissions they are meant to."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.models import (
    Invoice,
    Payment,
    RefundTicketVersion,
    Subscription,
    WebhookDelivery,
)
from checkout.models import CheckoutSession, Order
from pancake import staff_groups
from pancake.admin import money
from pancake.api import ids
from pancake.models import OutboxEvent
from products.models import ProductVersion
from tests.admin.conftest import US
from tests.factories import CheckoutSessionFactory, ProductFactory
from tests.helpers import buy, deliver, pay

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"pancake", "stores", "products", "checkout", "billing", "portal", "auditlog"}
EDITABLE = re.compile(r"<(input|select|textarea)\b[^>]*>", re.IGNORECASE)


def _project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


def test_every_model_of_the_project_is_registered_in_the_admin():
    missing = [m._meta.label for m in _project_models() if not admin.site.is_registered(m)]
    assert missing == []


def test_every_list_answers_with_and_without_a_search(superuser, paid):
    for model in _project_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert superuser.get(url).status_code == 200, model._meta.label
        assert superuser.get(url, {"q": "example"}).status_code == 200, model._meta.label


def test_every_change_page_of_a_stored_row_answers(superuser, paid, api, store, capture):
    """A paid one-time order, a paid subscription, a refund ticket, a webhook delivery: each
    table's first row opens, with its money formatted where it has some."""
    subscription_payment = buy(
        api,
        ProductFactory(store=store, subscription=True),
        currency="USD",
        billing=US,
        subscription=True,
    )
    deliver(pay(subscription_payment), capture)
    _frozen_records(paid, api, capture)
    opened = []
    for model in _project_models():
        row = model._default_manager.order_by("pk").first()
        if row is None:
            continue
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        assert superuser.get(url).status_code == 200, meta.label
        opened.append(meta.label)
    assert {"billing.Subscription", "billing.Payment", "checkout.Order"} <= set(opened)
    subscription = Subscription.objects.get(order_id=subscription_payment.order_id)
    html = superuser.get(
        reverse("admin:billing_subscription_change", args=[subscription.pk])
    ).content.decode()
    assert "$9.99" in html


def test_money_is_shown_formatted_in_lists(superuser, paid):
    order = Order.objects.get(pk=paid.order_id)
    html = superuser.get(reverse("admin:checkout_order_changelist")).content.decode()
    assert f"${order.total / 100:.2f}" in html
    html = superuser.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert f"${Invoice.objects.get(payment=paid).total / 100:.2f}" in html
    html = superuser.get(reverse("admin:checkout_checkoutsession_changelist")).content.decode()
    assert "$29.00" in html


def _editable_inputs(html: str, model_name: str) -> list[str]:
    """Fields of a change page's form (the record and its inlines) a user could type in or pick
    from: hidden ones (the CSRF token, inline management forms) aside."""
    start = html.index(f'id="{model_name}_form"')
    form = html[start : html.index("</form>", start)]
    return [
        match.group(0) for match in EDITABLE.finditer(form) if 'type="hidden"' not in match.group(0)
    ]


def _frozen_records(paid, api, capture) -> list:
    filed = api.call(
        "refund-ticket/create-ticket",
        {"paymentId": ids.encode("PAY", paid.pk), "reason": "Broken", "amount": "10.00"},
    )
    assert filed["data"]["ticketId"]
    delivery = WebhookDelivery.objects.create(
        store_id=paid.store_id,
        environment="test",
        event_type="order.completed",
        subject_id=paid.pk,
        aggregate_id=paid.order_id,
        channel="http",
        url="https://hooks.example.com/pancake",
        body='{"id": "x"}',
        status="failed",
    )
    return [
        ProductVersion.objects.filter(product=paid.product).first(),
        Payment.objects.get(pk=paid.pk),
        Invoice.objects.get(payment=paid),
        OutboxEvent.objects.filter(store_id=paid.store_id).first(),
        RefundTicketVersion.objects.get(ticket__payment=paid),
        delivery,
        CheckoutSession.objects.get(order__pk=paid.order_id),
        Order.objects.get(pk=paid.order_id),
    ]


def test_frozen_records_have_no_editable_field_even_for_a_superuser(superuser, paid, api, capture):
    for record in _frozen_records(paid, api, capture):
        meta = record._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])
        response = superuser.get(url)
        assert response.status_code == 200, meta.label
        html = response.content.decode()
        assert _editable_inputs(html, meta.model_name) == [], meta.label
        assert 'name="_save"' not in html, meta.label
        assert superuser.post(url, {}).status_code == 403, meta.label


def test_an_editable_record_does_show_inputs(superuser, store):
    """The check above would catch an input: the store's change page has them."""
    html = superuser.get(reverse("admin:stores_store_change", args=[store.pk])).content.decode()
    assert _editable_inputs(html, "store")


def test_the_support_groups_hold_their_permissions():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    action_codenames = {codename for _, codename in staff_groups.ACTION_PERMISSIONS}
    read_only = codenames(staff_groups.READ_ONLY)
    agent = codenames(staff_groups.AGENT)
    everything = codenames(staff_groups.ADMIN)

    assert {"view_payment", "view_webhookdelivery", "view_logentry", "view_store"} <= read_only
    assert all(c.startswith("view_") for c in read_only)
    assert read_only.isdisjoint(action_codenames)
    assert agent == read_only | action_codenames
    assert {"change_store", "add_payout", "change_merchant"} | agent <= everything


def test_a_read_only_supporter_sees_lists_but_cannot_add_or_change(reader, store, paid):
    assert reader.get(reverse("admin:billing_payment_changelist")).status_code == 200
    assert reader.get(reverse("admin:stores_store_change", args=[store.pk])).status_code == 200
    assert reader.get(reverse("admin:billing_payout_add")).status_code == 403
    response = reader.post(
        reverse("admin:stores_store_change", args=[store.pk]), {"name": "Renamed"}
    )
    assert response.status_code == 403
    store.refresh_from_db()
    assert store.name == "My Store"


def test_secrets_never_show_in_the_admin(superuser, api, store):
    api.call(
        "store/add-webhook",
        {
            "storeId": ids.encode("STO", store.pk),
            "channel": "http",
            "url": "https://hooks.example.com/pancake",
            "secret": "whsec-do-not-show-1234",
            "testMode": True,
        },
    )
    endpoint = store.webhooks.get()
    for url in (
        reverse("admin:billing_webhookendpoint_changelist"),
        reverse("admin:billing_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:auditlog_logentry_changelist"),
        *(
            reverse("admin:auditlog_logentry_change", args=[pk])
            for pk in LogEntry.objects.values_list("pk", flat=True)
        ),
    ):
        html = superuser.get(url).content.decode()
        assert "whsec-do-not-show-1234" not in html


def test_a_session_factory_is_listed(superuser):
    session = CheckoutSessionFactory()
    html = superuser.get(reverse("admin:checkout_checkoutsession_changelist")).content.decode()
    assert str(session.pk) in html


def test_money_follows_a_relation_to_its_currency_and_shows_a_dash_when_empty():
    show = money("charge_amount", "Charge", "subscription__currency")
    change = SimpleNamespace(charge_amount=50_000, subscription=SimpleNamespace(currency="JPY"))
    assert show(None, change) == "¥50,000"
    assert show(None, SimpleNamespace(charge_amount=None, subscription=change.subscription)) == "—"
