"""Subscription emails, driven through time as production runs them (time-machine and the beat
task, or a test clock): each email goes out once for its event with what was true then (amount,
tax, dates, card), in the buyer's checkout language (the merchant's in English), only when its
switch is on, and never twice however often its task runs."""

from __future__ import annotations

import re
import threading
from contextlib import nullcontext

import pytest
from django.core import mail
from django.db import connection, transaction

from billing.models import PlanChange, PlanChangeTiming, Subscription
from billing.providers import test_processor
from billing.subscriptions import lifecycle, renewals
from billing.tasks import send_subscription_emails
from billing.webhooks import payload
from pancake import outbox
from pancake.api import versions
from pancake.models import EmailDelivery, OutboxEvent
from stores.models import NOTIFICATION_KEYS
from tests.factories import ProductFactory
from tests.helpers import CARD, buy, emails_to
from tests.subscriptions.helpers import at, beat, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=False)

DE = {"country": "DE", "isBusiness": False}
DECLINES_OFF_SESSION = "4000000000000341"
BUYER = "buyer@example.com"
OWNER = "owner@example.com"
SUBSCRIPTION_SWITCHES = [
    key
    for key in NOTIFICATION_KEYS
    if key
    in {
        "emailSubscriptionCycled",
        "emailSubscriptionPastDue",
        "emailSubscriptionCanceled",
        "emailTrialEnding",
        "emailUpcomingCharge",
        "emailSubscriptionPlanChanged",
        "notifySubscriptionRenewed",
        "notifySubscriptionPastDue",
        "notifySubscriptionCanceled",
        "notifySubscriptionUncanceled",
        "notifySubscriptionPlanChanged",
        "notifySubscriptionEnded",
    }
]


@pytest.fixture
def plan(store):
    """Pro, monthly, EUR 9.99 + 19% German VAT = EUR 11.89 a month."""
    store.support_email = "help@mystore.example"
    store.save(update_fields=["support_email"])
    return ProductFactory(
        store=store,
        subscription=True,
        name="Pro",
        prices={"EUR": {"amount": 999, "taxCategory": "saas"}},
    )


@pytest.fixture
def trial_plan(store):
    return ProductFactory(
        store=store,
        trial=True,
        name="Pro",
        prices={"EUR": {"amount": 999, "taxCategory": "saas"}},
    )


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def start(api, product, capture, **kwargs):
    """A subscription paid in EUR from Germany; the first payment's emails are left out."""
    order, sub = subscribe(api, product, capture, currency="EUR", billing=DE, **kwargs)
    mail.outbox.clear()
    return order, sub


def html_of(message) -> str:
    return message.alternatives[0][0]


def bodies(message) -> tuple[str, str]:
    return message.body, html_of(message)


def sent_for(event_type: str) -> list[EmailDelivery]:
    return list(EmailDelivery.objects.filter(event_type=event_type).order_by("recipient_type"))


def event_ids(order, event_type: str) -> list[str]:
    return [
        str(pk)
        for pk in OutboxEvent.objects.filter(aggregate_id=order.pk, event_type=event_type)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ]


# --- the renewal receipt --------------------------------------------------------------------------


