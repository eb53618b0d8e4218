"""The signed-in portal's pages: orders and payments, invoices and credit notes, refund
requests and their tickets, subscriptions. Reads are scoped to the buyer
(``portal.selectors``); an id from a URL goes through the access functions; every write calls
the same service as its API action with the buyer as the actor."""

from __future__ import annotations

import uuid

from django import forms
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from billing import services as billing_services
from billing.invoices.links import invoice_download_url
from billing.models import (
    Invoice,
    InvoiceKind,
    PaymentStatus,
    RefundTicket,
    RefundTicketStatus,
    SubscriptionStatus,
)
from billing.refunds import services as refund_services
from billing.refunds.selectors import access_ticket, refundable_amount
from billing.refunds.services import BUYER_REFUND_WINDOW
from billing.selectors import access_payment
from billing.subscriptions import lifecycle, payment_methods, plan_changes
from billing.subscriptions.selectors import access_subscription
from checkout import languages, presenters
from checkout import services as checkout_services
from checkout.models import OrderKind, OrderStatus
from checkout.selectors import access_order
from checkout.tax.engine import country_name
from pancake.api.errors import NotFound, PancakeError
from portal import links, selectors
from portal.views.base import page_language, render_page, signed_in

# --- messages -------------------------------------------------------------------------------------


def error_message(exc: PancakeError) -> str:
    """A service's refusal in the page's language, by its code (never its English text)."""
    messages = {
        "refund_window_passed": _("One-time purchases can be refunded within 7 days of payment."),
        "amount_too_large": _("The amount is more than is left to refund."),
        "not_refundable": _("This payment cannot be refunded."),
        "currency_mismatch": _("Enter the amount in the payment's currency."),
        "not_rejected": _("Only a rejected request can be sent again."),
        "not_pending": _("Only an unpaid order can be canceled: request a refund instead."),
        "not_cancelable": _("This subscription is already canceled."),
        "not_canceling": _("Only a subscription being canceled can be reactivated."),
        "unpaid_balance": _(
            "This subscription has an unpaid balance and cannot be reactivated. "
            "Please contact the store."
        ),
        "tax_changes": _(
            "These details would change the tax of your subscription. Please contact the store."
        ),
        "no_self_service": _(
            "Plan changes are not available for this subscription. Please contact the store."
        ),
        "not_in_group": _("You cannot change to this plan. Please contact the store."),
        "not_changeable": _("Only an active or past-due subscription can change its plan."),
        "same_plan": _("Your subscription is already on this plan."),
        "busy": _("A payment of this subscription is in progress: try again in a minute."),
        "choose_plan": _("Choose a plan."),
        "not_updatable": _("This subscription has ended: its card can no longer be replaced."),
        "invalid": _("Enter a valid amount."),
        "required": _("This field is required."),
    }
    return messages.get(exc.code or "", _("That did not work. Please try again."))


NOTICES = {
    "refund": gettext_lazy("Your refund request was sent. The store will review it."),
    "resubmitted": gettext_lazy("Your refund request was sent again."),
    "canceled": gettext_lazy("Your subscription is canceled at the end of the period."),
    "reactivated": gettext_lazy("Your subscription is active again."),
    "order_canceled": gettext_lazy("Your order is canceled."),
    "billing": gettext_lazy("Your billing details are saved. The next invoice uses them."),
    "card": gettext_lazy("Your new card is saved. Your next payments use it."),
}


def _notice(request) -> str:
    done = request.GET.get("done", "")
    if done == "card" and request.GET.get("status") != "succeeded":
        return ""  # back from the provider's page without saving a card
    return str(NOTICES.get(done, ""))


def _redirect(name: str, store, *args, done: str = "") -> HttpResponseRedirect:
    url = reverse(f"portal:{name}", args=[store.slug, *args])
    return HttpResponseRedirect(url + (f"?done={done}" if done else ""))


def _money(minor, currency) -> str:
    return presenters.money(minor, currency) if minor is not None else ""


# --- orders and payments ----------------------------------------------------------------------


def _refund_state(payment) -> str:
    if payment.status == PaymentStatus.REFUNDED:
        return _("Refunded")
    if payment.status == PaymentStatus.PARTIALLY_REFUNDED:
        return _("Partly refunded: %(amount)s") % {
            "amount": _money(payment.refunded_amount, payment.currency)
        }
    return ""


