"""Daily rollups of the merchant's figures (docs/analytics.md).

``AnalyticsDay`` rows hold additive counters per store, environment, store-local day,
currency, product and buyer country: the paid charges of the day (gross, tax, fee, sales) and
the succeeded refunds executed that day (refunds and their tax part). ``AnalyticsSeal`` says how
far they go: every local day before ``sealed_through`` has its rows, computed from the rows as
they stood at ``computed_at``.

``roll_up(store, environment)`` (the beat task ``billing.tasks.roll_up_analytics``) seals every
complete local day up to today's start and recomputes the days that rows written since the last
run touch (a late write). It is idempotent and safe to run concurrently: the seal row is
upserted then locked, and day rows are upserted on their unique key and stale ones deleted.
A change of the store's timezone rebuilds the store's rows.

``charge_rows`` and ``refund_rows`` are the readers ``billing.analytics.metrics`` uses: rollup
rows for the sealed days no later write touched, and the raw rows for the rest (today, the days
after the seal, and every touched day), so a read is exact at any time, in a fixed number of
statements.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Lower, TruncDay
from django.utils import timezone

from billing.analytics.periods import local_midnight, store_zone
from billing.models import (
    ANY_COUNTRY,
    AnalyticsBuyer,
    AnalyticsBuyerCount,
    AnalyticsBuyerDay,
    AnalyticsBuyerGap,
    AnalyticsDay,
    AnalyticsSeal,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from stores.models import Store

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
CHARGE_FIELDS = ("gross", "tax", "fee", "sales")
REFUND_FIELDS = ("refunds", "refunds_tax")


def refund_tax():
    """The tax part of a refund: its share of the payment's tax, rounded half up per refund
    (integer arithmetic, the same on PostgreSQL and SQLite)."""
    return ExpressionWrapper(
        (Value(2) * F("amount") * F("payment__tax_amount") + F("payment__amount"))
        / (Value(2) * F("payment__amount")),
        output_field=BigIntegerField(),
    )


def paid_payments(store, environment) -> QuerySet:
    return Payment.objects.filter(
        store=store, environment=environment, status__in=PAID, paid_at__isnull=False
    )


def succeeded_refunds(store, environment) -> QuerySet:
    return Refund.objects.filter(
        store=store,
        environment=environment,
        status=RefundStatus.SUCCEEDED,
        executed_at__isnull=False,
    )


def _keyed(qs: QuerySet, tz, time_field: str, country_path: str, product_path: str) -> QuerySet:
    return qs.annotate(
        day=TruncDay(time_field, tzinfo=tz, output_field=DateField()),
        product_key=Coalesce(Cast(product_path, TextField()), Value("", output_field=TextField())),
        country=Coalesce(
            KeyTextTransform("country", country_path), Value("", output_field=TextField())
        ),
    )


def _canonical(rows: list[dict]) -> list[dict]:
    """A product key as ``str(uuid)`` whatever the database casts a uuid to (SQLite: hex)."""
    for row in rows:
        if row.get("product_key"):
            row["product_key"] = str(uuid.UUID(row["product_key"]))
    return rows


def raw_charges(qs: QuerySet, tz, keys) -> list[dict]:
    """Paid charges of ``qs`` summed by ``keys`` (of day, currency, product_key, country)."""
    return _canonical(
        list(
            _keyed(qs, tz, "paid_at", "billing_detail", "product_id")
            .values(*keys)
            .annotate(
                gross=Sum("amount"),
                tax=Sum("tax_amount"),
                fee=Sum(Coalesce("fee_amount", Value(0))),
                sales=Count("id", filter=Q(amount__gt=0)),
            )
            .order_by()
        )
    )


def raw_refunds(qs: QuerySet, tz, keys) -> list[dict]:
    return _canonical(
        list(
            _keyed(qs, tz, "executed_at", "payment__billing_detail", "payment__product_id")
            .values(*keys)
            .annotate(refunds=Sum("amount"), refunds_tax=Sum(refund_tax()))
            .order_by()
        )
    )


def _days_q(field: str, days, tz) -> Q:
    q = Q(pk__in=[])
    for day in sorted(days):
        q |= Q(**{f"{field}__gte": local_midnight(day, tz)}) & Q(
            **{f"{field}__lt": local_midnight(day + timedelta(days=1), tz)}
        )
    return q


def _touched_days(store, environment, since: datetime, before: datetime, tz) -> set[date]:
    """The local days before ``before`` holding a charge or refund written after ``since``."""
    days: set[date] = set()
    for qs, field in (
        (Payment.objects.filter(store=store, environment=environment), "paid_at"),
        (Refund.objects.filter(store=store, environment=environment), "executed_at"),
    ):
        days.update(
            qs.filter(updated_at__gt=since, **{f"{field}__lt": before, f"{field}__isnull": False})
            .annotate(day=TruncDay(field, tzinfo=tz, output_field=DateField()))
            .values_list("day", flat=True)
            .distinct()
        )
    return days


# Rows written this long before a run started are surely committed when it reads: later ones
# count as written after it (``computed_at``) and are read raw, then redone by the next run.
IN_FLIGHT_MARGIN = timedelta(minutes=5)
KEYS = ("day", "currency", "product_key", "country")


def roll_up(store, environment, *, now: datetime | None = None) -> int:
    """Seal the complete local days up to today and redo the days later writes touched: the
    number of days (re)computed."""
    now = now or timezone.now()
    tz = store_zone(store.timezone)
    target = local_midnight(now.astimezone(tz).date(), tz)
    target_day = now.astimezone(tz).date()
    with transaction.atomic():
        AnalyticsSeal.objects.bulk_create(
            [
                AnalyticsSeal(
                    store=store,
                    environment=environment,
                    timezone=store.timezone,
                    sealed_through=None,
                    computed_at=now,
                )
            ],
            ignore_conflicts=True,
        )
        seal = AnalyticsSeal.objects.select_for_update().get(store=store, environment=environment)
        fresh = seal.sealed_through is None or seal.timezone != store.timezone
        if fresh:
            AnalyticsDay.objects.filter(store=store, environment=environment).delete()
            AnalyticsBuyer.objects.filter(store=store, environment=environment).delete()
            AnalyticsBuyerCount.objects.filter(store=store, environment=environment).delete()
            AnalyticsBuyerGap.objects.filter(store=store, environment=environment).delete()
            AnalyticsBuyerDay.objects.filter(store=store, environment=environment).delete()
            first = (
                paid_payments(store, environment)
                .order_by("paid_at")
                .values_list("paid_at", flat=True)
                .first()
            )
            days_from = min(first.astimezone(tz).date(), target_day) if first else target_day
            touched: set[date] = set()
        else:
            days_from = seal.sealed_through.astimezone(tz).date()
            touched = _touched_days(store, environment, seal.computed_at, seal.sealed_through, tz)
        span = [days_from + timedelta(days=n) for n in range((target_day - days_from).days)]
        days = touched | set(span)
        charges_q = _days_q("paid_at", touched, tz)
        refunds_q = _days_q("executed_at", touched, tz)
        if span:
            start = local_midnight(days_from, tz)
            charges_q |= Q(paid_at__gte=start, paid_at__lt=target)
            refunds_q |= Q(executed_at__gte=start, executed_at__lt=target)
        rows: dict[tuple, dict] = defaultdict(
            lambda: dict.fromkeys(CHARGE_FIELDS + REFUND_FIELDS, 0)
        )
        if days:
            for row in raw_charges(paid_payments(store, environment).filter(charges_q), tz, KEYS):
                rows[tuple(row[k] for k in KEYS)].update({f: row[f] or 0 for f in CHARGE_FIELDS})
            refunds = succeeded_refunds(store, environment).filter(refunds_q)
            for row in raw_refunds(refunds, tz, KEYS):
                rows[tuple(row[k] for k in KEYS)].update({f: row[f] or 0 for f in REFUND_FIELDS})
            AnalyticsDay.objects.bulk_create(
                [
                    AnalyticsDay(
                        store=store,
                        environment=environment,
                        day=k[0],
                        currency=k[1],
                        product_key=k[2],
                        country=k[3],
                        **v,
                    )
                    for k, v in rows.items()
                ],
                update_conflicts=True,
                unique_fields=["store", "environment", *KEYS],
                update_fields=list(CHARGE_FIELDS + REFUND_FIELDS),
                batch_size=2000,
            )
            # Rows of the recomputed days that no longer have anything.
            existing = AnalyticsDay.objects.filter(
                store=store, environment=environment, day__in=days
            ).values_list("pk", *KEYS)
            stale = [pk for pk, *key in existing if tuple(key) not in rows]
            AnalyticsDay.objects.filter(pk__in=stale).delete()
            _buyer_days(store, environment, tz, days, charges_q, fresh)
        new_charges = Q(paid_at__lt=target)
        if not fresh:
            new_charges &= Q(paid_at__gte=seal.sealed_through) | Q(updated_at__gt=seal.computed_at)
        _first_charges(store, environment, tz, new_charges, fresh)
        seal.timezone = store.timezone
        if fresh or seal.sealed_through < target:
            seal.sealed_through = target
        seal.computed_at = now - IN_FLIGHT_MARGIN
        seal.save()
    if fresh and connection.vendor == "postgresql":
        # A rebuild fills the tables at once: fresh statistics before autovacuum's, or the
        # planner takes the buyers' tables for empty and nested-loops over them.
        with connection.cursor() as cursor:
            for model in (
                AnalyticsDay,
                AnalyticsBuyer,
                AnalyticsBuyerCount,
                AnalyticsBuyerDay,
                AnalyticsBuyerGap,
            ):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return len(days)


def _product_key(value) -> str:
    return str(uuid.UUID(str(value))) if value else ""


def _email():
    return Lower("order__buyer_email")


def _buyer_charges(store, environment) -> QuerySet:
    """Charges that make a customer: paid, of an amount above 0 (a free trial's start is not)."""
    return paid_payments(store, environment).filter(amount__gt=0)


def _buyer_days(store, environment, tz, days, charges_q, fresh: bool) -> None:
    """The buyers of each recomputed day, per product ("" too) and country, and the gaps
    between their days (``AnalyticsBuyerGap``) moved with them."""
    table = AnalyticsBuyerDay.objects.filter(store=store, environment=environment)
    charges = _buyer_charges(store, environment).filter(charges_q)
    rows = (
        _keyed(charges, tz, "paid_at", "billing_detail", "product_id")
        .annotate(e=_email())
        .values_list("day", "product_key", "country", "e")
        .distinct()
        .order_by()
    )
    gaps: dict[tuple[str, date, date], int] = defaultdict(int)
    if not fresh:
        # The buyers whose days change: those of the recomputed days, before and after.
        rows = list(rows)
        emails = set(table.filter(day__in=days).values_list("email", flat=True))
        emails |= {e for _, _, _, e in rows}
        _count_gaps(table, sorted(emails), gaps, -1)
        table.filter(day__in=days).delete()
    batch: list[AnalyticsBuyerDay] = []

    def flush():
        AnalyticsBuyerDay.objects.bulk_create(batch, ignore_conflicts=True)
        batch.clear()

    for day, product_key, country, email in rows if not fresh else rows.iterator(chunk_size=5000):
        for key in {"", _product_key(product_key)}:
            batch.append(
                AnalyticsBuyerDay(
                    store=store,
                    environment=environment,
                    product_key=key,
                    day=day,
                    email=email,
                    country=country,
                )
            )
        if len(batch) >= 5000:
            flush()
    flush()
    _count_gaps(table, None if fresh else sorted(emails), gaps, 1)
    _add(
        AnalyticsBuyerGap,
        store,
        environment,
        ("product_key", "after_day", "before_day"),
        {k: [n] for k, n in gaps.items()},
        ("n",),
    )


def _count_gaps(table: QuerySet, emails: list[str] | None, into: dict, sign: int) -> None:
    """Add ``sign`` for each gap of more than a day between the consecutive days of each
    buyer of ``emails`` (None: every buyer), per product key."""
    chunks = (
        [None] if emails is None else [emails[n : n + 5000] for n in range(0, len(emails), 5000)]
    )
    for chunk in chunks:
        qs = table if chunk is None else table.filter(email__in=chunk)
        previous: tuple | None = None
        for key, email, day in (
            qs.values_list("product_key", "email", "day")
            .distinct()
            .order_by("product_key", "email", "day")
            .iterator(chunk_size=20000)
        ):
            if (
                previous is not None
                and previous[:2] == (key, email)
                and (day - previous[2]).days > 1
            ):
                into[(key, previous[2], day)] += sign
            previous = (key, email, day)


def _first_charges(store, environment, tz, new_charges: Q, fresh: bool) -> None:
    """Each buyer's first and last paid charges, per product ("" too) in any country and, for
    any product, per billing country, moved to the earliest and latest of the kept ones and
    the charges ``new_charges`` selects (a paid charge stays paid, with its amount, product,
    order and instant: a first only moves earlier, a last later); and the per-day counts of
    firsts and lasts (``AnalyticsBuyerCount``) moved with them."""
    spans: dict[tuple[str, str, str], list[datetime]] = {}
    rows = (
        _keyed(
            _buyer_charges(store, environment).filter(new_charges),
            tz,
            "paid_at",
            "billing_detail",
            "product_id",
        )
        .values("product_id", "country", e=_email())
        .annotate(first=Min("paid_at"), last=Max("paid_at"))
        .order_by()
        .values_list("product_id", "country", "e", "first", "last")
    )
    for product_id, country, email, first, last in rows.iterator(chunk_size=5000):
        for key in {"", _product_key(product_id)}:
            _widen(spans, (key, ANY_COUNTRY, email), first, last)
        _widen(spans, ("", country, email), first, last)
    # The kept rows of these buyers (none when the store is rebuilt), looked up by email in
    # chunks: an IN (subquery) here lets PostgreSQL pick a nested loop over the whole table.
    emails = sorted({email for _, _, email in spans}) if not fresh else []
    counts: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0, 0])
    for n in range(0, len(emails), 5000):
        kept = AnalyticsBuyer.objects.filter(
            store=store, environment=environment, email__in=emails[n : n + 5000]
        ).values_list(
            "product_key",
            "country",
            "email",
            "first_paid_at",
            "last_paid_at",
            "first_day",
            "last_day",
        )
        for key, country, email, first, last, first_day, last_day in kept:
            span = spans.get((key, country, email))
            if span is None:
                continue
            if first <= span[0] and last >= span[1]:
                del spans[(key, country, email)]
            else:
                _widen(spans, (key, country, email), first, last)
                counts[(key, country, first_day)][0] -= 1
                counts[(key, country, last_day)][1] -= 1
    for (key, country, _), (first, last) in spans.items():
        counts[(key, country, first.astimezone(tz).date())][0] += 1
        counts[(key, country, last.astimezone(tz).date())][1] += 1
    AnalyticsBuyer.objects.bulk_create(
        [
            AnalyticsBuyer(
                store=store,
                environment=environment,
                product_key=key,
                country=country,
                email=email,
                first_paid_at=first,
                first_day=first.astimezone(tz).date(),
                last_paid_at=last,
                last_day=last.astimezone(tz).date(),
            )
            for (key, country, email), (first, last) in spans.items()
        ],
        update_conflicts=True,
        unique_fields=["store", "environment", "product_key", "country", "email"],
        update_fields=["first_paid_at", "first_day", "last_paid_at", "last_day"],
        batch_size=5000,
    )
    _add(
        AnalyticsBuyerCount,
        store,
        environment,
        ("product_key", "country", "day"),
        counts,
        ("firsts", "lasts"),
    )


