"""Reads of the dashboard's Customers pages (docs/dashboard-customers-finance.md).

A customer is a buyer of one store and environment, identified by the buyer email of their
orders (stored lower-cased by checkout), as the GraphQL ``customers`` root derives them. Nothing
is copied: a list page is one statement grouping the orders of the store and environment by
email with plain aggregates (first seen, latest order, count; an index-only scan of
``order_store_env_email_idx``), the status and country filters being semi- and anti-joins; then
three statements for the page's rows alone (country and first order; payments per currency;
subscriptions), whatever the page size.

The derived status, first that applies:

- ``past_due``: a subscription is past due;
- ``active``: a subscription is active or canceling (still paid up);
- ``trialing``: a subscription is in its trial;
- ``churned``: they had subscriptions and none is live now (canceled, expired, paused);
- ``one_time``: a paid payment, not all of it refunded;
- ``refunded``: paid payments, all of them refunded in full;
- ``no_payment``: orders only, nothing paid.

MRR: the pre-tax price (``total - tax_amount``) of each active, past-due or canceling
subscription, per month (weekly × 4.33, monthly × 1, quarterly ÷ 3, yearly ÷ 12, half up), per
currency. Revenue: paid payments net of refunds, per currency, never summed across currencies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT

from billing.models import Payment, PaymentStatus, Refund, RefundStatus, Subscription
from billing.models import SubscriptionStatus as S
from checkout.models import Order
from stores.models import Store

PAGE_SIZE = 25
EXPORT_CHUNK = 1000
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
MRR_STATUSES = (S.ACTIVE, S.PAST_DUE, S.CANCELING)
LIVE = (S.ACTIVE, S.CANCELING)
MONTHLY_FACTOR = {
    "weekly": Decimal("4.33"),
    "monthly": Decimal(1),
    "quarterly": Decimal(1) / 3,
    "yearly": Decimal(1) / 12,
}


class Status:
    PAST_DUE = "past_due"
    ACTIVE = "active"
    TRIALING = "trialing"
    CHURNED = "churned"
    ONE_TIME = "one_time"
    REFUNDED = "refunded"
    NO_PAYMENT = "no_payment"

    ALL = (PAST_DUE, ACTIVE, TRIALING, CHURNED, ONE_TIME, REFUNDED, NO_PAYMENT)


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    status: str = ""
    country: str = ""
    first_from: date | None = None
    first_to: date | None = None
    oldest_first: bool = False


@dataclass
class CustomerRow:
    email: str
    first_at: datetime
    last_at: datetime
    country: str
    status: str
    order_count: int
    first_id: object = None
    subscription_count: int = 0
    payment_count: int = 0
    revenue: dict[str, int] = field(default_factory=dict)
    mrr: dict[str, int] = field(default_factory=dict)


@dataclass
class CustomerPage:
    rows: list[CustomerRow]
    next_cursor: str
    has_prev: bool


def monthly(amount: int, period: str) -> Decimal:
    """One subscription's pre-tax price per month, unrounded."""
    return Decimal(amount) * MONTHLY_FACTOR.get(period, Decimal(0))


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def mrr_per_currency(subscriptions) -> dict:
    """``{key: {currency: MRR}}`` of subscription rows ``(key, status, billing period,
    currency, total, tax amount)``: the live ones (``MRR_STATUSES``), pre-tax, per month,
    summed per key and currency, then rounded half up; currencies in order."""
    exact: dict = {}
    for key, status, period, currency, total, tax in subscriptions:
        if status in MRR_STATUSES:
            per = exact.setdefault(key, {})
            per[currency] = per.get(currency, Decimal(0)) + monthly(total - tax, period)
    return {key: {c: _round(v) for c, v in sorted(per.items())} for key, per in exact.items()}


def _orders_of(store: Store, environment: str, email: str) -> dict:
    """Lookups of rows whose order is ``email``'s, spelled so the order is found through
    ``order_store_env_email_idx`` (store and environment included)."""
    return {"order__store": store, "order__environment": environment, "order__buyer_email": email}


