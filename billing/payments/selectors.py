"""Reads of the merchant's Payments and Refund tickets pages, scoped to one store (which the
page's ``stores.dashboard.store_page`` reached through ``access_store``) and the header's
environment: another store's or environment's payment or ticket is not found.

The payments list is built for stores with millions of payments: its pages are keyset pages
(newest first, ``(created_at, id)`` after or before a cursor) read through the
``(store, environment[, status], created_at)`` indexes, so a page costs the same statements and
about the same time on the first page and the ten-thousandth; the counts per status are one
grouped statement; the CSV export reads the filtered list in chunks of ``EXPORT_CHUNK`` rows by
the same keyset, never holding more than one chunk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, IntegerField, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT

from billing.models import (
    Invoice,
    InvoiceKind,
    Payment,
    PaymentStatus,
    Refund,
    RefundTicket,
    RefundTicketStatus,
    RefundTicketVersion,
)
from billing.refunds.selectors import approvable_amount
from pancake.api import ids
from pancake.api.errors import InvalidInput, NotFound
from stores.models import Store

PAGE_SIZE = 25
# Counts per status stop here: above it the page says "10,000+".
COUNT_CAP = 1_000
EXPORT_CHUNK = 2000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LISTED_STATUSES = tuple(PaymentStatus)
TICKET_STATUSES = tuple(RefundTicketStatus)

# What a list row reads: the payment's own columns and its order's email and product name.
ROW_FIELDS = (
    "id",
    "created_at",
    "paid_at",
    "status",
    "amount",
    "tax_amount",
    "currency",
    "refunded_amount",
    "fee_amount",
    "payment_method",
    "payment_method_details",
    "order_id",
    "subscription_id",
    "order__buyer_email",
    "order__version__name",
)


# --- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilters:
    """The list's filters, as the page's GET parameters give them (empty: not filtered).
    Amounts are minor units of ``currency``; dates are whole UTC days, both ends included."""

    status: str = ""
    product_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    email: str = ""
    currency: str = ""
    amount_min: int | None = None
    amount_max: int | None = None
    q: str = ""

    @property
    def any(self) -> bool:
        return any(
            (
                self.status,
                self.product_id,
                self.date_from,
                self.date_to,
                self.email,
                self.currency,
                self.amount_min is not None,
                self.amount_max is not None,
                self.q,
            )
        )


def _search(q: str) -> Q:
    """What the free-text search matches: a payment's or order's id (the UUID, or the API's
    ``PAY_``/``ORD_`` short id), the merchant's order id (exactly), or a part of the customer's
    email. The last two are both the order's, so PostgreSQL may find rare matches through the
    order's external id index and the email's trigram index (checkout's migration 0005), or walk
    the newest payments for common ones."""
    q = q.strip()
    if q[:4] in ("PAY_", "ORD_"):
        try:
            value = ids.decode_short(q, q[:3])
        except InvalidInput:
            return Q(pk__in=[])
        return Q(pk=value) if q.startswith("PAY_") else Q(order_id=value)
    try:
        value = uuid.UUID(q)
    except ValueError:
        return Q(order__order_merchant_external_id=q) | Q(order__buyer_email__icontains=q)
    return Q(pk=value) | Q(order_id=value)


def _filtered(store: Store, environment: str, f: PaymentFilters, *, status: bool = True):
    payments = Payment.objects.filter(store=store, environment=environment)
    if status and f.status:
        payments = payments.filter(status=f.status)
    if f.product_id is not None:
        payments = payments.filter(product_id=f.product_id)
    if f.date_from is not None:
        payments = payments.filter(created_at__gte=datetime.combine(f.date_from, time(), UTC))
    if f.date_to is not None:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), UTC)
        payments = payments.filter(created_at__lt=end)
    if f.email:
        payments = payments.filter(order__buyer_email__icontains=f.email)
    if f.currency:
        payments = payments.filter(currency=f.currency)
    if f.amount_min is not None:
        payments = payments.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        payments = payments.filter(amount__lte=f.amount_max)
    if f.q:
        payments = payments.filter(_search(f.q))
    return payments


# --- keyset pages --------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, pk: uuid.UUID) -> str:
    """A row's place in the list: its creation time in microseconds and its id."""
    return f"{(created_at - EPOCH) // timedelta(microseconds=1)}_{pk.hex}"


def decode_cursor(value: str) -> tuple[datetime, uuid.UUID] | None:
    """The place a cursor names; None for anything that is not a cursor (the first page)."""
    micros, _, pk = (value or "").partition("_")
    try:
        return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=pk)
    except (ValueError, OverflowError):
        return None


