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
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from billing.invoices.links import payment_invoice_url
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


# The helpers below are shared with the subscription emails (billing.subscriptions.emails):
# amounts, dates and rates in the active language, the store's colour, the method's label.


def _babel_locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def money(minor: int, currency: str) -> str:
    """An amount in the active language: '€11.89', '11,89 €'."""
    return format_money(minor, currency, _babel_locale())


def long_date(value: datetime, store: Store) -> str:
    """A day in the store's time zone, in the active language: 'March 8, 2027'."""
    try:
        zone = ZoneInfo(store.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return format_date(value.astimezone(zone).date(), format="long", locale=_babel_locale())


def percent(rate) -> str:
    """A tax rate given as a fraction (Decimal('0.19')) as '19%' in the active language."""
    return format_percent(rate, format="#,##0.###%", locale=_babel_locale())


def brand_color(store: Store) -> str:
    light = (store.checkout_settings or {}).get("light") or {}
    color = light.get("checkoutColorPrimary")
    if branding.is_color(color):
        return color
    return branding.DEFAULTS["light"]["checkoutColorPrimary"]


def payment_method_label(method: str, details: dict | None) -> str:
    """'Visa •••• 4242' — the brand and last 4 digits only, never more."""
    details = details or {}
    brand = details.get("brand")
    last4 = details.get("last4")
    name = _BRANDS.get(brand, str(brand).title()) if brand else ""
    if not name:
        name = {"card": _("Card"), "bank_transfer": _("Bank transfer"), "wallet": _("Wallet")}.get(
            method, ""
        )
    if last4 and len(str(last4)) == 4 and str(last4).isdigit():
        return f"{name} •••• {last4}".strip()
    return name


def customer_portal_url(order: Order) -> str | None:
    """Where the receipt sends the buyer to see their orders, invoices and refund requests: the
    callable the setting ``CUSTOMER_PORTAL_URL`` names (a dotted path; the order in, a URL out:
    the customer portal's, which billing may not import). Unset, the receipt names none."""
    builder = getattr(settings, "CUSTOMER_PORTAL_URL", None)
    return import_string(builder)(order) if builder else None


def _base_context(order: Order, payment: Payment) -> dict:
    store = order.store
    detail = order.billing_detail or {}
    return {
        "platform_name": settings.PLATFORM_NAME,
        "store": store,
        "store_name": store.name,
        "support_email": store.support_email,
        "brand_color": brand_color(store),
        "test_mode": order.environment == Environment.TEST,
        "order_number": ids.encode("ORD", order.pk),
        "product_name": order.version.name,
        "buyer_email": order.buyer_email,
        "business_name": detail.get("businessName") or "",
        "tax_id": detail.get("taxId") or "",
        "country": detail.get("country") or "",
        "currency": order.currency,
        "subtotal": money(order.subtotal, order.currency),
        "tax_label": presenters.tax_label(order.tax_name),
        "tax_rate": percent(order.tax_rate),
        "tax": money(order.tax_amount, order.currency),
        "has_tax": order.tax_amount > 0,
        "total": money(order.total, order.currency),
        "charged": money(payment.amount, order.currency),
        # A free trial's first payment only saves the card: the receipt says so, not "paid".
        "card_saved": payment.amount == 0,
        "reverse_charge": order.reverse_charge,
        "payment_method": payment_method_label(
            payment.payment_method, payment.payment_method_details
        ),
        "date_paid": long_date(payment.paid_at, store),
        # The buyer's signed link to the invoice's PDF (none for a trial's zero payment).
        "invoice_url": payment_invoice_url(payment),
        "portal_url": customer_portal_url(order),
    }


def subject_line(environment: str, text: str) -> str:
    """Every subject is built here (``send_once`` makes it one line, whatever names it holds)."""
    if environment == Environment.TEST:
        text = f"[{_('Test')}] {text}"
    return text


def render(template: str, context: dict) -> tuple[str, str]:
    """The text and HTML bodies of ``templates/emails/<template>.{txt,html}``."""
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
            trial_amount=money(trial_amount, order.currency) if trial_amount else "",
            first_charge_date=(
                long_date(order.completed_at + timedelta(days=trial_days), order.store)
                if trial_days
                else ""
            ),
        )
        subject = subject_line(
            order.environment,
            _("Your subscription to %(store)s is confirmed") % {"store": store_name},
        )
        text, html = render("subscription_confirmation", {**context, "subject": subject})
    else:
        subject = subject_line(
            order.environment,
            _("Your %(store)s order %(number)s")
            % {"store": store_name, "number": context["order_number"]},
        )
        text, html = render("order_confirmation", {**context, "subject": subject})
    return subject, text, html


def _render_merchant(order: Order, payment: Payment) -> tuple[str, str, str]:
    context = _base_context(order, payment)
    subscription = order.kind == OrderKind.SUBSCRIPTION
    period = order.version.billing_period
    context.update(
        subscription=subscription,
        billing_period=BillingPeriod(period).label if period in BillingPeriod.values else "",
        with_trial=order.with_trial,
        # The payment's own page in the dashboard (the order's detail, refunds and invoice).
        dashboard_url=settings.BASE_URL
        + reverse("dashboard:payment", args=[order.store_id, payment.pk]),
    )
    what = _("New subscription") if subscription else _("New order")
    subject = subject_line(
        order.environment,
        f"{what}: {context['product_name']} ({context['total']}) — {order.store.name}",
    )
    text, html = render("merchant_new_order", {**context, "subject": subject})
    return subject, text, html
