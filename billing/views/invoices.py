"""Invoice and credit-note PDFs: the merchant's download under the store's dashboard (any member
of the store, in the header's environment; another store's document is a 404), and the buyer's
through the signed link of the receipt emails (a tampered or expired link is a 404). A document
whose PDF is not rendered yet is rendered on the spot."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from billing.invoices import links, selectors, services
from pancake.api.errors import PancakeError
from stores.dashboard import dashboard_actor, store_page


def _pdf_response(invoice) -> HttpResponse:
    response = HttpResponse(services.invoice_pdf_bytes(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@store_page
@require_GET
def invoice_pdf(request, store, invoice_id):
    try:
        invoice = selectors.access_invoice(dashboard_actor(request), invoice_id)
    except PancakeError:
        raise Http404("Invoice not found") from None
    if invoice.store_id != store.pk:
        raise Http404("Invoice not found")
    return _pdf_response(invoice)


@require_GET
def invoice_download(request, token: str):
    try:
        invoice = links.invoice_from_token(token)
    except PancakeError:
        raise Http404("Invoice not found") from None
    return _pdf_response(invoice)