def _add(model, store, environment, keys: tuple, deltas: dict, fields: tuple) -> None:
    """Add ``{key values: [field deltas]}`` to ``model``'s counters of the store and
    environment (under the seal's lock: no other roll-up of them writes meanwhile). Rows are
    found by their last key, a day, in chunks."""
    deltas = {k: v for k, v in deltas.items() if any(v)}
    if not deltas:
        return
    table = model.objects.filter(store=store, environment=environment)
    current: dict[tuple, list[int]] = {}
    days = sorted({k[-1] for k in deltas})
    for n in range(0, len(days), 1000):
        rows = table.filter(**{f"{keys[-1]}__in": days[n : n + 1000]}).values_list(*keys, *fields)
        for row in rows:
            current[tuple(row[: len(keys)])] = list(row[len(keys) :])
    zero = [0] * len(fields)
    model.objects.bulk_create(
        [
            model(
                store=store,
                environment=environment,
                **dict(zip(keys, key, strict=True)),
                **{f: c + d for f, c, d in zip(fields, current.get(key, zero), delta, strict=True)},
            )
            for key, delta in deltas.items()
        ],
        update_conflicts=True,
        unique_fields=["store", "environment", *keys],
        update_fields=list(fields),
        batch_size=5000,
    )


def _widen(spans: dict, key, first, last) -> None:
    if key not in spans:
        spans[key] = [first, last]
    else:
        spans[key][0] = min(spans[key][0], first)
        spans[key][1] = max(spans[key][1], last)


