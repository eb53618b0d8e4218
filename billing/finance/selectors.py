"""Reads of the dashboard's Finance page (docs/dashboard-customers-finance.md): the balance per
currency and the income list (each charge whose money moved: gross, fee, net).

Net of a charge is ``billing.payments.fees.breakdown``'s: ``(amount - refunded) - (tax -
refunded tax) - fee`` with the fee frozen on the payment. The balance, per currency:

- total income: the net of every charge;
- pending: the net of the charges paid less than ``PAYOUT_HOLD_DAYS`` (7) days ago;
- available: the net of the older charges minus every payout recorded (pending or paid);
- paid out: the payouts marked paid.

A refund lowers the charge's net at once, whether it is pending or available. The balance is
two grouped statements (charges, payouts) and one for charges older than the fee (no
``fee_amount``: their fee follows the settings, summed per distinct amount)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.fees import platform_fee
from billing.models import Payment, Payout, PayoutStatus
from billing.payments.fees import CHARGED
from stores.models import Store

HOLD_DAYS = 7
PAGE_SIZE = 25
EXPORT_CHUNK = 2000


def hold_days() -> int:
    return int(getattr(settings, "PAYOUT_HOLD_DAYS", HOLD_DAYS))


@dataclass
class Balance:
    currency: str
    total: int = 0
    pending: int = 0
    available: int = 0
    paid_out: int = 0


# The refunded share of the tax, half up, as ``fees.breakdown`` rounds it (integer division
# of non-negative numbers truncates alike in PostgreSQL, SQLite and Python).
REFUNDED_TAX = Case(
    When(
        Q(amount__gt=0, tax_amount__gt=0, refunded_amount__gt=0),
        then=(2 * F("tax_amount") * F("refunded_amount") + F("amount")) / (2 * F("amount")),
    ),
    default=Value(0),
    output_field=IntegerField(),
)
NET_BEFORE_FEE = F("amount") - F("refunded_amount") - F("tax_amount") + REFUNDED_TAX


def _charges(store: Store, environment: str):
    return Payment.objects.filter(store=store, environment=environment, status__in=CHARGED)


def balance(*, store: Store, environment: str, now: datetime | None = None) -> list[Balance]:
    """The balance per currency (currencies in alphabetical order)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=hold_days())
    held = Q(paid_at__gt=cutoff) | Q(paid_at__isnull=True, created_at__gt=cutoff)
    out: dict[str, Balance] = {}
    sums = (
        _charges(store, environment)
        .values("currency")
        .annotate(
            total=Sum(NET_BEFORE_FEE - Coalesce("fee_amount", 0)),
            pending=Coalesce(Sum(NET_BEFORE_FEE - Coalesce("fee_amount", 0), filter=held), 0),
        )
        .order_by()
    )
    for s in sums:
        out[s["currency"]] = Balance(s["currency"], total=s["total"], pending=s["pending"])
    unfrozen = (
        _charges(store, environment)
        .filter(fee_amount__isnull=True)
        .values("currency", "amount")
        .annotate(n=Count("id"), held=Count("id", filter=held))
        .order_by()
    )
    for u in unfrozen:
        fee = platform_fee(u["amount"], u["currency"])
        b = out[u["currency"]]
        b.total -= fee * u["n"]
        b.pending -= fee * u["held"]
    payouts = (
        Payout.objects.filter(store=store, environment=environment)
        .values("currency")
        .annotate(
            all=Sum("amount"),
            paid=Coalesce(Sum("amount", filter=Q(status=PayoutStatus.PAID)), 0),
        )
        .order_by()
    )
    for p in payouts:
        b = out.setdefault(p["currency"], Balance(p["currency"]))
        b.paid_out = p["paid"]
        b.available = -p["all"]
    for b in out.values():
        b.available += b.total - b.pending
    return [out[c] for c in sorted(out)]


INCOME_FIELDS = (
    "id",
    "created_at",
    "paid_at",
    "status",
    "amount",
    "tax_amount",
    "currency",
    "refunded_amount",
    "fee_amount",
    "order__buyer_email",
)


def _after(qs, cursor: str):
    at, sep, pk = (cursor or "").partition("|")
    if not sep:
        return qs
    try:
        value = datetime.fromisoformat(at)
    except ValueError:
        return qs
    if value.tzinfo is None:
        return qs
    return qs.filter(Q(created_at__lt=value) | Q(created_at=value, id__lt=pk))


def _cursor(row: dict) -> str:
    return f"{row['created_at'].astimezone(UTC).isoformat()}|{row['id']}"


def income_page(*, store: Store, environment: str, after: str = "") -> tuple[list[dict], str]:
    """One page of charges, newest first (keyset on ``(created_at, id)`` through the payments'
    ``(store, environment, status, created_at)`` index) and the next page's cursor."""
    qs = _charges(store, environment).order_by("-created_at", "-id").values(*INCOME_FIELDS)
    rows = list(_after(qs, after)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (_cursor(rows[-1]) if more else "")


def income_export_rows(*, store: Store, environment: str) -> Iterator[dict]:
    qs = _charges(store, environment).order_by("-created_at", "-id").values(*INCOME_FIELDS)
    cursor = ""
    while True:
        rows = list(_after(qs, cursor)[:EXPORT_CHUNK])
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        cursor = _cursor(rows[-1])


def payouts(*, store: Store, environment: str, limit: int = 50):
    return Payout.objects.filter(store=store, environment=environment).order_by("-created_at")[
        :limit
    ]
