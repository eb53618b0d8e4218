"""The dashboard's Customers pages (docs/dashboard-customers-finance.md): the list of the
header's environment (search by email, filters by status, country and first-seen dates, sorted
by first seen, keyset pages of three statements), its CSV export streamed in keyset chunks, and
one customer's detail with tabs (overview, subscriptions, payments, activity) and the "Generate
portal link" button (``portal.views.dashboard.customer_portal_link``).

A customer's URL carries the id of one of their orders; another store's or environment's order
is 404."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from billing import forms
from billing.customers import selectors
from billing.payments import fees
from pancake import money
from stores.context_processors import current_environment
from stores.dashboard import page, store_context, store_page

NAV = "customers"
TABS = (
    ("overview", gettext_lazy("Overview")),
    ("subscriptions", gettext_lazy("Subscriptions")),
    ("payments", gettext_lazy("Payments")),
    ("activity", gettext_lazy("Activity")),
)
EVENT_LABELS = {
    "order": gettext_lazy("Order placed"),
    "payment": gettext_lazy("Payment succeeded"),
    "payment_failed": gettext_lazy("Payment failed"),
    "refund": gettext_lazy("Refunded"),
    "subscription_started": gettext_lazy("Subscription started"),
    "subscription_canceled": gettext_lazy("Subscription canceled"),
    "subscription_ended": gettext_lazy("Subscription ended"),
}


def _with_params(request, **changes) -> str:
    params = request.GET.copy()
    params.pop("after", None)
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _amounts(per_currency: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(per_currency.items())


def _row_context(row: selectors.CustomerRow) -> dict:
    return {
        "c": row,
        "status_label": forms.CUSTOMER_STATUS_LABELS.get(row.status, row.status),
        "revenue": _amounts(row.revenue),
        "mrr": _amounts(row.mrr),
    }


@store_page
@require_http_methods(["GET"])
def customer_list(request, store):
    environment = current_environment(request)
    filter_form = forms.CustomerFilterForm(request.GET or None)
    filters = filter_form.filters()
    listed = selectors.customer_page(
        store=store, environment=environment, filters=filters, after=request.GET.get("after", "")
    )
    rows = [_row_context(r) for r in listed.rows]
    context = store_context(
        request,
        store,
        NAV,
        filter_form=filter_form,
        filtered=any(v for v in request.GET.dict().values()),
        rows=rows,
        next_query=_with_params(request, after=listed.next_cursor) if listed.next_cursor else "",
        first_query=_with_params(request) if listed.has_prev else "",
        export_url=reverse("dashboard:customers-export", args=[store.pk]) + _with_params(request),
    )
    return page(request, "dashboard/customers.html", context)


EXPORT_HEADER = (
    "email",
    "first_seen",
    "last_order",
    "country",
    "status",
    "orders",
    "subscriptions",
    "payments",
    "currency",
    "revenue",
    "mrr",
)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _csv_text(value: str | None) -> str:
    """Text a spreadsheet must not run as a formula: quoted with an apostrophe."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_lines(rows):
    """The CSV: one line per customer and currency (revenue and MRR never mixed; a customer
    without payments has one line with no currency), amounts in the currency's major unit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for n, row in enumerate(rows, 1):
        currencies = sorted(set(row.revenue) | set(row.mrr)) or [""]
        for currency in currencies:
            writer.writerow(
                (
                    _csv_text(row.email),
                    _iso(row.first_at),
                    _iso(row.last_at),
                    row.country,
                    row.status,
                    row.order_count,
                    row.subscription_count,
                    row.payment_count,
                    currency,
                    money.to_display(row.revenue.get(currency, 0), currency) if currency else "",
                    money.to_display(row.mrr.get(currency, 0), currency) if currency else "",
                )
            )
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@store_page
@require_http_methods(["GET"])
def customer_export(request, store):
    environment = current_environment(request)
    filters = forms.CustomerFilterForm(request.GET or None).filters()
    rows = selectors.customer_export_rows(store=store, environment=environment, filters=filters)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(export_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="customers-{store.slug}-{environment}-{stamp}.csv"'
    )
    return response


@store_page
@require_http_methods(["GET"])
def customer_detail(request, store, order_id: uuid.UUID):
    environment = current_environment(request)
    email = selectors.email_of_order(store=store, environment=environment, order_id=order_id)
    if email is None:
        raise Http404("Customer not found")
    row = selectors.customer(store=store, environment=environment, email=email)
    tab = request.GET.get("tab", "overview")
    if tab not in dict(TABS):
        tab = "overview"
    context = store_context(
        request,
        store,
        NAV,
        **_row_context(row),
        order_id=order_id,
        tab=tab,
        tabs=[(key, label, f"?tab={key}") for key, label in TABS],
    )
    if tab == "subscriptions":
        context["subscriptions"] = selectors.customer_subscriptions(
            store=store, environment=environment, email=email
        )[:100]
    elif tab == "payments":
        context["payments"] = [
            {"p": p, "fee": fees.payment_breakdown(p)}
            for p in selectors.customer_payments(store=store, environment=environment, email=email)[
                :100
            ]
        ]
    elif tab == "activity":
        context["events"] = [
            {"e": e, "label": EVENT_LABELS.get(e.kind, e.kind)}
            for e in selectors.activity(store=store, environment=environment, email=email)
        ]
    else:
        context["orders"] = selectors.customer_orders(
            store=store, environment=environment, email=email
        )[:10]
    return page(request, "dashboard/customer_detail.html", context)