def _scope(store: Store, environment: str):
    return Order.objects.filter(store=store, environment=environment)


def _emails_with_subscriptions(store: Store, environment: str, statuses) -> Exists:
    return Exists(
        Subscription.objects.filter(
            store=store,
            environment=environment,
            status__in=statuses,
            order__store=store,
            order__environment=environment,
            order__buyer_email=OuterRef("buyer_email"),
        )
    )


def _emails_with_payments(store: Store, environment: str, *, whole: bool) -> Exists:
    """Customers with a payment that went through (``whole``: not refunded in full)."""
    paid = Payment.objects.filter(
        store=store,
        environment=environment,
        status__in=PAID,
        order__store=store,
        order__environment=environment,
        order__buyer_email=OuterRef("buyer_email"),
    )
    return Exists(paid.filter(refunded_amount__lt=F("amount")) if whole else paid)


STARTED = tuple(s for s in S.values if s != S.PENDING)


def status_filter(store: Store, environment: str, status: str) -> Q:
    """Orders of the customers whose derived status is ``status``: semi- and anti-joins on the
    subscriptions and payments (PostgreSQL hashes them once, not once per order)."""
    subs = partial(_emails_with_subscriptions, store, environment)
    past_due, live, trial = subs([S.PAST_DUE]), subs(LIVE), subs([S.TRIALING])
    started = subs(STARTED)
    whole = _emails_with_payments(store, environment, whole=True)
    paid = _emails_with_payments(store, environment, whole=False)
    rules = {
        Status.PAST_DUE: Q(past_due),
        Status.ACTIVE: Q(live) & ~Q(past_due),
        Status.TRIALING: Q(trial) & ~Q(past_due) & ~Q(live),
        Status.CHURNED: Q(started) & ~Q(past_due) & ~Q(live) & ~Q(trial),
        Status.ONE_TIME: ~Q(started) & Q(whole),
        Status.REFUNDED: ~Q(started) & ~Q(whole) & Q(paid),
        Status.NO_PAYMENT: ~Q(started) & ~Q(paid),
    }
    return rules.get(status, Q(pk__in=[]))


def derive_status(sub_statuses: set[str], paid: int, refunded_in_full: int) -> str:
    """The same rules as ``status_filter``, from one customer's figures."""
    if S.PAST_DUE in sub_statuses:
        return Status.PAST_DUE
    if sub_statuses & set(LIVE):
        return Status.ACTIVE
    if S.TRIALING in sub_statuses:
        return Status.TRIALING
    if sub_statuses & set(STARTED):
        return Status.CHURNED
    if paid > refunded_in_full:
        return Status.ONE_TIME
    if paid:
        return Status.REFUNDED
    return Status.NO_PAYMENT


def _latest_with_country(store: Store, environment: str, country: str):
    """Emails whose latest order is billed to ``country``."""
    later = _scope(store, environment).filter(
        buyer_email=OuterRef("buyer_email"), created_at__gt=OuterRef("created_at")
    )
    return (
        _scope(store, environment)
        .filter(billing_detail__country=country)
        .filter(~Exists(later))
        .values("buyer_email")
    )


def _groups(store: Store, environment: str, f: CustomerFilters):
    """The customers as one grouped statement over the orders: plain aggregates only (what is
    per customer and not an aggregate is read for the page's rows alone, in ``fill``)."""
    orders = _scope(store, environment)
    if f.q.strip():
        orders = orders.filter(buyer_email__icontains=f.q.strip().lower())
    if f.status:
        orders = orders.filter(status_filter(store, environment, f.status))
    if f.country:
        orders = orders.filter(
            buyer_email__in=_latest_with_country(store, environment, f.country.upper())
        )
    groups = orders.values("buyer_email").annotate(
        first_at=Min("created_at"), last_at=Max("created_at"), order_count=Count("id")
    )
    if f.first_from:
        groups = groups.filter(first_at__gte=datetime.combine(f.first_from, time(), UTC))
    if f.first_to:
        end = datetime.combine(f.first_to + timedelta(days=1), time(), UTC)
        groups = groups.filter(first_at__lt=end)
    return groups