def test_a_renewal_sends_the_buyer_a_receipt_and_the_owners_a_notice_once(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)  # the upcoming-charge reminder, late, then the renewal

    (receipt,) = emails_to(BUYER)  # a reminder after the fact is left out
    assert receipt.subject == "[Test] Your My Store subscription receipt"
    for body in bodies(receipt):
        assert "Thank you! Your subscription to Pro has renewed." in body
        assert "February 10, 2027 – March 10, 2027" in body  # the period it pays for
        assert "€11.89" in body and "€9.99" in body  # charged, and before tax
        assert "VAT (19%)" in body and "€1.90" in body
        assert "Visa •••• 4242" in body
        assert "Next billing date: March 10, 2027" in re.sub(r"<[^>]+>", "", body)
        assert "Test Mode - No real charges will be made" in body
        assert "help@mystore.example" in body
    (notice,) = emails_to(OWNER)
    assert notice.subject == "[Test] Subscription renewed: Pro (€11.89) — My Store"
    assert BUYER in notice.body and "€11.89 on February 10, 2027" in notice.body
    assert "Visa •••• 4242" in notice.body and "Period number: 2" in notice.body

    rows = sent_for("subscription.payment_succeeded")
    (event_id,) = event_ids(order, "subscription.payment_succeeded")[1:]  # [0]: the first payment
    assert [(r.recipient_type, r.to_address, r.status) for r in rows] == [
        ("buyer", BUYER, "sent"),
        ("merchant", OWNER, "sent"),
    ]
    assert {r.event_id for r in rows} == {event_id}
    # The task run again, the sweep, another beat: nothing goes out twice.
    assert send_subscription_emails.delay([event_id]).get() == 0
    outbox.sweep()
    with at(utc(2027, 2, 10, 9, 2)):
        beat(capture)
    assert len(mail.outbox) == 2 and EmailDelivery.objects.count() == 4  # with the first two


def test_the_first_charge_after_a_trial_is_receipted_as_the_start(api, trial_plan, capture):
    with at(utc(2027, 3, 1, 12)):
        order, sub = start(api, trial_plan, capture, trial=True)
    with at(utc(2027, 3, 8, 12, 1)):
        beat(capture)
    (receipt,) = emails_to(BUYER)
    assert "Your trial of Pro has ended and your subscription has started." in receipt.body
    assert "March 8, 2027 – April 8, 2027" in receipt.body and "€11.89" in receipt.body


def test_a_receipt_for_a_canceling_subscription_names_its_end_not_a_next_charge(
    api, plan, capture, monkeypatch
):
    """Canceled while its renewal's charge was at the provider: the charge is receipted, and
    the subscription runs to the end of the period it paid for."""
    with at(utc(2027, 1, 10)):
        order, sub = start(api, plan, capture)
    charge = renewals.charge_off_session

    def cancel_meanwhile(subscription, payment):
        with capture(execute=True):
            api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
        return charge(subscription, payment)

    monkeypatch.setattr(renewals, "charge_off_session", cancel_meanwhile)
    with at(utc(2027, 2, 10, 0, 1)):
        beat(capture)
    assert refresh(sub).status == "canceling"
    receipt = next(m for m in emails_to(BUYER) if "receipt" in m.subject)
    assert "Your subscription ends on March 10, 2027." in receipt.body
    assert "Next billing date" not in receipt.body


# --- a failed payment, its retries, the end -------------------------------------------------------