def roll_up_all(*, now: datetime | None = None) -> int:
    """Every store and environment with a paid charge: the days (re)computed."""
    pairs = (
        Payment.objects.filter(status__in=PAID, paid_at__isnull=False)
        .values_list("store_id", "environment")
        .distinct()
    )
    stores = {s.pk: s for s in Store.objects.filter(pk__in={p for p, _ in pairs})}
    return sum(roll_up(stores[pk], env, now=now) for pk, env in pairs if pk in stores)


# --- reading --------------------------------------------------------------------------------


def _nonzero(rows: list[dict], fields) -> list[dict]:
    """Rows that count: a group of 0 charges (free trials' starts) is no row, as in rollups."""
    return [row for row in rows if any(row[f] for f in fields)]


def _merge(into: dict, rows, keys, fields) -> None:
    for row in rows:
        acc = into.setdefault(tuple(row[k] for k in keys), dict.fromkeys(fields, 0))
        for f in fields:
            acc[f] += row[f] or 0


def read(
    store,
    environment,
    start: datetime | None,
    end: datetime,
    keys: tuple[str, ...],
    *,
    product_id=None,
    source: str = "rollups",
) -> tuple[list[dict], list[dict]]:
    """Charges and refunds in ``[start, end)`` (``start`` None: from the beginning) summed by
    ``keys`` (of ``KEYS``): ``(charge_rows, refund_rows)``. ``start`` and ``end`` are local
    midnights of the store, as a ``Window``'s are. ``source="raw"`` reads the payments and
    refunds only (the yardstick); ``"rollups"`` takes the sealed days no later write touched
    from the rollups and the rest raw, with the same answer."""
    tz = store_zone(store.timezone)
    charges = paid_payments(store, environment).filter(paid_at__lt=end)
    refunds = succeeded_refunds(store, environment).filter(executed_at__lt=end)
    if start is not None:
        charges = charges.filter(paid_at__gte=start)
        refunds = refunds.filter(executed_at__gte=start)
    if product_id:
        charges = charges.filter(product_id=product_id)
        refunds = refunds.filter(payment__product_id=product_id)
    seal = None
    if source == "rollups":
        seal = AnalyticsSeal.objects.filter(
            store=store,
            environment=environment,
            timezone=store.timezone,
            sealed_through__isnull=False,
        ).first()
    if seal is None or (start is not None and start >= seal.sealed_through):
        return (
            _nonzero(raw_charges(charges, tz, keys), CHARGE_FIELDS),
            _nonzero(raw_refunds(refunds, tz, keys), REFUND_FIELDS),
        )
    sealed_end = min(end, seal.sealed_through)
    touched = _touched_days(store, environment, seal.computed_at, sealed_end, tz)
    if start is not None:
        first_day = start.astimezone(tz).date()
        touched = {d for d in touched if d >= first_day}
    rolled = AnalyticsDay.objects.filter(
        store=store, environment=environment, day__lt=sealed_end.astimezone(tz).date()
    ).exclude(day__in=touched)
    if start is not None:
        rolled = rolled.filter(day__gte=start.astimezone(tz).date())
    if product_id:
        rolled = rolled.filter(product_key=str(uuid.UUID(str(product_id))))
    sums = (
        rolled.values(*keys)
        .annotate(**{f: Sum(f) for f in CHARGE_FIELDS + REFUND_FIELDS})
        .order_by()
    )
    raw_charge_q = _days_q("paid_at", touched, tz) | Q(paid_at__gte=sealed_end)
    raw_refund_q = _days_q("executed_at", touched, tz) | Q(executed_at__gte=sealed_end)
    charge_rows: dict = {}
    refund_rows: dict = {}
    rolled_rows = list(sums)
    _merge(charge_rows, rolled_rows, keys, CHARGE_FIELDS)
    _merge(refund_rows, rolled_rows, keys, REFUND_FIELDS)
    _merge(charge_rows, raw_charges(charges.filter(raw_charge_q), tz, keys), keys, CHARGE_FIELDS)
    _merge(refund_rows, raw_refunds(refunds.filter(raw_refund_q), tz, keys), keys, REFUND_FIELDS)

    def out(rows, fields):
        return [
            {**dict(zip(keys, k, strict=True)), **v}
            for k, v in rows.items()
            if any(v[f] for f in fields)
        ]

    return out(charge_rows, CHARGE_FIELDS), out(refund_rows, REFUND_FIELDS)