def _before(created_at: datetime, pk: uuid.UUID) -> Q:
    """Rows after the cursor in the list's order (older): ``(created_at, id) < cursor``, as a
    range the index reads (``created_at <= t``) less the cursor's own instant's later ids."""
    return Q(created_at__lte=created_at) & ~Q(created_at=created_at, id__gte=pk)


def _after(created_at: datetime, pk: uuid.UUID) -> Q:
    return Q(created_at__gte=created_at) & ~Q(created_at=created_at, id__lte=pk)


@dataclass(frozen=True)
class PaymentPage:
    rows: list[Payment]
    next_cursor: str | None  # the next (older) page's ``after``
    prev_cursor: str | None  # the previous (newer) page's ``before``


def payment_page(
    *,
    store: Store,
    environment: str,
    filters: PaymentFilters = PaymentFilters(),
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> PaymentPage:
    """One page of the store's payments, newest first: the first page, the one after the
    cursor ``after`` (older rows) or the one before ``before`` (newer rows). One statement: the
    rows with their order's email and product name (``ROW_FIELDS``)."""
    payments = _filtered(store, environment, filters).select_related("order__version")
    payments = payments.only(*ROW_FIELDS)
    back = decode_cursor(before) if before else None
    forward = decode_cursor(after) if after and back is None else None
    if back is not None:
        rows = list(payments.filter(_after(*back)).order_by("created_at", "id")[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        has_prev, has_next = more, True
    else:
        if forward is not None:
            payments = payments.filter(_before(*forward))
        rows = list(payments.order_by("-created_at", "-id")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        has_prev, has_next = forward is not None, more
    return PaymentPage(
        rows=rows,
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].pk) if rows and has_next else None,
        prev_cursor=encode_cursor(rows[0].created_at, rows[0].pk) if rows and has_prev else None,
    )


def payment_status_counts(
    *, store: Store, environment: str, filters: PaymentFilters = PaymentFilters()
) -> dict[str, int]:
    """How many payments each status has under the list's other filters (the status filter is
    left out, so each count says where its link leads), each counted up to ``COUNT_CAP + 1``:
    a count above ``COUNT_CAP`` means "more than that" (the page says "10,000+"), so a store
    with a million payments does not count them all on every page. One statement: one bounded
    subquery per status, each read through the ``(store, environment, status, created_at)``
    index. Every status is present, zero when none."""
    # Each subquery is read newest first, as the list is: the status index is scanned in order
    # and stops at the cap, instead of collecting the whole status first.
    payments = _filtered(store, environment, filters, status=False)
    bounded = {
        f"n{n}": CountRows(
            payments.filter(status=status).order_by("-created_at").values("id")[: COUNT_CAP + 1]
        )
        for n, status in enumerate(LISTED_STATUSES)
    }
    row = Store.objects.filter(pk=store.pk).annotate(**bounded).values_list(*bounded)
    # A filter that can match nothing (a malformed id) makes each subquery NULL: zero.
    return {status: n or 0 for status, n in zip(LISTED_STATUSES, row.get(), strict=True)}


class CountRows(Subquery):
    """The number of rows a (sliced) queryset yields, as a scalar subquery (Django's documented
    way to count in a subquery)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


# --- the CSV export ------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id",
    "created_at",
    "paid_at",
    "status",
    "currency",
    "amount",
    "tax_amount",
    "fee_amount",
    "refunded_amount",
    "payment_method",
    "order_id",
    "order_merchant_external_id",
    "subscription_id",
    "order__buyer_email",
    "order__version__name",
)
# The export's few keys of the JSON columns, read as text by PostgreSQL (not parsed per row).
EXPORT_JSON_KEYS = {
    "billing_country": KT("billing_detail__country"),
    "method_type": KT("payment_method_details__type"),
    "method_brand": KT("payment_method_details__brand"),
    "method_last4": KT("payment_method_details__last4"),
}


def payment_export_rows(
    *, store: Store, environment: str, filters: PaymentFilters = PaymentFilters()
) -> Iterator[dict]:
    """Every payment of the filtered list, newest first, as dicts of ``EXPORT_FIELDS`` and
    ``EXPORT_JSON_KEYS``: read
    ``EXPORT_CHUNK`` rows at a time, each chunk starting after the last row of the one before
    (one statement per chunk; nothing but the current chunk is held)."""
    payments = _filtered(store, environment, filters).order_by("-created_at", "-id")
    cursor = None
    while True:
        chunk = payments if cursor is None else payments.filter(_before(*cursor))
        rows = list(chunk.values(*EXPORT_FIELDS, **EXPORT_JSON_KEYS)[:EXPORT_CHUNK])
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        cursor = (rows[-1]["created_at"], rows[-1]["id"])


# --- one payment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    tickets: list[RefundTicket]
    refunds: list[Refund]
    invoice: Invoice | None
    pending_ticket_amount: int  # what the payment's pending tickets ask for


def payment_detail(*, store: Store, environment: str, payment_id: uuid.UUID) -> PaymentDetail:
    """One payment of the store in the environment, with its order (and product version), its
    subscription, its refund tickets (newest first) and refunds, and its invoice if one was
    issued. Another store's or environment's payment is 404."""
    payment = (
        Payment.objects.select_related("order", "order__version", "order__subscription")
        .filter(pk=payment_id, store=store, environment=environment)
        .first()
    )
    if payment is None:
        raise NotFound("Payment not found", layer="order", field="paymentId")
    tickets = list(RefundTicket.objects.filter(payment=payment).order_by("-created_at", "-id"))
    refunds = list(Refund.objects.filter(payment=payment).order_by("-created_at", "-id"))
    pending = sum(t.requested_amount for t in tickets if t.status == RefundTicketStatus.PENDING)
    return PaymentDetail(
        payment=payment,
        tickets=tickets,
        refunds=refunds,
        invoice=payment_invoice(payment),
        pending_ticket_amount=pending,
    )


def payment_invoice(payment: Payment) -> Invoice | None:
    """The invoice issued for the payment, if any (its credit notes are the refunds')."""
    return (
        Invoice.objects.filter(payment=payment, kind=InvoiceKind.INVOICE)
        .only("id", "number", "issued_at", "pdf")
        .first()
    )


def left_to_refund(payment: Payment) -> int:
    """What the merchant may still refund of the payment (``billing.refunds.selectors.
    approvable_amount``: its amount less what was refunded and what approved refunds in flight
    hold; pending tickets do not hold money back from the merchant's own decision). The refund
    services decide again under the payment's lock."""
    return approvable_amount(payment)


# --- refund tickets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilters:
    status: str = ""
    q: str = ""


def _tickets(store: Store, environment: str, f: TicketFilters, *, status: bool = True):
    tickets = RefundTicket.objects.filter(store=store, environment=environment)
    if status and f.status:
        tickets = tickets.filter(status=f.status)
    q = f.q.strip()
    if q:
        if q[:4] in ("TKT_", "PAY_", "ORD_"):
            try:
                value = ids.decode_short(q, q[:3])
            except InvalidInput:
                return tickets.none()
            column = {"TKT_": "pk", "PAY_": "payment_id", "ORD_": "order_id"}[q[:4]]
            tickets = tickets.filter(**{column: value})
        else:
            try:
                value = uuid.UUID(q)
            except ValueError:
                tickets = tickets.filter(
                    Q(refund_ticket_merchant_external_id=q)
                    | Q(order__buyer_email__icontains=q)
                    | Q(reason__icontains=q)
                )
            else:
                tickets = tickets.filter(Q(pk=value) | Q(payment_id=value) | Q(order_id=value))
    return tickets


def ticket_list(
    *, store: Store, environment: str, filters: TicketFilters = TicketFilters()
) -> QuerySet[RefundTicket]:
    """The store's refund tickets in one environment, newest first, each with its order (the
    buyer's email) and payment in the same statement."""
    return (
        _tickets(store, environment, filters)
        .select_related("order", "payment")
        .order_by("-created_at", "-id")
    )


def ticket_status_counts(
    *, store: Store, environment: str, filters: TicketFilters = TicketFilters()
) -> dict[str, int]:
    rows = (
        _tickets(store, environment, filters, status=False)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = dict.fromkeys(TICKET_STATUSES, 0)
    counts.update(dict(rows))
    return counts


@dataclass(frozen=True)
class TicketDetail:
    ticket: RefundTicket
    versions: list[RefundTicketVersion]
    refunds: list[Refund]
    other_open_amount: int  # what the payment's other open tickets hold


def ticket_detail(*, store: Store, environment: str, ticket_id: uuid.UUID) -> TicketDetail:
    """One refund ticket of the store in the environment with its payment and order, its
    versions (oldest first) and refunds (newest first). Another store's ticket is 404."""
    ticket = (
        RefundTicket.objects.select_related("payment", "order", "order__version")
        .filter(pk=ticket_id, store=store, environment=environment)
        .first()
    )
    if ticket is None:
        raise NotFound("Refund ticket not found", layer="refund", field="ticketId")
    versions = list(ticket.versions.order_by("number"))
    refunds = list(ticket.refunds.order_by("-created_at", "-id"))
    other = (
        RefundTicket.objects.filter(payment_id=ticket.payment_id, status=RefundTicketStatus.PENDING)
        .exclude(pk=ticket.pk)
        .aggregate(total=Sum("requested_amount"))["total"]
    )
    return TicketDetail(
        ticket=ticket, versions=versions, refunds=refunds, other_open_amount=other or 0
    )
