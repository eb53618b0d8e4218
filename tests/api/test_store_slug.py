"""Store-slug calls: public, for the checkout actions only."""

import json

import pytest
from django.test import Client

from tests.api.helpers import assert_error, assert_ok, short


def _slug_call(slug, environment="test", path="/v1/actions/store/update-store", body=None):
    headers = {"HTTP_X_STORE_SLUG": slug}
    if environment is not None:
        headers["HTTP_X_ENVIRONMENT"] = environment
    return Client().post(
        path, data=json.dumps(body or {}), content_type="application/json", **headers
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/actions/store/create-store",
        "/v1/actions/store/update-store",
        "/v1/actions/store/delete-store",
        "/v1/actions/store-merchant/add-merchant",
        "/v1/actions/store-merchant/remove-merchant",
        "/v1/actions/store-merchant/update-role",
        "/v1/actions/auth/issue-session-token",
    ],
)
def test_store_slug_authenticates_but_is_refused_on_store_actions(store, path):
    response = _slug_call(
        store.slug, path=path, body={"id": short("STO", store.pk), "name": "Hijack"}
    )
    assert_error(response, 403, "Insufficient permissions")
    store.refresh_from_db()
    assert store.name == "My Store"
    assert store.deleted_at is None


def test_store_slug_without_x_environment_is_400(store):
    assert_error(
        _slug_call(store.slug, environment=None), 400, "Missing required header: X-Environment"
    )


def test_store_slug_with_an_unknown_environment_is_400(store):
    assert_error(
        _slug_call(store.slug, environment="live"),
        400,
        "Invalid X-Environment: expected test or prod",
    )


def test_unknown_store_slug_is_401(db):
    assert_error(_slug_call("no-such-store-000000"), 401, "Invalid store slug")


def test_slug_of_a_deleted_store_is_401(api, store):
    slug = store.slug
    assert_error(_slug_call(slug), 403)
    assert_ok(api.post("store/delete-store", {"id": short("STO", store.pk)}))
    assert_error(_slug_call(slug), 401, "Invalid store slug")
