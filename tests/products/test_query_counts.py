"""Catalog writes cost a fixed, small number of queries, whatever the size of the
store, the number of currencies or the number of versions and group members.

Every action starts with the same 4: API-key lookup, key touch, and the two savepoints (the
request's transaction and the service's)."""

import pytest

from tests.api.helpers import assert_ok
from tests.products.helpers import (
    FULL,
    GROUP,
    SUBSCRIPTION,
    create_group,
    create_product,
    publish,
    set_status,
    update_product,
)

SIZES = pytest.mark.parametrize("size", [1, 12])


def _prices(size):
    currencies = ["USD", "EUR", "GBP", "JPY", "BHD", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK"]
    return {c: {"amount": 1000, "taxCategory": "saas"} for c in currencies[:size]}


def _store_with(api, store, size):
    """``size`` products already in the store, the first with ``size`` versions."""
    products = [create_product(api, SUBSCRIPTION, store, name=f"P{n}") for n in range(size)]
    for n in range(1, size):
        update_product(api, SUBSCRIPTION, products[0]["id"], name=f"P0 v{n + 1}")
    return products


@SIZES
def test_create_product_costs_eleven_queries(api, store, size, django_assert_max_num_queries):
    _store_with(api, store, size)
    fields = dict(FULL[SUBSCRIPTION], prices=_prices(size), name="Counted")
    # + membership, slug check, product insert, version insert, pointer update, 2 releases
    with django_assert_max_num_queries(11):
        create_product(api, SUBSCRIPTION, store, **fields)


@SIZES
def test_update_product_costs_fifteen_queries(api, store, size, django_assert_max_num_queries):
    products = _store_with(api, store, size)
    # + access (product, role), lock, current version, last number, version insert, pointer
    # update, release, the answer's re-read (product, role), release
    with django_assert_max_num_queries(15):
        update_product(api, SUBSCRIPTION, products[0]["id"], prices=_prices(size))


@SIZES
def test_a_no_op_update_costs_twelve_queries(api, store, size, django_assert_max_num_queries):
    products = _store_with(api, store, size)
    update_product(api, SUBSCRIPTION, products[0]["id"], name="Final")
    # + access, lock, current version, the comparison finds nothing new, release, re-read
    with django_assert_max_num_queries(12):
        answer = update_product(api, SUBSCRIPTION, products[0]["id"], name="Final")
    assert answer["version"]["versionNumber"] == size + 1


@SIZES
def test_publish_and_update_status_cost_twelve_queries(
    api, store, size, django_assert_max_num_queries
):
    products = _store_with(api, store, size)
    with django_assert_max_num_queries(12):
        publish(api, SUBSCRIPTION, products[0]["id"])
    with django_assert_max_num_queries(12):
        publish(api, SUBSCRIPTION, products[0]["id"])  # re-publish
    with django_assert_max_num_queries(12):
        set_status(api, SUBSCRIPTION, products[0]["id"], "inactive")


@SIZES
def test_group_writes_cost_the_same_for_1_and_12_members(
    api, store, size, django_assert_max_num_queries
):
    members = [p["id"] for p in _store_with(api, store, size)]
    with django_assert_max_num_queries(14):
        group = create_group(api, store, productIds=members)
    gid = group["id"]
    with django_assert_max_num_queries(18):
        assert_ok(
            api.post(
                f"{GROUP}/update-group",
                {"id": gid, "productIds": members[::-1], "rules": {"sharedTrial": True}},
            )
        )
    with django_assert_max_num_queries(18):
        assert_ok(api.post(f"{GROUP}/publish-group", {"id": gid}))
    with django_assert_max_num_queries(18):
        assert_ok(api.post(f"{GROUP}/publish-group", {"id": gid}))
    with django_assert_max_num_queries(13):
        deleted = assert_ok(api.post(f"{GROUP}/delete-group", {"id": gid}))["data"]["group"]
    assert deleted["productIds"] == members[::-1]
