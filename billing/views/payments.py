"""The dashboard's Payments and Refund tickets pages (docs/dashboard-payments.md).

- Payments: the list of the header's environment (filters and search in the GET parameters,
  counts per status, keyset pages that cost the same at any depth), its CSV export streamed
  whatever its size, and one payment's detail (amounts, tax, the platform fee and net, the
  method, the customer and their countries, the order, subscription, invoice, refund tickets and
  refunds) with the refund form, one call of ``billing.refunds.services.payment_refund``.
- Refund tickets: the list (status, search) and one ticket's detail (payment, buyer, reason,
  amounts, versions, refunds) with approve (optionally a smaller amount) and reject (with a
  note), calls of ``ticket_approve`` and ``ticket_reject``.

Members see the pages without the forms; the services refuse their forced POSTs (403), which the
page says in its own words. A refusal shows beside the input it is about, chosen by the error's
``field`` and ``code``, never by its text. Another store's payment or ticket is 404."""

from __future__ import annotations

import copy
import csv
import io
from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing import forms
from billing.models import (
    Invoice,
    PaymentStatus,
    RefundStatus,
    RefundTicketStatus,
    SubmitterType,
)
from billing.payments import fees
from billing.payments import selectors as payment_selectors
from billing.refunds import services as refund_services
from checkout import presenters
from checkout.models import OrderKind
from pancake import money
from pancake.api import ids
from pancake.api.errors import Forbidden, NotFound, PancakeError
from products import selectors as product_selectors
from stores.context_processors import current_environment
from stores.dashboard import dashboard_actor, page, show_error, store_context, store_page
from stores.forms import COMMON_CURRENCIES
from stores.models import Role
from stores.selectors import has_role

NAV = "payments"
TICKETS_NAV = "refund_tickets"
TICKETS_PAGE_SIZE = 25
P = PaymentStatus
T = RefundTicketStatus

# The refund services' refusals in the page's words (and language), by the error's code.
REFUSALS = {
    Forbidden.code: gettext_lazy(
        "Only owners and admins can refund payments and review refund tickets."
    ),
    "not_refundable": gettext_lazy("This payment cannot be refunded."),
    "amount_too_large": gettext_lazy("The amount is more than what is left to refund."),
    "currency_mismatch": gettext_lazy("The amount must be in the payment's currency."),
    "refund_window_passed": gettext_lazy("The time to refund this payment has passed."),
    "not_pending": gettext_lazy("This ticket has already been reviewed."),
    "not_subscription": gettext_lazy("This payment does not belong to a subscription."),
    "not_cancelable": gettext_lazy("The subscription is already canceled."),
    "not_implemented": gettext_lazy("Refunds are not available yet."),
    "conflict": gettext_lazy("The payment is busy. Try again in a moment."),
}


def _can_refund(store) -> bool:
    """Whether the pages offer the refund and review forms (the services decide what is
    allowed: owners and admins)."""
    return has_role(store.caller_role, Role.ADMIN)


# Where one code means something else for one input.
FIELD_REFUSALS = {
    ("approvedAmount", "amount_too_large"): gettext_lazy(
        "The amount is more than the ticket asks for or than is left to refund."
    ),
}


def _in_page_words(exc: PancakeError) -> PancakeError:
    text = FIELD_REFUSALS.get((exc.field, exc.code)) or REFUSALS.get(exc.code)
    if text is None:
        return exc
    refusal = copy.copy(exc)
    refusal.args = (str(text),)
    return refusal


def _with_params(request, **changes) -> str:
    """This page's query string with ``changes`` (None removes a parameter), back on the first
    page."""
    params = request.GET.copy()
    for name in ("page", "after", "before"):
        params.pop(name, None)
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _method(payment) -> dict:
    details = payment.payment_method_details or {}
    return {
        "type": details.get("type") or payment.payment_method or "",
        "brand": details.get("brand") or "",
        "last4": details.get("last4") or "",
    }


def refund_status(payment, tickets=()) -> tuple[str, str]:
    """The payment's refund state as (key, label): refunded, partially refunded, in progress (an
    approved refund not answered yet), requested (a pending ticket) or none."""
    if payment.refunded_amount and payment.refunded_amount >= payment.amount:
        return "refunded", _("Refunded")
    if payment.refunded_amount:
        return "partial", _("Partially refunded")
    if payment.refunding_amount:
        return "processing", _("Refund in progress")
    if any(t.status == T.PENDING for t in tickets):
        return "requested", _("Refund requested")
    return "none", _("Not refunded")


# --- the payments list ---------------------------------------------------------------------------


