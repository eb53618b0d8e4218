"""A store's Home and Analytics pages and onboarding's first product
(docs/dashboard-home-analytics.md).

- Home: stat cards with their change against the previous period, the transaction volume chart
  (7/30/90 days, GET links), customer geography, recent transactions and customers, and the
  getting-started checklist (each step ticked from what exists; dismissible).
- Analytics: a range (preset or two store-local dates), a granularity remembered for the
  merchant, a product filter; the revenue chart, the metric cards, CSV and JSON exports of both.
- First product: after a new store is created, a short form (name, price, one-time or monthly)
  that calls ``products.services.product_create``, then its purchase link and a test purchase.

Every figure comes from ``billing.analytics.metrics`` (the checklist and recent lists from
``billing.analytics.pages``); each page runs the same number of statements whatever the range.
"""

from __future__ import annotations

import csv
import io
import json
import uuid

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import get_language, gettext_lazy, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import forms
from billing.analytics import metrics, pages
from billing.analytics.metrics import Amount, Scope
from billing.analytics.periods import Granularity, Window, store_zone
from pancake import money
from pancake.api.errors import PancakeError
from pancake.models import Environment
from products import selectors as product_selectors
from products import services as product_services
from products.models import BillingPeriod, ProductKind, TaxCategory
from products.views import purchase_url
from stores import selectors as store_selectors
from stores import services as store_services
from stores.context_processors import current_environment
from stores.dashboard import dashboard_actor, page, show_error, store_context, store_page
from stores.forms import COMMON_CURRENCIES
from stores.models import MembershipStatus

GRANULARITY = {"day": Granularity.DAY, "week": Granularity.WEEK, "month": Granularity.MONTH}
PREFERENCE = "analyticsGranularity"

# The cards: key, label, the Summary field, kind (money, count, ratio).
HOME_CARDS = (
    ("revenue", gettext_lazy("Total revenue"), "gross", "money"),
    ("mrr", gettext_lazy("MRR"), "mrr", "money"),
    ("customers", gettext_lazy("Customers"), "customers", "count"),
    ("sales", gettext_lazy("Sales"), "sales", "count"),
    ("subscriptions", gettext_lazy("Active subscriptions"), "active_subscriptions", "count"),
)
ANALYTICS_CARDS = (
    ("revenue", gettext_lazy("Total revenue"), "gross", "money"),
    ("mrr", gettext_lazy("MRR"), "mrr", "money"),
    ("arr", gettext_lazy("ARR"), "arr", "money"),
    ("average_order", gettext_lazy("Average order value"), "average_order", "money"),
    ("customers", gettext_lazy("Customers"), "customers", "count"),
    ("new_customers", gettext_lazy("New customers"), "new_customers", "count"),
    ("repeat_customers", gettext_lazy("Repeat customers"), "repeat_customers", "count"),
    ("subscriptions", gettext_lazy("Active subscriptions"), "active_subscriptions", "count"),
    ("churn_rate", gettext_lazy("Churn rate"), "churn_rate", "ratio"),
    ("trial_conversion", gettext_lazy("Trial conversion"), "trial_conversion", "ratio"),
    ("ltv", gettext_lazy("Lifetime value"), "ltv", "money"),
)


# --- figures as the pages show them ------------------------------------------------------------


def _raw(value):
    """A figure's comparable value: an Amount's total in the store's currency."""
    return value.total if isinstance(value, Amount) else value


def _locale() -> str:
    """The page's language as a Babel locale (``zh-hans`` → ``zh_Hans``)."""
    return to_locale(get_language() or "en")


def _shown(value, kind: str, currency: str) -> str:
    value = _raw(value)
    if value is None:
        return "—"
    if kind == "money":
        return money.format_money(value, currency, _locale())
    if kind == "ratio":
        return f"{value * 100:.1f} %"
    return f"{value:,}"


def _change_text(change) -> str:
    if change is None:
        return "—"
    return f"{'+' if change > 0 else ''}{change * 100:.1f} %"


def _cards(spec, current, previous, currency: str) -> list[dict]:
    cards = []
    for key, label, field, kind in spec:
        now, before = getattr(current, field), getattr(previous, field)
        change = metrics.change(_raw(now), _raw(before))
        cards.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "value": _raw(now),
                "previous": _raw(before),
                "shown": _shown(now, kind, currency),
                "previous_shown": _shown(before, kind, currency),
                "change": change,
                "change_shown": _change_text(change),
                "trend": "none" if change is None else ("up" if change > 0 else "down"),
            }
        )
    return cards


def _chart(points, currency: str, title: str) -> dict:
    """The chart's data for ``json_script``: labels and one series in major units."""
    exponent = money.exponent(currency)
    return {
        "title": title,
        "currency": currency,
        "labels": [p.label for p in points],
        "values": [None if p.gross.total is None else p.gross.total / 10**exponent for p in points],
    }


