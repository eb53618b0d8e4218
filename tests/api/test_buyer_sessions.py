"""Buyer session tokens: issued with an API key, used with Bearer + X-Environment,
5 minutes sliding, never past 60 minutes from issue."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from products.services import product_create
from stores.models import BuyerSession
from tests.api.helpers import TIMESTAMP_RE, assert_error, assert_ok, short

ISSUE = "auth/issue-session-token"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _issue(api, **payload):
    payload.setdefault("buyerIdentity", "Buyer@Example.com ")
    return api.post(ISSUE, payload)


def _use(token, environment="test", path="/v1/actions/store/update-store"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if environment is not None:
        headers["HTTP_X_ENVIRONMENT"] = environment
    return Client().post(path, data=json.dumps({}), content_type="application/json", **headers)


def _authenticated(response) -> bool:
    """A buyer token on a merchant-only action: 403 proves the token itself was accepted."""
    if response.status_code == 403:
        assert_error(response, 403, "Insufficient permissions")
        return True
    assert_error(response, 401)
    return False


def _product(store):
    return product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "ebook"}},
    )


def test_issue_with_store_id_returns_token_and_five_minute_expiry(api, store):
    with time_machine.travel(T0, tick=False):
        data = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]
    assert set(data) == {"token", "expiresAt"}
    assert data["expiresAt"] == "2026-03-01T12:05:00.000Z"
    assert TIMESTAMP_RE.match(data["expiresAt"])
    session = BuyerSession.objects.get()
    assert session.store == store
    assert session.buyer_identity == "buyer@example.com"
    assert session.environment == "test"
    assert session.issued_by == api.merchant
    assert session.max_expires_at == T0 + timedelta(hours=1)


def test_issue_with_product_id_binds_the_token_to_the_products_store(api, store):
    product = _product(store)
    data = assert_ok(_issue(api, productId=short("PROD", product.pk), buyerIdentity="user-123"))[
        "data"
    ]
    session = BuyerSession.objects.get()
    assert session.store == store
    assert session.product_id == product.pk
    assert session.buyer_identity == "user-123"
    assert _authenticated(_use(data["token"]))


def test_issue_with_product_of_another_store_than_store_id_is_404(api, store):
    other_store = assert_ok(api.post("store/create-store", {"name": "Other"}))["data"]["store"]
    product = _product(store)
    response = _issue(api, storeId=other_store["id"], productId=short("PROD", product.pk))
    assert_error(response, 404, "Product not found")


def test_issue_for_unknown_product_is_404(api, store):
    response = _issue(api, productId="PROD_000000001VgEh72lXvTXkH")
    assert_error(response, 404, "Product not found")
    assert not BuyerSession.objects.exists()


def test_issue_needs_store_id_or_product_id(api, store):
    assert_error(_issue(api), 400, "Missing required field: storeId or productId")
    assert_error(
        _issue(api, storeId=None, productId=None),
        400,
        "Missing required field: storeId or productId",
    )


def test_issue_needs_a_buyer_identity(api, store):
    response = api.post(ISSUE, {"storeId": short("STO", store.pk)})
    assert_error(response, 400, "Missing required field: buyerIdentity")
    response = api.post(ISSUE, {"storeId": short("STO", store.pk), "buyerIdentity": "   "})
    assert_error(response, 400)


def test_another_merchant_cannot_issue_a_token_for_a_store_that_is_not_theirs(api, store, make_api):
    stranger = make_api()
    response = _issue(stranger, storeId=short("STO", store.pk))
    assert_error(response, 404, "Store not found")
    product = _product(store)
    assert_error(_issue(stranger, productId=short("PROD", product.pk)), 404)
    assert not BuyerSession.objects.exists()


def test_token_is_accepted_with_its_environment_and_refused_on_merchant_actions(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    assert _authenticated(_use(token, "test"))


def test_token_without_x_environment_is_400(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    assert_error(_use(token, environment=None), 400, "Missing required header: X-Environment")


def test_token_with_another_environment_is_400_mismatch(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    assert_error(_use(token, "prod"), 400, "Environment mismatch between request and session")
    assert_error(_use(token, "staging"), 400)


def test_token_issued_with_a_prod_key_belongs_to_prod(make_api, member_of, store):
    prod = make_api(environment="prod")
    member_of(store, prod.merchant, "admin")
    token = assert_ok(_issue(prod, storeId=short("STO", store.pk)))["data"]["token"]
    assert BuyerSession.objects.get().environment == "prod"
    assert _authenticated(_use(token, "prod"))
    assert_error(_use(token, "test"), 400, "Environment mismatch between request and session")


def test_each_use_slides_expiry_by_five_minutes(api, store):
    with time_machine.travel(T0, tick=False) as clock:
        token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
        clock.move_to(T0 + timedelta(minutes=4))
        assert _authenticated(_use(token))
        assert BuyerSession.objects.get().expires_at == T0 + timedelta(minutes=9)
        # Without the extension the token would have died at minute 5.
        clock.move_to(T0 + timedelta(minutes=8))
        assert _authenticated(_use(token))
        assert BuyerSession.objects.get().expires_at == T0 + timedelta(minutes=13)


def test_sliding_expiry_is_capped_at_sixty_minutes_from_issue(api, store):
    with time_machine.travel(T0, tick=False) as clock:
        token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
        for minute in range(4, 60, 4):
            clock.move_to(T0 + timedelta(minutes=minute))
            assert _authenticated(_use(token)), minute
        clock.move_to(T0 + timedelta(minutes=59))
        assert _authenticated(_use(token))
        assert BuyerSession.objects.get().expires_at == T0 + timedelta(minutes=60)
        clock.move_to(T0 + timedelta(minutes=60, seconds=1))
        assert_error(_use(token), 401, "Session token has expired")


def test_unused_token_expires_after_five_minutes(api, store):
    with time_machine.travel(T0, tick=False) as clock:
        token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
        clock.move_to(T0 + timedelta(minutes=4, seconds=59))
        assert _authenticated(_use(token))
        clock.move_to(T0 + timedelta(minutes=9, seconds=58))
        assert _authenticated(_use(token))
        clock.move_to(T0 + timedelta(minutes=14, seconds=59))
        assert_error(_use(token), 401, "Session token has expired")
        clock.move_to(T0 + timedelta(minutes=15))
        assert_error(_use(token), 401, "Session token has expired")


def test_expired_token_is_not_revived_by_a_later_use(api, store):
    with time_machine.travel(T0, tick=False) as clock:
        token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
        clock.move_to(T0 + timedelta(minutes=6))
        assert_error(_use(token), 401, "Session token has expired")
        assert BuyerSession.objects.get().expires_at == T0 + timedelta(minutes=5)


def test_token_of_a_deleted_store_stops_working(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    assert_ok(api.post("store/delete-store", {"id": short("STO", store.pk)}))
    assert_error(_use(token), 401)


def test_token_whose_session_row_is_gone_is_refused(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    BuyerSession.objects.all().delete()
    assert_error(_use(token), 401)


def test_tampered_token_is_refused(api, store):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert_error(_use(f"{head}.{payload}.{flipped}"), 401, "Invalid session token")


@pytest.mark.parametrize(
    "path", ["/v1/actions/store/create-store", "/v1/actions/store-merchant/add-merchant"]
)
def test_buyer_token_cannot_call_merchant_actions(api, store, path):
    token = assert_ok(_issue(api, storeId=short("STO", store.pk)))["data"]["token"]
    assert_error(_use(token, path=path), 403, "Insufficient permissions")