def test_each_failed_try_tells_the_buyer_when_the_next_one_is_and_the_last_that_it_ended(
    api, plan, capture
):
    with at(utc(2027, 5, 1, 8)):
        order, sub = start(api, plan, capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")

    with at(utc(2027, 6, 1, 8, 1)):
        beat(capture)
    (failed,) = emails_to(BUYER)
    assert failed.subject == "[Test] Your payment to My Store failed"
    for body in bodies(failed):
        text = re.sub(r"<[^>]+>", " ", body)
        assert "We could not collect the payment for your subscription to Pro." in text
        assert "€11.89" in text and "June 1, 2027" in text
        assert "Your card was declined." in text  # the provider's reason
        assert "We will try again on June 2, 2027." in text
        assert "Update your payment method" in text  # in the customer portal
    assert "/portal/subscriptions?env=test" in failed.body
    (notice,) = emails_to(OWNER)
    assert notice.subject == f"[Test] Subscription payment failed: Pro — {BUYER} — My Store"
    assert "Your card was declined." in notice.body and "Next try: June 2, 2027" in notice.body

    for day, retry in ((2, "June 4, 2027"), (4, "June 8, 2027")):
        mail.outbox.clear()
        with at(utc(2027, 6, day, 8, 1)):
            beat(capture)
        (failed,) = emails_to(BUYER)  # the owners heard at the first failure only
        assert f"We will try again on {retry}." in failed.body
        assert emails_to(OWNER) == []

    mail.outbox.clear()
    with at(utc(2027, 6, 8, 8, 1)):
        beat(capture)
    assert refresh(sub).status == "canceled"
    failed, ended = sorted(emails_to(BUYER), key=lambda m: "ended" in m.subject)
    assert "That was our last attempt, so your subscription has been canceled." in failed.body
    assert "We will try again" not in failed.body and "update your payment" not in failed.body
    assert ended.subject == "[Test] Your My Store subscription has ended"
    assert "Your subscription to Pro ended on June 8, 2027." in ended.body
    (notice,) = emails_to(OWNER)
    assert notice.subject == f"[Test] Subscription ended: Pro — {BUYER} — My Store"
    assert len(sent_for("subscription.payment_failed")) == 5  # 4 tries to the buyer, 1 notice


def test_a_declined_first_charge_after_a_trial_is_a_failed_payment_email(api, trial_plan, capture):
    with at(utc(2027, 5, 1)):
        order, sub = start(api, trial_plan, capture, trial=True, card=DECLINES_OFF_SESSION)
    with at(utc(2027, 5, 8, 0, 1)):
        beat(capture)
    (failed,) = emails_to(BUYER)
    assert "We will try again on May 9, 2027." in failed.body
    assert "€11.89" in failed.body


def test_a_recovered_payment_sends_a_receipt_and_tells_the_owners_it_recovered(api, plan, capture):
    with at(utc(2027, 1, 10)):
        order, sub = start(api, plan, capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 2, 10, 0, 1)):
        beat(capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "succeed")
    mail.outbox.clear()
    with at(utc(2027, 2, 11, 0, 1)):
        beat(capture)
    (receipt,) = emails_to(BUYER)
    assert "Amount charged: €11.89" in receipt.body and "February 11, 2027" in receipt.body
    (notice,) = emails_to(OWNER)
    assert notice.subject == "[Test] Subscription payment recovered: Pro (€11.89) — My Store"


# --- reminders ------------------------------------------------------------------------------------


def test_trial_ending_reminder_three_days_before_with_what_will_be_charged(
    api, trial_plan, capture
):
    with at(utc(2027, 3, 1, 12)):
        order, sub = start(api, trial_plan, capture, trial=True)
    with at(utc(2027, 3, 5, 11, 59)):
        beat(capture)
    assert mail.outbox == []
    with at(utc(2027, 3, 5, 12, 1)):
        beat(capture)
        beat(capture)
    (reminder,) = mail.outbox
    assert reminder.to == [BUYER]  # the owners have no trial-ending notice
    assert reminder.subject == "[Test] Your My Store trial ends on March 8, 2027"
    for body in bodies(reminder):
        text = re.sub(r"<[^>]+>", " ", body)
        assert "Your trial of Pro ends on March 8, 2027." in text
        assert "€11.89" in text and "VAT 19%" in text and "Monthly" in text
        assert "Visa •••• 4242" in text


def test_upcoming_charge_reminder_three_days_before_each_renewal(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 2, 7, 9, 1)):
        beat(capture)
    (reminder,) = mail.outbox
    assert reminder.subject == "[Test] Your My Store subscription renews on February 10, 2027"
    for body in bodies(reminder):
        text = re.sub(r"<[^>]+>", " ", body)
        assert "Your subscription to Pro renews on February 10, 2027." in text
        assert "€11.89" in text and "Visa •••• 4242" in text
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)
    mail.outbox.clear()
    with at(utc(2027, 3, 7, 9, 1)):
        beat(capture)
    (reminder,) = mail.outbox
    assert "renews on March 10, 2027" in reminder.body
    assert len(sent_for("subscription.upcoming_charge")) == 2  # one per period


