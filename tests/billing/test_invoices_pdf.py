"""Invoice PDFs: rendered after the commit by the task, stored, the same bytes every time, their
text (read back with pypdf) in the buyer's language; fetched without the network; downloaded
by the store's members from the dashboard and by the buyer through the signed link of the
receipt emails."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail, signing
from django.core.files.storage import default_storage
from pypdf import PdfReader

from billing.invoices import links, pdf
from billing.invoices.services import credit_note_issue, invoice_render
from billing.models import Invoice
from pancake.api.actor import merchant_actor
from pancake.api.errors import InvalidInput
from stores import services
from stores.models import Role, Store
from tests.billing.test_invoices import DE_BUSINESS, invoice_of, paid, refund, seller
from tests.factories import MerchantFactory, ProductFactory, StoreFactory
from tests.helpers import emails_to
from tests.subscriptions.helpers import subscribe


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored(invoice: Invoice) -> bytes:
    invoice.refresh_from_db()
    with default_storage.open(invoice.pdf.name, "rb") as f:
        return f.read()


def test_the_pdf_is_rendered_after_commit_and_holds_number_totals_and_tax_ids(
    api, store, book, django_capture_on_commit_callbacks
):
    seller(store)
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks, billing=DE_BUSINESS))
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is not None
    content = stored(invoice)
    assert content.startswith(b"%PDF-")
    text = text_of(content)
    assert invoice.number in text
    assert "€100.00" in text  # subtotal and total (reverse charged: no tax)
    assert "€0.00" in text
    assert "DE136695976" in text  # the buyer's tax id
    assert "IE6388047V" in text  # the seller's
    assert "Example GmbH" in text and "My Store Ltd" in text
    assert "Germany" in text and "Ireland" in text  # the countries by name
    assert "Reverse charge" in text
    assert "Test mode: not a tax document" in text


def test_re_rendering_gives_the_same_bytes(api, book, django_capture_on_commit_callbacks):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    invoice.refresh_from_db()
    first_sha, first = invoice.pdf_sha256, stored(invoice)
    again = invoice_render(invoice.pk, again=True)
    assert again.pdf_sha256 == first_sha
    assert stored(invoice) == first
    assert pdf.render(invoice) == first
    assert len(default_storage.listdir(f"invoices/{invoice.store_id}/test")[1]) == 1


def test_a_german_buyers_pdf_is_in_german(api, book, django_capture_on_commit_callbacks):
    payment = paid(api, book, django_capture_on_commit_callbacks, session={"language": "de"})
    text = text_of(stored(invoice_of(payment)))
    assert "Rechnung" in text and "Zwischensumme" in text and "Gesamt" in text
    assert "119,00" in text
    assert "Deutschland" in text
    assert "Invoice" not in text


def test_a_credit_notes_pdf_names_the_invoice_it_corrects(
    api, book, django_capture_on_commit_callbacks
):
    payment = paid(api, book, django_capture_on_commit_callbacks)
    invoice = invoice_of(payment)
    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(refund(payment, 2000))
    text = text_of(stored(note))
    assert "Credit note" in text and note.number in text
    assert invoice.number in text
    assert "€20.00" in text


def test_the_fetcher_refuses_the_network():
    fetcher = pdf.LocalFetcher()
    for url in ("http://example.com/logo.png", "https://example.com/x.css", "ftp://x/y"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    response = fetcher.fetch("data:text/plain,hello")
    assert response  # data: URIs are local


def test_the_template_loads_nothing_from_elsewhere(api, book, django_capture_on_commit_callbacks):
    html = pdf.html(invoice_of(paid(api, book, django_capture_on_commit_callbacks)))
    assert not re.search(r"""(src|href)=["']?https?:""", html)
    assert "@import" not in html and "url(" not in html


# --- downloads -----------------------------------------------------------------------------------


def url_of(invoice: Invoice) -> str:
    return f"/dashboard/{invoice.store_id}/invoices/{invoice.pk}/pdf"


