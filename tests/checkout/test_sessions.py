"""checkout/create-session (new-purchase mode): what a session freezes, who may set
what, and the answers for every refusal."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checkout.models import CheckoutSession
from pancake.api import ids
from products.models import ProductVersion
from products.services import product_create, product_update
from tests.factories import make_api_key
from tests.helpers import ApiClient

PRICES = {
    "USD": {"amount": 2900, "taxCategory": "ebook"},
    "JPY": {"amount": 4500, "taxCategory": "ebook", "taxIncluded": True},
}


@pytest.fixture
def product(store):
    return product_create(store=store, kind="onetime", name="E-Book", prices=PRICES)


@pytest.fixture
def plan(store):
    return product_create(
        store=store,
        kind="subscription",
        name="Pro",
        billing_period="monthly",
        prices={"USD": {"amount": 999, "taxCategory": "saas", "trialAmount": 100}},
        metadata={"trialDays": 7},
    )


def pid(product) -> str:
    return ids.encode("PROD", product.pk)


def create(api, product, **body):
    return api.post(
        "checkout/create-session", {"productId": pid(product), "currency": "USD", **body}
    )


def slug_post(store, body, environment="test"):
    return Client().post(
        "/v1/actions/checkout/create-session",
        data=body,
        content_type="application/json",
        HTTP_X_STORE_SLUG=store.slug,
        HTTP_X_ENVIRONMENT=environment,
    )


def only_session():
    assert CheckoutSession.objects.count() == 1
    return CheckoutSession.objects.get()


def test_a_session_freezes_version_price_and_currency_and_answers_the_sdk_fields(
    api, product, settings
):
    settings.BASE_URL = "https://pay.example.com"
    response = create(api, product)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == {"sessionId", "checkoutUrl", "expiresAt"}
    session = only_session()
    assert data["sessionId"] == str(session.pk)
    assert (
        data["checkoutUrl"]
        == f"https://pay.example.com/store/{product.store.slug}/checkout/{session.pk}"
    )
    assert "#" not in data["checkoutUrl"]
    assert (session.version_id, session.amount, session.currency) == (
        product.test_version_id,
        2900,
        "USD",
    )
    assert (session.tax_category, session.tax_included, session.kind) == ("ebook", False, "onetime")
    assert data["expiresAt"].endswith("Z")


def test_later_product_changes_never_reach_an_existing_session(api, product, merchant):
    create(api, product)
    session = only_session()
    from pancake.api.actor import merchant_actor

    product_update(
        actor=merchant_actor(merchant, "test"),
        product_id=product.pk,
        kind="onetime",
        prices={"USD": {"amount": 4900, "taxCategory": "ebook"}},
    )
    session.refresh_from_db()
    old = ProductVersion.objects.get(pk=session.version_id)
    assert session.amount == 2900 and old.prices["USD"]["amount"] == 2900
    create(api, product)
    newest = CheckoutSession.objects.order_by("-created_at").first()
    assert newest.amount == 4900 and newest.version_id != session.version_id


def test_default_lifetime_is_seven_days_and_expires_in_seconds_is_honoured(api, product):
    before = timezone.now()
    create(api, product)
    assert abs(only_session().expires_at - (before + timedelta(days=7))) < timedelta(seconds=30)
    CheckoutSession.objects.all().delete()
    create(api, product, expiresInSeconds=3600)
    assert abs(only_session().expires_at - (before + timedelta(hours=1))) < timedelta(seconds=30)


@pytest.mark.parametrize("seconds", [0, 59, 31 * 24 * 3600, "soon", -5])
def test_out_of_range_lifetimes_are_refused(api, product, seconds):
    response = create(api, product, expiresInSeconds=seconds)
    assert response.status_code == 400
    assert "expiresInSeconds" in response.json()["errors"][0]["message"]
    assert not CheckoutSession.objects.exists()


def test_a_currency_the_product_has_no_price_in_is_refused_naming_the_prices(api, product):
    response = api.post("checkout/create-session", {"productId": pid(product), "currency": "EUR"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": "Invalid currency: this product is priced in JPY, USD", "layer": "order"}
    ]


def test_missing_product_or_currency_is_a_400(api, product):
    assert (
        api.post("checkout/create-session", {"currency": "USD"}).json()["errors"][0]["message"]
        == "Missing required field: productId"
    )
    assert (
        api.post("checkout/create-session", {"productId": pid(product)}).json()["errors"][0][
            "message"
        ]
        == "Missing required field: currency"
    )


def test_price_snapshot_overrides_the_price_for_api_keys(api, product):
    response = create(
        api, product, priceSnapshot={"amount": "19.99", "taxCategory": "digital_goods"}
    )
    assert response.status_code == 200
    session = only_session()
    assert (session.amount, session.tax_category, session.price_overridden) == (
        1999,
        "digital_goods",
        True,
    )


@pytest.mark.parametrize(
    "snapshot, message",
    [
        ({"amount": "19.999", "taxCategory": "saas"}, "Invalid priceSnapshot.amount"),
        ({"amount": "-1", "taxCategory": "saas"}, "Invalid priceSnapshot.amount"),
        ({"amount": "19.99", "taxCategory": "food"}, "Invalid priceSnapshot.taxCategory"),
        ({"taxCategory": "saas"}, "Invalid priceSnapshot"),
        ("19.99", "Invalid priceSnapshot"),
    ],
)
def test_bad_price_snapshots_are_refused(api, product, snapshot, message):
    response = create(api, product, priceSnapshot=snapshot)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(message)


def test_store_slug_callers_cannot_set_prices_external_ids_or_methods(product):
    response = slug_post(
        product.store,
        {
            "productId": pid(product),
            "currency": "USD",
            "priceSnapshot": {"amount": "0.01", "taxCategory": "saas"},
            "orderMerchantExternalId": "EXT-1",
            "includePaymentMethods": ["card"],
        },
    )
    assert response.status_code == 200, response.content
    session = only_session()
    assert (session.amount, session.order_merchant_external_id) == (2900, None)
    assert session.created_via == "store_slug"
    warnings = [w["message"] for w in response.json()["warnings"]]
    assert any(w.startswith("priceSnapshot ignored") for w in warnings)
    assert any(w.startswith("orderMerchantExternalId ignored") for w in warnings)


def test_store_slug_sessions_only_sell_that_stores_products(product, make_api):
    other = make_api(email="other@example.com")
    other_store = other.call("store/create-store", {"name": "Other"})["data"]["store"]
    from stores.models import Store

    response = slug_post(
        Store.objects.get(pk=ids.parse_id(other_store["id"], "STO")),
        {"productId": pid(product), "currency": "USD"},
    )
    assert response.status_code == 404
    assert not CheckoutSession.objects.exists()


def test_store_id_and_product_type_are_derived_and_only_checked_when_sent(api, product):
    assert (
        create(
            api, product, storeId=ids.encode("STO", product.store_id), productType="onetime"
        ).status_code
        == 200
    )
    wrong_type = create(api, product, productType="subscription")
    assert wrong_type.status_code == 400
    assert (
        wrong_type.json()["errors"][0]["message"]
        == "Invalid productType: the product is a onetime product"
    )
    wrong_store = create(api, product, storeId="STO_0000000000000000000001")
    assert wrong_store.status_code == 403


def test_inactive_or_unpublished_products_cannot_be_sold(api, product, merchant, key_pool):
    from pancake.api.actor import merchant_actor
    from products.services import product_update_status

    product_update_status(
        actor=merchant_actor(merchant, "test"),
        product_id=product.pk,
        kind="onetime",
        status="inactive",
    )
    response = create(api, product)
    assert response.status_code == 400
    assert (
        response.json()["errors"][0]["message"] == "Product is not available for purchase in test"
    )
    make_api_key(merchant, key_pool[1], environment="prod")
    prod = ApiClient(merchant, key_pool[1])
    unpublished = create(prod, product)
    assert unpublished.status_code == 400
    assert (
        unpublished.json()["errors"][0]["message"]
        == "Product is not available for purchase in prod"
    )


def test_another_merchants_product_is_not_found(make_api, product):
    stranger = make_api(email="stranger@example.com")
    response = create(stranger, product)
    assert response.status_code == 404
    assert not CheckoutSession.objects.exists()


def test_a_member_cannot_create_sessions_with_an_api_key(product, make_api, member_of):
    member = make_api(email="member@example.com")
    member_of(product.store, member.merchant, "member")
    assert create(member, product).status_code == 403


def test_plan_change_mode_needs_an_order_of_the_caller_and_refuses_store_slugs(api, product):
    body = {"originOrderId": "ORD_0000000000000000000001"}
    response = create(api, product, **body)
    assert response.status_code == 404
    assert response.json()["errors"][0] == {"message": "Order not found", "layer": "order"}
    slug = slug_post(product.store, {"productId": pid(product), "currency": "USD", **body})
    assert slug.status_code == 403
    assert not CheckoutSession.objects.exists()


def test_payment_method_lists_keep_what_can_be_offered_and_warn_about_the_rest(api, product):
    response = create(api, product, includePaymentMethods=["wechat", "card"])
    assert response.status_code == 200
    assert only_session().payment_methods == ["card"]
    assert "wechat" in response.json()["warnings"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"includePaymentMethods": ["card"], "excludePaymentMethods": ["wechat"]},
        {"includePaymentMethods": ["bitcoin"]},
        {"includePaymentMethods": ["wechat"]},
        {"excludePaymentMethods": ["card"]},
    ],
)
def test_impossible_payment_method_lists_are_refused(api, product, body):
    assert create(api, product, **body).status_code == 400


@pytest.mark.parametrize(
    "tag, expected",
    [("ja-JP", "ja"), ("es-MX", "es"), ("zh-Hant-TW", "zh"), ("en", "en"), ("ko-KR", "ko")],
)
def test_sdk_language_tags_map_to_the_nearest_checkout_language(api, product, tag, expected):
    response = create(api, product, language=tag)
    assert response.status_code == 200
    assert "warnings" not in response.json()
    assert (only_session().language, only_session().checkout_language) == (tag, expected)


def test_a_language_we_do_not_offer_falls_back_with_a_warning(api, product):
    response = create(api, product, language="pt-BR")
    assert response.status_code == 200
    assert only_session().checkout_language == ""
    assert "pt-BR" in response.json()["warnings"][0]["message"]


def test_prefilled_buyer_details_are_normalised_and_checked(api, product):
    response = create(
        api,
        product,
        buyerEmail="  Buyer@Example.COM ",
        billingDetail={"country": "US", "isBusiness": False, "state": "CA", "postcode": "94105"},
        metadata={"planId": "pro"},
        orderMerchantExternalId="ORDER-1",
        darkMode=True,
        successUrl="https://example.com/thanks",
    )
    assert response.status_code == 200, response.content
    session = only_session()
    assert session.buyer_email == "buyer@example.com"
    assert session.billing_detail == {
        "country": "US",
        "isBusiness": False,
        "state": "CA",
        "postcode": "94105",
    }
    assert (session.metadata, session.order_merchant_external_id, session.dark_mode) == (
        {"planId": "pro"},
        "ORDER-1",
        True,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"billingDetail": {"country": "usa", "isBusiness": False}},
        {"billingDetail": {"country": "US", "isBusiness": "no"}},
        {"billingDetail": "US"},
        {"metadata": {"n": 1}},
        {"metadata": ["a"]},
        {"buyerEmail": "not-an-email"},
        {"successUrl": "javascript:alert(1)"},
        {"orderMerchantExternalId": "x" * 129},
    ],
)
def test_malformed_prefills_are_400s(api, product, body):
    response = create(api, product, **body)
    assert response.status_code == 400, response.content
    assert not CheckoutSession.objects.exists()


def test_subscription_sessions_carry_the_trial_of_their_version(api, plan):
    response = create(api, plan, withTrial=True)
    assert response.status_code == 200
    session = only_session()
    assert (session.kind, session.trial_days, session.trial_amount, session.with_trial) == (
        "subscription",
        7,
        100,
        True,
    )


def test_with_trial_on_a_product_without_trial_warns(api, product, store):
    no_trial = product_create(
        store=store,
        kind="subscription",
        name="Basic",
        billing_period="monthly",
        prices={"USD": {"amount": 500, "taxCategory": "saas"}},
    )
    response = create(api, no_trial, withTrial=True)
    assert response.status_code == 200
    assert "withTrial ignored" in response.json()["warnings"][0]["message"]


def test_idempotent_session_creation_makes_one_session(api, product):
    headers = {"HTTP_X_IDEMPOTENCY_KEY": "checkout-42"}
    first = api.post(
        "checkout/create-session", {"productId": pid(product), "currency": "USD"}, headers
    )
    second = api.post(
        "checkout/create-session", {"productId": pid(product), "currency": "USD"}, headers
    )
    assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
    assert CheckoutSession.objects.count() == 1


def test_the_checkout_page_shows_the_frozen_offer_and_expired_sessions_say_so(api, product):
    url = create(api, product).json()["data"]["checkoutUrl"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = Client().get("/" + path)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "E-Book" in html and "$29.00" in html and "Test Mode - No real charges will be made" in html
    )
    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().get("/" + path)
    assert expired.status_code == 410
    assert "This checkout has expired" in expired.content.decode()
    assert (
        Client().get("/store/not-the-store/checkout/" + path.rsplit("/", 1)[1]).status_code == 404
    )
