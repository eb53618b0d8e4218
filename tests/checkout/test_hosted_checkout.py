"""The hosted checkout pages driven with Django's test client: step 1's validation and
summary, the redirect to the provider's page, the return (success, failure and retry,
processing), expired and used sessions, languages and branding. Browser tests drive the same
pages in chromium (tests/browser/test_checkout_flow.py)."""

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Payment, TestProcessorPayment
from billing.providers import test_processor
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from products.periods import add_periods
from stores import branding
from stores.dashboard import CONTENT_SECURITY_POLICY
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

US_CA = {"country": "US", "state": "CA", "postcode": "94105"}


@pytest.fixture(autouse=True)
def _no_faults():
    test_processor.clear_faults()
    yield
    test_processor.clear_faults()


@pytest.fixture
def plan(store):
    return ProductFactory(
        store=store,
        subscription=True,
        name="Pro",
        prices={"USD": {"amount": 1000, "taxCategory": "saas"}},
        metadata={"trialDays": 14},
    )


def open_session(api, product, currency="USD", **body) -> CheckoutSession:
    payload = {"productId": ids.encode("PROD", product.pk), "currency": currency, **body}
    data = api.call("checkout/create-session", payload)["data"]
    return CheckoutSession.objects.get(pk=ids.parse_id(data["sessionId"], "CS"))


def page_path(session) -> str:
    return f"/store/{session.store.slug}/checkout/{session.pk}"


def details(**fields):
    return {"email": "buyer@example.com", "country": "US", "state": "CA", "postcode": "94105"} | {
        k: v for k, v in fields.items()
    }


def pay(client, hosted_url, number="4242424242424242"):
    path = hosted_url.split("://", 1)[1].split("/", 1)[1]
    return client.post(
        "/" + path, {"number": number, "expiry": "12/34", "cvc": "123", "name": "Ada Buyer"}
    )


def test_step_one_shows_the_frozen_offer_labels_and_the_mor_footer(api, book):
    session = open_session(api, book)
    response = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Email", "Country", "State / province", "Postcode", "Business name", "Tax ID"):
        assert re.search(rf"<label[^>]*>{re.escape(label)}</label>", html), label
    assert "E-Book" in html and "$29.00" in html
    assert "Test Mode - No real charges will be made" in html
    assert "Merchant of Record, Pancake," in html
    assert ">Continue to payment</button>" in html
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_us_buyer_without_a_state_gets_the_error_on_the_state_field(api, book):
    session = open_session(api, book)
    response = Client().post(page_path(session), details(state=""))
    assert response.status_code == 400
    assert "Choose your state or province." in response.content.decode()
    assert not Order.objects.exists()


def test_an_eu_buyer_needs_city_and_address(api, book):
    session = open_session(api, book, currency="EUR")
    response = Client().post(page_path(session), details(country="DE", state="", postcode="10115"))
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("This field is required.") == 2
    assert not Order.objects.exists()


