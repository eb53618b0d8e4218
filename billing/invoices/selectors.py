"""Reads of invoices and credit notes, scoped to the caller."""

from __future__ import annotations

from billing.models import Invoice, InvoiceKind
from pancake.api.actor import Actor
from pancake.api.errors import NotFound
from stores.models import Role
from stores.selectors import access_store


def access_invoice(actor: Actor, invoice_id, *, min_role: str = Role.MEMBER) -> Invoice:
    """A document of a store the caller belongs to, in the caller's environment; another
    store's, another environment's or a missing one is the same 404."""
    invoice = Invoice.objects.filter(pk=invoice_id, environment=actor.environment).first()
    if invoice is None:
        raise NotFound("Invoice not found", layer="invoice")
    access_store(actor, invoice.store_id, min_role=min_role)
    return invoice


def invoices_of_payments(payment_ids) -> dict:
    """The invoice of each of these payments that has one, by payment id (one statement)."""
    found = Invoice.objects.filter(payment_id__in=list(payment_ids), kind=InvoiceKind.INVOICE)
    return {invoice.payment_id: invoice for invoice in found.only("pk", "number", "payment_id")}


def payment_invoices(payment) -> list[Invoice]:
    """A payment's invoice and credit notes, in the order they were issued."""
    return list(Invoice.objects.filter(payment=payment).order_by("issued_at", "number"))
