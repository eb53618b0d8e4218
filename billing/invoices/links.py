"""The buyer's download link of an invoice or credit note: a URL carrying the document's id
signed with ``django.core.signing`` (salted for this use, valid
``settings.INVOICE_LINK_MAX_AGE_DAYS`` days). The receipt emails print it; the customer portal
builds its links with the same ``invoice_download_url``. Holding the link is the permission, as
for a checkout session's page; a tampered or expired link is a 404."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from billing.models import Invoice, InvoiceKind, Payment
from pancake.api.errors import NotFound

SALT = "billing.invoice-download"


def invoice_download_url(invoice: Invoice) -> str:
    """The absolute, signed download URL of ``invoice``."""
    token = signing.dumps(str(invoice.pk), salt=SALT)
    return settings.BASE_URL + reverse("billing:invoice-download", args=[token])


def payment_invoice_url(payment: Payment | None) -> str:
    """The download URL of a payment's invoice, or "" when it has none (a zero payment)."""
    if payment is None:
        return ""
    invoice = Invoice.objects.filter(payment=payment, kind=InvoiceKind.INVOICE).first()
    return invoice_download_url(invoice) if invoice is not None else ""


def refund_credit_note_url(refund_id) -> str:
    """The download URL of a refund's credit note, or "" when it has none."""
    note = Invoice.objects.filter(refund_id=refund_id).first()
    return invoice_download_url(note) if note is not None else ""


def invoice_from_token(token: str) -> Invoice:
    """The document a signed link names; 404 when the signature is wrong or expired."""
    max_age = timedelta(days=settings.INVOICE_LINK_MAX_AGE_DAYS)
    try:
        invoice_id = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:
        raise NotFound("Invoice not found", layer="invoice") from None
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound("Invoice not found", layer="invoice")
    return invoice
