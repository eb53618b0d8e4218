"""Step 1 and the success page as a new buyer meets them: the tax ID named as the buyer's
country names it (with an example, and the format in a refusal), the country list in the page's
language and preselected from the browser's locale, autocomplete on the address fields, the
product's description and image, the test processor's decline headline in the page's language,
and a free trial's "card saved" on the success page and in the receipt. The script's part (the
label following the country, errors clearing as a field is corrected) is driven in chromium in
tests/browser/test_checkout_buyer_path.py."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from django.core import mail
from django.test import Client

from billing.providers import test_processor
from checkout import tax_ids
from checkout.forms import region_of
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from tests.factories import ProductFactory
from tests.helpers import emails_to

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_faults():
    test_processor.clear_faults()
    yield
    test_processor.clear_faults()


def open_session(api, product, currency="USD", **body) -> CheckoutSession:
    payload = {"productId": ids.encode("PROD", product.pk), "currency": currency, **body}
    data = api.call("checkout/create-session", payload)["data"]
    return CheckoutSession.objects.get(pk=ids.parse_id(data["sessionId"], "CS"))


def page_path(session) -> str:
    return f"/store/{session.store.slug}/checkout/{session.pk}"


def tax_id_label(html: str) -> str:
    return html_lib.unescape(re.search(r'<label for="id_tax_id">([^<]*)</label>', html)[1])


def tax_id_input(html: str) -> str:
    return re.search(r'<input[^>]*name="tax_id"[^>]*>', html)[0]


def selected_country(html: str) -> str | None:
    select = re.search(r'<select name="country".*?</select>', html, re.S)[0]
    match = re.search(r'<option value="([A-Z]*)" selected>', select)
    return (match[1] or None) if match else None


def country_options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="country".*?</select>', html, re.S)[0]
    return [
        (code, html_lib.unescape(name))
        for code, name in re.findall(r'<option value="([A-Z]+)"[^>]*>([^<]*)</option>', select)
    ]


# --- 1. the tax ID's name, example and format ----------------------------------------------------


@pytest.mark.parametrize(
    "country, label, example",
    [
        ("DE", "USt-IdNr.", "DE123456789"),
        ("FR", "N° TVA", "FR12345678901"),
        ("ES", "NIF-IVA", "ESX1234567X"),
        ("IT", "Partita IVA", "IT12345678901"),
        ("NL", "BTW-nummer", "NL123456789B01"),
        ("IE", "VAT number", "IE1234567X"),
    ],
)
def test_the_tax_id_is_labelled_as_the_country_names_it_on_first_render(
    api, book, country, label, example
):
    session = open_session(api, book)
    session.billing_detail = {"country": country}
    session.save(update_fields=["billing_detail"])
    html = Client().get(page_path(session) + "?lang=en").content.decode()
    assert tax_id_label(html) == label
    assert f'placeholder="{example}"' in tax_id_input(html)


def test_outside_the_eu_the_field_stays_tax_id_without_an_example(api, book):
    session = open_session(api, book)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert tax_id_label(html) == "Tax ID"
    assert "placeholder" not in tax_id_input(html)


def test_a_country_without_its_own_term_is_vat_number_in_the_page_language(api, book):
    session = open_session(api, book)
    session.billing_detail = {"country": "IE"}
    session.save(update_fields=["billing_detail"])
    html = Client().get(page_path(session) + "?lang=fr").content.decode()
    assert tax_id_label(html) == "Numéro de TVA"


def test_the_script_gets_every_country_label_and_example(api, book):
    session = open_session(api, book)
    html = Client().get(page_path(session) + "?lang=de").content.decode()
    raw = re.search(r'data-tax-labels="([^"]*)"', html)[1]
    labels = json.loads(html_lib.unescape(raw))
    assert labels["DE"] == ["USt-IdNr.", "DE123456789"]
    assert labels["FR"] == ["N° TVA", "FR12345678901"]
    assert labels["IE"] == ["USt-IdNr.", "IE1234567X"]  # "VAT number" in German
    assert 'data-tax-label-default="Steuernummer"' in html  # "Tax ID" in German
    assert set(labels) >= {"AT", "BE", "NL", "PL", "PT", "SE", "GB"}


def test_every_example_is_the_shape_the_engine_expects():
    """The examples carry the country's VAT prefix (EL for Greece) so a buyer copying the shape
    types what the engine reads."""
    for country, (_name, example) in tax_ids.FORMATS.items():
        prefix = "EL" if country == "GR" else country
        assert example.startswith(prefix), country
        assert 8 <= len(example) <= 15, country


def test_a_refused_vat_number_says_which_format_is_expected(api, book):
    session = open_session(api, book, currency="EUR")
    data = {
        "email": "buyer@example.com",
        "country": "DE",
        "postcode": "10115",
        "city": "Berlin",
        "address": "Unter den Linden 1",
        "is_business": "on",
        "business_name": "Example GmbH",
        "tax_id": "DE000",
    }
    response = Client().post(page_path(session) + "?lang=en", data)
    assert response.status_code == 400
    html = response.content.decode()
    error = html_lib.unescape(re.search(r'id="id_tax_id_error">([^<]*)<', html)[1])
    assert error == (
        "This tax ID is not valid for the selected country. "
        "VAT numbers from Germany look like DE123456789."
    )
    assert tax_id_label(html) == "USt-IdNr."  # a rejected submit keeps the country's label
    assert 'aria-invalid="true"' in tax_id_input(html)


def test_the_live_summary_names_the_format_in_the_page_language(api, book):
    session = open_session(api, book, currency="EUR")
    query = "?country=FR&postcode=75001&is_business=on&tax_id=FR1&lang=de"
    payload = Client().get(page_path(session) + "/summary" + query).json()
    assert payload["error"]["field"] == "tax_id"
    assert payload["error"]["message"].endswith("Format der USt-IdNr. (Frankreich): FR12345678901.")


# --- 2. the country list: the page's language, preselected from the browser's locale ------------


def test_the_country_list_is_in_the_page_language_on_first_load(api, book):
    session = open_session(api, book)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    options = dict(country_options(html))
    assert options["DE"] == "Deutschland"
    assert options["US"] == "Vereinigte Staaten"
    assert "Choose your country" not in html
    codes = [code for code, _name in country_options(html)]
    # Accented names sort with their base letter, not after Z.
    assert codes.index("EG") < codes.index("AL") < codes.index("AD")  # Ägypten, Albanien, Andorra
    assert codes.index("OM") < codes.index("AT") < codes.index("PK")  # Oman, Österreich, Pakistan
    assert codes[-1] == "CY"  # Zypern


def test_the_country_list_follows_a_language_chosen_on_the_page(api, book):
    session = open_session(api, book)
    html = Client().get(page_path(session) + "?lang=ja", HTTP_ACCEPT_LANGUAGE="en-US")
    options = dict(country_options(html.content.decode()))
    assert options["JP"] == "日本"


@pytest.mark.parametrize(
    "header, country",
    [
        ("de-DE,de;q=0.9,en;q=0.8", "DE"),
        ("en-US,en;q=0.9", "US"),
        ("fr-CA", "CA"),
        ("zh-Hant-TW", "TW"),
        ("en;q=0.5,es-MX", "MX"),  # the most wanted tag with a region
        ("de", None),  # a language alone names no country
        ("en-XX", None),  # not a country
        ("", None),
    ],
)
def test_the_country_is_preselected_from_the_browser_locale(api, book, header, country):
    session = open_session(api, book)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE=header).content.decode()
    assert selected_country(html) == country


def test_a_blocked_country_is_never_preselected():
    assert region_of(["ru-RU", "en-GB"]) == "GB"  # sanctioned: not in the list, skipped
    assert region_of(["fa-IR"]) is None


def test_the_session_country_beats_the_browser_locale(api, book):
    session = open_session(api, book)
    session.billing_detail = {"country": "FR"}
    session.save(update_fields=["billing_detail"])
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="de-DE").content.decode()
    assert selected_country(html) == "FR"


# --- 4. autocomplete -----------------------------------------------------------------------------


def test_the_address_fields_carry_autocomplete_tokens(api, book):
    session = open_session(api, book)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name, token in (
        ("email", "email"),
        ("country", "country"),
        ("postcode", "postal-code"),
        ("city", "address-level2"),
        ("address", "street-address"),
        ("business_name", "organization"),
        ("tax_id", "off"),
    ):
        tag = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', html)[0]
        assert f'autocomplete="{token}"' in tag, name


# --- 5. the product's description and image on step 1 -------------------------------------------


def test_step_one_shows_the_description_and_an_image_the_csp_allows(api, store):
    product = ProductFactory(
        store=store,
        description="Forty **recipes** for pancakes.",
        media=[{"type": "image", "url": "https://cdn.example/cover.png", "alt": "The cover"}],
    )
    session = open_session(api, product)
    response = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    description = re.search(r"<div [^>]*data-product-description>(.*?)</div>", html, re.S)[1]
    assert "<strong>recipes</strong>" in description
    assert '<img class="checkout-product__image" src="https://cdn.example/cover.png"' in html
    assert 'alt="The cover"' in html
    assert "img-src 'self' data: https: http:" in response["Content-Security-Policy"]


def test_an_image_the_csp_would_block_is_left_out(api, store):
    """The API only stores http(s) media URLs, which the CSP allows; a stored address of another
    kind (older data) is left out, not shown broken."""
    product = ProductFactory(store=store)
    version = product.test_version
    version.media = [{"type": "image", "url": "ftp://files.example/cover.png"}]
    version.save(update_fields=["media"])
    session = open_session(api, product)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "checkout-product__image" not in html
    assert "data-product-description" not in html  # no description, no empty box


# --- 6. the decline headline in the page's language ---------------------------------------------


def _card(client, hosted_url, number):
    path = "/" + hosted_url.split("://", 1)[1].split("/", 1)[1]
    return path, client.post(
        path, {"number": number, "expiry": "12/34", "cvc": "123", "name": "Ada Buyer"}
    )


def test_the_test_processor_decline_headline_is_in_the_checkout_language(api, book):
    session = open_session(api, book)
    client = Client()
    details = {"email": "buyer@example.com", "country": "US", "state": "CA", "postcode": "94105"}
    hosted = client.post(page_path(session) + "?lang=de", details)["Location"]
    path, declined = _card(client, hosted, "4000000000000002")
    assert declined.status_code == 402
    text = declined.content.decode()
    headline = html_lib.unescape(re.search(r'id="tp-declined">\s*<p><strong>([^<]*)<', text)[1])
    assert headline == "Ihre Karte wurde abgelehnt."
    again = html_lib.unescape(client.get(path).content.decode())  # back on the card page
    assert "Ihre Karte wurde abgelehnt." in again
    assert "Your card was declined." not in again


# --- 7. a free trial saves the card --------------------------------------------------------------


@pytest.fixture
def trial_plan(store):
    return ProductFactory(
        store=store,
        trial=True,
        name="Pro",
        prices={"USD": {"amount": 1000, "taxCategory": "saas"}},
    )


def test_a_free_trial_success_page_and_receipt_say_card_saved(
    api, trial_plan, django_capture_on_commit_callbacks
):
    session = open_session(api, trial_plan, withTrial=True)
    client = Client()
    details = {"email": "buyer@example.com", "country": "US", "state": "CA", "postcode": "94105"}
    hosted = client.post(page_path(session) + "?lang=en", details)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        card_path, back = _card(client, hosted, "4242424242424242")
    assert back.status_code == 302
    order = Order.objects.get(session=session)
    assert order.status == "trialing"
    html = client.get(page_path(session) + "?" + back["Location"].split("?", 1)[1])
    text = html.content.decode()
    assert "Card saved: Visa ending in 4242. Nothing was charged today." in text
    assert "Paid with" not in text
    card_page = client.get(card_path).content.decode()  # the provider's page, once complete
    assert "Card saved: Visa ending in 4242. Nothing was charged today." in card_page
    assert "Paid with" not in card_page

    (receipt,) = emails_to("buyer@example.com")
    for body in (receipt.body, receipt.alternatives[0][0]):
        assert "Card saved" in body and "Visa •••• 4242" in body
        assert "Charged today" not in body and "Payment method" not in body
        assert "$0.00" in body


def test_a_paid_subscription_still_says_paid(api, store, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True, name="Pro")
    session = open_session(api, plan)
    client = Client()
    details = {"email": "buyer@example.com", "country": "US", "state": "CA", "postcode": "94105"}
    hosted = client.post(page_path(session), details)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        _path, back = _card(client, hosted, "4242424242424242")
    text = client.get(page_path(session) + "?" + back["Location"].split("?", 1)[1])
    text = text.content.decode()
    assert "Paid with Visa ending in 4242." in text and "Card saved" not in text
    assert mail.outbox  # the receipt went out
    (receipt,) = emails_to("buyer@example.com")
    assert "Charged today" in receipt.body and "Card saved" not in receipt.body