def _chart_summary(points, currency: str, title: str) -> str:
    """The chart's text alternative: how many periods, and the highest one."""
    shown = [p for p in points if p.gross.total is not None]
    if not shown:
        return _("%(title)s: no figures.") % {"title": title}
    top = max(shown, key=lambda p: p.gross.total)
    return _("%(title)s: %(count)s periods; the highest is %(label)s with %(amount)s.") % {
        "title": title,
        "count": len(points),
        "label": top.label,
        "amount": _shown(top.gross, "money", currency),
    }


def _rows(points, currency: str) -> str:
    """The data table's rows, one per period (built at once: a two-year range by day has 730
    of them, which the template language would render several times slower)."""
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                p.label,
                _shown(p.gross, "money", currency),
                _shown(p.net, "money", currency),
                p.sales,
                p.new_customers,
            )
            for p in points
        ),
    )


def _now():
    return timezone.now()


# --- Home -------------------------------------------------------------------------------------


@store_page
@require_http_methods(["GET"])
def store_home(request, store):
    environment = current_environment(request)
    tz = store_zone(store.timezone)
    range_form = forms.HomeRangeForm(request.GET or None)
    days = range_form.chosen_days()
    window = Window.last_days(days, tz, _now())
    scope = Scope(store, environment, window)
    figures = metrics.overview(scope, Granularity.DAY)
    current_summary, previous_summary, points = figures.summary, figures.previous, figures.points
    currency = store.default_currency
    dismissed = str(store.pk) in (request.user.preferences.get("checklistDismissed") or [])
    members = list(store_selectors.store_members(store))
    context = store_context(
        request,
        store,
        "home",
        days=days,
        ranges=forms.HOME_RANGES,
        window=window,
        cards=_cards(HOME_CARDS, current_summary, previous_summary, currency),
        chart=_chart(points, currency, _("Transaction volume")),
        chart_summary=_chart_summary(points, currency, _("Transaction volume")),
        rows=_rows(points, currency),
        geography=[
            {
                "country": row.country,
                "gross": _shown(row.gross, "money", currency),
                "sales": row.sales,
                "customers": row.customers,
            }
            for row in metrics.geography(scope)
        ],
        payments=[
            {"payment": p, "amount": money.format_money(p.amount, p.currency, _locale())}
            for p in pages.recent_payments(store, environment)
        ],
        customers=pages.recent_customers(store, environment),
        checklist=None if dismissed else pages.checklist(store, request.user),
        member_count=sum(1 for m in members if m.status == MembershipStatus.ACTIVE),
        key_count=store_selectors.api_keys_for(request.user).count(),
    )
    return page(request, "dashboard/store_home.html", context)


@store_page
@require_POST
def checklist_dismiss(request, store):
    store_services.merchant_checklist_dismiss(merchant=request.user, store_id=store.pk)
    return redirect("dashboard:store", store_id=store.pk)


# --- Analytics --------------------------------------------------------------------------------


class _Analytics:
    """The Analytics page's parsed request and its figures."""

    def __init__(self, request, store):
        self.store = store
        self.environment = current_environment(request)
        self.tz = store_zone(store.timezone)
        today = _now().astimezone(self.tz).date()
        products = [
            (p.pk, (p.version_for(self.environment) or p.test_version).name)
            for p in product_selectors.product_list(store=store, environment=self.environment)
        ]
        self.product_names = {str(pk): name for pk, name in products}
        data = request.GET.copy()
        saved = request.user.preferences.get(PREFERENCE)
        if not data.get("granularity") and saved in GRANULARITY:
            data["granularity"] = saved
        if not data.get("preset"):
            # Dates alone mean a custom range; nothing means the default, shown as chosen.
            data["preset"] = "custom" if data.get("start") or data.get("end") else "30d"
        self.form = forms.AnalyticsForm(data, products=products, today=today)
        self.valid = self.form.is_valid()
        if not self.valid:
            return
        cleaned = self.form.cleaned_data
        self.granularity = cleaned.get("granularity") or "day"
        chosen = request.GET.get("granularity")
        if chosen and chosen != saved:
            store_services.merchant_preference_set(
                merchant=request.user, key=PREFERENCE, value=chosen
            )
        self.first, self.last = cleaned["start"], cleaned["end"]
        self.product_id = uuid.UUID(cleaned["product"]) if cleaned.get("product") else None
        self.window = Window.of_days(self.first, self.last, self.tz)
        scope = Scope(store, self.environment, self.window, self.product_id)
        figures = metrics.overview(scope, GRANULARITY[self.granularity])
        self.summary, self.previous, self.points = figures.summary, figures.previous, figures.points
        self.cards = _cards(ANALYTICS_CARDS, self.summary, self.previous, store.default_currency)

    def query(self, request) -> str:
        return request.GET.urlencode()

    def export(self) -> dict:
        """What the page shows, for the JSON export (money in minor units)."""
        currency = self.store.default_currency
        return {
            "store": str(self.store.pk),
            "environment": self.environment,
            "currency": currency,
            "timezone": str(self.tz),
            "start": self.first.isoformat(),
            "end": self.last.isoformat(),
            "previousStart": self.window.previous().first_day.isoformat(),
            "previousEnd": self.window.previous().last_day.isoformat(),
            "granularity": self.granularity,
            "product": str(self.product_id) if self.product_id else None,
            "cards": [
                {
                    "metric": c["key"],
                    "value": _json_value(c["value"]),
                    "previous": _json_value(c["previous"]),
                    "change": _json_value(c["change"]),
                }
                for c in self.cards
            ],
            "series": [
                {
                    "period": p.label,
                    "gross": p.gross.total,
                    "net": p.net.total,
                    "refunds": p.refunds.total,
                    "sales": p.sales,
                    "newCustomers": p.new_customers,
                    "mrr": p.mrr.total,
                }
                for p in self.points
            ],
        }


