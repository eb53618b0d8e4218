"""The merchant's statistics behind the analytics GraphQL roots (docs/analytics.md).

Every function takes a ``Scope`` (one store, one environment, a store-local window) and runs a
fixed number of statements, whatever the range or the number of rows: the database groups and
sums. Python only shapes what comes back (one row per period, product, status or customer),
never one row per payment.

Definitions shared with the dashboard's figures:

- a *paid charge* is a Payment with status succeeded, partially_refunded or refunded whose
  ``paid_at`` falls in the window; its amount is what was charged, tax included;
- a *customer* is the lower-cased buyer email of the order, per store and environment;
- amounts are integers in minor units, one currency at a time (never summed across currencies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    StdDev,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Lower

from billing.analytics.periods import Window, buckets, label, trunc
from billing.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundTicket,
    RefundTicketStatus,
    Subscription,
    SubscriptionStatus,
)
from checkout.models import Order
from products.models import Product

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
LIVE_SUBSCRIPTIONS = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.CANCELING,
)
ENDED_SUBSCRIPTIONS = (SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED)
APPROVED_TICKETS = (
    RefundTicketStatus.APPROVED,
    RefundTicketStatus.PROCESSING,
    RefundTicketStatus.SUCCEEDED,
    RefundTicketStatus.FAILED,
)
PERCENTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)


@dataclass(frozen=True)
class Scope:
    store_id: object
    environment: str
    window: Window


# -- helpers -----------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _pct(part, whole) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _ratio(part, whole) -> float:
    return round(part / whole, 4) if whole else 0.0


def _interpolate(values: list, fraction: float):
    """Linear interpolation between closest ranks, as ``percentile_cont`` computes it."""
    if not values:
        return None
    pos = fraction * (len(values) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return values[low] + (values[high] - values[low]) * (pos - low)


def percentiles(qs, expr, fractions) -> list:
    """The ``fractions`` percentiles of ``expr`` over ``qs`` in one statement: percentile_cont
    on PostgreSQL; elsewhere (SQLite has no ordered-set aggregates) the values are read sorted
    and interpolated the same way."""
    if connection.vendor == "postgresql":
        row = qs.aggregate(
            **{
                f"p{i}": PercentileCont(expr, f, output_field=expr.output_field)
                for i, f in enumerate(fractions)
            }
        )
        return [row[f"p{i}"] for i in range(len(fractions))]
    values = sorted(v for v in qs.annotate(_v=expr).values_list("_v", flat=True) if v is not None)
    return [_interpolate(values, f) for f in fractions]


def _cur(currency: str | None) -> str | None:
    return currency.upper() if currency else None


def paid(scope: Scope, currency: str | None = None):
    qs = Payment.objects.filter(
        store_id=scope.store_id,
        environment=scope.environment,
        status__in=PAID,
        paid_at__gte=scope.window.start,
        paid_at__lt=scope.window.end,
    )
    if currency:
        qs = qs.filter(currency=_cur(currency))
    return qs


def _in_window(model, scope: Scope, field: str = "created_at"):
    """``model``'s rows of the scope's store and environment whose ``field`` is in the
    window."""
    return model.objects.filter(
        store_id=scope.store_id, environment=scope.environment, **_window_kw(field, scope)
    )


def attempts(scope: Scope):
    return _in_window(Payment, scope)


def orders(scope: Scope):
    return _in_window(Order, scope)


def _in(field: str, scope: Scope) -> Q:
    return Q(**{f"{field}__gte": scope.window.start, f"{field}__lt": scope.window.end})


def _series(scope: Scope, qs, field: str, granularity: str, **aggregates) -> list[dict]:
    """Aggregates of ``qs`` per store-local period of ``field``: one row per period the window
    touches, empty periods as zero."""
    rows = {
        row["period"]: row
        for row in qs.annotate(period=trunc(field, granularity, scope.window.tz))
        .values("period")
        .annotate(**aggregates)
        .order_by()
    }
    out = []
    for start in buckets(scope.window, granularity):
        row = rows.get(start, {})
        out.append(
            {"period": label(start, granularity), **{k: row.get(k) or 0 for k in aggregates}}
        )
    return out


def _business(value) -> bool:
    return value in (True, 1, "1", "true", "True")


def _email():
    return Lower("order__buyer_email")


def _money_groups(qs, key: str, *, amount: str = "amount") -> list[dict]:
    rows = qs.values(cur=F(key)).annotate(total=Sum(amount), n=Count("id")).order_by("cur")
    return [
        {"currency": r["cur"], "total_amount": r["total"], "payment_count": r["n"]} for r in rows
    ]


def _distribution(qs, key: str, amount: str = "", currency: str | None = None) -> list[dict]:
    """``qs`` grouped by its ``key`` column, most rows first (then by key): each group's
    ``count``, its ``percentage`` of all the rows and, with an ``amount`` column, that column's
    sum (``total_amount``); only the rows in ``currency`` when one is given."""
    if currency:
        qs = qs.filter(currency=_cur(currency))
    sums = {"total": Sum(amount)} if amount else {}
    rows = list(qs.values(key).annotate(count=Count("id"), **sums).order_by("-count", key))
    whole = sum(r["count"] for r in rows)
    out = []
    for r in rows:
        group = {key: r[key], "count": r["count"], "percentage": _pct(r["count"], whole)}
        if amount:
            group["total_amount"] = r["total"]
        out.append(group)
    return out


# -- orderStatistics ---------------------------------------------------------------------------


def order_total_count(scope):
    return orders(scope).count()


def order_counts_by_status(scope):
    rows = orders(scope).values("status").annotate(count=Count("id")).order_by("-count", "status")
    return [{"status": r["status"], "count": r["count"]} for r in rows]


def order_counts_by_period(scope, granularity):
    return _series(scope, orders(scope), "created_at", granularity, count=Count("id"))


def revenue_by_currency(scope):
    return _money_groups(paid(scope), "currency")


def revenue_by_period(scope, granularity, currency):
    rows = _series(
        scope,
        paid(scope, currency),
        "paid_at",
        granularity,
        total_amount=Sum("amount"),
        payment_count=Count("id"),
    )
    return [{**r, "currency": _cur(currency)} for r in rows]


def buyer_metrics(scope):
    """Customers who paid in the window; *new* ones paid for the first time in it (first paid
    charge of the store and environment), the others are *returning*."""
    everyone = Payment.objects.filter(
        store_id=scope.store_id,
        environment=scope.environment,
        status__in=PAID,
        paid_at__lt=scope.window.end,
    )
    per_buyer = (
        everyone.values(email=_email())
        .annotate(first=Min("paid_at"), inside=Count("id", filter=_in("paid_at", scope)))
        .filter(inside__gt=0)
    )
    row = per_buyer.aggregate(
        total=Count("email"), new=Count("email", filter=Q(first__gte=scope.window.start))
    )
    return {
        "total_buyers": row["total"],
        "new_buyers": row["new"],
        "returning_buyers": row["total"] - row["new"],
    }


def revenue_by_country(scope, currency):
    rows = (
        paid(scope, currency)
        .values(country=KT("billing_detail__country"))
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("-total", "country")
    )
    return [
        {"country": r["country"] or "", "total_amount": r["total"], "payment_count": r["n"]}
        for r in rows
    ]


def orders_by_country(scope):
    rows = (
        orders(scope)
        .values(country=KT("billing_detail__country"))
        .annotate(count=Count("id"))
        .order_by("-count", "country")
    )
    return [{"country": r["country"] or "", "count": r["count"]} for r in rows]


def _b2b(qs, *, tax: bool = False):
    aggregates = {"total": Sum("amount"), "orders": Count("order_id", distinct=True)}
    if tax:
        aggregates["tax"] = Sum("tax_amount")
    merged: dict[bool, dict] = {}
    for r in qs.values(biz=KT("billing_detail__isBusiness")).annotate(**aggregates).order_by():
        key = _business(r["biz"])
        acc = merged.setdefault(key, {k: 0 for k in aggregates})
        for k in aggregates:
            acc[k] += r[k] or 0
    out = []
    for key in (True, False):
        if key in merged:
            acc = merged[key]
            row = {
                "is_business": key,
                "label": "B2B" if key else "B2C",
                "total_amount": acc["total"],
                "order_count": acc["orders"],
            }
            if tax:
                row["total_tax"] = acc["tax"]
            out.append(row)
    return out


def b2b_vs_b2c(scope, currency):
    return _b2b(paid(scope, currency))


def revenue_by_state(scope, country, currency):
    qs = paid(scope, currency)
    if country:
        qs = qs.filter(billing_detail__country=country.upper())
    rows = (
        qs.values(state=KT("billing_detail__state"))
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("-total", "state")
    )
    return [
        {"state": r["state"] or "", "total_amount": r["total"], "payment_count": r["n"]}
        for r in rows
    ]


# -- paymentStatistics -------------------------------------------------------------------------


def success_rate(scope):
    """Payment attempts created in the window: succeeded (any paid status), failed, pending
    (pending or processing); the rate is succeeded over all attempts, in percent."""
    row = attempts(scope).aggregate(
        total=Count("id"),
        ok=Count("id", filter=Q(status__in=PAID)),
        failed=Count("id", filter=Q(status=PaymentStatus.FAILED)),
        pending=Count("id", filter=Q(status__in=(PaymentStatus.PENDING, PaymentStatus.PROCESSING))),
    )
    return {
        "total_attempts": row["total"],
        "succeeded": row["ok"],
        "failed": row["failed"],
        "pending": row["pending"],
        "success_rate": _pct(row["ok"], row["total"]),
    }


def failed_reasons(scope):
    rows = list(
        attempts(scope)
        .filter(status=PaymentStatus.FAILED)
        .values("failure_code")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_code")
    )
    total = sum(r["count"] for r in rows)
    return [
        {
            "reason": r["failure_code"] or "unknown",
            "count": r["count"],
            "percentage": _pct(r["count"], total),
        }
        for r in rows
    ]


def refund_stats(scope):
    """Refunds created in the window by status, the succeeded ones' amounts per currency, and
    the refund rate: paid charges of the window refunded in part or in full, in percent."""
    refunds = _in_window(Refund, scope)
    row = refunds.aggregate(
        total=Count("id"),
        ok=Count("id", filter=Q(status="succeeded")),
        pending=Count("id", filter=Q(status__in=("pending", "processing"))),
        failed=Count("id", filter=Q(status="failed")),
    )
    rate = paid(scope).aggregate(
        n=Count("id"), refunded=Count("id", filter=Q(refunded_amount__gt=0))
    )
    return {
        "total_count": row["total"],
        "succeeded_count": row["ok"],
        "pending_count": row["pending"],
        "failed_count": row["failed"],
        "amount_by_currency": _money_groups(refunds.filter(status="succeeded"), "currency"),
        "refund_rate": _pct(rate["refunded"], rate["n"]),
    }


def _window_kw(field, scope):
    return {f"{field}__gte": scope.window.start, f"{field}__lt": scope.window.end}


def method_distribution(scope):
    """Paid charges per payment method; amounts are summed across currencies only within one
    currency's charges (``totalAmount`` is null when the method's charges mix currencies)."""
    return _no_mixed_sum(paid(scope), F("payment_method"), "method_type")


def card_brand_distribution(scope):
    qs = paid(scope).filter(payment_method="card")
    return _no_mixed_sum(qs, KT("payment_method_details__brand"), "brand")


def _no_mixed_sum(qs, key_expr, key_name):
    rows = list(
        qs.values(k=key_expr)
        .annotate(
            count=Count("id"), total=Sum("amount"), currencies=Count("currency", distinct=True)
        )
        .order_by("-count", "k")
    )
    whole = sum(r["count"] for r in rows)
    return [
        {
            key_name: r["k"] or "unknown",
            "count": r["count"],
            "total_amount": r["total"] if r["currencies"] == 1 else None,
            "percentage": _pct(r["count"], whole),
        }
        for r in rows
    ]


def tax_summary(scope):
    rows = (
        paid(scope)
        .values("currency")
        .annotate(tax=Sum("tax_amount"), total=Sum("amount"), n=Count("id"))
        .order_by("currency")
    )
    return [
        {
            "currency": r["currency"],
            "total_tax": r["tax"],
            "total_pre_tax": r["total"] - r["tax"],
            "total_amount": r["total"],
            "payment_count": r["n"],
        }
        for r in rows
    ]


def pre_tax_revenue_by_currency(scope):
    return [
        {
            "currency": r["currency"],
            "total_amount": r["total_pre_tax"],
            "payment_count": r["payment_count"],
        }
        for r in tax_summary(scope)
    ]


def settlement_revenue_by_currency(scope):
    qs = paid(scope).exclude(settlement_currency="").filter(settlement_amount__isnull=False)
    return _money_groups(qs, "settlement_currency", amount="settlement_amount")


# -- productStatistics -------------------------------------------------------------------------


def product_counts_by_status(scope, kind):
    rows = (
        orders(scope)
        .filter(kind=kind)
        .values("status")
        .annotate(count=Count("id"))
        .order_by("-count", "status")
    )
    return [{"status": r["status"], "count": r["count"]} for r in rows]


def product_total_count(scope, kind):
    return orders(scope).filter(kind=kind).count()


def _products(qs):
    return qs.values("product_id", "currency").annotate(
        order_count=Count("order_id", distinct=True), revenue=Sum("amount")
    )


def _named(scope: Scope, rows) -> list[dict]:
    """The grouped rows with each product's kind and name (its version in the scope's
    environment): one more statement for the few products, not a join per payment."""
    rows = list(rows)
    version = "prod_version" if scope.environment == "prod" else "test_version"
    other = "test_version" if version == "prod_version" else "prod_version"
    products = {
        p["pk"]: p
        for p in Product.objects.filter(pk__in={r["product_id"] for r in rows}).values(
            "pk", "kind", name=Coalesce(f"{version}__name", f"{other}__name")
        )
    }
    for r in rows:
        product = products.get(r["product_id"], {})
        r["product_type"] = product.get("kind", "")
        r["product_name"] = product.get("name") or ""
    return rows


def _product_row(ctx, r):
    return {
        "product_id": ctx.id(r["product_id"], "PROD"),
        "product_type": r["product_type"],
        "product_name": r["product_name"],
        "order_count": r["order_count"],
        "total_revenue": r["revenue"],
        "currency": r["currency"],
    }


def top_by_order_count(scope, limit, ctx):
    rows = _named(
        scope, _products(paid(scope)).order_by("-order_count", "-revenue", "product_id")[:limit]
    )
    return [_product_row(ctx, r) for r in rows]


def top_by_revenue(scope, limit, currency, ctx):
    rows = _named(
        scope, _products(paid(scope, currency)).order_by("-revenue", "product_id")[:limit]
    )
    return [_product_row(ctx, r) for r in rows]


def revenue_contribution(scope, currency, ctx):
    rows = _named(scope, _products(paid(scope, currency)).order_by("-revenue", "product_id"))
    whole = sum(r["revenue"] for r in rows)
    out, running = [], 0
    for r in rows:
        running += r["revenue"]
        out.append(
            {
                "product_id": ctx.id(r["product_id"], "PROD"),
                "product_type": r["product_type"],
                "product_name": r["product_name"],
                "revenue": r["revenue"],
                "contribution_percentage": _pct(r["revenue"], whole),
                "cumulative_percentage": _pct(running, whole),
            }
        )
    return out


# -- trendAnalysis -----------------------------------------------------------------------------


def _growth(series, key):
    out, previous = [], None
    for row in series:
        current = row[key]
        rate = None
        if previous:
            rate = round(100.0 * (current - previous) / previous, 2)
        out.append(
            {
                "period": row["period"],
                "current_value": current,
                "previous_value": previous,
                "growth_rate": rate,
            }
        )
        previous = current
    return out


def order_growth(scope, granularity):
    return _growth(order_counts_by_period(scope, granularity), "count")


def revenue_growth(scope, granularity, currency):
    return _growth(revenue_by_period(scope, granularity, currency), "total_amount")


def cumulative_revenue(scope, granularity, currency):
    out, running = [], 0
    for row in revenue_by_period(scope, granularity, currency):
        running += row["total_amount"]
        out.append(
            {
                "period": row["period"],
                "period_value": row["total_amount"],
                "cumulative_value": running,
            }
        )
    return out


def _moving(daily: list[dict], key: str, window_days: int):
    out, values = [], []
    for row in daily:
        values.append(row[key])
        recent = values[-window_days:]
        out.append(
            {
                "date": row["period"],
                "daily_value": row[key],
                "moving_average": round(sum(recent) / len(recent), 2),
            }
        )
    return out


def order_moving_average(scope, window_days):
    """Orders per store-local day and the mean of the last ``window_days`` days (fewer at the
    start of the range)."""
    daily = order_counts_by_period(scope, "DAY")
    return _moving(daily, "count", max(1, window_days))


def revenue_moving_average(scope, window_days, currency):
    daily = revenue_by_period(scope, "DAY", currency)
    return _moving(daily, "total_amount", max(1, window_days))


# -- distributionAnalysis ----------------------------------------------------------------------


def order_amount_percentiles(scope, currency):
    qs = paid(scope, currency)
    row = qs.aggregate(
        n=Count("id"),
        low=Min("amount"),
        high=Max("amount"),
        avg=Avg("amount", output_field=FloatField()),
        sd=StdDev("amount", output_field=FloatField()),
    )
    values = percentiles(qs, ExpressionWrapper(F("amount") * 1.0, FloatField()), PERCENTILES)
    keys = ("p10", "p25", "p50", "p75", "p90", "p95", "p99")
    return {
        **{k: (round(v, 2) if v is not None else None) for k, v in zip(keys, values, strict=True)},
        "min": row["low"],
        "max": row["high"],
        "avg": round(row["avg"], 2) if row["avg"] is not None else None,
        "stddev": round(row["sd"], 2) if row["sd"] is not None else None,
        "count": row["n"],
    }


def aov_trend(scope, granularity, currency):
    rows = _series(
        scope,
        paid(scope, currency),
        "paid_at",
        granularity,
        order_count=Count("id"),
        total_revenue=Sum("amount"),
    )
    return [
        {
            **r,
            "average_order_value": round(r["total_revenue"] / r["order_count"], 2)
            if r["order_count"]
            else 0.0,
        }
        for r in rows
    ]


def _equal_buckets(counts_by_index: dict, low, high, n: int):
    whole = sum(counts_by_index.values())
    width = (high - low) / n if high > low else 0
    out = []
    for i in range(n if high > low else 1):
        out.append(
            {
                "range_min": round(low + i * width, 2),
                "range_max": round(low + (i + 1) * width, 2) if width else high,
                "count": counts_by_index.get(i, 0),
                "percentage": _pct(counts_by_index.get(i, 0), whole),
            }
        )
    return out


def _bucket_index(expr, low, high, n):
    """Which of ``n`` equal-width buckets from ``low`` to ``high`` a value falls in (the
    maximum goes in the last one), as a database expression."""
    width = (high - low) / n
    whens = [When(Q(**{f"{expr}__lt": low + (i + 1) * width}), then=Value(i)) for i in range(n - 1)]
    return Case(*whens, default=Value(n - 1), output_field=IntegerField())


def order_amount_buckets(scope, currency, bucket_count):
    n = min(max(1, bucket_count), 100)
    qs = paid(scope, currency)
    row = qs.aggregate(low=Min("amount"), high=Max("amount"))
    if row["low"] is None:
        return []
    low, high = row["low"], row["high"]
    if high == low:
        return _equal_buckets({0: qs.count()}, low, high, 1)
    counts = {
        r["b"]: r["c"]
        for r in qs.annotate(b=_bucket_index("amount", low, high, n))
        .values("b")
        .annotate(c=Count("id"))
        .order_by()
    }
    return _equal_buckets(counts, low, high, n)


# -- customerAnalysis --------------------------------------------------------------------------


def _as_date(value):
    """A period start from a raw cursor (SQLite returns dates as text)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def _cohort_matrix(scope, granularity) -> list[tuple]:
    """``(cohort, period, customers, repeat)`` for every cohort and period with a customer, in
    one statement: the customers' paid charges grouped by (customer, period) in the database,
    then each customer's first period of the range by a window function, then counted per
    (cohort, period). ``repeat``: those who had paid in an earlier period of the range or paid
    twice or more in this one."""
    inner = (
        paid(scope)
        .annotate(p=trunc("paid_at", granularity, scope.window.tz))
        .values(email=_email(), period=F("p"))
        .annotate(n=Count("id"))
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        # ``sql`` is the ORM's compiled query; its values are in ``params``.
        ranked = f"SELECT period, n, MIN(period) OVER (PARTITION BY email) AS cohort FROM ({sql}) p"  # noqa: E501, S608
        repeat = "SUM(CASE WHEN n > 1 OR cohort < period THEN 1 ELSE 0 END)"
        matrix = (
            f"SELECT cohort, period, COUNT(*), {repeat} FROM ({ranked}) r GROUP BY cohort, period"  # noqa: E501, S608
        )
        cursor.execute(matrix, params)
        rows = cursor.fetchall()
    return [(_as_date(c), _as_date(p), int(n), int(r or 0)) for c, p, n, r in rows]


def cohort_retention(scope, granularity):
    """Customers grouped by the period of their first paid charge in the range (the cohort);
    for each later period, how many of them paid again."""
    periods = buckets(scope.window, granularity)
    index = {p: i for i, p in enumerate(periods)}
    active: dict[int, dict[int, int]] = {}
    for cohort, period, customers, _ in _cohort_matrix(scope, granularity):
        active.setdefault(index.get(cohort, 0), {})[index.get(period, 0)] = customers
    out = []
    for first in sorted(active):
        size = active[first].get(first, 0)
        retention = []
        for offset in range(len(periods) - first):
            n = active[first].get(first + offset, 0)
            retention.append(
                {
                    "period_offset": offset,
                    "active_customers": n,
                    "retention_rate": _pct(n, size),
                }
            )
        out.append(
            {
                "cohort_period": label(periods[first], granularity),
                "cohort_size": size,
                "retention": retention,
            }
        )
    return out


def _per_customer(scope, currency=None):
    return (
        paid(scope, currency)
        .values(email=_email())
        .annotate(
            spent=Sum("amount"), orders=Count("id"), first=Min("paid_at"), last=Max("paid_at")
        )
    )


def ltv_distribution(scope, currency):
    """What each customer paid in the range in ``currency``: mean, median, ten equal buckets."""
    spent = sorted(r["spent"] for r in _per_customer(scope, currency).order_by())
    if not spent:
        return {"average_ltv": 0.0, "median_ltv": 0.0, "buckets": []}
    low, high, n = spent[0], spent[-1], 10
    counts: dict[int, int] = {}
    for value in spent:
        i = min(int((value - low) * n / (high - low)), n - 1) if high > low else 0
        counts[i] = counts.get(i, 0) + 1
    return {
        "average_ltv": round(sum(spent) / len(spent), 2),
        "median_ltv": round(_interpolate(spent, 0.5), 2),
        "buckets": _equal_buckets(counts, low, high, n),
    }


def purchase_frequency(scope):
    """How many customers paid once, twice…: counted in the database over the per-customer
    counts."""
    sql, params = (
        paid(scope)
        .values(email=_email())
        .annotate(n=Count("id"))
        .order_by()
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT n, COUNT(*) FROM ({sql}) per_customer GROUP BY n ORDER BY n",  # noqa: S608
            params,
        )
        freq = [(int(n), int(c)) for n, c in cursor.fetchall()]
    whole = sum(c for _, c in freq)
    return [
        {"purchase_count": n, "customer_count": c, "percentage": _pct(c, whole)} for n, c in freq
    ]


def repeat_purchase_rate(scope, granularity):
    """Per period: the customers who paid in it, and those of them who had already paid in an
    earlier period of the range or paid twice or more in this one."""
    periods = buckets(scope.window, granularity)
    index = {p: i for i, p in enumerate(periods)}
    total = [0] * len(periods)
    repeat = [0] * len(periods)
    for _, period, customers, repeating in _cohort_matrix(scope, granularity):
        i = index.get(period, 0)
        total[i] += customers
        repeat[i] += repeating
    return [
        {
            "period": label(p, granularity),
            "total_buyers": total[i],
            "repeat_buyers": repeat[i],
            "repeat_rate": _pct(repeat[i], total[i]),
        }
        for i, p in enumerate(periods)
    ]


def top_customers(scope, limit, currency):
    rows = _per_customer(scope, currency).order_by("-spent", "email")[:limit]
    return [
        {
            "buyer_email": r["email"],
            "total_spent": r["spent"],
            "order_count": r["orders"],
            "first_purchase_date": r["first"],
            "last_purchase_date": r["last"],
        }
        for r in rows
    ]


# -- taxAnalysis -------------------------------------------------------------------------------


def _tax_groups(qs, key_expr, key_name, convert=lambda v: v):
    rows = (
        qs.values(k=key_expr)
        .annotate(tax=Sum("tax_amount"), total=Sum("amount"), n=Count("id"))
        .order_by("-tax", "k")
    )
    return [
        {
            key_name: convert(r["k"]),
            "total_tax": r["tax"],
            "total_amount": r["total"],
            "payment_count": r["n"],
        }
        for r in rows
    ]


def tax_by_category(scope, currency):
    return _tax_groups(paid(scope, currency), F("order__session__tax_category"), "tax_category")


def tax_by_rate(scope, currency):
    """Grouped by the order's tax rate, in percent (``8.25``)."""
    return _tax_groups(
        paid(scope, currency),
        F("order__tax_rate"),
        "tax_rate",
        lambda v: round(float(v) * 100, 4) if v is not None else 0.0,
    )


def tax_by_country(scope, currency):
    return _tax_groups(
        paid(scope, currency), KT("billing_detail__country"), "country", lambda v: v or ""
    )


def tax_b2b_vs_b2c(scope, currency):
    return _b2b(paid(scope, currency), tax=True)


def effective_tax_rate_trend(scope, granularity, currency):
    """Per period: tax over the amount before tax, in percent."""
    rows = _series(
        scope,
        paid(scope, currency),
        "paid_at",
        granularity,
        tax=Sum("tax_amount"),
        total=Sum("amount"),
        payment_count=Count("id"),
    )
    return [
        {
            "period": r["period"],
            "payment_count": r["payment_count"],
            "avg_tax_rate": _pct(r["tax"], r["total"] - r["tax"]),
        }
        for r in rows
    ]


def tax_amount_by_period(scope, granularity, currency):
    return _series(
        scope,
        paid(scope, currency),
        "paid_at",
        granularity,
        total_tax=Sum("tax_amount"),
        payment_count=Count("id"),
    )


# -- subscriptionAnalysis ----------------------------------------------------------------------


def subscriptions(scope):
    return _in_window(Subscription, scope)


def billing_period_distribution(scope, currency):
    return _distribution(subscriptions(scope), "billing_period", "total", currency)


def active_count(scope):
    """Subscriptions live now (trialing, active, past due, canceling), whenever they started."""
    return Subscription.objects.filter(
        store_id=scope.store_id, environment=scope.environment, status__in=LIVE_SUBSCRIPTIONS
    ).count()


def _lifetime():
    return ExpressionWrapper(F("canceled_at") - F("created_at"), output_field=DurationField())


def cancellation_stats(scope):
    qs = subscriptions(scope)
    row = qs.aggregate(
        total=Count("id"),
        canceled=Count("id", filter=Q(canceled_at__isnull=False)),
        avg=Avg(_lifetime(), filter=Q(canceled_at__isnull=False)),
    )
    [median] = percentiles(qs.filter(canceled_at__isnull=False), _lifetime(), (0.5,))
    return {
        "total_subscriptions": row["total"],
        "canceled_count": row["canceled"],
        "cancellation_rate": _pct(row["canceled"], row["total"]),
        "avg_lifetime_days": _days(row["avg"]),
        "median_lifetime_days": _days(median),
    }


def _days(value):
    if value is None:
        return None
    if not isinstance(value, timedelta):
        value = timedelta(microseconds=value)
    return round(value.total_seconds() / 86400, 2)


def _hours(value):
    if value is None:
        return None
    if not isinstance(value, timedelta):
        value = timedelta(microseconds=value)
    return round(value.total_seconds() / 3600, 2)


def cancellation_trend(scope, granularity):
    qs = _in_window(Subscription, scope, "canceled_at")
    return [
        {"period": r["period"], "canceled_count": r["n"]}
        for r in _series(scope, qs, "canceled_at", granularity, n=Count("id"))
    ]


def _converted():
    """A trial converted when a charge was paid at or after the trial's end."""
    return Exists(
        Payment.objects.filter(
            subscription_id=OuterRef("pk"), status__in=PAID, paid_at__gte=OuterRef("trial_end_at")
        )
    )


def _trials(scope):
    return subscriptions(scope).filter(trial_end_at__isnull=False)


def trial_conversion(scope):
    row = _trials(scope).aggregate(
        total=Count("id"),
        converted=Count("id", filter=_converted()),
        active=Count("id", filter=Q(status=SubscriptionStatus.TRIALING)),
    )
    return {
        "total_trials": row["total"],
        "converted_count": row["converted"],
        "active_trials": row["active"],
        "conversion_rate": _pct(row["converted"], row["total"] - row["active"]),
    }


def trial_conversion_by_product(scope, ctx):
    rows = (
        _trials(scope)
        .values("product_id")
        .annotate(
            name=Max("version__name"),
            total=Count("id"),
            converted=Count("id", filter=_converted()),
            active=Count("id", filter=Q(status=SubscriptionStatus.TRIALING)),
        )
        .order_by("-total", "product_id")
    )
    return [
        {
            "product_id": ctx.id(r["product_id"], "PROD"),
            "product_name": r["name"],
            "total_trials": r["total"],
            "converted_count": r["converted"],
            "conversion_rate": _pct(r["converted"], r["total"] - r["active"]),
        }
        for r in rows
    ]


def _counting_subscriptions(scope: Scope):
    """Subscriptions as the dashboard's churn counts them (billing.analytics.metrics): they
    count from their paid start (after the trial) until they end (or pause); pending and
    still-trialing ones never counted."""
    return (
        Subscription.objects.filter(store_id=scope.store_id, environment=scope.environment)
        .exclude(status__in=(SubscriptionStatus.PENDING, SubscriptionStatus.TRIALING))
        .annotate(began=F("counting_from"), stopped=F("counting_until"))
    )


def churn_rate(scope, granularity):
    """Per period: subscriptions counting at its start and those of them that ended (canceled
    or expired) during it; the rate in percent. The same definitions as the dashboard's churn,
    so ALL_TIME equals its figure for the range. One statement: filtered counts per period."""
    periods = buckets(scope.window, granularity)
    tz = scope.window.tz
    bounds = []
    for i, p in enumerate(periods):
        if p is None:
            bounds.append((scope.window.start, scope.window.end))
            continue
        lo = max(Window.of_days(p, p, tz).start, scope.window.start)
        nxt = periods[i + 1] if i + 1 < len(periods) else None
        hi = Window.of_days(nxt, nxt, tz).start if nxt else scope.window.end
        bounds.append((lo, min(hi, scope.window.end)))
    aggregates = {}
    for i, (lo, hi) in enumerate(bounds):
        live = Q(began__lt=lo) & (Q(stopped__isnull=True) | Q(stopped__gte=lo))
        ended = Q(stopped__lt=hi, status__in=ENDED_SUBSCRIPTIONS)
        aggregates[f"a{i}"] = Count("id", filter=live)
        aggregates[f"c{i}"] = Count("id", filter=live & ended)
    row = _counting_subscriptions(scope).aggregate(**aggregates) if aggregates else {}
    return [
        {
            "period": label(p, granularity),
            "start_active": row[f"a{i}"],
            "churned": row[f"c{i}"],
            "churn_rate": _pct(row[f"c{i}"], row[f"a{i}"]),
        }
        for i, p in enumerate(periods)
    ]


# -- refundTicketAnalysis ----------------------------------------------------------------------


def tickets(scope):
    return _in_window(RefundTicket, scope)


def reason_distribution(scope, currency):
    return _distribution(tickets(scope), "reason", "requested_amount", currency)


def ticket_status_distribution(scope):
    return _distribution(tickets(scope), "status")


def _review_time():
    return ExpressionWrapper(F("reviewed_at") - F("created_at"), output_field=DurationField())


def review_efficiency(scope):
    reviewed = tickets(scope).filter(reviewed_at__isnull=False)
    row = reviewed.aggregate(n=Count("id"), avg=Avg(_review_time()))
    median, p90 = percentiles(reviewed, _review_time(), (0.5, 0.9))
    return {
        "avg_hours": _hours(row["avg"]),
        "median_hours": _hours(median),
        "p90_hours": _hours(p90),
        "total_reviewed": row["n"],
    }


def ticket_trend(scope, granularity):
    return [
        {
            "period": r["period"],
            "total_created": r["n"],
            "resolved_count": r["resolved"],
            "approved_count": r["approved"],
            "rejected_count": r["rejected"],
        }
        for r in _series(
            scope,
            tickets(scope),
            "created_at",
            granularity,
            n=Count("id"),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            approved=Count("id", filter=Q(status__in=APPROVED_TICKETS)),
            rejected=Count("id", filter=Q(status=RefundTicketStatus.REJECTED)),
        )
    ]


def approval_rate(scope):
    row = tickets(scope).aggregate(
        approved=Count("id", filter=Q(status__in=APPROVED_TICKETS)),
        rejected=Count("id", filter=Q(status=RefundTicketStatus.REJECTED)),
    )
    return {**row, "rate": _pct(row["approved"], row["approved"] + row["rejected"])}


def processing_success_rate(scope):
    row = tickets(scope).aggregate(
        succeeded=Count("id", filter=Q(status=RefundTicketStatus.SUCCEEDED)),
        failed=Count("id", filter=Q(status=RefundTicketStatus.FAILED)),
    )
    return {**row, "rate": _pct(row["succeeded"], row["succeeded"] + row["failed"])}
