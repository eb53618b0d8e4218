"""Document numbers: ``INV-2026-000123``, ``CN-2026-000007`` (a test-mode document's number
starts with ``settings.INVOICE_TEST_PREFIX``, ``TEST-`` by default).

Numbers come from an ``InvoiceSequence`` row per (store, environment, kind, year), locked
(``SELECT … FOR UPDATE``) and advanced in the transaction that writes the documents: two
transactions numbering the same sequence queue on the row, a rolled-back one gives its numbers
back with its update, so the numbers are unique and leave no gap. The row is made on first use
with ``INSERT … ON CONFLICT DO NOTHING``: a second transaction making it at the same time waits
for the first and then finds it. Sequences are locked after the payments and refunds they
number (the last locks a transaction takes), in (store, environment, kind, year) order when a
batch takes several, so two transactions never wait on each other in a cycle."""

from __future__ import annotations

from django.conf import settings

from billing.models import InvoiceKind, InvoiceSequence
from pancake.models import Environment

PREFIXES = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}
DIGITS = 6


def number_format(*, kind: str, environment: str, year: int, sequence: int) -> str:
    """``INV-2026-000123``; in test mode ``TEST-INV-2026-000123`` (the prefix is a setting)."""
    prefix = settings.INVOICE_TEST_PREFIX if environment == Environment.TEST else ""
    return f"{prefix}{PREFIXES[kind]}-{year}-{sequence:0{DIGITS}d}"


def numbers_take(*, store_id, environment: str, kind: str, year: int, count: int = 1) -> range:
    """The next ``count`` numbers of the sequence, in the caller's transaction (the sequence row
    stays locked until it ends): one INSERT (first use only does anything), one locked SELECT and
    one UPDATE, whatever ``count``."""
    key = {"store_id": store_id, "environment": environment, "kind": kind, "year": year}
    InvoiceSequence.objects.bulk_create([InvoiceSequence(**key)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(**key)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return range(first, first + count)