def test_an_upcoming_charge_takes_the_credit_off(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    Subscription.objects.filter(pk=sub.pk).update(credit_balance=500)
    with at(utc(2027, 2, 7, 9, 1)):
        beat(capture)
    (reminder,) = mail.outbox
    assert "Credit applied: −€5.00" in reminder.body
    assert "Amount to be charged: €6.89" in reminder.body


# --- cancel, reactivate, end ----------------------------------------------------------------------


def test_cancel_says_when_access_ends_then_the_end_says_it_ended(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 1, 20)), capture(execute=True):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    (canceled,) = emails_to(BUYER)
    assert canceled.subject == "[Test] Your My Store subscription has been canceled"
    for body in bodies(canceled):
        assert "Your subscription to Pro has been canceled." in body
        assert "You keep access until February 10, 2027. You will not be charged again." in body
    (notice,) = emails_to(OWNER)
    assert notice.subject == f"[Test] Subscription canceled: Pro — {BUYER} — My Store"
    assert "Access ends: February 10, 2027" in notice.body
    assert "Canceled on: January 20, 2027" in notice.body

    mail.outbox.clear()
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)
    (ended,) = emails_to(BUYER)
    assert ended.subject == "[Test] Your My Store subscription has ended"
    assert "Your subscription to Pro ended on February 10, 2027." in ended.body
    assert "To make changes" not in ended.body
    (notice,) = emails_to(OWNER)
    assert notice.subject.startswith("[Test] Subscription ended: Pro")


def test_reactivating_tells_the_owners_and_a_second_cancel_emails_again(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 1, 20)), capture(execute=True):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    mail.outbox.clear()
    with at(utc(2027, 1, 21)), capture(execute=True):
        api.call("subscription-order/reactivate-order", {"orderId": order_id(order)})
    (notice,) = mail.outbox
    assert notice.to == [OWNER]
    assert notice.subject == f"[Test] Subscription reactivated: Pro — {BUYER} — My Store"
    assert "Next billing date: February 10, 2027" in notice.body
    mail.outbox.clear()
    with at(utc(2027, 1, 22)), capture(execute=True):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    assert sorted(m.to[0] for m in mail.outbox) == [BUYER, OWNER]  # its own event, its own email


def test_the_emails_internal_fields_stay_out_of_webhooks(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    Subscription.objects.filter(pk=sub.pk).update(credit_balance=100)
    with at(utc(2027, 1, 20)), capture(execute=True):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    (event,) = OutboxEvent.objects.filter(event_type="subscription.canceling")
    assert event.data["cancelAt"] == "2027-02-10T09:00:00.000Z"
    assert event.data["creditBalance"] == 100
    for version in sorted(versions.SUPPORTED):
        sent = payload.render_data(event.event_type, event.data, version)
        assert sent["currentPeriodEnd"] and not {"cancelAt", "creditBalance"} & set(sent)


def test_a_pending_order_canceled_before_paying_sends_nothing(api, plan, capture):
    payment = buy(api, plan, subscription=True)
    with capture(execute=True):
        api.call("subscription-order/cancel-order", {"orderId": order_id(payment.order)})
    assert mail.outbox == [] and not EmailDelivery.objects.exists()


# --- plan changes ---------------------------------------------------------------------------------


def _apply_plan_change(sub, product, *, credit=0):
    """A plan change applied at once, as the plan-change service records it: the change row,
    the subscription on the new plan, ``subscription.plan_changed``."""
    with transaction.atomic():
        locked = lifecycle.lock(sub.pk)
        version = product.test_version
        change = PlanChange.objects.create(
            subscription=locked,
            from_version=locked.version,
            to_product=product,
            to_version=version,
            timing=PlanChangeTiming.IMMEDIATE,
            status=PlanChange.Status.APPLIED,
            price_amount=version.prices["EUR"]["amount"],
            tax_category="saas",
            credit_amount=credit,
            applied_at=locked.current_period_start,
        )
        locked.product, locked.version = product, version
        locked.subtotal, locked.tax_amount, locked.total = 499, 95, 594
        locked.credit_balance += credit
        locked.save()
        lifecycle.emit_event(locked, locked.order, "subscription.plan_changed")
    return change


def test_a_plan_change_names_both_plans_and_the_credit(api, plan, store, capture):
    basic = ProductFactory(
        store=store,
        subscription=True,
        name="Basic",
        prices={"EUR": {"amount": 499, "taxCategory": "saas"}},
    )
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 1, 25)), capture(execute=True):
        _apply_plan_change(sub, basic, credit=297)
    (changed,) = emails_to(BUYER)
    assert changed.subject == "[Test] Your My Store plan has changed"
    for body in bodies(changed):
        text = re.sub(r"<[^>]+>", " ", body)
        assert "Your subscription has changed from Pro to Basic." in text
        assert "€5.94" in text and "€2.97" in text and "February 10, 2027" in text
    (notice,) = emails_to(OWNER)
    assert notice.subject == "[Test] Plan changed: Pro → Basic — My Store"
    assert "Credited: €2.97" in notice.body and "Recurring amount: €5.94" in notice.body


