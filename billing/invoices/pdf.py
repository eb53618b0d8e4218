"""An invoice's or credit note's PDF: the HTML template ``billing/invoice_pdf.html`` in the
document's language, rendered by WeasyPrint from the document's frozen fields alone.

The same document gives the same bytes: the PDF's dates are the issue time (``dcterms``
metadata) and its file identifier is derived from the document's id, and nothing else read
varies. WeasyPrint fetches nothing over the network: ``LocalFetcher`` answers ``data:`` URIs and
files under the project's static folders, and refuses anything else. Fonts are the system's
(fontconfig); Chinese, Japanese and Korean documents need a CJK font installed (docs/invoices.md).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from babel.dates import format_date
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from billing.models import Invoice, InvoiceKind
from checkout.languages import to_django
from checkout.tax.engine import country_name
from pancake.money import format_money

TEMPLATE = "billing/invoice_pdf.html"


class LocalFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to ``data:`` URIs and the project's static files."""

    def __init__(self):
        super().__init__(allowed_protocols={"data", "file"}, fail_on_errors=False)

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            roots = [Path(root).resolve() for root in settings.STATICFILES_DIRS]
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError(f"Refused to fetch {url}: not a static file")
        elif not url.startswith("data:"):
            raise ValueError(f"Refused to fetch {url}: invoices fetch nothing over the network")
        return super().fetch(url, headers)


def _babel_locale(language: str) -> str:
    return {"zh": "zh_Hans"}.get(language, language or "en")


def context(invoice: Invoice) -> dict:
    """What the template shows: the frozen fields, the amounts formatted in the document's
    currency (its decimals: JPY 0, BHD 3) and language."""
    locale = _babel_locale(invoice.language)

    def money(minor: int) -> str:
        return format_money(minor, invoice.currency, locale)

    lines = [
        {
            **line,
            "unit": money(line["unit_amount"]),
            "tax": money(line["tax_amount"]),
            "total": money(line["amount"]),
            "rate_percent": _percent(line.get("tax_rate", "0")),
            "start": _date(line.get("period_start"), locale),
            "end": _date(line.get("period_end"), locale),
        }
        for line in invoice.lines
    ]
    tax_lines = [
        {
            **line,
            "rate_percent": _percent(line["rate"]),
            "taxable": money(line["taxable_amount"]),
            "amount": money(line["tax"]),
        }
        for line in invoice.tax_lines
    ]
    colors = invoice.seller.get("colors") or {}
    return {
        "invoice": invoice,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "corrects": invoice.invoice,
        "issued": format_date(invoice.issued_at, format="long", locale=locale),
        # The PDF's creation and modification dates: the issue time, so the bytes never vary.
        "pdf_date": invoice.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "seller_country": _country(invoice.seller, locale),
        "buyer_country": _country(invoice.buyer, locale),
        "lines": lines,
        "tax_lines": tax_lines,
        "subtotal": money(invoice.subtotal),
        "tax_amount": money(invoice.tax_amount),
        "total": money(invoice.total),
        "primary": colors.get("primary") or "#111827",
        "text_color": colors.get("text") or "#111827",
        "test_mode": invoice.environment == "test",
    }


def _country(party: dict, locale: str) -> str:
    """The party's country by name, in the document's language ("DE" -> "Deutschland")."""
    code = (party.get("address") or {}).get("country") or ""
    return country_name(code, locale) if code else ""


def _percent(rate: str) -> str:
    """'0.19' -> '19%', '0.14975' -> '14.975%'."""
    value = (Decimal(rate or "0") * 100).normalize()
    return f"{value:f}%"


def _date(value: str | None, locale: str) -> str:
    if not value:
        return ""
    return format_date(datetime.fromisoformat(value), format="medium", locale=locale)


def html(invoice: Invoice) -> str:
    with translation.override(to_django(invoice.language)):
        return render_to_string(TEMPLATE, context(invoice))


def render(invoice: Invoice) -> bytes:
    """The document's PDF bytes (the same for the same document)."""
    identifier = hashlib.sha256(f"pancake-invoice:{invoice.pk}".encode()).hexdigest()[:32]
    document = HTML(
        string=html(invoice), base_url=str(settings.BASE_DIR), url_fetcher=LocalFetcher()
    )
    return document.write_pdf(pdf_identifier=identifier.encode())