# --- reading the customers ----------------------------------------------------------------


def _usable_seal(store, environment):
    return AnalyticsSeal.objects.filter(
        store=store,
        environment=environment,
        timezone=store.timezone,
        sealed_through__isnull=False,
    ).first()


class BuyerBook:
    """The buyer figures of any number of windows from three statements: the sealed per-day
    counts (``AnalyticsBuyerCount``, a row per day at most, per country with ``by_country``)
    and, for the buyers with a charge after the seal or written since it, their raw first and
    last charges and their sealed rows (a day or so of buyers), which correct the counts. The
    customers of a window that ended add the gaps that span it (``customers``)."""

    def __init__(self, store, environment, seal, product_id=None, *, by_country: bool = False):
        self.store, self.environment, self.seal = store, environment, seal
        tz = self.tz = store_zone(store.timezone)
        key = self.key = _product_key(product_id)
        recent = _buyer_charges(store, environment).filter(
            Q(paid_at__gte=seal.sealed_through) | Q(updated_at__gt=seal.computed_at)
        )
        if product_id:
            recent = recent.filter(product_id=product_id)
        country = F("country") if by_country else Value(ANY_COUNTRY, output_field=TextField())
        self.raw = {
            (c, email): (first.astimezone(tz).date(), last.astimezone(tz).date())
            for c, email, first, last in _keyed(
                recent, tz, "paid_at", "billing_detail", "product_id"
            )
            .values(c=country, e=_email())
            .annotate(first=Min("paid_at"), last=Max("paid_at"))
            .order_by()
            .values_list("c", "e", "first", "last")
        }
        countries = Q(country=ANY_COUNTRY)
        if by_country:
            countries = ~countries
        # By the list of emails: an IN (subquery) lets PostgreSQL pick a nested loop over the
        # whole table. The list is the buyers paid since the seal (a day or so of them).
        self.kept = {
            (c, email): (first, last)
            for c, email, first, last in AnalyticsBuyer.objects.filter(
                countries,
                store=store,
                environment=environment,
                product_key=key,
                email__in=sorted({e for _, e in self.raw}),
            ).values_list("country", "email", "first_day", "last_day")
        }
        self.days = list(
            AnalyticsBuyerCount.objects.filter(
                countries, store=store, environment=environment, product_key=key
            ).values_list("country", "day", "firsts", "lasts")
        )

    def _tally(self, start: datetime, end: datetime, by_day: bool) -> dict[str, list]:
        """Per country (``ANY_COUNTRY`` without ``by_country``): ``[{day: new}, to_date,
        since]`` (see ``counts``)."""
        start_day, end_day = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        tally: dict[str, list] = defaultdict(lambda: [defaultdict(int), 0, 0])
        for country, day, firsts, lasts in self.days:
            t = tally[country]
            if start_day <= day < end_day:
                t[0][day if by_day else start_day] += firsts
            if day < end_day:
                t[1] += firsts
            else:
                # A buyer first paid on or after the window's end is not counted; their last
                # charge is on or after the window's start too, so it leaves ``since``.
                t[2] -= firsts
            if day >= start_day:
                t[2] += lasts
        for buyer in set(self.raw) | set(self.kept):
            old = self.kept.get(buyer)
            spans = [s for s in (old, self.raw.get(buyer)) if s is not None]
            new = (min(s[0] for s in spans), max(s[1] for s in spans))
            t = tally[buyer[0]]
            for span, sign in ((old, -1), (new, 1)):
                if span is None or span[0] >= end_day:
                    continue
                t[1] += sign
                if span[0] >= start_day:
                    t[0][span[0] if by_day else start_day] += sign
                if span[1] >= start_day:
                    t[2] += sign
        return tally

    def counts(
        self, start: datetime, end: datetime, *, by_day: bool
    ) -> tuple[dict[date, int], int | None, int | None]:
        """New customers (first paid charge in ``[start, end)``, local midnights), customers to
        ``end`` and customers whose last paid charge is on or after ``start`` (the window's
        customers when it reaches now): ``({first local day: n}, to_date, since_start)``
        (``by_day`` False: the new ones summed under ``start``'s day; True: the others None)."""
        days, to_date, since = self._tally(start, end, by_day)[ANY_COUNTRY]
        if by_day:
            return dict(days), None, None
        days[start.astimezone(self.tz).date()] += 0
        return dict(days), to_date, since

    def since_by_country(self, start: datetime, end: datetime) -> dict[str, int]:
        """Per billing country, the buyers whose last paid charge there is on or after
        ``start``: the customers of a window reaching now (a book made ``by_country``)."""
        return {c: t[2] for c, t in self._tally(start, end, False).items() if t[2]}

    def customers(self, start: datetime, end: datetime) -> int | None:
        """The distinct customers of a window that ended by the seal with no day of it written
        since (two statements): those first paid before its end, less those last paid before
        its start, less the gaps between two charges of a buyer that span it. None otherwise
        (count them distinct)."""
        if end > self.seal.sealed_through:
            return None
        late = _buyer_charges(self.store, self.environment).filter(
            updated_at__gt=self.seal.computed_at, paid_at__gte=start, paid_at__lt=end
        )
        if late.exists():
            return None
        start_day, end_day = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        spanning = AnalyticsBuyerGap.objects.filter(
            store=self.store,
            environment=self.environment,
            product_key=self.key,
            after_day__lt=start_day,
            before_day__gte=end_day,
        ).aggregate(n=Sum("n"))["n"]
        firsts = sum(f for _, d, f, _ in self.days if d < end_day)
        lasts = sum(la for _, d, _, la in self.days if d < start_day)
        return firsts - lasts - (spanning or 0)