def _json_value(value):
    return str(value) if hasattr(value, "quantize") else value


def _analytics_page(request, store, analytics: _Analytics, status: int = 200):
    currency = store.default_currency
    context = store_context(request, store, "analytics", form=analytics.form, valid=analytics.valid)
    if analytics.valid:
        context.update(
            first=analytics.first,
            last=analytics.last,
            granularity=analytics.granularity,
            cards=analytics.cards,
            chart=_chart(analytics.points, currency, _("Revenue")),
            chart_summary=_chart_summary(analytics.points, currency, _("Revenue")),
            rows=_rows(analytics.points, currency),
            product_name=analytics.product_names.get(str(analytics.product_id or ""), ""),
            query=analytics.query(request),
            timezone_name=str(analytics.tz),
        )
    return page(request, "dashboard/analytics.html", context, status)


@store_page
@require_http_methods(["GET"])
def analytics(request, store):
    result = _Analytics(request, store)
    return _analytics_page(request, store, result, 200 if result.valid else 400)


@store_page
@require_http_methods(["GET"])
def analytics_export(request, store, fmt: str):
    result = _Analytics(request, store)
    if not result.valid:
        return _analytics_page(request, store, result, 400)
    data = result.export()
    name = f"analytics-{store.slug}-{data['start']}-{data['end']}"
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt != "csv":
        raise Http404("Unknown export format")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "value", "previous", "change"])
    for card in data["cards"]:
        writer.writerow([card["metric"], card["value"], card["previous"], card["change"]])
    writer.writerow([])
    writer.writerow(["period", "gross", "net", "refunds", "sales", "new_customers", "mrr"])
    for p in data["series"]:
        writer.writerow(
            [
                p["period"],
                p["gross"],
                p["net"],
                p["refunds"],
                p["sales"],
                p["newCustomers"],
                p["mrr"],
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- onboarding's first product ---------------------------------------------------------------


def _currencies(store) -> list[str]:
    return [store.default_currency] + [c for c in COMMON_CURRENCIES if c != store.default_currency]


@store_page
@require_http_methods(["GET", "POST"])
def first_product(request, store):
    form = forms.FirstProductForm(request.POST or None, currencies=_currencies(store))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            monthly = data["billing"] == "monthly"
            try:
                product = product_services.product_create(
                    actor=dashboard_actor(request),
                    store_id=store.pk,
                    kind=ProductKind.SUBSCRIPTION if monthly else ProductKind.ONETIME,
                    name=data["name"],
                    prices={
                        data["currency"]: {
                            "amount": str(data["price"]),
                            "taxCategory": TaxCategory.DIGITAL_GOODS,
                        }
                    },
                    billing_period=BillingPeriod.MONTHLY if monthly else None,
                )
            except PancakeError as exc:
                status = show_error(form, exc)
            else:
                return redirect(
                    "dashboard:first-product-done", store_id=store.pk, product_id=product.pk
                )
    return page(
        request,
        "dashboard/first_product.html",
        store_context(request, store, "home", form=form),
        status,
    )


@store_page
@require_http_methods(["GET"])
def first_product_done(request, store, product_id):
    try:
        product = product_selectors.store_product(store.pk, product_id)
    except PancakeError:
        raise Http404("Product not found") from None
    link = purchase_url(request, store, product, Environment.TEST)
    return page(
        request,
        "dashboard/first_product_done.html",
        store_context(
            request,
            store,
            "home",
            product=product,
            version=product.test_version,
            link=link,
            live_link=purchase_url(request, store, product, Environment.PROD),
            products_url=reverse("products:list", args=[store.pk]),
        ),
    )
