"""Order emails: the buyer's order or subscription confirmation (with its receipt) in the buyer's
checkout language, and the new-order notice to the store's owner and admins, in English. The
store's notification settings decide which go out.

They are sent by a task (``billing.tasks.send_order_emails``) that the outbox relay queues for
the events of a paid order (``billing.tasks.queue_order_emails``, an ``OUTBOX_CONSUMERS``
entry), so a broker outage at commit delays them, never loses them; each goes out at most once
(``pancake.emails.send_once``)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from billing.models import Payment
from checkout import languages, presenters
from checkout.models import Order, OrderKind
from checkout.trials import order_trial_charge
from pancake.api import ids
from pancake.api.prepared import PreparedSelect
from pancake.emails import BUYER, MERCHANT, send_once
from pancake.models import Environment
from pancake.money import format_money
from products.models import BillingPeriod
from stores import branding
from stores.models import Store
from stores.selectors import store_alert_recipients

logger = logging.getLogger(__name__)

# Events that also send the buyer's receipt and the merchant's new-order email.
EMAIL_EVENTS = frozenset({"order.completed", "subscription.activated"})
_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "diners": "Diners Club",
}


# Every order event's email task reads this: compiled once per connection (pancake.api.prepared).
_PAYMENT_WITH_ORDER = PreparedSelect(
    lambda payment_id: Payment.objects.select_related(
        "order__store", "order__session", "order__version"
    ).filter(pk=payment_id)[:1]
)


def payment_ids_to_email(events) -> list[str]:
    """The payments whose emails a commit's events call for (``[event_id, event_type,
    subject_id]`` each; the subject of a paid order's event is its payment), in event order."""
    return [str(subject) for _, kind, subject in events if kind in EMAIL_EVENTS]


def order_emails_send(*, payment_id: str) -> int:
    """Send the emails of a paid order's first payment: the buyer's confirmation and the
    merchant's new-order notice, each gated by the store's switch. Re-reads everything; safe to
    run twice. Returns the number of emails sent by this call."""
    try:
        payment = _PAYMENT_WITH_ORDER.first(uuid.UUID(str(payment_id)))
    except ValueError:
        return 0
    if payment is None or payment.paid_at is None:
        return 0
    order = payment.order
    if order.completed_at is None:
        return 0
    store = order.store
    switches = store.notifications
    subscription = order.kind == OrderKind.SUBSCRIPTION
    event_type = "subscription.activated" if subscription else "order.completed"
    sent = 0
    if switches["emailSubscriptionConfirmation" if subscription else "emailOrderConfirmation"]:
        language = languages.to_django(order.session.checkout_language)
        with translation.override(language):
            subject, text, html = _render_buyer(order, payment)
        sent += send_once(
            store=store,
            environment=order.environment,
            event_type=event_type,
            event_id=str(payment.pk),
            recipient_type=BUYER,
            to=order.buyer_email,
            subject=subject,
            text=text,
            html=html,
        )
    if switches["notifyNewSubscriptions" if subscription else "notifyNewOrders"]:
        with translation.override("en"):
            subject, text, html = _render_merchant(order, payment)
        for address in store_alert_recipients(store):
            sent += send_once(
                store=store,
                environment=order.environment,
                event_type=event_type,
                event_id=str(payment.pk),
                recipient_type=MERCHANT,
                to=address,
                subject=subject,
                text=text,
                html=html,
            )
    return sent


# -- rendering ---------------------------------------------------------------------------------


def _babel_locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency, _babel_locale())


