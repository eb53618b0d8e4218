"""Subscription emails: the buyer's renewal receipt, payment failed, trial ending, upcoming
charge, canceled and plan changed emails, in the buyer's checkout language and the store's
branding; the merchant's notices (renewed, payment failed, canceled, reactivated, ended, plan
changed), in English, to the store's owner and admins. Each is gated by its switch in the store's
notification settings (``EMAILS``).

The outbox relay hands each commit's events to ``billing.tasks.queue_subscription_emails`` (an
``OUTBOX_CONSUMERS`` entry), which queues one task with the ids of the events that may need an
email; the task calls ``subscription_emails_send`` for each. It re-reads the event and takes what
was true when it happened from the event's data (amounts, dates, plan, status), never from the
subscription as it is now; the order gives the buyer's language, the payment its card's brand.
Each email goes out at most once: ``pancake.emails.send_once`` keyed by the event's type and the
outbox event's id (one order has many ``subscription.canceling`` or reminder events over its
life, each its own email). A test clock's events carry its simulated time, and the emails show
that date.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from billing import emails as order_emails
from billing.invoices.links import payment_invoice_url
from billing.models import Payment, PaymentStatus, PlanChange, Subscription
from billing.subscriptions.renewals import PAYMENT_FAILED, RENEWAL, TRIAL_ENDING, UPCOMING_CHARGE
from checkout import languages, presenters
from checkout.models import Order
from pancake.api import ids
from pancake.emails import BUYER, MERCHANT, send_once
from pancake.models import Environment, OutboxEvent
from products.models import BillingPeriod
from stores.models import Store
from stores.selectors import store_alert_recipients

PAYMENT_SUCCEEDED = "subscription.payment_succeeded"
CANCELING = "subscription.canceling"
UNCANCELED = "subscription.uncanceled"
CANCELED = "subscription.canceled"
PLAN_CHANGED = "subscription.plan_changed"

# Event type -> (the buyer's switch, the merchant's switch); None: no such email.
EMAILS = {
    PAYMENT_SUCCEEDED: ("emailSubscriptionCycled", "notifySubscriptionRenewed"),
    PAYMENT_FAILED: ("emailSubscriptionPastDue", "notifySubscriptionPastDue"),
    TRIAL_ENDING: ("emailTrialEnding", None),
    UPCOMING_CHARGE: ("emailUpcomingCharge", None),
    CANCELING: ("emailSubscriptionCanceled", "notifySubscriptionCanceled"),
    UNCANCELED: (None, "notifySubscriptionUncanceled"),
    CANCELED: ("emailSubscriptionCanceled", "notifySubscriptionEnded"),
    PLAN_CHANGED: ("emailSubscriptionPlanChanged", "notifySubscriptionPlanChanged"),
}


def event_ids_to_email(events) -> list[str]:
    """The events of a commit (``[event_id, event_type, subject_id]`` each) that may send a
    subscription email, in event order."""
    return [str(event_id) for event_id, kind, _subject in events if kind in EMAILS]


def manage_subscription_url(order: Order) -> str | None:
    """Where the buyer updates their card or manages the subscription, named in the emails; None
    while there is no such page: the emails then tell the buyer to contact the store.

    The one place to change when the customer portal exists. ``billing`` may not import the
    portal (a higher layer), so the portal names its builder in the setting
    ``SUBSCRIPTION_MANAGE_URL`` (a dotted path to a callable taking the order, returning a URL)."""
    builder = getattr(settings, "SUBSCRIPTION_MANAGE_URL", None)
    if not builder:
        return None
    return import_string(builder)(order)


@dataclass
class _Event:
    """One event and what its emails read: the event's data (as it was), the order (the
    buyer's language and address), the payment of a payment event (its brand, tax and try)."""

    event: OutboxEvent
    store: Store
    order: Order
    payment: Payment | None
    data: dict

    @property
    def at(self) -> datetime:
        """When it happened: a test clock's simulated time, or when it was recorded."""
        return self.event.occurred_at or self.event.created_at

    @property
    def currency(self) -> str:
        return self.data["currency"]

    @property
    def buyer_email(self) -> str:
        return self.data.get("buyerEmail") or self.order.buyer_email

    def time(self, key: str) -> datetime | None:
        value = self.data.get(key)
        return datetime.fromisoformat(value) if value else None