# --- switches -------------------------------------------------------------------------------------


def _whole_life(api, plan, capture):
    """Renewal, reminders, a failed renewal and its first retry, cancel, reactivate, cancel,
    the end."""
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    for moment in (utc(2027, 2, 7, 9, 1), utc(2027, 2, 10, 9, 1), utc(2027, 3, 7, 9, 1)):
        with at(moment):
            beat(capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 3, 10, 9, 1)):
        beat(capture)
    with at(utc(2027, 3, 11, 9, 1)):
        beat(capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "succeed")
    with at(utc(2027, 3, 13, 9, 1)):
        beat(capture)
    for action in ("cancel-order", "reactivate-order", "cancel-order"):
        with at(utc(2027, 3, 20)), capture(execute=True):
            api.call(f"subscription-order/{action}", {"orderId": order_id(order)})
    with at(utc(2027, 4, 10, 9, 1)):
        beat(capture)
    assert refresh(sub).status == "canceled"
    return order


def test_every_switch_off_sends_no_subscription_email(api, plan, store, capture):
    store.notification_settings = dict.fromkeys(SUBSCRIPTION_SWITCHES, False)
    store.save(update_fields=["notification_settings"])
    _whole_life(api, plan, capture)
    assert (
        mail.outbox == []
        and not EmailDelivery.objects.exclude(event_type="subscription.activated").exists()
    )


def test_with_every_switch_on_each_event_sends_its_emails(api, plan, capture):
    _whole_life(api, plan, capture)
    sent = sorted(
        EmailDelivery.objects.exclude(event_type="subscription.activated").values_list(
            "event_type", "recipient_type"
        )
    )
    assert sent == sorted(
        [("subscription.upcoming_charge", "buyer")] * 2
        # the renewal, the recovery
        + [("subscription.payment_succeeded", "buyer")] * 2
        + [("subscription.payment_succeeded", "merchant")] * 2
        + [("subscription.payment_failed", "buyer")] * 2
        + [("subscription.payment_failed", "merchant")]
        + [("subscription.canceling", "buyer"), ("subscription.canceling", "merchant")] * 2
        + [("subscription.uncanceled", "merchant")]
        + [("subscription.canceled", "buyer"), ("subscription.canceled", "merchant")]
    )


@pytest.mark.parametrize(
    "switch, gone",
    [
        ("emailSubscriptionCycled", ("subscription.payment_succeeded", "buyer")),
        ("notifySubscriptionRenewed", ("subscription.payment_succeeded", "merchant")),
        ("emailSubscriptionPastDue", ("subscription.payment_failed", "buyer")),
        ("notifySubscriptionPastDue", ("subscription.payment_failed", "merchant")),
        ("emailUpcomingCharge", ("subscription.upcoming_charge", "buyer")),
        ("emailSubscriptionCanceled", ("subscription.canceling", "buyer")),
        ("notifySubscriptionCanceled", ("subscription.canceling", "merchant")),
        ("notifySubscriptionUncanceled", ("subscription.uncanceled", "merchant")),
        ("notifySubscriptionEnded", ("subscription.canceled", "merchant")),
    ],
)
def test_each_switch_turns_off_only_its_own_email(api, plan, store, capture, switch, gone):
    store.notification_settings = {switch: False}
    store.save(update_fields=["notification_settings"])
    _whole_life(api, plan, capture)
    sent = set(EmailDelivery.objects.values_list("event_type", "recipient_type"))
    assert gone not in sent
    everything = {
        ("subscription.payment_succeeded", "buyer"),
        ("subscription.payment_succeeded", "merchant"),
        ("subscription.payment_failed", "buyer"),
        ("subscription.payment_failed", "merchant"),
        ("subscription.upcoming_charge", "buyer"),
        ("subscription.canceling", "buyer"),
        ("subscription.canceling", "merchant"),
        ("subscription.uncanceled", "merchant"),
        ("subscription.canceled", "merchant"),
    }
    assert everything - {gone} <= sent