def _cursor(row: CustomerRow) -> str:
    return f"{row.first_at.astimezone(UTC).isoformat()}|{row.email}"


def _parse_cursor(cursor: str) -> tuple[datetime, str] | None:
    at, sep, email = (cursor or "").partition("|")
    if not sep:
        return None
    try:
        value = datetime.fromisoformat(at)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value, email


def _keyset(groups, f: CustomerFilters, cursor: str):
    parsed = _parse_cursor(cursor)
    if f.oldest_first:
        groups = groups.order_by("first_at", "buyer_email")
        if parsed:
            at, email = parsed
            groups = groups.filter(Q(first_at__gt=at) | Q(first_at=at, buyer_email__gt=email))
    else:
        groups = groups.order_by("-first_at", "-buyer_email")
        if parsed:
            at, email = parsed
            groups = groups.filter(Q(first_at__lt=at) | Q(first_at=at, buyer_email__lt=email))
    return groups


def _rows(groups) -> list[CustomerRow]:
    return [
        CustomerRow(
            email=g["buyer_email"],
            first_at=g["first_at"],
            last_at=g["last_at"],
            country="",
            status=Status.NO_PAYMENT,
            order_count=g["order_count"],
        )
        for g in groups
    ]


def fill(store: Store, environment: str, rows: list[CustomerRow]) -> list[CustomerRow]:
    """The rest of ``rows``: country and first order (one statement), revenue and payments per
    currency (one), subscriptions, MRR and so the status (one): three statements, any page
    size."""
    if not rows:
        return rows
    by_email = {r.email: r for r in rows}
    emails = list(by_email)
    same = _scope(store, environment).filter(buyer_email=OuterRef("buyer_email"))
    firsts = (
        _scope(store, environment)
        .filter(buyer_email__in=emails)
        .values("buyer_email")
        .annotate(
            first=Subquery(same.order_by("created_at", "id").values("pk")[:1]),
            country=Subquery(
                same.order_by("-created_at", "-id")
                .annotate(c=KT("billing_detail__country"))
                .values("c")[:1]
            ),
        )
        .values_list("buyer_email", "first", "country")
        .order_by()
        .distinct()
    )
    for email, first, country in firsts:
        by_email[email].first_id = first
        by_email[email].country = country or ""
    sums = (
        Payment.objects.filter(
            store=store,
            environment=environment,
            order__store=store,
            order__environment=environment,
            order__buyer_email__in=emails,
            status__in=PAID,
        )
        .values("order__buyer_email", "currency")
        .annotate(
            total=Sum(F("amount") - F("refunded_amount")),
            n=Count("id"),
            full=Count("id", filter=Q(refunded_amount__gte=F("amount"))),
        )
        .order_by("currency")
    )
    paid: dict[str, list[int]] = {}
    for s in sums:
        row = by_email[s["order__buyer_email"]]
        row.revenue[s["currency"]] = s["total"]
        row.payment_count += s["n"]
        counts = paid.setdefault(row.email, [0, 0])
        counts[0] += s["n"]
        counts[1] += s["full"]
    subs = Subscription.objects.filter(
        store=store,
        environment=environment,
        order__store=store,
        order__environment=environment,
        order__buyer_email__in=emails,
    ).values_list(
        "order__buyer_email", "status", "billing_period", "currency", "total", "tax_amount"
    )
    subs = list(subs)
    statuses: dict[str, set[str]] = {}
    for email, status, *_price in subs:
        statuses.setdefault(email, set()).add(status)
        if status != S.PENDING:
            by_email[email].subscription_count += 1
    for email, per in mrr_per_currency(subs).items():
        by_email[email].mrr = per
    for row in rows:
        n, full = paid.get(row.email, (0, 0))
        row.status = derive_status(statuses.get(row.email, set()), n, full)
    return rows