def subscription_emails_send(*, event_id: str) -> int:
    """Send the emails of one subscription event, each gated by the store's switch. Re-reads
    the event; safe to run twice. Returns the number of emails this call sent."""
    event = _read(event_id)
    if event is None:
        return 0
    buyer_switch, merchant_switch = EMAILS[event.event.event_type]
    switches = event.store.notifications
    sent = 0
    if buyer_switch and switches[buyer_switch]:
        session = event.order.session
        language = languages.to_django(session.checkout_language if session else None)
        with translation.override(language):
            rendered = _BUYER[event.event.event_type](event)
        if rendered is not None:
            sent += _send(event, BUYER, event.buyer_email, *rendered)
    if merchant_switch and switches[merchant_switch]:
        with translation.override("en"):
            rendered = _MERCHANT[event.event.event_type](event)
        if rendered is not None:
            for address in store_alert_recipients(event.store):
                sent += _send(event, MERCHANT, address, *rendered)
    return sent


def _read(event_id: str) -> _Event | None:
    """The event, if it is one that sends emails and is about a subscription that started (a
    pending order canceled before its first payment has none to send)."""
    try:
        pk = uuid.UUID(str(event_id))
    except ValueError:
        return None
    event = OutboxEvent.objects.select_related("store").filter(pk=pk).first()
    if event is None or event.event_type not in EMAILS:
        return None
    data = event.data or {}
    if "currentPeriodStart" not in data:
        return None
    order = Order.objects.select_related("session").filter(pk=event.aggregate_id).first()
    if order is None:
        return None
    payment = None
    if data.get("paymentId"):
        payment = Payment.objects.filter(pk=data["paymentId"]).first()
    if event.event_type == PAYMENT_SUCCEEDED and (payment is None or payment.purpose != RENEWAL):
        return None  # the first payment's confirmation is the order emails'; a plan change's
    if event.event_type == PAYMENT_FAILED and payment is None:
        return None
    return _Event(event=event, store=event.store, order=order, payment=payment, data=data)


def _send(event: _Event, recipient_type: str, to: str, subject: str, text: str, html: str) -> int:
    return send_once(
        store=event.store,
        environment=event.event.environment,
        event_type=event.event.event_type,
        event_id=str(event.event.pk),
        recipient_type=recipient_type,
        to=to,
        subject=subject,
        text=text,
        html=html,
    )


# --- what each email says ------------------------------------------------------------------------


def _money(event: _Event, minor: int) -> str:
    return order_emails.money(minor, event.currency)


def _date(event: _Event, value: datetime | None) -> str:
    return order_emails.long_date(value, event.store) if value is not None else ""


def _period_label(period: str | None) -> str:
    return str(BillingPeriod(period).label) if period in BillingPeriod.values else ""


def _rate(data: dict) -> str:
    try:
        return order_emails.percent(Decimal(str(data.get("taxRate", "0"))))
    except InvalidOperation:
        return ""


def _subject(event: _Event, text: str) -> str:
    return order_emails.subject_line(event.event.environment, text)


def _payment_label(event: _Event) -> str:
    """The card this event's payment used; for a reminder, the card the subscription will be
    charged on (the one saved now: a card updated since is the one that will pay)."""
    if event.payment is not None:
        payment = event.payment
        return order_emails.payment_method_label(
            payment.payment_method, payment.payment_method_details
        )
    saved = (
        Subscription.objects.filter(order_id=event.order.pk)
        .values("payment_method", "payment_method_details")
        .first()
    )
    if saved is None:
        return ""
    return order_emails.payment_method_label(
        saved["payment_method"], saved["payment_method_details"]
    )


def _next_charge(event: _Event) -> int:
    """What the next period's charge will be: the plan's total less the credit balance."""
    total = event.data["total"]
    return total - min(event.data.get("creditBalance") or 0, total)


