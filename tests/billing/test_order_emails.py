"""Order emails: the buyer's confirmation with its receipt and the
merchant's new-order notice, sent once when the first payment succeeds, per the store's
notification settings, in the buyer's checkout language."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from billing import emails
from billing import services as billing_services
from billing.tasks import send_order_emails
from checkout.models import Order
from pancake import outbox
from pancake.api import ids
from pancake.models import EmailDelivery, OutboxEvent
from stores.models import MembershipStatus, Role
from tests.factories import MerchantFactory, ProductFactory
from tests.helpers import CARD, buy, deliver, emails_to, pay

DE_BUSINESS = {
    "country": "DE",
    "isBusiness": True,
    "businessName": "Example GmbH",
    "taxId": "DE136695976",
}


@pytest.fixture
def plan(store):
    return ProductFactory(
        store=store,
        trial=True,
        name="Pro",
        prices={"EUR": {"amount": 999, "taxCategory": "saas"}},
    )


def html_of(message):
    return message.alternatives[0][0]


def test_a_paid_one_time_order_sends_the_buyer_a_receipt_and_the_owner_a_notice(
    api, book, django_capture_on_commit_callbacks
):
    payment = buy(api, book)
    deliver(pay(payment), django_capture_on_commit_callbacks)

    order = Order.objects.get()
    number = ids.encode("ORD", order.pk)
    assert len(mail.outbox) == 2
    (receipt,) = emails_to("buyer@example.com")
    assert receipt.subject == f"[Test] Your My Store order {number}"
    for body in (receipt.body, html_of(receipt)):
        assert "E-Book" in body and number in body
        assert "€100.00" in body  # subtotal
        assert "VAT (19%)" in body and "€19.00" in body
        assert "€119.00" in body  # total
        assert "Visa •••• 4242" in body
        assert "reverse charged" not in body
    assert "Test Mode - No real charges will be made" in receipt.body

    (notice,) = emails_to("owner@example.com")
    assert notice.subject == "[Test] New order: E-Book (€119.00) — My Store"
    assert "buyer@example.com" in notice.body and number in notice.body
    assert "€119.00" in notice.body and "Visa •••• 4242" in notice.body
    # The notice links to the payment's own page in the dashboard, by its absolute address.
    link = f"{settings.BASE_URL}/dashboard/{order.store_id}/payments/{payment.pk}/"
    assert f"This payment in the dashboard: {link}" in notice.body
    assert f'<a href="{link}">' in html_of(notice)

    rows = EmailDelivery.objects.order_by("recipient_type")
    assert [(r.recipient_type, r.to_address, r.status, r.event_type) for r in rows] == [
        ("buyer", "buyer@example.com", "sent", "order.completed"),
        ("merchant", "owner@example.com", "sent", "order.completed"),
    ]
    assert all(r.event_id == str(payment.pk) and r.test_mode for r in rows)
    assert rows[0].subject == receipt.subject


def test_a_business_receipt_shows_the_business_its_tax_id_and_the_reverse_charge(
    api, book, django_capture_on_commit_callbacks
):
    deliver(pay(buy(api, book, billing=DE_BUSINESS)), django_capture_on_commit_callbacks)
    (receipt,) = emails_to("buyer@example.com")
    for body in (receipt.body, html_of(receipt)):
        assert "Example GmbH" in body and "DE136695976" in body
        assert "VAT reverse charged: the customer accounts for the VAT" in body
        assert "€100.00" in body and "€0.00" in body


def test_a_trial_subscription_sends_the_subscription_confirmation_with_its_trial(
    api, plan, django_capture_on_commit_callbacks
):
    payment = buy(api, plan, session={"withTrial": True}, subscription=True)
    deliver(pay(payment), django_capture_on_commit_callbacks)

    order = Order.objects.get()
    assert order.status == "trialing"
    (confirmation,) = emails_to("buyer@example.com")
    assert confirmation.subject == "[Test] Your subscription to My Store is confirmed"
    first_charge = (order.completed_at + timedelta(days=7)).date()
    for body in (confirmation.body, html_of(confirmation)):
        assert "Pro" in body and "Monthly" in body
        assert "€11.89" in body and "VAT 19%" in body  # 9.99 + 19% VAT, each period
        assert "7-day free trial, cancel anytime" in body
        assert f"{first_charge:%B} {first_charge.day}, {first_charge.year}" in body
        assert "€0.00" in body  # charged today

    (notice,) = emails_to("owner@example.com")
    assert notice.subject.startswith("[Test] New subscription: Pro")
    assert EmailDelivery.objects.filter(event_type="subscription.activated").count() == 2


def test_a_paid_trial_names_its_price(api, store, django_capture_on_commit_callbacks):
    paid_trial = ProductFactory(
        store=store,
        subscription=True,
        name="Pro",
        billing_period="yearly",
        prices={"EUR": {"amount": 9900, "taxCategory": "saas", "trialAmount": 100}},
        metadata={"trialDays": 14},
    )
    payment = buy(api, paid_trial, session={"withTrial": True}, subscription=True)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    (confirmation,) = emails_to("buyer@example.com")
    assert "14-day trial for €1.00, cancel anytime" in confirmation.body
    assert "Yearly" in confirmation.body and "Charged today: €1.00" in confirmation.body


def test_a_subscription_without_trial_says_what_was_charged_today(
    api, plan, django_capture_on_commit_callbacks
):
    deliver(pay(buy(api, plan, subscription=True)), django_capture_on_commit_callbacks)
    (confirmation,) = emails_to("buyer@example.com")
    assert "trial" not in confirmation.body and "First charge" not in confirmation.body
    assert "Charged today: €11.89" in confirmation.body
    assert "Cancel anytime." in confirmation.body


@pytest.mark.parametrize(
    "switches, subscription",
    [
        ({"emailOrderConfirmation": False, "notifyNewOrders": False}, False),
        ({"emailSubscriptionConfirmation": False, "notifyNewSubscriptions": False}, True),
    ],
)
def test_switched_off_notifications_send_nothing(
    api, book, plan, store, switches, subscription, django_capture_on_commit_callbacks
):
    store.notification_settings = switches
    store.save(update_fields=["notification_settings"])
    payment = buy(api, plan if subscription else book, subscription=subscription)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    assert mail.outbox == [] and not EmailDelivery.objects.exists()


def test_each_switch_gates_only_its_own_email(api, book, store, django_capture_on_commit_callbacks):
    store.notification_settings = {"notifyNewOrders": False, "notifyNewSubscriptions": False}
    store.save(update_fields=["notification_settings"])
    deliver(pay(buy(api, book)), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]


def test_a_redelivered_notification_or_a_rerun_task_sends_nothing_twice(
    api, book, django_capture_on_commit_callbacks
):
    payment = buy(api, book)
    notification = pay(payment)
    deliver(notification, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        billing_services.test_processor_notification_receive(
            headers=dict(notification.headers), body=notification.body
        )
    assert callbacks == []  # the order did not move again: no task
    assert send_order_emails.delay(str(payment.pk)).get() == 0  # a duplicated task
    assert len(mail.outbox) == 2 and EmailDelivery.objects.count() == 2


def test_an_unpaid_payment_sends_nothing(api, book):
    payment = buy(api, book)
    assert send_order_emails.delay(str(payment.pk)).get() == 0
    assert mail.outbox == []


def test_a_declined_card_sends_nothing_until_a_card_succeeds(
    api, book, django_capture_on_commit_callbacks
):
    payment = buy(api, book)
    deliver(pay(payment, "4000000000000002"), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    deliver(pay(payment), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_owners_and_active_admins_are_notified_not_members_or_invitees(
    api, book, store, member_of, django_capture_on_commit_callbacks
):
    member_of(store, MerchantFactory(email="admin@example.com"), Role.ADMIN)
    member_of(store, MerchantFactory(email="member@example.com"), Role.MEMBER)
    invited = member_of(store, MerchantFactory(email="invited@example.com"), Role.ADMIN)
    invited.status = MembershipStatus.INVITED
    invited.save(update_fields=["status"])

    deliver(pay(buy(api, book)), django_capture_on_commit_callbacks)
    merchants = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("[Test] New order"))
    assert merchants == ["admin@example.com", "owner@example.com"]
    assert not emails_to("member@example.com") and not emails_to("invited@example.com")


def test_no_card_number_and_nothing_loaded_from_another_host(
    api, book, plan, django_capture_on_commit_callbacks
):
    deliver(pay(buy(api, book)), django_capture_on_commit_callbacks)
    deliver(pay(buy(api, plan, subscription=True)), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        html = html_of(message)
        for text in (message.subject, message.body, html):
            assert CARD not in text and "4242 4242 4242 4242" not in text
            assert "CVC" not in text.upper()
        assert not re.search(r"<img|<link|<script|src=|url\(|@import", html, re.IGNORECASE)
    assert not EmailDelivery.objects.filter(subject__contains=CARD).exists()


def test_the_buyers_email_is_in_the_checkout_language_and_the_merchants_in_english(
    api, plan, django_capture_on_commit_callbacks
):
    payment = buy(api, plan, session={"language": "ja-JP", "withTrial": True}, subscription=True)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    (confirmation,) = emails_to("buyer@example.com")
    # Strings the Japanese catalog already translates, and Babel's Japanese date.
    assert confirmation.subject.startswith("[テスト] ")
    for body in (confirmation.body, html_of(confirmation)):
        assert "テストモード - 実際の請求は発生しません" in body
        assert "7 日間の無料トライアル、いつでもキャンセル可能" in body
        assert "このご注文は" in body and "毎月" in body
        assert "Test Mode - No real charges will be made" not in body
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", body)
    (notice,) = emails_to("owner@example.com")
    assert notice.subject.startswith("[Test] New subscription: Pro")
    assert "Monthly" in notice.body and not re.search(r"[\u3040-\u30ff]", notice.body)


def test_german_checkout_renders_under_german(
    api, book, monkeypatch, django_capture_on_commit_callbacks
):
    """No German catalog yet: the override is checked where the templates are rendered, and
    through Babel's German money format."""
    seen = []
    real = emails.render_to_string

    def render(template, context):
        seen.append((template, translation.get_language()))
        return real(template, context)

    monkeypatch.setattr(emails, "render_to_string", render)
    deliver(pay(buy(api, book, session={"language": "de"})), django_capture_on_commit_callbacks)
    assert ("emails/order_confirmation.txt", "de") in seen
    assert ("emails/merchant_new_order.txt", "en") in seen
    (receipt,) = emails_to("buyer@example.com")
    assert "119,00\xa0€" in receipt.body
    (notice,) = emails_to("owner@example.com")
    assert "€119.00" in notice.body