def test_details_create_the_order_and_send_the_buyer_to_the_provider(api, book):
    session = open_session(api, book)
    client = Client()
    response = client.post(page_path(session), details(), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 303
    order = Order.objects.get(session=session)
    payment = Payment.objects.get(order=order)
    assert response["Location"].endswith(f"/test-processor/pay/{payment.provider_payment_id}/")
    assert order.billing_detail == {
        "country": "US",
        "isBusiness": False,
        "state": "CA",
        "postcode": "94105",
    }
    assert (order.subtotal, order.total, order.buyer_email) == (2900, 2900, "buyer@example.com")
    assert order.buyer_ip == "203.0.113.7"


def test_the_proxys_ip_country_is_kept_as_tax_evidence(api, book, settings):
    settings.IP_COUNTRY_HEADER = "CF-IPCountry"
    session = open_session(api, book)
    response = Client().post(page_path(session), details(), HTTP_CF_IPCOUNTRY="de")
    assert response.status_code == 303
    evidence = Order.objects.get(session=session).tax_evidence
    assert (evidence["country"], evidence["ip_country"]) == ("US", "DE")


@pytest.mark.parametrize("header", ["XX", "T1", "", "Germany"])
def test_an_unknown_ip_country_is_no_evidence(api, book, settings, header):
    settings.IP_COUNTRY_HEADER = "CF-IPCountry"
    session = open_session(api, book)
    assert Client().post(page_path(session), details(), HTTP_CF_IPCOUNTRY=header).status_code == 303
    assert Order.objects.get(session=session).tax_evidence["ip_country"] is None


def test_without_a_configured_header_the_ip_country_is_ignored(api, book, settings):
    settings.IP_COUNTRY_HEADER = ""
    session = open_session(api, book)
    assert Client().post(page_path(session), details(), HTTP_CF_IPCOUNTRY="IR").status_code == 303
    assert Order.objects.get(session=session).tax_evidence["ip_country"] is None


def test_a_buyer_in_a_sanctioned_country_by_ip_is_refused(api, book, settings):
    settings.IP_COUNTRY_HEADER = "CF-IPCountry"
    session = open_session(api, book)
    client = Client(HTTP_CF_IPCOUNTRY="IR")
    summary = client.get(page_path(session) + "/summary", {"country": "US", "state": "CA"}).json()
    assert summary["error"] == {
        "field": "country",
        "message": "We can't accept purchases from this country.",
    }
    assert summary["summary"]["tax"] is None
    response = client.post(page_path(session), details())
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_a_paid_card_returns_to_the_success_page(api, book):
    session = open_session(api, book, successUrl="https://shop.example/thanks")
    client = Client()
    hosted = client.post(page_path(session), details())["Location"]
    back = pay(client, hosted)
    assert back.status_code == 302 and "status=succeeded" in back["Location"]
    response = client.get(page_path(session) + "?" + back["Location"].split("?", 1)[1])
    assert response.status_code == 200
    html = response.content.decode()
    order = Order.objects.get(session=session)
    assert order.status == "completed"
    assert ids.encode("ORD", order.pk) in html
    assert "A receipt has been sent to buyer@example.com." in html
    assert "Visa ending in 4242" in html
    assert "https://shop.example/thanks?order_id=" in html
    # The session is used: it makes no second order.
    again = client.post(page_path(session), details())
    assert again.status_code == 200 and Order.objects.count() == 1


def test_a_failed_3ds_shows_the_reason_and_try_again_reopens_the_card_page(api, book):
    session = open_session(api, book)
    client = Client()
    hosted = client.post(page_path(session), details())["Location"]
    pay(client, hosted, number="4000002760003184")
    path = "/" + hosted.split("://", 1)[1].split("/", 1)[1]
    three_ds = path.replace("/pay/", "/3ds/")
    back = client.post(three_ds, {"decision": "fail"})
    assert "status=failed" in back["Location"]
    response = client.get(page_path(session) + "?status=failed")
    assert response.status_code == 402
    html = response.content.decode()
    assert "The card&#x27;s 3-D Secure authentication failed." in html
    assert ">Try again</button>" in html
    retry = client.post(page_path(session))
    assert retry.status_code == 303 and retry["Location"] == hosted
    pay(client, hosted)
    assert Order.objects.get(session=session).status == "completed"
    assert client.get(page_path(session)).status_code == 200


def test_back_from_the_provider_before_its_notification_shows_processing(api, book, settings):
    settings.TEST_PROCESSOR_NOTIFICATION_HANDLER = None  # the notification is late
    session = open_session(api, book)
    client = Client()
    hosted = client.post(page_path(session), details())["Location"]
    back = pay(client, hosted)
    response = client.get(page_path(session) + "?" + back["Location"].split("?", 1)[1])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Processing your payment" in html
    # The script asks again in the background; only a browser without it reloads the page.
    refresh = back["Location"].split("?", 1)[1].replace("&", "&amp;")
    assert f'data-refresh-url="{page_path(session)}?{refresh}"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert html.count('http-equiv="refresh"') == 1


def test_an_expired_session_says_so_and_offers_a_new_checkout(api, book):
    session = open_session(api, book)
    CheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client().get(page_path(session))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This checkout has expired" in html
    assert f'href="/{book.store.slug}/{book.slug}?env=test"' in html
    assert Client().post(page_path(session), details()).status_code == 410
    assert not Order.objects.exists()


def test_the_summary_endpoint_follows_country_state_and_vat_number(api, book):
    session = open_session(api, book, currency="EUR")
    client = Client()
    url = page_path(session) + "/summary"
    de = client.get(url, {"country": "DE"}).json()
    assert de["summary"]["tax"] == "€19.00" and de["summary"]["total"] == "€119.00"
    assert de["summary"]["tax_label"] == "VAT (19%)"
    b2b = client.get(url, {"country": "FR", "is_business": "on", "tax_id": "FR40303265045"}).json()
    assert b2b["summary"]["tax"] == "€0.00" and b2b["summary"]["reverse_charge"] is True
    us = client.get(url, {"country": "US"}).json()  # no state yet: tax waits, no error
    assert us["error"] is None and us["summary"]["pending"] is True
    typo = client.get(url, {"country": "US", "state": "ZZ"}).json()
    assert typo["error"]["field"] == "state"
    bad = client.get(url, {"country": "FR", "is_business": "on", "tax_id": "FR123"}).json()
    assert bad["error"]["field"] == "tax_id"


def test_an_eu_business_with_a_valid_vat_number_is_reverse_charged(api, book):
    session = open_session(api, book, currency="EUR")
    client = Client()
    form = details(
        country="FR",
        state="",
        postcode="75001",
        city="Paris",
        address="1 rue de Rivoli",
        is_business="on",
        business_name="Acme SARL",
        tax_id="FR40303265045",
    )
    assert client.post(page_path(session), form).status_code == 303
    order = Order.objects.get(session=session)
    assert (order.tax_amount, order.total, order.reverse_charge) == (0, 10000, True)
    assert order.billing_detail["city"] == "Paris"
    assert order.billing_detail["taxId"] == "FR40303265045"


@pytest.mark.parametrize(
    "language, heading, button",
    [
        ("de", "Ihre Angaben", "Weiter zur Zahlung"),
        ("ja", "お客様情報", "お支払いへ進む"),
    ],
)
def test_a_session_language_translates_the_page(api, book, language, heading, button):
    session = open_session(api, book, language=language)
    response = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert heading in html and button in html


def test_the_language_switch_beats_the_browser_and_is_remembered(api, book):
    session = open_session(api, book)
    client = Client()
    response = client.get(page_path(session) + "?lang=fr", HTTP_ACCEPT_LANGUAGE="ja")
    assert '<html lang="fr"' in response.content.decode()
    again = client.get(page_path(session), HTTP_ACCEPT_LANGUAGE="ja")
    assert '<html lang="fr"' in again.content.decode()
    other = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    assert '<html lang="ko"' in other.content.decode()


def test_dark_mode_of_the_session_overrides_the_store_default(api, book, store):
    api.call(
        "store/update-store",
        {
            "id": ids.encode("STO", store.pk),
            "checkoutSettings": {"dark": {"checkoutColorPrimary": "#FF00AA"}},
        },
    )
    light = Client().get(page_path(open_session(api, book))).content.decode()
    assert "--brand-primary:#7CCB02;" in light and "checkout--light" in light
    dark = Client().get(page_path(open_session(api, book, darkMode=True))).content.decode()
    assert "--brand-primary:#FF00AA;" in dark and "checkout--dark" in dark


def test_a_subscription_shows_the_billing_preview_and_trial(api, plan):
    session = open_session(api, plan, withTrial=True)
    html = Client().get(page_path(session), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    today = timezone.now().date()
    first = (today + timedelta(days=14)).strftime("%B %-d, %Y")
    assert "Billed monthly" in html and "$10.00 / month" in html
    assert "14-day free trial" in html and first in html
    assert "Cancel anytime." in html

    no_trial = open_session(api, plan)
    html = Client().get(page_path(no_trial), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Free trial" not in html
    assert add_periods(today, "monthly").strftime("%B %-d, %Y") in html


def test_a_trial_saves_the_card_without_charging_and_starts_trialing(api, plan):
    session = open_session(api, plan, withTrial=True)
    client = Client()
    hosted = client.post(page_path(session), details())["Location"]
    card_page = client.get("/" + hosted.split("://", 1)[1].split("/", 1)[1]).content.decode()
    assert "Save card and start trial" in card_page and "14-day free trial" in card_page
    pay(client, hosted)
    order = Order.objects.get(session=session)
    assert order.status == "trialing"
    assert Payment.objects.get(order=order).amount == 0
    html = client.get(page_path(session)).content.decode()
    assert "Your trial has started" in html


def test_a_session_can_be_expired_early_and_its_page_says_so(api, book, make_api):
    session = open_session(api, book)
    session_id = str(session.pk)
    outsider = make_api()
    response = outsider.post("checkout/expire-session", {"checkoutSessionId": session_id})
    assert response.status_code == 404
    data = api.call("checkout/expire-session", {"checkoutSessionId": session_id})["data"]
    assert data["sessionId"] == session_id and data["status"] == "expired"
    page = Client().get(page_path(session))
    assert page.status_code == 410 and "This checkout has expired" in page.content.decode()
    assert Client().post(page_path(session), details()).status_code == 410
    again = api.call("checkout/expire-session", {"checkoutSessionId": session_id})["data"]
    assert again["status"] == "expired"  # expiring twice changes nothing


def test_a_session_with_an_order_is_not_expired(api, book):
    session = open_session(api, book)
    Client().post(page_path(session), details())
    response = api.post("checkout/expire-session", {"checkoutSessionId": str(session.pk)})
    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == (
        "Checkout session has an order: cancel the order instead"
    )
    assert CheckoutSession.objects.get(pk=session.pk).status == "open"


# --- step 2: the test processor's pages in the store's branding -----------------------------------

BRANDED = {
    "checkoutColorPrimary": "#FF00AA",
    "checkoutColorBackground": "#FFFBEB",
    "checkoutColorCard": "#FEF3C7",
    "checkoutColorText": "#1F2937",
    "checkoutBorderRadius": "4px",
    "checkoutLogo": "https://cdn.shop.example/logo.png",
}


def brand_store(api, store, **settings):
    api.call(
        "store/update-store",
        {"id": ids.encode("STO", store.pk), "checkoutSettings": settings},
    )


def provider_page(client, session):
    """Step 1's details, then the provider's card page it leads to: (its path, the response)."""
    hosted = client.post(page_path(session), details())["Location"]
    path = "/" + hosted.split("://", 1)[1].split("/", 1)[1]
    return path, client.get(path)


def styles_hashed_in_csp(response) -> str:
    """The page's one <style> element, after checking that the CSP's style-src carries its exact
    sha256 and nothing inline besides."""
    html = response.content.decode()
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    directives = dict(
        d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";")
    )
    assert directives["style-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    return styles[0]


def test_the_card_page_wears_the_stores_branding_hashed_in_its_csp(api, book, store):
    brand_store(api, store, light=BRANDED)
    _path, response = provider_page(Client(), open_session(api, book))
    assert response.status_code == 200
    css = styles_hashed_in_csp(response)
    assert css.startswith("body.tp-page{--brand-primary:#FF00AA;--brand-background:#FFFBEB;")
    assert "--brand-card:#FEF3C7;--brand-text:#1F2937;--brand-radius:4px;" in css
    html = response.content.decode()
    assert 'class="tp-page tp-page--branded tp-page--light"' in html
    assert '<img class="tp-brand__logo" src="https://cdn.shop.example/logo.png"' in html
    assert '<span class="tp-brand__name">My Store</span>' in html
    assert "Pancake test processor — no real money moves" in html
    assert "img-src 'self' data: https: http:;" in response["Content-Security-Policy"]
    assert ">Pay $29.00</button>" in html  # what display already carried is unchanged


def test_the_order_hands_the_provider_its_branding_beside_the_existing_display(api, book, store):
    brand_store(api, store, light=BRANDED)
    provider_page(Client(), open_session(api, book))
    display = TestProcessorPayment.objects.get().display
    assert display["title"] == "My Store" and display["button"] == "Pay $29.00"
    assert display["branding"] == {
        "theme": "light",
        "checkoutColorPrimary": "#FF00AA",
        "checkoutColorBackground": "#FFFBEB",
        "checkoutColorCard": "#FEF3C7",
        "checkoutColorText": "#1F2937",
        "checkoutBorderRadius": "4px",
        "logo": "https://cdn.shop.example/logo.png",
        "storeName": "My Store",
    }


def test_the_3ds_page_is_branded_too(api, book, store):
    brand_store(api, store, light=BRANDED)
    client = Client()
    path, _response = provider_page(client, open_session(api, book))
    challenge = client.post(
        path, {"number": "4000002760003184", "expiry": "12/34", "cvc": "123", "name": "Ada"}
    )
    assert challenge.status_code == 302
    response = client.get(challenge["Location"])
    assert response.status_code == 200
    assert "--brand-primary:#FF00AA;" in styles_hashed_in_csp(response)
    html = response.content.decode()
    assert "3-D Secure authentication" in html and "tp-page--branded" in html
    assert '<span class="tp-brand__name">My Store</span>' in html


def test_a_dark_mode_session_gets_the_dark_theme_on_the_card_page(api, book, store):
    brand_store(api, store, dark={"checkoutColorPrimary": "#22D3EE"})
    _path, light = provider_page(Client(), open_session(api, book))
    assert "--brand-primary:#7CCB02;" in styles_hashed_in_csp(light)
    assert "tp-page--light" in light.content.decode()
    _path, dark = provider_page(Client(), open_session(api, book, darkMode=True))
    css = styles_hashed_in_csp(dark)
    assert "--brand-primary:#22D3EE;--brand-background:#0A1A1F;" in css
    assert "--brand-text:#FFFFFF;" in css
    assert "tp-page--dark" in dark.content.decode()


def test_without_a_theme_logo_the_stores_own_logo_or_its_initial_is_shown(api, book, store):
    _path, response = provider_page(Client(), open_session(api, book))
    html = response.content.decode()
    assert "tp-brand__logo" not in html
    assert '<span class="tp-brand__mark" aria-hidden="true">M</span>' in html
    assert "img-src 'self' data:;" in response["Content-Security-Policy"]
    store.logo = "https://shop.example/own-logo.svg"
    store.save(update_fields=["logo"])
    _path, response = provider_page(Client(), open_session(api, book))
    assert 'src="https://shop.example/own-logo.svg"' in response.content.decode()


@pytest.mark.parametrize(
    ("primary", "button_text"),
    [("#FF00AA", "#111827"), ("#FDE68A", "#111827"), ("#1E3A8A", "#FFFFFF"), ("#000", "#FFFFFF")],
)
def test_the_pay_button_text_contrasts_with_the_brand_primary(
    api, book, store, primary, button_text
):
    brand_store(api, store, light={"checkoutColorPrimary": primary})
    _path, response = provider_page(Client(), open_session(api, book))
    assert f"--brand-on-primary:{button_text};" in styles_hashed_in_csp(response)


@pytest.mark.parametrize(
    ("theme", "button_text"),
    [
        ({"light": {"checkoutColorPrimary": "#0B1F3A"}}, "#FFFFFF"),
        ({"light": {"checkoutColorPrimary": "#7CCB02"}}, "#111827"),
        ({"defaultDarkMode": True, "dark": {"checkoutColorPrimary": "#0B1F3A"}}, "#FFFFFF"),
        ({"defaultDarkMode": True}, "#111827"),
    ],
)
def test_step_1_picks_its_button_text_and_grey_by_contrast_with_the_branding(
    api, book, store, theme, button_text
):
    brand_store(api, store, **theme)
    response = Client().get(page_path(open_session(api, book)))
    css = styles_hashed_in_csp(response)
    assert f"--brand-on-primary:{button_text};" in css
    values = dict(re.findall(r"(--brand-[a-z-]+):([^;]+);", css))
    for surface in ("--brand-background", "--brand-card"):
        assert branding.contrast(values["--brand-muted"], values[surface]) >= 4.5, values
    assert branding.contrast(button_text, values["--brand-primary"]) >= 4.5


@pytest.mark.parametrize(
    ("text", "background", "card"),
    [
        ("#111827", "#FFFFFF", "#F3F4F6"),  # the light default: the grey darkens
        ("#1F2937", "#FFFBEB", "#FEF3C7"),
        ("#FFFFFF", "#0A1A1F", "#0A1A1F"),  # the dark default: the grey reads already
        ("#E5E7EB", "#374151", "#4B5563"),  # a mid-grey dark theme: it lightens
    ],
)
def test_the_secondary_grey_reaches_4_5_to_1_on_the_background_and_the_card(text, background, card):
    values = {
        "checkoutColorText": text,
        "checkoutColorBackground": background,
        "checkoutColorCard": card,
    }
    muted = branding.muted_text(values, "light")
    assert branding.contrast(muted, background) >= 4.5
    assert branding.contrast(muted, card) >= 4.5
    assert muted != text  # still a secondary colour, not the text's
    if (
        branding.contrast(branding.SECONDARY_TEXT, card)
        >= 4.5
        <= branding.contrast(branding.SECONDARY_TEXT, background)
    ):
        assert muted == branding.SECONDARY_TEXT


def test_the_secondary_grey_falls_back_to_the_text_colour_when_nothing_else_reads():
    values = {
        "checkoutColorText": "#777777",
        "checkoutColorBackground": "#FFFFFF",
        "checkoutColorCard": "#FFFFFF",
    }
    assert branding.muted_text(values, "light") == "#777777"


def test_a_payment_without_branding_looks_and_is_policed_as_before(api, book):
    path, _response = provider_page(Client(), open_session(api, book))
    payment = TestProcessorPayment.objects.get()
    display = {k: v for k, v in payment.display.items() if k != "branding"}  # an older row
    TestProcessorPayment.objects.filter(pk=payment.pk).update(display=display)
    response = Client().get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "<style" not in html and "tp-brand" not in html and "tp-page--branded" not in html
    assert '<body class="tp-page">' in html
    assert '<p class="tp-merchant">My Store</p>' in html


def test_hostile_branding_values_cannot_inject_css_or_markup(api, book):
    path, _response = provider_page(Client(), open_session(api, book))
    payment = TestProcessorPayment.objects.get()
    payment.display["branding"] = {
        "theme": "light}body{color:red",
        "checkoutColorPrimary": "red;}body{background:url(https://evil.example/x)}",
        "checkoutColorBackground": "#FFF</style><script>alert(1)</script>",
        "checkoutColorCard": ["#000"],
        "checkoutColorText": None,
        "checkoutBorderRadius": "1px;}*{display:none",
        "logo": "javascript:alert(1)",
        "storeName": "<b>Evil</b>",
    }
    payment.save(update_fields=["display"])
    response = Client().get(path)
    assert response.status_code == 200
    css = styles_hashed_in_csp(response)
    assert css == (
        "body.tp-page{--brand-primary:#7CCB02;--brand-background:#FFFFFF;--brand-card:#F3F4F6;"
        "--brand-text:#111827;--brand-radius:8px;--brand-muted:#67696E;"
        "--brand-on-primary:#111827;}"
    )
    html = response.content.decode()
    assert "evil.example" not in html and "<script>" not in html
    assert "javascript:" not in html and "tp-brand__logo" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html and "<b>Evil</b>" not in html
    assert "tp-page--light" in html
    assert "img-src 'self' data:;" in response["Content-Security-Policy"]