def _count_label(n: int, *, capped: bool = False) -> str:
    """A count as the page shows it: grouped in the viewer's locale, with a "+" when it is a
    lower bound (``capped``, or above ``payment_selectors.COUNT_CAP``, where counts stop)."""
    if not capped and n > payment_selectors.COUNT_CAP:
        n, capped = payment_selectors.COUNT_CAP, True
    return number_format(n, force_grouping=True) + ("+" if capped else "")


def _filter_form(request, store):
    environment = current_environment(request)
    products = [
        (p.pk, (p.version_for(environment) or p.test_version).name)
        for p in product_selectors.product_list(store=store, environment=environment)
    ]
    currencies = [store.default_currency] + [
        c for c in COMMON_CURRENCIES if c != store.default_currency
    ]
    return forms.PaymentFilterForm(
        request.GET or None,
        products=products,
        currencies=currencies,
        default_currency=store.default_currency,
    )


@store_page
@require_http_methods(["GET"])
def payment_list(request, store):
    environment = current_environment(request)
    filter_form = _filter_form(request, store)
    filters = filter_form.filters()
    listed = payment_selectors.payment_page(
        store=store,
        environment=environment,
        filters=filters,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    counts = payment_selectors.payment_status_counts(
        store=store, environment=environment, filters=filters
    )
    rows = [
        {
            "payment": p,
            "method": _method(p),
            "fee": fees.payment_breakdown(p),
            "at": p.paid_at or p.created_at,
        }
        for p in listed.rows
    ]
    status_links = [
        {
            "status": status,
            "label": status.label,
            "count": _count_label(counts[status]),
            "query": _with_params(request, status=status.value),
            "current": filters.status == status.value,
        }
        for status in payment_selectors.LISTED_STATUSES
    ]
    cap = payment_selectors.COUNT_CAP
    all_count = _count_label(
        sum(min(n, cap) for n in counts.values()), capped=any(n > cap for n in counts.values())
    )
    context = store_context(
        request,
        store,
        NAV,
        filter_form=filter_form,
        filtered=filters.any,
        current_status=filters.status,
        rows=rows,
        status_links=status_links,
        all_count=all_count,
        listed_count=(
            _count_label(counts[filters.status]) if filters.status in counts else all_count
        ),
        all_query=_with_params(request, status=None),
        next_query=_with_params(request, after=listed.next_cursor) if listed.next_cursor else "",
        prev_query=_with_params(request, before=listed.prev_cursor) if listed.prev_cursor else "",
        export_url=reverse("dashboard:payments-export", args=[store.pk]) + _with_params(request),
    )
    return page(request, "dashboard/payments.html", context)


EXPORT_HEADER = (
    "payment_id",
    "created_at",
    "paid_at",
    "status",
    "currency",
    "amount",
    "tax",
    "platform_fee",
    "refunded",
    "net",
    "customer_email",
    "product",
    "order_id",
    "merchant_order_id",
    "subscription_id",
    "billing_country",
    "method",
    "brand",
    "last4",
)


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


EXPORT_BATCH = 200  # rows per piece of the streamed response


def export_lines(rows):
    """The CSV, header first, in pieces of ``EXPORT_BATCH`` rows, for rows of
    ``payment_selectors.payment_export_rows``: amounts in the currency's major unit (``29.00``,
    ``4500``, ``1.500``), times in UTC."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    display = money.to_display
    for n, row in enumerate(rows, 1):
        currency = row["currency"]
        b = fees.breakdown(
            amount=row["amount"],
            tax_amount=row["tax_amount"],
            currency=currency,
            status=row["status"],
            refunded_amount=row["refunded_amount"],
            fee_amount=row["fee_amount"],
        )
        writer.writerow(
            (
                row["id"],
                _iso(row["created_at"]),
                _iso(row["paid_at"]),
                row["status"],
                currency,
                display(b.amount, currency),
                display(b.tax, currency),
                display(b.fee, currency),
                display(b.refunded, currency),
                display(b.net, currency),
                _csv_text(row["order__buyer_email"]),
                _csv_text(row["order__version__name"]),
                row["order_id"],
                _csv_text(row["order_merchant_external_id"] or ""),
                row["subscription_id"] or "",
                row["billing_country"] or "",
                row["method_type"] or row["payment_method"] or "",
                row["method_brand"] or "",
                row["method_last4"] or "",
            )
        )
        if n % EXPORT_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_text(value: str | None) -> str:
    """Text a spreadsheet must not run as a formula (``=``, ``+``, ``-``, ``@`` first): quoted
    with an apostrophe, as OWASP's CSV-injection advice has it."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@store_page
@require_http_methods(["GET"])
def payment_export(request, store):
    """The filtered list as CSV, streamed: rows are read in keyset chunks while the response is
    sent, so the export of a million payments holds one chunk at a time."""
    environment = current_environment(request)
    filters = _filter_form(request, store).filters()
    rows = payment_selectors.payment_export_rows(
        store=store, environment=environment, filters=filters
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(export_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="payments-{store.slug}-{environment}-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- one payment ---------------------------------------------------------------------------------


def _payment_url(store, payment_id, fragment: str = "") -> str:
    url = reverse("dashboard:payment", args=[store.pk, payment_id])
    return url + (f"#{fragment}" if fragment else "")


def _payment_or_404(request, store, payment_id):
    try:
        return payment_selectors.payment_detail(
            store=store, environment=current_environment(request), payment_id=payment_id
        )
    except NotFound:
        raise Http404("Payment not found") from None


def invoice_download_url(store, invoice: Invoice | None) -> str | None:
    """The invoice's PDF on the dashboard (``billing/views/invoices.py``); None when the payment
    has no invoice."""
    if invoice is None:
        return None
    return reverse("dashboard:invoice-pdf", args=[store.pk, invoice.pk])


def _payment_page(request, store, detail, *, refund_form=None, status: int = 200):
    payment = detail.payment
    order = payment.order
    left = payment_selectors.left_to_refund(payment)
    is_subscription = order.kind == OrderKind.SUBSCRIPTION
    if refund_form is None:
        refund_form = forms.PaymentRefundForm(
            currency=payment.currency,
            subscription=is_subscription,
            initial={"amount": money.to_display(left, payment.currency)},
        )
    evidence = order.tax_evidence or {}
    billing = payment.billing_detail or order.billing_detail or {}
    key, label = refund_status(payment, detail.tickets)
    context = store_context(
        request,
        store,
        NAV,
        detail=detail,
        payment=payment,
        order=order,
        subscription=_subscription_of(order),
        is_subscription=is_subscription,
        short_id=ids.encode("PAY", payment.pk),
        order_short_id=ids.encode("ORD", order.pk),
        amounts=fees.payment_breakdown(payment),
        left_to_refund=left,
        refund_status=key,
        refund_status_label=label,
        method=_method(payment),
        billing_country=billing.get("country") or evidence.get("country") or "",
        ip_country=evidence.get("ip_country") or "",
        buyer_ip=order.buyer_ip or "",
        tax_id=billing.get("taxId") or evidence.get("tax_id") or "",
        business_name=billing.get("businessName") or evidence.get("business_name") or "",
        invoice=detail.invoice,
        invoice_url=invoice_download_url(store, detail.invoice),
        can_refund=_can_refund(store),
        refund_form=refund_form,
        tickets=[(t, _short_ticket(t)) for t in detail.tickets],
    )
    return page(request, "dashboard/payment_detail.html", context, status)


def _subscription_of(order):
    """The order's subscription (read with the payment), or None before its first payment."""
    try:
        return order.subscription
    except ObjectDoesNotExist:
        return None


def _short_ticket(ticket) -> str:
    return ids.encode("TKT", ticket.pk)


@store_page
@require_http_methods(["GET"])
def payment_detail(request, store, payment_id):
    return _payment_page(request, store, _payment_or_404(request, store, payment_id))


def _refund_done(request, ticket, currency: str) -> None:
    """Say how the refund went: refunded, failed at the provider, or still being processed (the
    provider's refund runs in a task after the service's commit: the ticket is read again)."""
    ticket.refresh_from_db(fields=["status"])
    amount = presenters.money(ticket.refund_amount, currency)
    if ticket.status == T.SUCCEEDED:
        messages.success(request, _("Refunded %(amount)s.") % {"amount": amount})
    elif ticket.status == T.FAILED:
        messages.error(
            request,
            _("The refund of %(amount)s failed at the payment provider.") % {"amount": amount},
        )
    else:
        messages.success(
            request, _("The refund of %(amount)s is being processed.") % {"amount": amount}
        )


@store_page
@require_POST
def payment_refund(request, store, payment_id):
    detail = _payment_or_404(request, store, payment_id)
    payment = detail.payment
    form = forms.PaymentRefundForm(
        request.POST,
        currency=payment.currency,
        subscription=payment.order.kind == OrderKind.SUBSCRIPTION,
    )
    if not form.is_valid():
        return _payment_page(request, store, detail, refund_form=form, status=400)
    try:
        ticket = refund_services.payment_refund(
            actor=dashboard_actor(request),
            payment_id=payment.pk,
            amount=form.cleaned_data["amount"],
            amount_field="amount",
            reason=form.cleaned_data["reason"],
            cancel_subscription=form.cleaned_data.get("cancel_subscription") or False,
        )
    except PancakeError as exc:
        status = show_error(form, _in_page_words(exc))
        detail = _payment_or_404(request, store, payment_id)
        return _payment_page(request, store, detail, refund_form=form, status=status)
    _refund_done(request, ticket, payment.currency)
    return redirect(_payment_url(store, payment.pk, "refunds"))


# --- refund tickets ------------------------------------------------------------------------------


@store_page
@require_http_methods(["GET"])
def ticket_list(request, store):
    environment = current_environment(request)
    filter_form = forms.RefundTicketFilterForm(request.GET or None)
    filters = filter_form.filters()
    listed = payment_selectors.ticket_list(store=store, environment=environment, filters=filters)
    page_obj = Paginator(listed, TICKETS_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = payment_selectors.ticket_status_counts(
        store=store, environment=environment, filters=filters
    )
    status_links = [
        {
            "status": status,
            "label": status.label,
            "count": counts[status],
            "query": _with_params(request, status=status.value),
            "current": filters.status == status.value,
        }
        for status in payment_selectors.TICKET_STATUSES
    ]
    context = store_context(
        request,
        store,
        TICKETS_NAV,
        filter_form=filter_form,
        filtered=bool(filters.status or filters.q),
        current_status=filters.status,
        page_obj=page_obj,
        status_links=status_links,
        all_count=sum(counts.values()),
        all_query=_with_params(request, status=None),
    )
    return page(request, "dashboard/refund_tickets.html", context)


def _ticket_url(store, ticket_id) -> str:
    return reverse("dashboard:refund-ticket", args=[store.pk, ticket_id])


def _ticket_or_404(request, store, ticket_id):
    try:
        return payment_selectors.ticket_detail(
            store=store, environment=current_environment(request), ticket_id=ticket_id
        )
    except NotFound:
        raise Http404("Refund ticket not found") from None


def _ticket_page(request, store, detail, *, approve_form=None, reject_form=None, status=200):
    ticket = detail.ticket
    payment = ticket.payment
    left = payment_selectors.left_to_refund(payment)
    if approve_form is None:
        suggested = min(ticket.requested_amount, left) if left else ticket.requested_amount
        approve_form = forms.TicketApproveForm(
            currency=ticket.currency,
            initial={"approved_amount": money.to_display(suggested, ticket.currency)},
        )
    context = store_context(
        request,
        store,
        TICKETS_NAV,
        detail=detail,
        ticket=ticket,
        payment=payment,
        order=ticket.order,
        short_id=_short_ticket(ticket),
        left_to_refund=left,
        is_customer=ticket.submitter_type == SubmitterType.CUSTOMER,
        can_review=_can_refund(store) and ticket.status == T.PENDING,
        can_refund=_can_refund(store),
        approve_form=approve_form,
        reject_form=reject_form or forms.TicketRejectForm(),
        refund_statuses=RefundStatus,
    )
    return page(request, "dashboard/refund_ticket_detail.html", context, status)


@store_page
@require_http_methods(["GET"])
def ticket_detail(request, store, ticket_id):
    return _ticket_page(request, store, _ticket_or_404(request, store, ticket_id))


@store_page
@require_POST
def ticket_approve(request, store, ticket_id):
    detail = _ticket_or_404(request, store, ticket_id)
    form = forms.TicketApproveForm(request.POST, currency=detail.ticket.currency)
    if not form.is_valid():
        return _ticket_page(request, store, detail, approve_form=form, status=400)
    try:
        ticket = refund_services.ticket_approve(
            actor=dashboard_actor(request),
            ticket_id=detail.ticket.pk,
            approved_amount=form.cleaned_data["approved_amount"],
            note=form.cleaned_data["note"],
        )
    except PancakeError as exc:
        status = show_error(form, _in_page_words(exc))
        detail = _ticket_or_404(request, store, ticket_id)
        return _ticket_page(request, store, detail, approve_form=form, status=status)
    _refund_done(request, ticket, ticket.currency)
    return redirect(_ticket_url(store, ticket_id))


@store_page
@require_POST
def ticket_reject(request, store, ticket_id):
    detail = _ticket_or_404(request, store, ticket_id)
    form = forms.TicketRejectForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, store, detail, reject_form=form, status=400)
    try:
        refund_services.ticket_reject(
            actor=dashboard_actor(request),
            ticket_id=detail.ticket.pk,
            reason=form.cleaned_data["reason"],
        )
    except PancakeError as exc:
        status = show_error(form, _in_page_words(exc))
        detail = _ticket_or_404(request, store, ticket_id)
        return _ticket_page(request, store, detail, reject_form=form, status=status)
    messages.success(request, _("The ticket is rejected. The customer can resubmit it."))
    return redirect(_ticket_url(store, ticket_id))