def buyer_book(
    store, environment, *, product_id=None, by_country: bool = False
) -> BuyerBook | None:
    """The store's ``BuyerBook``; None while it has no seal for its timezone (read it raw)."""
    seal = _usable_seal(store, environment)
    if seal is None:
        return None
    return BuyerBook(store, environment, seal, product_id, by_country=by_country)


def distinct_buyers(
    store, environment, start: datetime, end: datetime, *, product_id=None, by_country: bool
) -> dict[str, int] | None:
    """Distinct customers (lower-cased email, a paid charge above 0) in ``[start, end)``:
    ``{"": n}``, or by billing country. One COUNT(DISTINCT) over the sealed days' buyers
    (``AnalyticsBuyerDay``, days no later write touched) UNION ALL the raw charges of the rest.
    None while the store has no seal for its timezone."""
    seal = _usable_seal(store, environment)
    if seal is None:
        return None
    tz = store_zone(store.timezone)
    sealed_end = min(end, seal.sealed_through)
    first_day = start.astimezone(tz).date()
    touched = {
        d
        for d in _touched_days(store, environment, seal.computed_at, sealed_end, tz)
        if d >= first_day
    }
    rolled = AnalyticsBuyerDay.objects.filter(
        store=store,
        environment=environment,
        product_key=_product_key(product_id),
        day__gte=first_day,
        day__lt=sealed_end.astimezone(tz).date(),
    ).exclude(day__in=touched)
    raw = _keyed(
        _buyer_charges(store, environment).filter(
            Q(paid_at__gte=start, paid_at__lt=end)
            & (_days_q("paid_at", touched, tz) | Q(paid_at__gte=sealed_end))
        ),
        tz,
        "paid_at",
        "billing_detail",
        "product_id",
    )
    if product_id:
        raw = raw.filter(product_id=product_id)
    columns = {"e": F("email"), "c": F("country")} if by_country else {"e": F("email")}
    raw_columns = {"e": _email(), "c": F("country")} if by_country else {"e": _email()}
    rolled_sql, rolled_params = rolled.values(**columns).order_by().query.sql_with_params()
    raw_sql, raw_params = raw.values(**raw_columns).order_by().query.sql_with_params()
    # Both parts are Django's own compiled SQL, their values passed as parameters.
    group = "u.c" if by_country else "''"
    tail = " GROUP BY u.c" if by_country else ""
    sql = f"SELECT {group}, COUNT(DISTINCT u.e) FROM ({rolled_sql} UNION ALL {raw_sql}) u{tail}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, (*rolled_params, *raw_params))
        return {country: n for country, n in cursor.fetchall()}