def _buyer_context(event: _Event) -> dict:
    data = event.data
    store = event.store
    return {
        "platform_name": settings.PLATFORM_NAME,
        "store_name": store.name,
        "support_email": store.support_email,
        "brand_color": order_emails.brand_color(store),
        "test_mode": event.event.environment == Environment.TEST,
        "order_number": ids.encode("ORD", event.order.pk),
        "product_name": data.get("productName", ""),
        "billing_period": _period_label(data.get("billingPeriod")),
        "total": _money(event, data["total"]),
        "has_tax": data.get("taxAmount", 0) > 0,
        "tax_label": presenters.tax_label(data.get("taxName") or ""),
        "tax_rate": _rate(data),
        "period_start": _date(event, event.time("currentPeriodStart")),
        "period_end": _date(event, event.time("currentPeriodEnd")),
        "manage_url": manage_subscription_url(event.order),
        "show_action": True,  # how to manage the subscription (or, update_card, the card)
        "update_card": False,
    }


def _buyer(event: _Event, template: str, subject: str, **extra) -> tuple[str, str, str]:
    subject = _subject(event, subject)
    text, html = order_emails.render(
        template, {**_buyer_context(event), **extra, "subject": subject}
    )
    return subject, text, html


def _renewal_receipt(event: _Event) -> tuple[str, str, str]:
    """A renewal's (or a trial's first charge's) receipt: what was charged, its tax, the period
    it pays for, the next billing date (or the end, for a canceling subscription)."""
    data = event.data
    payment = event.payment
    charged = data.get("chargedAmount", payment.amount)
    tax = payment.tax_amount
    credit = max(data["total"] - charged, 0)
    canceling = data.get("orderStatus") == "canceling"
    return _buyer(
        event,
        "subscription_renewal",
        _("Your %(store)s subscription receipt") % {"store": event.store.name},
        first_charge=data.get("periodNumber") == 1,
        charged=_money(event, charged),
        subtotal=_money(event, charged - tax),
        tax=_money(event, tax),
        has_tax=tax > 0,
        credit=_money(event, credit) if credit else "",
        date_paid=_date(event, event.time("paymentDate") or event.at),
        payment_method=_payment_label(event),
        next_billing_date="" if canceling else _date(event, event.time("currentPeriodEnd")),
        ends_on=_date(event, event.time("currentPeriodEnd")) if canceling else "",
        invoice_url=payment_invoice_url(payment),
    )


def _reason(event: _Event) -> str:
    """The provider's reason for the decline, in the buyer's language when it is one of the
    messages the catalogs translate (the built-in test processor's are), else as it came."""
    reason = event.data.get("paymentFailureReason") or event.payment.failure_message
    return _(reason) if reason else ""


def _payment_failed(event: _Event) -> tuple[str, str, str]:
    """A failed charge: the provider's reason, when it is tried again (or that it was the last
    try and the subscription is canceled), and how to update the card."""
    data = event.data
    retry_at = event.time("nextRetryAt")
    return _buyer(
        event,
        "subscription_payment_failed",
        _("Your payment to %(store)s failed") % {"store": event.store.name},
        amount=_money(event, data.get("chargedAmount", event.payment.amount)),
        reason=_reason(event),
        failed_on=_date(event, event.at),
        payment_method=_payment_label(event),
        retry_date=_date(event, retry_at),
        last_attempt=retry_at is None,
        update_card=True,
        show_action=retry_at is not None,  # after the last try there is nothing to update
    )


def _too_late(event: _Event) -> bool:
    """A reminder that ran when its charge was already due (the beat was behind): the receipt
    or the failed payment email follows at once, a reminder would only confuse."""
    due = event.time("currentPeriodEnd")
    return due is not None and event.at >= due


def _trial_ending(event: _Event) -> tuple[str, str, str] | None:
    if _too_late(event):
        return None
    ends = _date(event, event.time("currentPeriodEnd"))
    return _buyer(
        event,
        "subscription_trial_ending",
        _("Your %(store)s trial ends on %(date)s") % {"store": event.store.name, "date": ends},
        trial_end=ends,
        amount=_money(event, _next_charge(event)),
        payment_method=_payment_label(event),
    )