def customer_page(
    *, store: Store, environment: str, filters: CustomerFilters, after: str = ""
) -> CustomerPage:
    """One page of customers, newest first seen first (or oldest, ``filters.oldest_first``),
    after the ``after`` cursor: three statements."""
    groups = _keyset(_groups(store, environment, filters), filters, after)
    rows = _rows(groups[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = fill(store, environment, rows[:PAGE_SIZE])
    return CustomerPage(
        rows=rows,
        next_cursor=_cursor(rows[-1]) if more else "",
        has_prev=bool(_parse_cursor(after)),
    )


def customer_export_rows(
    *, store: Store, environment: str, filters: CustomerFilters
) -> Iterator[CustomerRow]:
    """Every customer of the filtered list, read in keyset chunks of ``EXPORT_CHUNK``."""
    cursor = ""
    while True:
        groups = _keyset(_groups(store, environment, filters), filters, cursor)
        rows = fill(store, environment, _rows(groups[:EXPORT_CHUNK]))
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        cursor = _cursor(rows[-1])


def customer(*, store: Store, environment: str, email: str) -> CustomerRow | None:
    groups = _groups(store, environment, CustomerFilters()).filter(buyer_email=email)
    rows = _rows(groups.order_by())
    return fill(store, environment, rows)[0] if rows else None


def customer_orders(*, store: Store, environment: str, email: str):
    return (
        _scope(store, environment)
        .filter(buyer_email=email)
        .select_related("version")
        .order_by("-created_at", "-id")
    )


def customer_subscriptions(*, store: Store, environment: str, email: str):
    return (
        Subscription.objects.filter(
            store=store, environment=environment, **_orders_of(store, environment, email)
        )
        .exclude(status=S.PENDING)
        .select_related("version")
        .order_by("-created_at")
    )


def customer_payments(*, store: Store, environment: str, email: str):
    return (
        Payment.objects.filter(
            store=store, environment=environment, **_orders_of(store, environment, email)
        )
        .select_related("order__version")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    text: str
    amount: int | None = None
    currency: str = ""
    ref: str = ""


def activity(*, store: Store, environment: str, email: str, limit: int = 200) -> list[Event]:
    """The customer's timeline, newest first: orders, payments (paid or failed), refunds and
    subscription changes (started, canceled, ended). At most ``limit`` of each kind."""
    events: list[Event] = []
    for o in customer_orders(store=store, environment=environment, email=email)[:limit]:
        events.append(Event(o.created_at, "order", o.version.name, o.total, o.currency, str(o.pk)))
    for p in customer_payments(store=store, environment=environment, email=email)[:limit]:
        if p.status in PAID or p.status == PaymentStatus.FAILED:
            kind = "payment_failed" if p.status == PaymentStatus.FAILED else "payment"
            at = p.paid_at or p.created_at
            events.append(Event(at, kind, p.order.version.name, p.amount, p.currency, str(p.pk)))
    refunds = Refund.objects.filter(
        store=store,
        environment=environment,
        payment__order__store=store,
        payment__order__environment=environment,
        payment__order__buyer_email=email,
        status=RefundStatus.SUCCEEDED,
    ).order_by("-created_at")[:limit]
    for r in refunds:
        at = r.executed_at or r.created_at
        events.append(Event(at, "refund", "", r.amount, r.currency, str(r.payment_id)))
    for s in customer_subscriptions(store=store, environment=environment, email=email)[:limit]:
        name = s.version.name
        events.append(Event(s.created_at, "subscription_started", name, ref=str(s.order_id)))
        if s.canceled_at:
            events.append(Event(s.canceled_at, "subscription_canceled", name, ref=str(s.order_id)))
        if s.ended_at:
            events.append(Event(s.ended_at, "subscription_ended", name, ref=str(s.order_id)))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def email_of_order(*, store: Store, environment: str, order_id) -> str | None:
    """The customer (buyer email) of one of the store's orders in ``environment``."""
    return (
        _scope(store, environment).filter(pk=order_id).values_list("buyer_email", flat=True).first()
    )