def test_a_plan_change_applied_at_the_period_end_leaves_the_next_date_to_the_receipt(
    api, plan, store, capture
):
    basic = ProductFactory(
        store=store,
        subscription=True,
        name="Basic",
        prices={"EUR": {"amount": 499, "taxCategory": "saas"}},
    )
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    with at(utc(2027, 2, 10, 9)), capture(execute=True):
        _apply_plan_change(sub, basic)
    (changed,) = emails_to(BUYER)
    assert "Your subscription has changed from Pro to Basic." in changed.body
    assert "Next billing date" not in changed.body and "Charged now" not in changed.body


def test_the_switches_gate_the_trial_and_plan_change_emails(api, trial_plan, store, capture):
    store.notification_settings = {
        "emailTrialEnding": False,
        "emailSubscriptionPlanChanged": False,
        "notifySubscriptionPlanChanged": False,
    }
    store.save(update_fields=["notification_settings"])
    with at(utc(2027, 3, 1, 12)):
        order, sub = start(api, trial_plan, capture, trial=True)
    with at(utc(2027, 3, 5, 12, 1)):
        beat(capture)
    basic = ProductFactory(
        store=store,
        subscription=True,
        name="Basic",
        prices={"EUR": {"amount": 499, "taxCategory": "saas"}},
    )
    with capture(execute=True):
        _apply_plan_change(sub, basic)
    assert mail.outbox == []


# --- languages, test clocks, delivery -------------------------------------------------------------


@pytest.mark.parametrize(
    "language, subject, sentence, day",
    [
        ("en", "Your My Store subscription receipt", "has renewed", "February 10, 2027"),
        ("de", "Quittung für Ihr Abonnement bei My Store", "wurde verlängert", "10. Februar 2027"),
        ("fr", "Reçu de votre abonnement à My Store", "a été renouvelé", "10 février 2027"),
        ("es", "Recibo de su suscripción a My Store", "se ha renovado", "10 de febrero de 2027"),
        ("ja", "My Store のサブスクリプションの領収書", "更新されました", "2027年2月10日"),
        ("ko", "My Store 구독 영수증", "갱신되었습니다", "2027년 2월 10일"),
        ("zh-Hans", "您的 My Store 订阅收据", "已续订", "2027年2月10日"),
    ],
)
def test_the_buyers_emails_are_in_the_checkout_language_the_owners_in_english(
    api, plan, capture, language, subject, sentence, day
):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture, language=language)
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)
    (receipt,) = emails_to(BUYER)
    assert receipt.subject.endswith(subject)
    for body in bodies(receipt):
        assert sentence in body and day in body
        if language != "en":
            assert "Thank you! Your subscription" not in body
            assert "Amount charged" not in body
    (notice,) = emails_to(OWNER)
    assert notice.subject == "[Test] Subscription renewed: Pro (€11.89) — My Store"
    assert "February 10, 2027" in notice.body