def _upcoming_charge(event: _Event) -> tuple[str, str, str] | None:
    if _too_late(event):
        return None
    on = _date(event, event.time("currentPeriodEnd"))
    amount = _next_charge(event)
    credit = event.data["total"] - amount
    return _buyer(
        event,
        "subscription_upcoming_charge",
        _("Your %(store)s subscription renews on %(date)s")
        % {"store": event.store.name, "date": on},
        charge_date=on,
        amount=_money(event, amount),
        credit=_money(event, credit) if credit else "",
        payment_method=_payment_label(event),
    )


def _access_ends(event: _Event) -> datetime | None:
    """When a canceling subscription ends: its period's end (for one canceled while past due,
    the end of its dunning window)."""
    return event.time("cancelAt") or event.time("currentPeriodEnd")


def _canceled(event: _Event) -> tuple[str, str, str]:
    """``canceling``: canceled, with access until the end; ``canceled``: it has ended."""
    ended = event.event.event_type == CANCELED
    store = {"store": event.store.name}
    if ended:
        subject = _("Your %(store)s subscription has ended") % store
    else:
        subject = _("Your %(store)s subscription has been canceled") % store
    return _buyer(
        event,
        "subscription_canceled",
        subject,
        ended=ended,
        show_action=not ended,
        ended_on=_date(event, event.at),
        access_until=_date(event, _access_ends(event)),
    )


def _plan_change(event: _Event) -> PlanChange | None:
    """The applied change the event is about: the one its data names, else the latest change
    to the event's plan applied before the event was recorded."""
    changes = PlanChange.objects.select_related("from_version", "payment").filter(
        subscription__order_id=event.order.pk, status=PlanChange.Status.APPLIED
    )
    if event.data.get("planChangeId"):
        return changes.filter(pk=event.data["planChangeId"]).first()
    return (
        changes.filter(
            to_version_id=event.data.get("productVersionId"),
            created_at__lte=event.event.created_at,
        )
        .order_by("-applied_at", "-created_at")
        .first()
    )


def _plan_change_amounts(event: _Event, change: PlanChange | None) -> tuple[int, int]:
    """What the change charged (the event's payment, else the change's paid payment) and
    credited against the next charges."""
    charged = event.data.get("chargedAmount")
    if charged is None and change is not None and change.payment is not None:
        if change.payment.status == PaymentStatus.SUCCEEDED:
            charged = change.payment.amount
    credited = change.credit_amount if change is not None else 0
    return charged or 0, credited or 0


def _plan_changed(event: _Event) -> tuple[str, str, str]:
    change = _plan_change(event)
    charged, credited = _plan_change_amounts(event, change)
    return _buyer(
        event,
        "subscription_plan_changed",
        _("Your %(store)s plan has changed") % {"store": event.store.name},
        old_plan=change.from_version.name if change is not None else "",
        charged=_money(event, charged) if charged else "",
        credited=_money(event, credited) if credited else "",
        # A change applied at the period's end (scheduled for it): the renewal's receipt,
        # which follows, names the next date.
        next_billing_date="" if _too_late(event) else _date(event, event.time("currentPeriodEnd")),
    )


_BUYER = {
    PAYMENT_SUCCEEDED: _renewal_receipt,
    PAYMENT_FAILED: _payment_failed,
    TRIAL_ENDING: _trial_ending,
    UPCOMING_CHARGE: _upcoming_charge,
    CANCELING: _canceled,
    CANCELED: _canceled,
    PLAN_CHANGED: _plan_changed,
}


# --- the merchant's notices (English) ------------------------------------------------------------


def _merchant(event: _Event, headline: str, subject: str, rows: list) -> tuple[str, str, str]:
    data = event.data
    product = data.get("productName", "")
    period = _period_label(data.get("billingPeriod"))
    subject = _subject(event, f"{subject} — {event.store.name}")
    rows = [
        ("Product", f"{product} ({period})" if period else product),
        ("Customer", event.buyer_email),
        ("Order number", ids.encode("ORD", event.order.pk)),
        *[(label, value) for label, value in rows if value],
    ]
    context = {
        "subject": subject,
        "headline": headline,
        "rows": rows,
        "store_name": event.store.name,
        "test_mode": event.event.environment == Environment.TEST,
        "dashboard_url": settings.BASE_URL + reverse("dashboard:store", args=[event.store.pk]),
    }
    text, html = order_emails.render("merchant_subscription", context)
    return subject, text, html


