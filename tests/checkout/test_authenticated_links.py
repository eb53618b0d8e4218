"""Authenticated checkout links: the page sends the `#token=` buyer token once and the
token's buyer identity is bound to the session; the binding outlives the token."""

import json

import pytest
from django.test import Client

from checkout.models import CheckoutSession
from pancake.api import ids
from products.services import product_create
from stores.models import BuyerSession


@pytest.fixture
def product(store):
    return product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "ebook"}},
    )


def session_for(api, product) -> CheckoutSession:
    data = api.call(
        "checkout/create-session", {"productId": ids.encode("PROD", product.pk), "currency": "USD"}
    )
    return CheckoutSession.objects.get(pk=data["data"]["sessionId"])


def token_for(api, buyer="user-123", **body) -> str:
    return api.call("auth/issue-session-token", {"buyerIdentity": buyer, **body})["data"]["token"]


def bind(session, token, environment="test", slug=None):
    return Client(enforce_csrf_checks=True).post(
        f"/store/{slug or session.store.slug}/checkout/{session.pk}/buyer",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT=environment,
    )


def test_a_product_token_binds_its_buyer_identity_to_the_session(api, product):
    session = session_for(api, product)
    response = bind(session, token_for(api, productId=ids.encode("PROD", product.pk)))
    assert response.status_code == 200, response.content
    session.refresh_from_db()
    assert session.buyer_identity == "user-123"


def test_an_email_identity_prefills_the_buyer_email(api, product):
    session = session_for(api, product)
    bind(
        session,
        token_for(api, buyer="Buyer@Example.com", storeId=ids.encode("STO", product.store_id)),
    )
    session.refresh_from_db()
    assert (session.buyer_identity, session.buyer_email) == (
        "buyer@example.com",
        "buyer@example.com",
    )


def test_the_binding_outlives_the_token(api, product):
    session = session_for(api, product)
    bind(session, token_for(api, storeId=ids.encode("STO", product.store_id)))
    BuyerSession.objects.all().delete()
    session.refresh_from_db()
    assert session.buyer_identity == "user-123"


def test_a_token_for_another_product_is_refused(api, product, store):
    other = product_create(
        store=store,
        kind="onetime",
        name="Other",
        prices={"USD": {"amount": 100, "taxCategory": "ebook"}},
    )
    session = session_for(api, product)
    response = bind(session, token_for(api, productId=ids.encode("PROD", other.pk)))
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.buyer_identity is None


def test_a_token_of_another_store_cannot_see_the_session(api, product, make_api):
    stranger = make_api(email="stranger@example.com")
    other_store = stranger.call("store/create-store", {"name": "Other"})["data"]["store"]["id"]
    session = session_for(api, product)
    response = bind(session, token_for(stranger, storeId=other_store))
    assert response.status_code == 404
    assert json.loads(response.content)["errors"][0]["message"] == "Checkout session not found"


def test_environment_must_match_and_a_bound_session_stays_with_its_buyer(api, product):
    session = session_for(api, product)
    store_id = ids.encode("STO", product.store_id)
    assert bind(session, token_for(api, storeId=store_id), environment="prod").status_code == 400
    assert bind(session, token_for(api, storeId=store_id)).status_code == 200
    again = bind(session, token_for(api, buyer="someone-else", storeId=store_id))
    assert again.status_code == 409
    session.refresh_from_db()
    assert session.buyer_identity == "user-123"


def test_merchant_credentials_and_garbage_are_refused(api, product):
    session = session_for(api, product)
    assert bind(session, "not-a-token").status_code == 401
    no_auth = Client().post(f"/store/{session.store.slug}/checkout/{session.pk}/buyer")
    assert no_auth.status_code == 401
    assert json.loads(no_auth.content)["errors"][0]["message"] == "Missing authentication"