def test_a_failed_send_is_recorded_and_the_other_emails_still_go(
    api, book, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        if message.to == ["buyer@example.com"]:
            raise ConnectionRefusedError("SMTP server refused the connection")
        return real_send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    payment = buy(api, book)
    deliver(pay(payment), django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    failed = EmailDelivery.objects.get(recipient_type="buyer")
    assert failed.status == "failed"
    assert failed.error_message == "ConnectionRefusedError: SMTP server refused the connection"
    assert "failed" in caplog.text
    # Recorded, not retried: a second run sends nothing twice.
    assert send_order_emails.delay(str(payment.pk)).get() == 0


def test_the_provider_webhook_view_triggers_the_emails(
    api, book, django_capture_on_commit_callbacks
):
    from django.test import Client

    notification = pay(buy(api, book))
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in notification.headers.items()}
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/providers/test/notifications",
            data=notification.body,
            content_type="application/json",
            **headers,
        )
    assert response.status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == ["buyer@example.com", "owner@example.com"]


def test_a_queue_failure_does_not_undo_the_payment_and_the_sweep_sends_later(
    api, book, monkeypatch, caplog, django_capture_on_commit_callbacks, settings
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(send_order_emails, "delay", broker_down)
    payment = buy(api, book)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    assert payment.status == "succeeded" and Order.objects.get().status == "completed"
    assert "broker unreachable" in caplog.text and mail.outbox == []
    # The event stays undispatched: with the broker back, the sweep sends the emails, once.
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 1
    monkeypatch.undo()
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    outbox.sweep()
    outbox.sweep()
    assert sorted(m.to[0] for m in mail.outbox) == ["buyer@example.com", "owner@example.com"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_task_at_once_send_each_email_once(
    api, book, monkeypatch, require_postgres
):
    import threading

    from django.db import connection

    payment = buy(api, book)
    notification = pay(payment)
    queued = []  # committed for real; the task is kept for the two workers below
    monkeypatch.setattr(send_order_emails, "delay", queued.append)
    billing_services.test_processor_notification_receive(
        headers=dict(notification.headers), body=notification.body
    )
    assert queued == [str(payment.pk)]
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            emails.order_emails_send(payment_id=queued[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.to[0] for m in mail.outbox) == ["buyer@example.com", "owner@example.com"]
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