def test_members_download_from_the_dashboard_and_others_get_404(
    client, store, book, api, merchant, member_of, django_capture_on_commit_callbacks
):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    # Not signed in: to the sign-in page.
    assert client.get(url_of(invoice)).status_code == 302

    client.force_login(merchant)  # the store's owner
    response = client.get(url_of(invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert invoice.number in text_of(response.content)

    member = MerchantFactory()
    member_of(store, member, Role.MEMBER)
    client.force_login(member)
    assert client.get(url_of(invoice)).status_code == 200

    stranger = MerchantFactory()
    other = StoreFactory()
    member_of(other, stranger, Role.OWNER)
    client.force_login(stranger)
    assert client.get(url_of(invoice)).status_code == 404
    # Through the stranger's own store's address: still not theirs.
    assert client.get(f"/dashboard/{other.pk}/invoices/{invoice.pk}/pdf").status_code == 404


def test_the_dashboard_renders_a_pdf_not_rendered_yet(
    client, merchant, api, book, django_capture_on_commit_callbacks
):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=None, pdf_rendered_at=None, pdf_sha256="")
    client.force_login(merchant)
    response = client.get(url_of(invoice))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is not None


def test_another_environments_invoice_is_404_in_the_dashboard(
    client, merchant, api, book, django_capture_on_commit_callbacks
):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    Invoice.objects.filter(pk=invoice.pk).update(environment="prod")
    client.force_login(merchant)
    assert client.get(url_of(invoice)).status_code == 404


def test_the_receipt_links_the_invoice_and_a_tampered_link_is_404(
    client, api, book, django_capture_on_commit_callbacks
):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    (receipt,) = emails_to("buyer@example.com")
    assert "Download your invoice" in receipt.body
    # The link is signed with a timestamp, so it is read from the email rather than rebuilt.
    match = re.search(r"http://127\.0\.0\.1:8000/invoices/[^/\s\"]+/pdf", receipt.body)
    assert match is not None
    link = match.group(0)
    assert link in receipt.alternatives[0][0]
    assert links.invoice_from_token(link.split("/")[4]) == invoice
    path = link.removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert invoice.number in text_of(response.content)

    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(tampered).status_code == 404
    assert client.get("/invoices/not-a-token/pdf").status_code == 404
    # A link signed for another use does not open an invoice.
    foreign = signing.dumps(str(invoice.pk), salt="something.else")
    assert client.get(f"/invoices/{foreign}/pdf").status_code == 404


def test_a_trial_confirmation_has_no_invoice_link(api, store, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True, trial=True)
    subscribe(api, plan, django_capture_on_commit_callbacks, trial=True)
    (confirmation,) = emails_to("buyer@example.com")
    assert "Download your invoice" not in confirmation.body
    assert len(mail.outbox) >= 1


def test_the_seller_details_are_edited_on_the_settings_page(owner_client, shop):
    data = {
        "name": "Maple Shop",
        "support_email": "",
        "website": "",
        "description": "",
        "default_currency": "EUR",
        "timezone": "UTC",
        "logo": "",
        "status": "active",
        "legal_name": "Maple GmbH",
        "tax_id": "DE136695976",
        "address_line1": "Hauptstraße 1",
        "address_line2": "",
        "address_city": "Berlin",
        "address_postcode": "10115",
        "address_state": "",
        "address_country": "DE",
    }
    response = owner_client.post(f"/dashboard/{shop.pk}/settings/details/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    shop = Store.objects.get(pk=shop.pk)
    assert (shop.legal_name, shop.tax_id, shop.address_city, shop.address_country) == (
        "Maple GmbH",
        "DE136695976",
        "Berlin",
        "DE",
    )
    page = owner_client.get(f"/dashboard/{shop.pk}/settings/details/").content.decode()
    assert "Seller details on invoices" in page and "Maple GmbH" in page

    bad = owner_client.post(
        f"/dashboard/{shop.pk}/settings/details/", {**data, "legal_name": "Bad\x07Name"}
    )
    assert bad.status_code == 400
    assert Store.objects.get(pk=shop.pk).legal_name == "Maple GmbH"


# --- admin and the seller's details through the service ------------------------------------------


def test_support_staff_find_invoices_and_re_render_their_pdf(
    client, api, book, django_capture_on_commit_callbacks
):
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    invoice.refresh_from_db()
    staff = MerchantFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    listing = client.get("/admin/billing/invoice/", {"q": invoice.number})
    assert listing.status_code == 200 and invoice.number in listing.content.decode()
    by_email = client.get("/admin/billing/invoice/", {"q": "buyer@example.com"})
    assert invoice.number in by_email.content.decode()
    nobody = client.get("/admin/billing/invoice/", {"q": "nobody@example.com"})
    assert invoice.number not in nobody.content.decode()
    filtered = client.get("/admin/billing/invoice/", {"kind__exact": "credit_note"})
    assert invoice.number not in filtered.content.decode()
    assert client.get(f"/admin/billing/invoice/{invoice.pk}/change/").status_code == 200

    rendered_at = invoice.pdf_rendered_at
    response = client.post(
        "/admin/billing/invoice/",
        {"action": "rerender_pdf", "_selected_action": [str(invoice.pk)]},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at > rendered_at
    # Read-only: no one edits or deletes an issued document.
    assert client.post(f"/admin/billing/invoice/{invoice.pk}/delete/").status_code == 403


def test_the_store_service_checks_the_seller_details(merchant, store):
    actor = merchant_actor(merchant, "test")
    with pytest.raises(InvalidInput) as bad:
        services.store_update(actor=actor, store_id=store.pk, address={"country": "Germany"})
    assert bad.value.field == "address.country"
    with pytest.raises(InvalidInput) as bad:
        services.store_update(actor=actor, store_id=store.pk, tax_id="x" * 41)
    assert bad.value.field == "taxId"
    updated, _ = services.store_update(
        actor=actor,
        store_id=store.pk,
        legal_name="  My Store Ltd ",
        address={"line1": "1 Main St", "city": "Dublin", "country": "ie"},
        tax_id="IE6388047V",
    )
    assert (updated.seller_name, updated.address_country, updated.address_line1) == (
        "My Store Ltd",
        "IE",
        "1 Main St",
    )
    updated, _ = services.store_update(actor=actor, store_id=store.pk, legal_name="")
    assert updated.seller_name == "My Store"


def test_the_subscription_page_links_each_charges_invoice(
    client, merchant, api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    order, _subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(order=order)
    client.force_login(merchant)
    page = client.get(f"/dashboard/{store.pk}/subscriptions/{order.pk}/").content.decode()
    assert f'href="{url_of(invoice)}"' in page and invoice.number in page
