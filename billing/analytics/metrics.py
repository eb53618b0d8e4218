"""The merchant's figures: the one place every dashboard number, export and GraphQL analytics
field comes from (definitions in docs/analytics.md).

A ``Scope`` is a store, an environment, a ``Window`` (store-local days as a UTC half-open
interval) and optionally one product. Every reader takes a scope and returns frozen dataclasses:

- ``summary(scope) -> Summary``: revenue (gross, tax, refunds, net, fee, average order value),
  customers (distinct, new, repeat, lifetime value), subscriptions (MRR/ARR, active, new,
  churned, churn rate) and trials (started, ended, converted, conversion).
- ``series(scope, granularity) -> list[Point]``: one point per period the window touches, empty
  periods included.
- ``geography(scope)``, ``top_products(scope, limit)``, ``tax_by_country(scope)``.
- ``change(current, previous)``: the relative change against the previous period
  (``Window.previous()``).

Money is an ``Amount``: integers in minor units per currency (never summed across currencies),
and their sum converted to the store's default currency with ``billing.rates`` (``None`` when a
rate is missing). Each reader runs a fixed number of SQL statements, whatever the window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    DateField,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Lower, TruncDay
from django.utils import timezone

from billing import rates
from billing.analytics import rollups
from billing.analytics.periods import Granularity, Window, buckets, label, period_start
from billing.models import MRR_SCALE, Payment, PaymentStatus, Subscription
from billing.models import SubscriptionStatus as SubStatus
from products.models import Product

# A payment that went through, whether or not some of it was refunded since.
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
# Subscriptions that never count towards MRR: not started, or in their trial.
NOT_RECURRING = (SubStatus.PENDING, SubStatus.TRIALING)
# Churn: a subscription that ended (a pause is not churn, but a paused one is not active).
ENDED = (SubStatus.CANCELED, SubStatus.EXPIRED)
# MRR is summed exactly, in 1/MRR_SCALE of a minor unit (``Subscription.period_mrr_scaled``:
# the pre-tax charge × 4.33 weekly, × 1 monthly, ÷ 3 quarterly, ÷ 12 yearly), and rounded half
# up once per currency.


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Scope:
    store: Any  # stores.Store
    environment: str
    window: Window
    product_id: Any = None


@dataclass(frozen=True)
class Amount:
    """Minor units per currency, and their sum in ``currency`` (the store's default currency;
    ``None`` when a rate is missing)."""

    by_currency: dict[str, int]
    currency: str
    total: int | None


@dataclass(frozen=True)
class Summary:
    gross: Amount  # what buyers paid, tax included
    tax: Amount  # tax on those charges
    refunds: Amount  # succeeded refunds executed in the window, tax included
    refunds_tax: Amount  # the tax part of those refunds (pro rata of each payment's tax)
    net: Amount  # gross − tax − (refunds − refunds_tax)
    fee: Amount  # the platform's frozen fee on the charges
    average_order: Amount  # gross ÷ sales, per currency
    sales: int  # paid charges with an amount above 0
    customers: int  # distinct buyers (lower-cased email) with a paid charge in the window
    new_customers: int  # ... whose first paid charge ever is in the window
    repeat_customers: int  # ... who had paid before the window
    ltv: Amount  # net revenue to the window's end ÷ customers to the window's end
    mrr: Amount  # at the window's end
    arr: Amount  # 12 × MRR
    active_subscriptions: int  # at the window's end
    active_subscriptions_at_start: int
    new_subscriptions: int  # started counting (paid start, or trial converted) in the window
    churned_subscriptions: int  # ended (canceled, expired) in the window after counting
    churn_rate: Decimal | None  # churned ÷ active at the start
    trials_started: int
    trials_ended: int  # trials whose end falls in the window, decided (no longer trialing)
    trials_converted: int  # ... that went on as paid subscriptions
    trial_conversion: Decimal | None  # converted ÷ ended


@dataclass(frozen=True)
class Point:
    start: date | None  # the period's first local day (None: all time)
    label: str
    gross: Amount
    net: Amount
    refunds: Amount
    sales: int
    new_customers: int
    mrr: Amount  # at the period's end (or the window's end, whichever is first)


@dataclass(frozen=True)
class CountryRow:
    country: str  # ISO 3166 alpha-2 of the buyer's billing details ("" when unknown)
    gross: Amount
    sales: int
    customers: int


@dataclass(frozen=True)
class ProductRow:
    product_id: Any
    name: str
    gross: Amount
    sales: int


@dataclass(frozen=True)
class TaxRow:
    country: str
    tax: Amount  # tax charged less the tax part of refunds, both in the window
    gross: Amount
    sales: int


# --- building blocks ---------------------------------------------------------------------


class _Money:
    """Converts sums per currency to the store's currency with one read of the rates (and one
    quote per currency, however many amounts)."""

    def __init__(self, currency: str):
        self.currency = currency
        self._rates: dict | None = None
        self._quotes: dict[str, rates.RateQuote | None] = {}

    def amount(self, by_currency: dict[str, int]) -> Amount:
        clean = {c: int(v) for c, v in sorted(by_currency.items()) if v}
        return Amount(clean, self.currency, self.convert_sum(clean))

    def convert_sum(self, by_currency: dict[str, int]) -> int | None:
        if self._rates is None:
            # One statement per reader, read even when nothing needs converting, so that a
            # reader's statements do not depend on the data.
            self._rates = rates.table()
        total = 0
        for currency, value in by_currency.items():
            if currency == self.currency:
                total += value
                continue
            if currency not in self._quotes:
                self._quotes[currency] = rates.rate(currency, self.currency, rates=self._rates)
            quote = self._quotes[currency]
            if quote is None:
                return None
            total += rates.apply(value, quote)
        return total


def _email():
    return Lower("order__buyer_email")


def _country():
    return Coalesce(
        KeyTextTransform("country", "billing_detail"), Value("", output_field=TextField())
    )


def _payments(scope: Scope) -> QuerySet:
    qs = Payment.objects.filter(
        store=scope.store, environment=scope.environment, status__in=PAID, paid_at__isnull=False
    )
    return qs.filter(product_id=scope.product_id) if scope.product_id else qs


def _buyers(qs: QuerySet) -> QuerySet:
    """Customers are buyers who paid something: a charge of 0 (a free trial's start) is not."""
    return qs.filter(amount__gt=0)


def _paid_in(scope: Scope, start: datetime | None, end: datetime) -> QuerySet:
    qs = _payments(scope).filter(paid_at__lt=end)
    return qs.filter(paid_at__gte=start) if start else qs


def _sums(scope: Scope, start, end, keys, source: str) -> tuple[list[dict], list[dict]]:
    """Charges and refunds in ``[start, end)`` summed by ``keys``, from the rollups where they
    are sealed and the raw rows elsewhere (``source="raw"``: the raw rows only)."""
    return rollups.read(
        scope.store,
        scope.environment,
        start,
        end,
        keys,
        product_id=scope.product_id,
        source=source,
    )


def _customers_by_country(scope: Scope, source: str, *, by_country: bool) -> dict[str, int]:
    """Distinct buyers with a paid charge in the window: ``{"": n}``, or per billing country."""
    w = scope.window
    if source != "raw":
        counted = rollups.distinct_buyers(
            scope.store,
            scope.environment,
            w.start,
            w.end,
            product_id=scope.product_id,
            by_country=by_country,
        )
        if counted is not None:
            return counted
    qs = _buyers(_paid_in(scope, w.start, w.end)).annotate(
        country=_country() if by_country else Value("", output_field=TextField())
    )
    return {
        row["country"]: row["n"]
        for row in qs.values("country").annotate(n=Count(_email(), distinct=True)).order_by()
    }


class _Reads:
    """What the readers of one scope share: the buyer book (read once, on first use; None when
    computed raw or the store has no seal yet)."""

    def __init__(self, scope: Scope, source: str):
        self.scope, self.source = scope, source
        self._book: Any = ...

    def book(self) -> rollups.BuyerBook | None:
        if self._book is ...:
            self._book = (
                None
                if self.source == "raw"
                else rollups.buyer_book(
                    self.scope.store, self.scope.environment, product_id=self.scope.product_id
                )
            )
        return self._book


def _first_days(
    scope: Scope, source: str, *, by_day: bool, reads: _Reads | None = None
) -> tuple[dict[date, int], int | None, int | None]:
    """New customers of the window (``{local day of their first paid charge: n}``; not
    ``by_day``: all under the window's first day), customers to the window's end (read raw
    only when not ``by_day``: None) and, from the rollups only (else None), the customers whose
    last paid charge is on or after the window's start."""
    w = scope.window
    book = (reads or _Reads(scope, source)).book()
    if book is not None:
        return book.counts(w.start, w.end, by_day=by_day)
    firsts = (
        _buyers(_payments(scope))
        .values(email=_email())
        .annotate(first=Min("paid_at"))
        .filter(first__gte=w.start, first__lt=w.end)
    )
    if not by_day:
        to_date = _buyers(_paid_in(scope, None, w.end)).aggregate(n=Count(_email(), distinct=True))[
            "n"
        ]
        return {w.start.astimezone(w.tz).date(): firsts.count()}, to_date, None
    days: dict[date, int] = defaultdict(int)
    for first in firsts.values_list("first", flat=True):
        days[first.astimezone(w.tz).date()] += 1
    return dict(days), None, None


def _all_subscriptions(scope: Scope) -> QuerySet:
    """The scope's subscriptions, trials and pending ones included, with when each starts
    counting (after its trial) and stops (ended, or paused)."""
    qs = Subscription.objects.filter(store=scope.store, environment=scope.environment)
    if scope.product_id:
        qs = qs.filter(product_id=scope.product_id)
    return qs.annotate(began=F("counting_from"), stopped=F("counting_until"))


def _subscriptions(scope: Scope) -> QuerySet:
    """Those that may count towards MRR (not pending, not in their trial)."""
    return _all_subscriptions(scope).exclude(status__in=NOT_RECURRING)


def _active_at(at: datetime) -> Q:
    """Counting at the instant ``at``: began before it and not stopped before it."""
    return Q(began__lt=at) & (Q(stopped__isnull=True) | Q(stopped__gte=at))


def _counted() -> Q:
    """Counted at some instant: did not stop before it began (a trial that was not converted)."""
    return Q(stopped__isnull=True) | Q(stopped__gt=F("began"))


def _mrr_exact(groups) -> dict[str, int]:
    """Rows of (currency, mrr) → MRR per currency in 1/MRR_SCALE of a minor unit."""
    exact: dict[str, int] = defaultdict(int)
    for row in groups:
        exact[row["currency"]] += row["mrr"] or 0
    return exact


def _mrr_exact_at(scope: Scope, at: datetime) -> dict[str, int]:
    return _mrr_exact(
        _subscriptions(scope)
        .filter(_active_at(at))
        .values("currency")
        .annotate(mrr=Sum("period_mrr_scaled"))
        .order_by()
    )


def _subscription_figures(scope: Scope, windows: list[Window]) -> list[dict]:
    """For each window: subscriptions active at its end and at its start, new, churned, the
    trials' figures (started, ended, converted) and the unrounded MRR per currency at its end
    and at its start (1/MRR_SCALE minor units). One statement for all the windows, grouped by
    currency."""
    qs = _all_subscriptions(scope)
    # A subscription that stopped counting, was created and ended its trial before the first
    # window's start adds to no figure: only the others are aggregated.
    first = min(w.start for w in windows)
    qs = qs.filter(
        Q(stopped__isnull=True)
        | Q(stopped__gte=first)
        | Q(trial_end_at__gte=first)
        | Q(created_at__gte=first)
    )
    recurring = ~Q(status__in=NOT_RECURRING)
    trial = Q(trial_end_at__isnull=False) & ~Q(status=SubStatus.PENDING)
    aggregates: dict[str, Any] = {}
    for i, w in enumerate(windows):
        trial_ended = (
            trial
            & Q(trial_end_at__gte=w.start, trial_end_at__lt=w.end)
            & ~Q(status=SubStatus.TRIALING)
        )
        aggregates.update(
            {
                f"active_end_{i}": Count("id", filter=recurring & _active_at(w.end)),
                f"active_start_{i}": Count("id", filter=recurring & _active_at(w.start)),
                f"new_{i}": Count(
                    "id", filter=recurring & Q(began__gte=w.start, began__lt=w.end) & _counted()
                ),
                f"churned_{i}": Count(
                    "id",
                    filter=recurring
                    & Q(status__in=ENDED, ended_at__gte=w.start, ended_at__lt=w.end)
                    & Q(ended_at__gt=F("began")),
                ),
                f"trials_started_{i}": Count(
                    "id", filter=trial & Q(created_at__gte=w.start, created_at__lt=w.end)
                ),
                f"trials_ended_{i}": Count("id", filter=trial_ended),
                f"trials_converted_{i}": Count(
                    "id",
                    filter=trial_ended
                    & (Q(ended_at__isnull=True) | Q(ended_at__gt=F("trial_end_at"))),
                ),
                f"mrr_end_{i}": Sum("period_mrr_scaled", filter=recurring & _active_at(w.end)),
                f"mrr_start_{i}": Sum("period_mrr_scaled", filter=recurring & _active_at(w.start)),
            }
        )
    rows = list(qs.values("currency").annotate(**aggregates).order_by())
    figures = []
    for i in range(len(windows)):
        counts = {
            name: sum(row[f"{name}_{i}"] for row in rows)
            for name in (
                "active_end",
                "active_start",
                "new",
                "churned",
                "trials_started",
                "trials_ended",
                "trials_converted",
            )
        }
        for edge in ("end", "start"):
            counts[f"mrr_{edge}"] = _mrr_exact(
                {"currency": row["currency"], "mrr": row[f"mrr_{edge}_{i}"]} for row in rows
            )
        figures.append(counts)
    return figures


def _rounded(exact: dict[str, int]) -> dict[str, int]:
    """MRR is rounded half up once, on each currency's total (from 1/MRR_SCALE units)."""
    return {c: _half_up(Decimal(v) / MRR_SCALE) for c, v in exact.items()}


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _net(charges: dict, refunds: dict, currency: str) -> int:
    c, r = charges.get(currency, {}), refunds.get(currency, {})
    return (
        (c.get("gross") or 0)
        - (c.get("tax") or 0)
        - ((r.get("refunds") or 0) - (r.get("refunds_tax") or 0))
    )


# --- readers --------------------------------------------------------------------------------


def summary(scope: Scope, *, source: str = "rollups") -> Summary:
    return _summary(
        scope, source, _Reads(scope, source), _subscription_figures(scope, [scope.window])[0]
    )


def _summary(scope: Scope, source: str, reads: _Reads, subs: dict) -> Summary:
    w = scope.window
    money = _Money(scope.store.default_currency)
    charge_rows, refund_rows = _sums(scope, w.start, w.end, ("currency",), source)
    charges = {r["currency"]: r for r in charge_rows}
    refunds = {r["currency"]: r for r in refund_rows}
    currencies = set(charges) | set(refunds)

    def field_of(rows, key):
        return {c: rows[c][key] or 0 for c in rows}

    gross = field_of(charges, "gross")
    sales = sum(r["sales"] for r in charges.values())
    average = {
        c: _half_up(Decimal(r["gross"] or 0) / r["sales"]) for c, r in charges.items() if r["sales"]
    }
    gross_amount = money.amount(gross)
    if sales and gross_amount.total is not None:
        average_total: int | None = _half_up(Decimal(gross_amount.total) / sales)
    else:
        average_total = None if sales else 0

    firsts, customers_to_date, since_start = _first_days(scope, source, by_day=False, reads=reads)
    new_customers = sum(firsts.values())
    book = reads.book()
    if since_start is not None and w.end > timezone.now():
        # A window reaching now: its customers are those who paid last on or after its start.
        customers = since_start
    elif book is not None and (counted := book.customers(w.start, w.end)) is not None:
        customers = counted
    else:
        customers = _customers_by_country(scope, source, by_country=False).get("", 0)
    # Lifetime value: net revenue to the window's end over the customers to its end.
    charge_rows, refund_rows = _sums(scope, None, w.end, ("currency",), source)
    to_date_charges = {r["currency"]: r for r in charge_rows}
    to_date_refunds = {r["currency"]: r for r in refund_rows}
    to_date_net = {
        c: _net(to_date_charges, to_date_refunds, c)
        for c in set(to_date_charges) | set(to_date_refunds)
    }
    ltv_total = money.convert_sum(to_date_net)
    if customers_to_date:
        ltv = Amount(
            {c: _half_up(Decimal(v) / customers_to_date) for c, v in sorted(to_date_net.items())},
            money.currency,
            None if ltv_total is None else _half_up(Decimal(ltv_total) / customers_to_date),
        )
    else:
        ltv = money.amount({})

    mrr = _rounded(subs["mrr_end"])
    mrr_amount = money.amount(mrr)
    return Summary(
        gross=gross_amount,
        tax=money.amount(field_of(charges, "tax")),
        refunds=money.amount(field_of(refunds, "refunds")),
        refunds_tax=money.amount(field_of(refunds, "refunds_tax")),
        net=money.amount({c: _net(charges, refunds, c) for c in currencies}),
        fee=money.amount(field_of(charges, "fee")),
        average_order=Amount(average, money.currency, average_total),
        sales=sales,
        customers=customers,
        new_customers=new_customers,
        repeat_customers=customers - new_customers,
        ltv=ltv,
        mrr=mrr_amount,
        arr=Amount(
            {c: 12 * v for c, v in mrr_amount.by_currency.items()},
            money.currency,
            None if mrr_amount.total is None else 12 * mrr_amount.total,
        ),
        active_subscriptions=subs["active_end"],
        active_subscriptions_at_start=subs["active_start"],
        new_subscriptions=subs["new"],
        churned_subscriptions=subs["churned"],
        churn_rate=_ratio(subs["churned"], subs["active_start"]),
        trials_started=subs["trials_started"],
        trials_ended=subs["trials_ended"],
        trials_converted=subs["trials_converted"],
        trial_conversion=_ratio(subs["trials_converted"], subs["trials_ended"]),
    )


@dataclass(frozen=True)
class Overview:
    summary: Summary  # of the window
    previous: Summary  # of the window before it (``Window.previous()``)
    points: list[Point]  # the window's series


def overview(scope: Scope, granularity: str, *, source: str = "rollups") -> Overview:
    """What the Home and Analytics pages show: the window's summary, the previous window's and
    the window's series, sharing their statements (the buyer book, and the subscriptions of
    both windows read in one)."""
    previous = replace(scope, window=scope.window.previous())
    reads = _Reads(scope, source)
    before, now = _subscription_figures(scope, [previous.window, scope.window])
    return Overview(
        summary=_summary(scope, source, reads, now),
        previous=_summary(previous, source, reads, before),
        points=_series(scope, granularity, source, reads, now["mrr_start"]),
    )


def _day(expr, window: Window):
    return TruncDay(expr, tzinfo=window.tz, output_field=DateField())


def series(scope: Scope, granularity: str, *, source: str = "rollups") -> list[Point]:
    """One point per period the window touches (store-local), empty ones included."""
    return _series(scope, granularity, source, _Reads(scope, source), None)


def _series(
    scope: Scope, granularity: str, source: str, reads: _Reads, mrr_at_start: dict | None
) -> list[Point]:
    w = scope.window
    money = _Money(scope.store.default_currency)
    starts = buckets(w, granularity)

    def bucket(day: date) -> date | None:
        return period_start(day, granularity)

    gross: dict = defaultdict(lambda: defaultdict(int))
    tax: dict = defaultdict(lambda: defaultdict(int))
    sales: dict = defaultdict(int)
    refunds: dict = defaultdict(lambda: defaultdict(int))
    refunds_tax: dict = defaultdict(lambda: defaultdict(int))
    charge_rows, refund_rows = _sums(scope, w.start, w.end, ("day", "currency"), source)
    for row in charge_rows:
        b = bucket(row["day"])
        gross[b][row["currency"]] += row["gross"] or 0
        tax[b][row["currency"]] += row["tax"] or 0
        sales[b] += row["sales"]
    for row in refund_rows:
        b = bucket(row["day"])
        refunds[b][row["currency"]] += row["refunds"] or 0
        refunds_tax[b][row["currency"]] += row["refunds_tax"] or 0
    new_customers: dict = defaultdict(int)
    for day, n in _first_days(scope, source, by_day=True, reads=reads)[0].items():
        new_customers[bucket(day)] += n

    # MRR at each period's end: at the window's start, plus what began, less what stopped, by
    # local day (a period ends at a local midnight, so whole days are exact).
    subs = _subscriptions(scope)
    began = subs.filter(_counted(), began__gte=w.start, began__lt=w.end)
    stopped = subs.filter(_counted(), stopped__gte=w.start, stopped__lt=w.end, began__lt=w.end)
    deltas: dict[date, list] = defaultdict(list)
    for sign, qs, column in ((1, began, "began"), (-1, stopped, "stopped")):
        rows = (
            qs.annotate(day=_day(column, w))
            .values("day", "currency")
            .annotate(mrr=Sum("period_mrr_scaled"))
            .order_by()
        )
        for row in rows:
            deltas[row["day"]].append((sign, row))
    exact = defaultdict(
        int, _mrr_exact_at(scope, w.start) if mrr_at_start is None else mrr_at_start
    )
    days = sorted(deltas)
    points, i = [], 0
    for n, start in enumerate(starts):
        end_day = starts[n + 1] if n + 1 < len(starts) else w.last_day + timedelta(days=1)
        while i < len(days) and days[i] < end_day:
            for sign, row in deltas[days[i]]:
                exact[row["currency"]] += sign * (row["mrr"] or 0)
            i += 1
        mrr = _rounded(exact)
        currencies = set(gross[start]) | set(refunds[start])
        points.append(
            Point(
                start=start,
                label=label(start, granularity),
                gross=money.amount(dict(gross[start])),
                net=money.amount(
                    {
                        c: gross[start][c]
                        - tax[start][c]
                        - (refunds[start][c] - refunds_tax[start][c])
                        for c in currencies
                    }
                ),
                refunds=money.amount(dict(refunds[start])),
                sales=sales[start],
                new_customers=new_customers[start],
                mrr=money.amount(mrr),
            )
        )
    return points


def geography(scope: Scope, *, source: str = "rollups") -> list[CountryRow]:
    w = scope.window
    money = _Money(scope.store.default_currency)
    gross: dict = defaultdict(dict)
    sales: dict = defaultdict(int)
    for row in _sums(scope, w.start, w.end, ("country", "currency"), source)[0]:
        gross[row["country"]][row["currency"]] = row["gross"] or 0
        sales[row["country"]] += row["sales"]
    book = None
    if source != "raw" and not scope.product_id and w.end > timezone.now():
        book = rollups.buyer_book(scope.store, scope.environment, by_country=True)
    if book is not None:
        # A window reaching now: the buyers whose last charge in a country is in it.
        customers = book.since_by_country(w.start, w.end)
    else:
        customers = _customers_by_country(scope, source, by_country=True)
    rows = [
        CountryRow(c, money.amount(gross[c]), sales[c], customers.get(c, 0))
        for c in gross
        if sales[c]
    ]
    return sorted(rows, key=lambda r: (-(r.gross.total or 0), r.country))


def top_products(scope: Scope, limit: int = 10, *, source: str = "rollups") -> list[ProductRow]:
    w = scope.window
    money = _Money(scope.store.default_currency)
    gross: dict = defaultdict(dict)
    sales: dict = defaultdict(int)
    names: dict = {}
    for row in _sums(scope, w.start, w.end, ("product_key", "currency"), source)[0]:
        gross[row["product_key"]][row["currency"]] = row["gross"] or 0
        sales[row["product_key"]] += row["sales"]
    # A product's name is its version's: the one on sale in the environment.
    version = "prod_version" if scope.environment == "prod" else "test_version"
    for pk, name in (
        Product.objects.filter(pk__in=[k for k in gross if k])
        .annotate(n=Coalesce(f"{version}__name", "test_version__name"))
        .values_list("pk", "n")
    ):
        names[str(pk)] = name or ""
    rows = [
        ProductRow(p or None, names.get(p, ""), money.amount(gross[p]), sales[p])
        for p in gross
        if sales[p]
    ]
    rows.sort(key=lambda r: (-(r.gross.total or 0), -r.sales, r.name, str(r.product_id)))
    return rows[: max(0, limit)]


def tax_by_country(scope: Scope, *, source: str = "rollups") -> list[TaxRow]:
    w = scope.window
    money = _Money(scope.store.default_currency)
    tax: dict = defaultdict(lambda: defaultdict(int))
    gross: dict = defaultdict(dict)
    sales: dict = defaultdict(int)
    charge_rows, refund_rows = _sums(scope, w.start, w.end, ("country", "currency"), source)
    for row in charge_rows:
        tax[row["country"]][row["currency"]] += row["tax"] or 0
        gross[row["country"]][row["currency"]] = row["gross"] or 0
        sales[row["country"]] += row["sales"]
    for row in refund_rows:
        tax[row["country"]][row["currency"]] -= row["refunds_tax"] or 0
    countries = set(tax) | set(gross)
    rows = [
        TaxRow(c, money.amount(dict(tax[c])), money.amount(gross.get(c, {})), sales[c])
        for c in countries
    ]
    return sorted(rows, key=lambda r: (-(r.tax.total or 0), r.country))


def change(current: Amount | int | Decimal | None, previous: Amount | int | Decimal | None):
    """``(current − previous) ÷ previous`` as a Decimal rounded to 4 places (0.25 = +25 %);
    ``None`` when there is nothing to compare with (no previous figure, or 0)."""
    if isinstance(current, Amount):
        current = current.total
    if isinstance(previous, Amount):
        previous = previous.total
    if current is None or previous is None or previous == 0:
        return None
    return ((Decimal(current) - Decimal(previous)) / abs(Decimal(previous))).quantize(
        Decimal("0.0001"), ROUND_HALF_UP
    )


__all__ = [
    "Amount",
    "CountryRow",
    "Overview",
    "Granularity",
    "Point",
    "ProductRow",
    "Scope",
    "Summary",
    "TaxRow",
    "change",
    "geography",
    "overview",
    "series",
    "summary",
    "tax_by_country",
    "top_products",
]