def _date(value: datetime, store: Store) -> str:
    try:
        zone = ZoneInfo(store.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return format_date(value.astimezone(zone).date(), format="long", locale=_babel_locale())


def _tax_rate(order: Order) -> str:
    return format_percent(order.tax_rate, format="#,##0.###%", locale=_babel_locale())


def _brand_color(store: Store) -> str:
    light = (store.checkout_settings or {}).get("light") or {}
    color = light.get("checkoutColorPrimary")
    if branding.is_color(color):
        return color
    return branding.DEFAULTS["light"]["checkoutColorPrimary"]


def _payment_method(payment: Payment) -> str:
    """'Visa •••• 4242' — the brand and last 4 digits only, never more."""
    details = payment.payment_method_details or {}
    brand = details.get("brand")
    last4 = details.get("last4")
    name = _BRANDS.get(brand, str(brand).title()) if brand else ""
    if not name:
        name = {"card": _("Card"), "bank_transfer": _("Bank transfer"), "wallet": _("Wallet")}.get(
            payment.payment_method, ""
        )
    if last4 and len(str(last4)) == 4 and str(last4).isdigit():
        return f"{name} •••• {last4}".strip()
    return name


def _base_context(order: Order, payment: Payment) -> dict:
    store = order.store
    detail = order.billing_detail or {}
    return {
        "platform_name": settings.PLATFORM_NAME,
        "store": store,
        "store_name": store.name,
        "support_email": store.support_email,
        "brand_color": _brand_color(store),
        "test_mode": order.environment == Environment.TEST,
        "order_number": ids.encode("ORD", order.pk),
        "product_name": order.version.name,
        "buyer_email": order.buyer_email,
        "business_name": detail.get("businessName") or "",
        "tax_id": detail.get("taxId") or "",
        "country": detail.get("country") or "",
        "currency": order.currency,
        "subtotal": _money(order.subtotal, order.currency),
        "tax_label": presenters.tax_label(order.tax_name),
        "tax_rate": _tax_rate(order),
        "tax": _money(order.tax_amount, order.currency),
        "has_tax": order.tax_amount > 0,
        "total": _money(order.total, order.currency),
        "charged": _money(payment.amount, order.currency),
        "reverse_charge": order.reverse_charge,
        "payment_method": _payment_method(payment),
        "date_paid": _date(payment.paid_at, store),
    }


def _subject(order: Order, text: str) -> str:
    """Every subject is built here (``send_once`` makes it one line, whatever names it holds)."""
    if order.environment == Environment.TEST:
        text = f"[{_('Test')}] {text}"
    return text


def _render(template: str, context: dict) -> tuple[str, str]:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return text, html


def _render_buyer(order: Order, payment: Payment) -> tuple[str, str, str]:
    """Subject, text and HTML of the buyer's confirmation, in the active language."""
    context = _base_context(order, payment)
    store_name = order.store.name
    if order.kind == OrderKind.SUBSCRIPTION:
        period = order.version.billing_period
        trial = order_trial_charge(order)
        trial_days = order.session.trial_days if trial is not None else None
        trial_amount = trial or None
        context.update(
            billing_period=BillingPeriod(period).label if period in BillingPeriod.values else "",
            trial_days=trial_days,
            trial_amount=_money(trial_amount, order.currency) if trial_amount else "",
            first_charge_date=(
                _date(order.completed_at + timedelta(days=trial_days), order.store)
                if trial_days
                else ""
            ),
        )
        subject = _subject(
            order, _("Your subscription to %(store)s is confirmed") % {"store": store_name}
        )
        text, html = _render("subscription_confirmation", {**context, "subject": subject})
    else:
        subject = _subject(
            order,
            _("Your %(store)s order %(number)s")
            % {"store": store_name, "number": context["order_number"]},
        )
        text, html = _render("order_confirmation", {**context, "subject": subject})
    return subject, text, html


def _render_merchant(order: Order, payment: Payment) -> tuple[str, str, str]:
    context = _base_context(order, payment)
    subscription = order.kind == OrderKind.SUBSCRIPTION
    period = order.version.billing_period
    context.update(
        subscription=subscription,
        billing_period=BillingPeriod(period).label if period in BillingPeriod.values else "",
        with_trial=order.with_trial,
        dashboard_url=settings.BASE_URL + reverse("dashboard:store", args=[order.store_id]),
    )
    what = _("New subscription") if subscription else _("New order")
    subject = _subject(
        order,
        f"{what}: {context['product_name']} ({context['total']}) — {order.store.name}",
    )
    text, html = _render("merchant_new_order", {**context, "subject": subject})
    return subject, text, html