def test_a_test_clocks_emails_show_its_simulated_dates(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
        with capture(execute=True):
            api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
        mail.outbox.clear()
        with capture(execute=True):
            api.call(
                "subscription-order/advance-test-clock",
                {"orderId": order_id(order), "advanceTo": "2027-02-12T00:00:00.000Z"},
            )
    (ended,) = emails_to(BUYER)
    assert "Your subscription to Pro ended on February 10, 2027." in ended.body
    (event,) = OutboxEvent.objects.filter(event_type="subscription.canceled")
    assert event.created_at < utc(2027, 1, 11)  # recorded in January, at real time


def test_a_test_clock_runs_the_reminder_and_the_renewal_each_at_its_own_time(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
        with capture(execute=True):
            api.call(
                "subscription-order/advance-test-clock",
                {"orderId": order_id(order), "advanceTo": "2027-02-11T00:00:00.000Z"},
            )
    reminder, receipt = sorted(emails_to(BUYER), key=lambda m: "receipt" in m.subject)
    assert "renews on February 10, 2027" in reminder.subject
    assert "Date paid: February 10, 2027" in receipt.body


def test_no_card_number_and_nothing_loaded_from_another_host(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    for moment in (utc(2027, 2, 7, 9, 1), utc(2027, 2, 10, 9, 1)):
        with at(moment):
            beat(capture)
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        for text in (message.subject, *bodies(message)):
            assert CARD not in text and "4242 4242 4242 4242" not in text
        assert not re.search(r"<img|<link|<script|src=|url\(|@import", html_of(message), re.I)


def test_the_store_colour_and_a_configured_manage_link(api, plan, store, capture, settings):
    store.checkout_settings = {"light": {"checkoutColorPrimary": "#AA3300"}}
    store.save(update_fields=["checkout_settings"])
    settings.SUBSCRIPTION_MANAGE_URL = "tests.subscriptions.test_emails.portal_link"
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)
    (failed,) = emails_to(BUYER)
    html = html_of(failed)
    assert "background:#AA3300" in html
    assert f'href="https://portal.example/{order.pk}"' in html
    assert "Update your payment method" in html and "contact My Store" not in html
    assert f"Update your payment method: https://portal.example/{order.pk}" in failed.body


def portal_link(order) -> str:
    return f"https://portal.example/{order.pk}"


def test_a_queue_failure_loses_nothing_the_sweep_sends_later(
    api, plan, capture, monkeypatch, settings, caplog
):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(send_subscription_emails, "delay", broker_down)
    with at(utc(2027, 2, 7, 9, 1)):
        beat(capture)
    assert mail.outbox == [] and "broker unreachable" in caplog.text
    monkeypatch.undo()
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    with at(utc(2027, 2, 7, 9, 2)):
        outbox.sweep()
        outbox.sweep()
    (reminder,) = mail.outbox
    assert "renews on February 10, 2027" in reminder.subject


def test_the_decline_reason_is_in_the_buyers_language_when_the_catalog_has_it(api, plan, capture):
    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, capture, language="de")
    test_processor.card_set_off_session_outcome(sub.method_token, "insufficient_funds")
    with at(utc(2027, 2, 10, 9, 1)):
        beat(capture)
    (failed,) = emails_to(BUYER)
    assert failed.subject == "[Test] Ihre Zahlung an My Store ist fehlgeschlagen"
    assert "Grund: Ihre Karte ist nicht ausreichend gedeckt." in failed.body
    assert "Wir versuchen es am 11. Februar 2027 erneut." in failed.body
    assert "Tarif: Pro (Monatlich)" in failed.body
    (notice,) = emails_to(OWNER)
    assert "Reason: Your card has insufficient funds." in notice.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_task_at_once_send_each_email_once(
    api, plan, monkeypatch, require_postgres
):
    def real_commits(**kwargs):  # commits are real here: their hooks run by themselves
        return nullcontext()

    with at(utc(2027, 1, 10, 9)):
        order, sub = start(api, plan, real_commits)
    queued = []  # committed for real; the task is kept for the two workers below
    monkeypatch.setattr(send_subscription_emails, "delay", queued.append)
    with at(utc(2027, 2, 10, 9, 1)):
        beat(real_commits)
    event_ids = [one for batch in queued for one in batch]  # the late reminder, the renewal
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            send_subscription_emails(event_ids)
        finally:
            connection.close()

    mail.outbox.clear()
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.to[0] for m in mail.outbox) == [BUYER, OWNER]
    assert EmailDelivery.objects.filter(event_id__in=event_ids).count() == 2
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
