"""Who may write the catalog: owners and admins write, members get 403 on
every write, other merchants get 404 for anything of a store they are not in, and a product of
the other kind is not found."""

from dataclasses import dataclass

import pytest

from products.models import Product, ProductGroup, ProductVersion
from tests.api.helpers import assert_error, assert_ok, short
from tests.products.helpers import (
    GROUP,
    ONETIME,
    SUBSCRIPTION,
    create_group,
    create_product,
    group_row,
    product_row,
)


@dataclass
class Catalog:
    onetime: str
    subscription: str
    group: str
    store_id: str


@pytest.fixture
def catalog(api, store):
    onetime = create_product(api, ONETIME, store)["id"]
    subscription = create_product(api, SUBSCRIPTION, store)["id"]
    group = create_group(api, store, productIds=[subscription])["id"]
    return Catalog(onetime, subscription, group, short("STO", store.pk))


def _writes(c: Catalog):
    """Every catalog write with a valid body: (action, body)."""
    sub_body = {
        "storeId": c.store_id,
        "name": "Another plan",
        "billingPeriod": "weekly",
        "prices": {"USD": {"amount": "1.00", "taxCategory": "saas"}},
    }
    return [
        (
            f"{ONETIME}/create-product",
            {
                "storeId": c.store_id,
                "name": "Another",
                "prices": {"USD": {"amount": "1.00", "taxCategory": "ebook"}},
            },
        ),
        (f"{ONETIME}/update-product", {"id": c.onetime, "name": "Changed"}),
        (f"{ONETIME}/publish-product", {"id": c.onetime}),
        (f"{ONETIME}/update-status", {"id": c.onetime, "status": "inactive"}),
        (f"{SUBSCRIPTION}/create-product", sub_body),
        (f"{SUBSCRIPTION}/update-product", {"id": c.subscription, "billingPeriod": "yearly"}),
        (f"{SUBSCRIPTION}/publish-product", {"id": c.subscription}),
        (f"{SUBSCRIPTION}/update-status", {"id": c.subscription, "status": "inactive"}),
        (f"{GROUP}/create-group", {"storeId": c.store_id, "name": "Another group"}),
        (f"{GROUP}/update-group", {"id": c.group, "rules": {"sharedTrial": True}}),
        (f"{GROUP}/publish-group", {"id": c.group}),
        (f"{GROUP}/delete-group", {"id": c.group}),
    ]


def _state():
    """Everything a write could change."""
    return (
        sorted(
            Product.objects.values_list(
                "id", "test_version_id", "test_status", "prod_version_id", "prod_status"
            )
        ),
        ProductVersion.objects.count(),
        sorted(
            ProductGroup.objects.values_list(
                "id", "name", "shared_trial", "self_service_plan_change", "environment"
            )
        ),
    )


@pytest.mark.parametrize("environment", ["test", "prod"])
def test_a_member_gets_403_on_every_catalog_write(
    store, catalog, make_api, member_of, prod_api, environment
):
    member = make_api(environment=environment)
    member_of(store, member.merchant, "member")
    if environment == "prod":  # a prod key sees prod groups only
        catalog.group = create_group(prod_api, store, name="Live")["id"]
    before = _state()

    for action, body in _writes(catalog):
        error = assert_error(member.post(action, body), 403, "Insufficient permissions")
        assert error["layer"] in {"product", "store"}, action

    assert _state() == before


def test_an_admin_can_make_every_catalog_write(store, catalog, make_api, member_of):
    admin = make_api()
    member_of(store, admin.merchant, "admin")

    for action, body in _writes(catalog):
        assert_ok(admin.post(action, body))

    assert product_row(catalog.onetime).test_version.name == "Changed"
    assert product_row(catalog.subscription).test_version.billing_period == "yearly"
    assert product_row(catalog.onetime).test_status == "inactive"
    assert not ProductGroup.objects.filter(pk=catalog.group).exists()
    assert Product.objects.filter(store=store).count() == 4


def test_another_merchant_gets_404_on_every_catalog_write(store, catalog, outsider):
    own_store = assert_ok(outsider.post("store/create-store", {"name": "Theirs"}))
    assert own_store
    before = _state()

    for action, body in _writes(catalog):
        response = outsider.post(action, body)
        assert_error(response, 404)
        message = response.json()["errors"][0]["message"]
        assert message in {
            "Store not found",
            "One-time product not found",
            "Subscription product not found",
            "Product group not found",
        }, (action, message)

    assert _state() == before


def test_a_removed_member_is_an_outsider_again(api, store, catalog, make_api, member_of):
    admin = make_api()
    member_of(store, admin.merchant, "admin")
    assert_ok(admin.post(f"{ONETIME}/update-product", {"id": catalog.onetime, "name": "By admin"}))
    assert_ok(
        api.post(
            "store-merchant/remove-merchant",
            {"storeId": catalog.store_id, "merchantId": admin.merchant_id},
        )
    )

    response = admin.post(f"{ONETIME}/update-product", {"id": catalog.onetime, "name": "Again"})

    assert_error(response, 404, "One-time product not found", layer="product")
    assert product_row(catalog.onetime).test_version.name == "By admin"


def test_a_deleted_stores_catalog_is_not_found(api, store, catalog):
    assert_ok(api.post("store/delete-store", {"id": catalog.store_id}))

    for action, body in _writes(catalog):
        assert_error(api.post(action, body), 404)
    assert group_row(catalog.group).name == "Pro Plans"


@pytest.mark.parametrize(
    ("action", "kind_of_id", "message"),
    [
        (f"{SUBSCRIPTION}/update-product", "onetime", "Subscription product not found"),
        (f"{SUBSCRIPTION}/publish-product", "onetime", "Subscription product not found"),
        (f"{SUBSCRIPTION}/update-status", "onetime", "Subscription product not found"),
        (f"{ONETIME}/update-product", "subscription", "One-time product not found"),
        (f"{ONETIME}/publish-product", "subscription", "One-time product not found"),
        (f"{ONETIME}/update-status", "subscription", "One-time product not found"),
    ],
)
def test_a_product_of_the_other_kind_is_not_found(api, catalog, action, kind_of_id, message):
    product_id = getattr(catalog, kind_of_id)
    before = _state()

    response = api.post(action, {"id": product_id, "name": "Wrong kind", "status": "inactive"})

    assert_error(response, 404, message, layer="product")
    assert _state() == before


def test_an_unknown_product_is_not_found(api, catalog):
    ghost = short("PROD", "00000000-0000-4000-8000-000000000000")
    for prefix, message in (
        (ONETIME, "One-time product not found"),
        (SUBSCRIPTION, "Subscription product not found"),
    ):
        for action in ("update-product", "publish-product", "update-status"):
            response = api.post(f"{prefix}/{action}", {"id": ghost, "status": "active"})
            assert_error(response, 404, message, layer="product")


def test_an_update_cannot_move_a_product_to_another_store(api, catalog, outsider):
    theirs = assert_ok(outsider.post("store/create-store", {"name": "Theirs"}))["data"]["store"]

    answer = assert_ok(
        api.post(
            f"{ONETIME}/update-product",
            {"id": catalog.onetime, "storeId": theirs["id"], "name": "Still mine"},
        )
    )["data"]["product"]

    assert answer["storeId"] == catalog.store_id
    assert short("STO", product_row(catalog.onetime).store_id) == catalog.store_id


def test_a_group_body_cannot_choose_its_environment_or_store_fields(api, store):
    group = create_group(api, store, environment="prod", source=None, id="x")

    assert group["environment"] == "test"
    row = group_row(group["id"])
    assert row.environment == "test" and row.source_id is None
