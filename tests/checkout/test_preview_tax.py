"""checkout/preview-tax: the tax of a session's frozen price for a billing detail,
by API key or store slug, amounts by API version."""

import pytest
from django.test import Client
from django.utils import timezone

from checkout.models import CheckoutSession
from pancake.api import ids
from products.services import product_create


@pytest.fixture
def session_id(api, store):
    product = product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={
            "EUR": {"amount": 10000, "taxCategory": "saas", "taxIncluded": True},
            "USD": {"amount": 50, "taxCategory": "saas"},
        },
    )
    body = {"productId": ids.encode("PROD", product.pk), "currency": "EUR"}
    return api.call("checkout/create-session", body)["data"]["sessionId"]


def preview(api, session_id, **detail):
    return api.post(
        "checkout/preview-tax", {"checkoutSessionId": session_id, "billingDetail": detail}
    )


def test_an_inclusive_eur_price_for_a_german_consumer(api, session_id):
    response = preview(api, session_id, country="DE", isBusiness=False)
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {
        "subtotal": "84.03",
        "taxAmount": "15.97",
        "total": "100.00",
        "taxRate": 0.19,
        "taxName": "VAT",
        "reverseCharge": False,
        "currency": "EUR",
    }


def test_the_documentation_version_answers_integers(api, session_id):
    response = api.post(
        "checkout/preview-tax",
        {"checkoutSessionId": session_id, "billingDetail": {"country": "DE", "isBusiness": False}},
        {"HTTP_PANCAKE_VERSION": "2026-01-15"},
    )
    data = response.json()["data"]
    assert (data["subtotal"], data["taxAmount"], data["total"]) == (8403, 1597, 10000)


def test_store_slug_callers_preview_their_stores_sessions(api, session_id, store):
    response = Client().post(
        "/v1/actions/checkout/preview-tax",
        data={
            "checkoutSessionId": session_id,
            "billingDetail": {"country": "FR", "isBusiness": False},
        },
        content_type="application/json",
        HTTP_X_STORE_SLUG=store.slug,
        HTTP_X_ENVIRONMENT="test",
    )
    assert response.status_code == 200
    assert response.json()["data"]["taxRate"] == 0.2


def test_us_without_state_and_blocked_countries_are_refused(api, session_id):
    no_state = preview(api, session_id, country="US", isBusiness=False)
    assert no_state.status_code == 400
    assert no_state.json()["errors"][0]["message"] == "State is required for US/CA"
    blocked = preview(api, session_id, country="IR", isBusiness=False)
    assert blocked.status_code == 403


def test_an_expired_or_unknown_session_must_be_re_entered(api, session_id):
    CheckoutSession.objects.update(expires_at=timezone.now())
    response = preview(api, session_id, country="DE", isBusiness=False)
    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == "Checkout session invalid, please re-enter"
    unknown = preview(api, "00000000-0000-4000-8000-000000000000", country="DE", isBusiness=False)
    assert unknown.status_code == 409


def test_another_stores_session_is_refused(session_id, make_api):
    stranger = make_api(email="stranger@example.com")
    response = preview(stranger, session_id, country="DE", isBusiness=False)
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "Session does not belong to this store"


def test_missing_or_malformed_billing_detail_is_a_400(api, session_id):
    missing = api.post("checkout/preview-tax", {"checkoutSessionId": session_id})
    assert missing.json()["errors"][0]["message"] == "Missing required field: billingDetail"
    assert preview(api, session_id, country="Germany", isBusiness=False).status_code == 400