def _merchant_renewed(event: _Event) -> tuple[str, str, str]:
    data = event.data
    charged = _money(event, data.get("chargedAmount", event.payment.amount))
    recovered = data.get("orderStatus") == "past_due"
    what = "Subscription payment recovered" if recovered else "Subscription renewed"
    method = _payment_label(event)
    period = f"{_date(event, event.time('currentPeriodStart'))} – "
    period += _date(event, event.time("currentPeriodEnd"))
    return _merchant(
        event,
        f"{what} in {event.store.name}",
        f"{what}: {data.get('productName', '')} ({charged})",
        [
            ("Charged", f"{charged} on {_date(event, event.time('paymentDate') or event.at)}"),
            ("Payment method", method),
            ("Period", period),
            ("Period number", str(data.get("periodNumber", ""))),
        ],
    )


def _merchant_payment_failed(event: _Event) -> tuple[str, str, str] | None:
    """The charge that made the subscription past due (its period's first try); the retries'
    failures are the buyer's emails only, and the last one ends it (``notifySubscriptionEnded``)."""
    if event.payment.attempt:
        return None
    data = event.data
    retry_at = event.time("nextRetryAt")
    return _merchant(
        event,
        f"A subscription payment failed in {event.store.name}",
        f"Subscription payment failed: {data.get('productName', '')} — {event.buyer_email}",
        [
            ("Amount due", _money(event, data.get("chargedAmount", event.payment.amount))),
            ("Reason", data.get("paymentFailureReason") or event.payment.failure_message),
            ("Payment method", _payment_label(event)),
            (
                "Next try",
                _date(event, retry_at) if retry_at else "none: the subscription is canceled",
            ),
        ],
    )


def _merchant_canceling(event: _Event) -> tuple[str, str, str]:
    ends = _date(event, _access_ends(event))
    return _merchant(
        event,
        f"A subscription was canceled in {event.store.name}",
        f"Subscription canceled: {event.data.get('productName', '')} — {event.buyer_email}",
        [("Canceled on", _date(event, event.at)), ("Access ends", ends)],
    )


def _merchant_uncanceled(event: _Event) -> tuple[str, str, str]:
    return _merchant(
        event,
        f"A subscription was reactivated in {event.store.name}",
        f"Subscription reactivated: {event.data.get('productName', '')} — {event.buyer_email}",
        [("Next billing date", _date(event, event.time("currentPeriodEnd")))],
    )


def _merchant_ended(event: _Event) -> tuple[str, str, str]:
    return _merchant(
        event,
        f"A subscription ended in {event.store.name}",
        f"Subscription ended: {event.data.get('productName', '')} — {event.buyer_email}",
        [("Ended on", _date(event, event.at))],
    )


def _merchant_plan_changed(event: _Event) -> tuple[str, str, str]:
    change = _plan_change(event)
    charged, credited = _plan_change_amounts(event, change)
    new = event.data.get("productName", "")
    old = change.from_version.name if change is not None else ""
    return _merchant(
        event,
        f"A subscription changed plan in {event.store.name}",
        f"Plan changed: {old} → {new}" if old else f"Plan changed to {new}",
        [
            ("From", old),
            ("To", new),
            ("Recurring amount", _money(event, event.data["total"])),
            ("Charged now", _money(event, charged) if charged else ""),
            ("Credited", _money(event, credited) if credited else ""),
            ("Changed on", _date(event, event.at)),
        ],
    )


_MERCHANT = {
    PAYMENT_SUCCEEDED: _merchant_renewed,
    PAYMENT_FAILED: _merchant_payment_failed,
    CANCELING: _merchant_canceling,
    UNCANCELED: _merchant_uncanceled,
    CANCELED: _merchant_ended,
    PLAN_CHANGED: _merchant_plan_changed,
}