def _payment_row(payment, tickets, invoices) -> dict:
    return {
        "payment": payment,
        "status": payment.get_status_display(),
        "amount": _money(payment.amount, payment.currency),
        "tax": _money(payment.tax_amount, payment.currency),
        "date": presenters.long_date(payment.paid_at or payment.created_at),
        "refund_state": _refund_state(payment),
        "refundable": refundable_amount(payment) > 0,
        "tickets": [_ticket_row(t) for t in tickets.get(payment.pk, [])],
        "invoices": invoices.get(payment.pk, []),
    }


def _ticket_row(ticket: RefundTicket) -> dict:
    return {
        "ticket": ticket,
        "status": ticket.get_status_display(),
        "amount": _money(ticket.approved_amount or ticket.requested_amount, ticket.currency),
        "rejected": ticket.status == RefundTicketStatus.REJECTED,
    }


def _order_rows(actor, orders) -> list[dict]:
    order_ids = [o.pk for o in orders]
    payments = {}
    for payment in selectors.buyer_payments(actor).filter(order_id__in=order_ids):
        payments.setdefault(payment.order_id, []).append(payment)
    tickets = {}
    for ticket in selectors.buyer_tickets(actor).filter(order_id__in=order_ids):
        tickets.setdefault(ticket.payment_id, []).append(ticket)
    invoices = {}
    for invoice in selectors.buyer_invoices(actor).filter(order_id__in=order_ids):
        invoices.setdefault(invoice.payment_id, []).append(invoice)
    return [
        {
            "order": order,
            "name": order.version.name,
            "status": order.get_status_display(),
            "total": _money(order.total, order.currency),
            "tax": _money(order.tax_amount, order.currency),
            "tax_label": presenters.tax_label(order.tax_name),
            "date": presenters.long_date(order.created_at),
            "unpaid": order.kind == OrderKind.ONETIME and order.status == OrderStatus.PENDING,
            "payments": [_payment_row(p, tickets, invoices) for p in payments.get(order.pk, [])],
        }
        for order in orders
    ]


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def orders(request, store, session, actor):
    rows = _order_rows(actor, list(selectors.buyer_orders(actor)[:100]))
    return render_page(
        request,
        store,
        "portal/orders.html",
        {"rows": rows, "nav": "orders", "notice": _notice(request)},
        environment=session.environment,
        session=session,
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def order_detail(request, store, session, actor, order_id: uuid.UUID):
    order = access_order(actor, order_id)
    rows = _order_rows(actor, [order])
    return render_page(
        request,
        store,
        "portal/order.html",
        {"row": rows[0], "nav": "orders", "notice": _notice(request)},
        environment=session.environment,
        session=session,
    )


@never_cache
@require_POST
@signed_in
def order_cancel(request, store, session, actor, order_id: uuid.UUID):
    """Cancel an unpaid one-time order (``billing.services.order_cancel``, the action
    ``onetime-order/cancel-order``); a paid one is refused with a pointer to refunds."""
    try:
        billing_services.order_cancel(actor=actor, order_id=order_id)
    except NotFound:
        raise
    except PancakeError as exc:
        order = access_order(actor, order_id)
        return render_page(
            request,
            store,
            "portal/order.html",
            {"row": _order_rows(actor, [order])[0], "nav": "orders", "error": error_message(exc)},
            environment=session.environment,
            session=session,
            status=400,
        )
    return _redirect("order", store, order_id, done="order_canceled")


# --- invoices ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def invoices(request, store, session, actor):
    documents = [
        {
            "invoice": invoice,
            "kind": invoice.get_kind_display(),
            "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
            "total": _money(invoice.total, invoice.currency),
            "tax": _money(invoice.tax_amount, invoice.currency),
            "date": presenters.long_date(invoice.issued_at),
        }
        for invoice in selectors.buyer_invoices(actor)[:200]
    ]
    return render_page(
        request,
        store,
        "portal/invoices.html",
        {"documents": documents, "nav": "invoices"},
        environment=session.environment,
        session=session,
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def invoice_pdf(request, store, session, actor, invoice_id: uuid.UUID):
    """The document's PDF, through its signed download link, once the buyer is known to own
    its payment (``access_payment``); anyone else's is a 404."""
    invoice = Invoice.objects.filter(pk=invoice_id, environment=actor.environment).first()
    if invoice is None:
        raise Http404("Invoice not found")
    access_payment(actor, invoice.payment_id)
    return HttpResponseRedirect(invoice_download_url(invoice))


# --- refunds ----------------------------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.CharField(max_length=32, required=False)
    reason = forms.CharField(max_length=1000, required=True)


def _refund_facts(payment) -> dict:
    left = refundable_amount(payment)
    deadline = None
    if payment.order.kind == OrderKind.ONETIME and payment.paid_at is not None:
        deadline = payment.paid_at + BUYER_REFUND_WINDOW
    return {
        "payment": payment,
        "amount": _money(payment.amount, payment.currency),
        "left": _money(left, payment.currency),
        "left_minor": left,
        "deadline": presenters.long_date(deadline) if deadline else "",
        "window_passed": deadline is not None and timezone.now() > deadline,
        "currency": payment.currency,
    }


def _form_error(form, exc: PancakeError) -> None:
    field = (
        "amount"
        if (exc.field or "").endswith("amount")
        or exc.code
        in (
            "amount_too_large",
            "invalid",
            "currency_mismatch",
        )
        else None
    )
    form.add_error(field, error_message(exc))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def refund_request(request, store, session, actor, payment_id: uuid.UUID):
    """Ask for a refund of one payment: all that is left, or part of it, with a reason. The
    7-day rule and what is left are shown first; ``refunds.services.ticket_create`` decides."""
    payment = access_payment(actor, payment_id)
    form = RefundForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                refund_services.ticket_create(
                    actor=actor,
                    payment_id=payment.pk,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"].strip() or None,
                    amount_field="amount",
                )
            except NotFound:
                raise
            except PancakeError as exc:
                _form_error(form, exc)
            else:
                return _redirect("order", store, payment.order_id, done="refund")
        status = 400
    return render_page(
        request,
        store,
        "portal/refund.html",
        {**_refund_facts(payment), "form": form, "nav": "orders"},
        environment=session.environment,
        session=session,
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def ticket_resubmit(request, store, session, actor, ticket_id: uuid.UUID):
    """Send a rejected request again with a new reason or amount
    (``refunds.services.ticket_resubmit``)."""
    ticket = access_ticket(actor, ticket_id)
    payment = access_payment(actor, ticket.payment_id)
    form = RefundForm(request.POST or None, initial={"reason": ticket.reason})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                refund_services.ticket_resubmit(
                    actor=actor,
                    ticket_id=ticket.pk,
                    payment_id=payment.pk,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"].strip() or None,
                    amount_field="amount",
                )
            except NotFound:
                raise
            except PancakeError as exc:
                _form_error(form, exc)
            else:
                return _redirect("order", store, payment.order_id, done="resubmitted")
        status = 400
    facts = _refund_facts(payment)
    facts["left"] = _money(refundable_amount(payment, exclude=ticket.pk), payment.currency)
    return render_page(
        request,
        store,
        "portal/resubmit.html",
        {
            **facts,
            "ticket": ticket,
            "ticket_row": _ticket_row(ticket),
            "form": form,
            "nav": "orders",
        },
        environment=session.environment,
        session=session,
        status=status,
    )


# --- subscriptions ----------------------------------------------------------------------------


def _subscription_row(subscription) -> dict:
    S = SubscriptionStatus
    status = subscription.status
    next_date = None
    if status in (S.ACTIVE, S.TRIALING):
        next_date = subscription.current_period_end
    elif status == S.PAST_DUE:
        next_date = subscription.next_retry_at
    details = subscription.payment_method_details or {}
    method = ""
    if details.get("last4"):
        method = _("%(brand)s ending in %(last4)s") % {
            "brand": (details.get("brand") or subscription.payment_method or "").capitalize(),
            "last4": details["last4"],
        }
    return {
        "subscription": subscription,
        "order_id": subscription.order_id,
        "name": subscription.version.name,
        "status": subscription.get_status_display(),
        "price": presenters.per_period(
            _money(subscription.total, subscription.currency), subscription.billing_period
        ),
        "interval": presenters.frequency(subscription.billing_period),
        "next_date": presenters.long_date(next_date) if next_date else "",
        "ends": presenters.long_date(subscription.cancel_at or subscription.current_period_end)
        if status == S.CANCELING
        else "",
        "method": method,
        "past_due": status == S.PAST_DUE,
        "can_cancel": status in (S.ACTIVE, S.TRIALING, S.PAST_DUE, S.PAUSED),
        "can_reactivate": status == S.CANCELING and not subscription.failed_attempts,
        "can_change_plan": False,  # set by the list: the plans it may move to exist
        "can_replace_card": status in payment_methods.UPDATABLE,
    }


@never_cache
@require_http_methods(["GET", "HEAD"])
@signed_in
def subscriptions(request, store, session, actor):
    rows = _subscription_rows(actor)
    return render_page(
        request,
        store,
        "portal/subscriptions.html",
        {
            "rows": rows,
            "nav": "subscriptions",
            "notice": _notice(request),
            "error": request.GET.get("error", ""),
        },
        environment=session.environment,
        session=session,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


def _subscription_rows(actor) -> list[dict]:
    """The buyer's subscriptions, each with whether it has plans to change to (a self-service
    group holding its plan: ``plan_changes.offered_plans``)."""
    rows = []
    for subscription in selectors.buyer_subscriptions(actor)[:100]:
        row = _subscription_row(subscription)
        if subscription.status in plan_changes.CHANGEABLE:
            row["can_change_plan"] = bool(
                plan_changes.offered_plans(actor=actor, order_id=subscription.order_id)
            )
        rows.append(row)
    return rows


def _subscription_action(request, store, session, actor, order_id, act, done):
    try:
        act()
    except NotFound:
        raise
    except PancakeError as exc:
        rows = _subscription_rows(actor)
        return render_page(
            request,
            store,
            "portal/subscriptions.html",
            {"rows": rows, "nav": "subscriptions", "error": error_message(exc)},
            environment=session.environment,
            session=session,
            status=400,
        )
    return _redirect("subscriptions", store, done=done)


@never_cache
@require_POST
@signed_in
def subscription_cancel(request, store, session, actor, order_id: uuid.UUID):
    """Cancel at the end of the period, with an optional reason (``lifecycle.cancel``, the
    action ``subscription-order/cancel-order``)."""
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _subscription_action(
        request,
        store,
        session,
        actor,
        order_id,
        lambda: lifecycle.cancel(actor=actor, order_id=order_id, reason=reason),
        "canceled",
    )


@never_cache
@require_POST
@signed_in
def subscription_reactivate(request, store, session, actor, order_id: uuid.UUID):
    """Undo a cancel while the period runs (``lifecycle.reactivate``)."""
    return _subscription_action(
        request,
        store,
        session,
        actor,
        order_id,
        lambda: lifecycle.reactivate(actor=actor, order_id=order_id),
        "reactivated",
    )


@never_cache
@require_POST
@signed_in
def replace_card(request, store, session, actor, order_id: uuid.UUID):
    """Replace the subscription's saved card: the provider's own hosted page saves a new one
    without charging (``payment_methods.method_update_start``, as the buyer); when the
    provider's notification says it succeeded, the subscription uses it (a past-due one is
    charged at once). The provider's page returns here."""
    order = access_order(actor, order_id, kind=OrderKind.SUBSCRIPTION)
    return_url = links.manage_subscription_url(order)
    return_url += ("&" if "?" in return_url else "?") + "done=card"
    try:
        url = payment_methods.method_update_start(
            actor=actor,
            order_id=order.pk,
            return_url=return_url,
            language=page_language(request)[0],
        )
    except NotFound:
        raise
    except PancakeError as exc:
        return render_page(
            request,
            store,
            "portal/subscriptions.html",
            {
                "rows": _subscription_rows(actor),
                "nav": "subscriptions",
                "error": error_message(exc),
            },
            environment=session.environment,
            session=session,
            status=400 if exc.status < 500 else 502,
        )
    return HttpResponseRedirect(url)


# --- billing details ------------------------------------------------------------------------


class BillingForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    business_name = forms.CharField(max_length=200, required=False)
    tax_id = forms.CharField(max_length=200, required=False)
    address = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=200, required=False)
    postcode = forms.CharField(max_length=200, required=False)

    SERVICE_KEYS = {
        "name": "name",
        "business_name": "businessName",
        "tax_id": "taxId",
        "address": "address",
        "city": "city",
        "postcode": "postcode",
    }

    def changes(self) -> dict:
        return {key: self.cleaned_data.get(name, "") for name, key in self.SERVICE_KEYS.items()}


def _billing_error(form, exc: PancakeError) -> None:
    field = (exc.field or "").rsplit(".", 1)[-1]
    if exc.code == "tax_changes":
        form.add_error(None, error_message(exc))
    elif field == "taxId":
        form.add_error("tax_id", _("Enter a valid VAT or tax number for your country."))
    elif field == "businessName":
        form.add_error("business_name", _("This field is required."))
    else:
        names = {key: name for name, key in BillingForm.SERVICE_KEYS.items()}
        form.add_error(names.get(field), error_message(exc))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def billing_details(request, store, session, actor, order_id: uuid.UUID):
    """A subscription's billing details for its next invoices
    (``checkout.services.order_billing_detail_update``): name, business name and tax ID (a
    business), address; the country stays."""
    order = access_order(actor, order_id, kind=OrderKind.SUBSCRIPTION)
    detail = order.billing_detail or {}
    initial = {name: detail.get(key, "") for name, key in BillingForm.SERVICE_KEYS.items()}
    form = BillingForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                checkout_services.order_billing_detail_update(
                    actor=actor, order_id=order.pk, changes=form.changes()
                )
            except NotFound:
                raise
            except PancakeError as exc:
                _billing_error(form, exc)
            else:
                return _redirect("subscriptions", store, done="billing")
        status = 400
    return render_page(
        request,
        store,
        "portal/billing.html",
        {
            "order": order,
            "form": form,
            "is_business": bool(detail.get("isBusiness")),
            "country": country_name(detail.get("country") or "", presenters.babel_locale()),
            "state": detail.get("state", ""),
            "nav": "subscriptions",
        },
        environment=session.environment,
        session=session,
        status=status,
    )


# --- plan changes ---------------------------------------------------------------------------


class PlanForm(forms.Form):
    product = forms.UUIDField()


def _offer_row(offer, currency: str, period: str | None) -> dict:
    return {
        "product_id": offer.product_id,
        "name": offer.version.name,
        "price": presenters.per_period(
            _money(offer.amount, currency), offer.version.billing_period or period
        ),
        "tax_included": offer.tax_included,
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@signed_in
def plan_change(request, store, session, actor, order_id: uuid.UUID):
    """Change plan within the subscription's product group, when the group allows
    self-service: the group's other plans priced in the subscription's currency; choosing one
    makes a plan-change session (``plan_changes.propose``, the action
    ``checkout/create-session`` with ``originOrderId``, as the buyer) and sends the buyer to
    its confirmation page, whose result links back here."""
    order, subscription = access_subscription(actor, order_id)
    if subscription is None:
        raise Http404("Subscription not found")
    failure, status = None, 200
    if request.method == "POST":
        form = PlanForm(request.POST)
        if not form.is_valid():
            failure, status = PancakeError("Choose a plan", code="choose_plan"), 400
        else:
            try:
                change_session = plan_changes.propose(
                    actor=actor,
                    origin_order_id=order.pk,
                    product_id=form.cleaned_data["product"],
                    currency=subscription.currency,
                    warn=lambda message: None,
                    success_url=links.manage_subscription_url(order),
                    language=page_language(request)[0],
                )
            except NotFound:
                raise
            except PancakeError as exc:
                failure, status = exc, 400
            else:
                return HttpResponseRedirect(checkout_services.checkout_url(change_session))
    offers = plan_changes.offered_plans(actor=actor, order_id=order.pk)
    with translation.override(languages.to_django(page_language(request)[0])):
        context = {
            "row": _subscription_row(subscription),
            "offers": [
                _offer_row(o, subscription.currency, subscription.billing_period) for o in offers
            ],
            "error": error_message(failure) if failure else "",
            "nav": "subscriptions",
        }
    return render_page(
        request,
        store,
        "portal/plan_change.html",
        context,
        environment=session.environment,
        session=session,
        status=status,
    )
