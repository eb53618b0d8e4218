"""Issuing invoices and credit notes, and rendering their PDFs.

An invoice is written in the transaction that records a payment's success, at every success
point: an order's first payment (``billing.services.notification_receive``), a renewal (one at
a time in ``renewals._paid``, a batch in ``renewals._renew_all``) and a plan change's prorated
charge (``plan_changes._record``). A payment of zero (a trial's start, a period the credit
balance paid for) gets none: nothing was charged. A credit note is written in the transaction
that records a refund's success (``credit_note_issue``), against the payment's invoice.

What is frozen, so later edits of the store, the order or the catalog never change an issued
document: the seller (the store's legal name or name, address, tax id, support email and its
checkout colours), the buyer (name, business name, address and tax id from the billing detail,
the tax id as the tax evidence normalised it, the email), the lines (product, the period paid
for, quantity 1, unit amount without tax, tax), the tax per rate, the totals, the currency, the
language (the buyer's checkout language) and the tax note: ``reverse_charge`` when the order was
reverse-charged, ``tax_exempt`` when no tax was due by the evidence's rule (the category is not
taxed there, or no rule is in force), else none.

Locks: the caller holds the payment (and, for a credit note, the refund); the invoice a credit
note corrects is locked next, then the number sequences (``numbering``). The PDF is queued for
rendering after commit (``billing.tasks.render_invoices``); the sweep renders any left behind.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.invoices import numbering, pdf
from billing.models import Invoice, InvoiceKind, Payment, Refund, Subscription
from checkout.languages import CHECKOUT_LANGUAGES
from checkout.models import Order, OrderKind
from pancake.celery import registered
from pancake.money import round_minor
from stores import branding
from stores.models import Store

# The evidence's rules under which no tax is due at all (checkout.tax.engine.RULES).
EXEMPT_RULES = ("not_taxed_category", "no_rule")
REVERSE_CHARGE = "reverse_charge"
TAX_EXEMPT = "tax_exempt"
# What a document reads of its order (one query for a batch).
_ORDER_VALUES = (
    "pk",
    "kind",
    "buyer_email",
    "billing_detail",
    "reverse_charge",
    "tax_evidence",
    "tax_rate",
    "tax_name",
    "version__name",
    "session__checkout_language",
)


@dataclass
class Issue:
    """One succeeded payment to invoice: the payment (its success recorded, not necessarily
    saved yet), and the subscription whose period it paid (current on the row) if any."""

    payment: Payment
    subscription: Subscription | None = None


# --- invoices ------------------------------------------------------------------------------------


def invoice_issue(payment: Payment, *, subscription: Subscription | None = None) -> Invoice | None:
    """The invoice of a succeeded payment, in the caller's transaction (which holds the
    payment's lock): numbered, frozen and saved; its PDF queued after commit. A payment of zero
    gets none; a payment invoiced before gets its invoice back."""
    if payment.amount <= 0:
        return None
    existing = Invoice.objects.filter(payment=payment, kind=InvoiceKind.INVOICE).first()
    if existing is not None:
        return existing
    if subscription is None and payment.subscription_id is not None:
        subscription = payment.subscription
    if subscription is None:
        subscription = _first_subscription(payment)
    return invoices_issue([Issue(payment, subscription)])[0]


def _first_subscription(payment: Payment) -> Subscription | None:
    """A subscription order's first payment carries no subscription: the order's."""
    order = payment.order
    if order.kind != OrderKind.SUBSCRIPTION:
        return None
    return Subscription.objects.filter(order_id=order.pk).first()


def invoices_issue(issues: list[Issue]) -> list[Invoice]:
    """Invoices of several succeeded payments (a renewal batch), in the caller's transaction:
    the orders and stores read in one query each, each sequence locked and advanced once for
    all its documents, the invoices written in one INSERT, their PDFs queued in one message
    after commit. Payments of zero are skipped; the caller has not invoiced these payments."""
    issues = [issue for issue in issues if issue.payment.amount > 0]
    if not issues:
        return []
    orders = {
        row["pk"]: row
        for row in Order.objects.filter(pk__in={i.payment.order_id for i in issues}).values(
            *_ORDER_VALUES
        )
    }
    stores = Store.objects.in_bulk({i.payment.store_id for i in issues})
    now = timezone.now()
    invoices = [
        _invoice(issue, orders[issue.payment.order_id], stores[issue.payment.store_id], now)
        for issue in issues
    ]
    _number(invoices, InvoiceKind.INVOICE)
    Invoice.objects.bulk_create(invoices)
    _render_after_commit([invoice.pk for invoice in invoices])
    return invoices


def _invoice(issue: Issue, order: dict, store: Store, now: datetime) -> Invoice:
    payment, subscription = issue.payment, issue.subscription
    issued_at = payment.paid_at or now
    tax = payment.tax_amount
    net = payment.amount - tax
    if subscription is not None and payment.subscription_id is not None:
        rate, tax_name = subscription.tax_rate, subscription.tax_name
    else:
        rate, tax_name = order["tax_rate"], order["tax_name"]
    evidence = order["tax_evidence"] or {}
    name = subscription.version.name if subscription is not None else order["version__name"]
    line = {
        "description": name,
        "purpose": payment.purpose or ("subscription" if subscription else "onetime"),
        "period_start": None,
        "period_end": None,
        "quantity": 1,
        "unit_amount": net,
        "tax_rate": _rate(rate if tax else Decimal(0)),
        "tax_amount": tax,
        "amount": payment.amount,
    }
    if subscription is not None:
        start = subscription.current_period_start
        if payment.purpose == "plan_change":  # the rest of the period, from the change
            start = issued_at
        line["period_start"] = start.isoformat()
        line["period_end"] = subscription.current_period_end.isoformat()
    language = order["session__checkout_language"]
    return Invoice(
        store_id=payment.store_id,
        environment=payment.environment,
        kind=InvoiceKind.INVOICE,
        payment=payment,
        order_id=payment.order_id,
        issued_at=issued_at,
        year=issued_at.year,
        language=language if language in CHECKOUT_LANGUAGES else "en",
        currency=payment.currency,
        subtotal=net,
        tax_amount=tax,
        total=payment.amount,
        seller=seller_details(store),
        buyer=_buyer(order, payment.billing_detail or order["billing_detail"] or {}, evidence),
        lines=[line],
        tax_lines=_tax_lines(net, tax, Decimal(rate), tax_name, evidence),
        tax_note=_tax_note(order["reverse_charge"], evidence, tax),
    )


def seller_details(store: Store) -> dict:
    """The seller as an invoice freezes it, with the store's checkout colours (its light theme:
    a document is printed on white)."""
    _name, look, _logo = branding.store_look(store, dark=False)
    return {
        "name": store.seller_name,
        "store_name": store.name,
        "address": {
            "line1": store.address_line1,
            "line2": store.address_line2,
            "city": store.address_city,
            "postcode": store.address_postcode,
            "state": store.address_state,
            "country": store.address_country or store.country,
        },
        "tax_id": store.tax_id,
        "email": store.support_email or "",
        "website": store.website or "",
        "colors": {
            "primary": look.get("checkoutColorPrimary") or "",
            "text": look.get("checkoutColorText") or "",
        },
    }


def _buyer(order: dict, detail: dict, evidence: dict) -> dict:
    business = bool(detail.get("isBusiness"))
    return {
        "name": detail.get("name", ""),
        "business_name": detail.get("businessName", "") if business else "",
        "email": order["buyer_email"],
        "address": {
            "line1": detail.get("address", ""),
            "city": detail.get("city", ""),
            "postcode": detail.get("postcode", ""),
            "state": detail.get("state", ""),
            "country": detail.get("country", ""),
        },
        # The number as the tax engine checked and normalised it, else as the buyer typed it.
        "tax_id": (evidence.get("tax_id") or detail.get("taxId") or "") if business else "",
        "is_business": business,
    }


def _rate(rate: Decimal) -> str:
    """A rate fraction as text: '0.19', '0.14975', '0'."""
    return format(Decimal(rate).normalize(), "f")


def _tax_lines(net: int, tax: int, rate: Decimal, tax_name: str, evidence: dict) -> list[dict]:
    """The tax per rate: one line per charged rate of the evidence (GST + QST: two), the tax
    split between them in proportion to their rates (summing exactly); one line when a single
    rate applied or the evidence does not match the rate charged (a later plan's); a
    reverse-charged or exempt document's line has rate 0. No line when no tax was named."""
    charged = [r for r in evidence.get("rates", []) if r.get("charged")]
    rates = [Decimal(str(r["rate_percent"])).scaleb(-2) for r in charged]
    if tax and len(charged) > 1 and sum(rates) == rate:
        amounts = split_exactly(tax, rates)
        return [
            {"name": r["tax_name"], "rate": _rate(line_rate), "taxable_amount": net, "tax": amount}
            for r, line_rate, amount in zip(charged, rates, amounts, strict=True)
        ]
    if not tax and not tax_name:
        return []
    return [
        {
            "name": tax_name,
            "rate": _rate(rate if tax else Decimal(0)),
            "taxable_amount": net,
            "tax": tax,
        }
    ]


def _tax_note(reverse_charge: bool, evidence: dict, tax: int) -> str:
    if reverse_charge:
        return REVERSE_CHARGE
    if not tax and evidence.get("rule") in EXEMPT_RULES:
        return TAX_EXEMPT
    return ""


def split_exactly(total: int, weights) -> list[int]:
    """``total`` split in proportion to ``weights`` into whole numbers that sum to it exactly
    (largest remainder; ties to the first). All weights zero: evenly."""
    weights = [Decimal(w) for w in weights]
    whole = sum(weights)
    if not whole:
        weights, whole = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [Decimal(total) * w / whole for w in weights]
    parts = [int(share) for share in shares]  # not negative: toward zero is the floor
    order = sorted(range(len(parts)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _number(documents: list[Invoice], kind: str) -> None:
    """Numbers for the documents, one locked sequence update per (store, environment, year),
    the sequences taken in a fixed order."""
    groups = defaultdict(list)
    for document in documents:
        groups[(str(document.store_id), document.environment, document.year)].append(document)
    for store_id, environment, year in sorted(groups):
        group = groups[(store_id, environment, year)]
        taken = numbering.numbers_take(
            store_id=group[0].store_id,
            environment=environment,
            kind=kind,
            year=year,
            count=len(group),
        )
        for document, sequence in zip(group, taken, strict=True):
            document.sequence = sequence
            document.number = numbering.number_format(
                kind=kind, environment=environment, year=year, sequence=sequence
            )


# --- credit notes --------------------------------------------------------------------------------


def credit_note_issue(refund: Refund) -> Invoice | None:
    """The credit note of a succeeded refund, in the caller's transaction (which records the
    refund's success and holds its payment's lock): the payment's invoice locked, the refund's
    amount split into net and tax in the invoice's proportion, numbered in the credit-note
    sequence, its PDF queued after commit. The tax is cumulative: the credit notes of an
    invoice together credit ``round(credited × invoice tax / invoice total)``, so refunding
    the whole payment in parts credits exactly the invoice's tax. A refund whose payment has
    no invoice (a payment before invoices, or of zero) gets none; a second call returns the
    first's note."""
    existing = Invoice.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    invoice = (
        Invoice.objects.select_for_update()
        .filter(payment_id=refund.payment_id, kind=InvoiceKind.INVOICE)
        .first()
    )
    if invoice is None:
        return None
    before = Invoice.objects.filter(invoice=invoice, kind=InvoiceKind.CREDIT_NOTE).aggregate(
        total=Sum("total", default=0), tax=Sum("tax_amount", default=0)
    )
    amount = min(refund.amount, invoice.total - before["total"])
    credited = before["total"] + amount
    tax = _tax_share(invoice.tax_amount, credited, invoice.total) - before["tax"]
    tax = max(min(tax, amount), 0)
    net = amount - tax
    issued_at = refund.executed_at or timezone.now()
    note = Invoice(
        store_id=invoice.store_id,
        environment=invoice.environment,
        kind=InvoiceKind.CREDIT_NOTE,
        payment_id=invoice.payment_id,
        order_id=invoice.order_id,
        refund=refund,
        invoice=invoice,
        issued_at=issued_at,
        year=issued_at.year,
        language=invoice.language,
        currency=invoice.currency,
        subtotal=net,
        tax_amount=tax,
        total=amount,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=_credited_lines(invoice.lines, amount, tax),
        tax_lines=_credited_tax_lines(invoice.tax_lines, net, tax),
        tax_note=invoice.tax_note,
    )
    _number([note], InvoiceKind.CREDIT_NOTE)
    note.save(force_insert=True)
    _render_after_commit([note.pk])
    return note


def _tax_share(tax: int, amount: int, total: int) -> int:
    """The tax inside ``amount`` at the proportion ``tax / total`` (half up)."""
    if not total:
        return 0
    return round_minor(Decimal(tax) * amount / total)


def _credited_lines(lines: list[dict], amount: int, tax: int) -> list[dict]:
    """The invoice's lines, credited in proportion to their amounts."""
    amounts = split_exactly(amount, [line["amount"] for line in lines])
    taxes = split_exactly(tax, [line["tax_amount"] for line in lines])
    return [
        {**line, "unit_amount": part - part_tax, "tax_amount": part_tax, "amount": part}
        for line, part, part_tax in zip(lines, amounts, taxes, strict=True)
    ]


def _credited_tax_lines(tax_lines: list[dict], net: int, tax: int) -> list[dict]:
    if not tax_lines:
        return []
    taxes = split_exactly(tax, [line["tax"] for line in tax_lines])
    return [
        {**line, "taxable_amount": net, "tax": part}
        for line, part in zip(tax_lines, taxes, strict=True)
    ]


# --- PDFs ----------------------------------------------------------------------------------------


def _render_after_commit(invoice_ids: list) -> None:
    """Queue the documents' PDFs after commit, one message; robust: a broker that is down loses
    only time (the sweep renders them later) and fails nothing that committed."""
    ids = [str(pk) for pk in invoice_ids]
    task = registered("billing.tasks.render_invoices")
    transaction.on_commit(lambda: task.delay(ids), robust=True)


def invoice_render(invoice_id, *, again: bool = False) -> Invoice:
    """Render the document's PDF from its frozen fields and store it (Django's default storage:
    the file system, or S3 through django-storages), with its SHA-256 and when it was rendered.
    A rendered document is left alone unless ``again``; the same document renders to the same
    bytes, so rendering twice at once stores the same file. Safe to run twice."""
    invoice = Invoice.objects.select_related("invoice").get(pk=invoice_id)
    if invoice.pdf_rendered_at is not None and not again:
        return invoice
    content = pdf.render(invoice)
    name = f"invoices/{invoice.store_id}/{invoice.environment}/{invoice.number}.pdf"
    if invoice.pdf and invoice.pdf.name != name:
        default_storage.delete(invoice.pdf.name)
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(content))
    invoice.pdf.name = stored
    invoice.pdf_sha256 = hashlib.sha256(content).hexdigest()
    invoice.pdf_rendered_at = timezone.now()
    Invoice.objects.filter(pk=invoice.pk).update(
        pdf=stored,
        pdf_sha256=invoice.pdf_sha256,
        pdf_rendered_at=invoice.pdf_rendered_at,
        updated_at=invoice.pdf_rendered_at,
    )
    return invoice


def invoices_rerender(invoice_ids) -> int:
    """The admin's "Re-render the PDF": rendered again now, whatever was stored."""
    done = 0
    for invoice_id in invoice_ids:
        invoice_render(invoice_id, again=True)
        done += 1
    return done


def unrendered_ids(*, limit: int = 200, older_than=None) -> list:
    """Documents still without a PDF (a lost task), oldest first, for the sweep."""
    found = Invoice.objects.filter(pdf_rendered_at__isnull=True)
    if older_than is not None:
        found = found.filter(Q(created_at__lte=older_than))
    return list(found.order_by("created_at").values_list("pk", flat=True)[:limit])


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The stored PDF, rendered first if it is not yet (a download before the task ran)."""
    if invoice.pdf_rendered_at is None or not invoice.pdf:
        invoice = invoice_render(invoice.pk)
    with default_storage.open(invoice.pdf.name, "rb") as stored:
        return stored.read()
