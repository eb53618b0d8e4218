"""Subscription product groups: per environment, rules merged
switch by switch, productIds replaced as a whole, permanent delete, publish as a repeatable
upsert of one prod copy."""

import uuid

import pytest

from products.models import Product, ProductGroup, ProductGroupMembership
from tests.api.helpers import assert_error, assert_ok, short
from tests.products.helpers import (
    GROUP,
    ONETIME,
    SUBSCRIPTION,
    create_group,
    create_product,
    group_row,
    member_ids,
    product_uuid,
)

NOT_FOUND = "Product group not found"


@pytest.fixture
def plans(api, store):
    """Three subscription products of ``store``: their short ids, in creation order."""
    return [
        create_product(api, SUBSCRIPTION, store, name=f"Plan {n}")["id"] for n in ("A", "B", "C")
    ]


def _update(api, group_id, **fields):
    return assert_ok(api.post(f"{GROUP}/update-group", {"id": group_id, **fields}))["data"]["group"]


def test_create_puts_the_group_in_the_callers_environment(api, prod_api, store, plans):
    in_test = create_group(api, store, productIds=plans[:1])
    in_prod = create_group(prod_api, store, name="Live plans", productIds=plans[1:2])

    assert in_test["environment"] == "test" and in_prod["environment"] == "prod"
    assert group_row(in_test["id"]).environment == "test"
    assert group_row(in_prod["id"]).environment == "prod"
    assert group_row(in_prod["id"]).source_id is None
    assert member_ids(group_row(in_prod["id"])) == [product_uuid(plans[1])]


def test_create_stores_every_field(api, store, plans):
    group = create_group(
        api,
        store,
        name="Pricing Plans",
        description="Free, Pro and Enterprise",
        rules={"sharedTrial": True, "selfServicePlanChange": True},
        productIds=plans,
    )

    assert group["name"] == "Pricing Plans"
    assert group["description"] == "Free, Pro and Enterprise"
    assert group["rules"] == {"sharedTrial": True, "selfServicePlanChange": True}
    assert group["productIds"] == plans
    row = group_row(group["id"])
    assert (row.name, row.description, row.shared_trial, row.self_service_plan_change) == (
        "Pricing Plans",
        "Free, Pro and Enterprise",
        True,
        True,
    )
    assert row.store_id == store.pk
    assert member_ids(row) == [product_uuid(p) for p in plans]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (None, (False, False)),
        ({}, (False, False)),
        ({"sharedTrial": True}, (True, False)),
        ({"selfServicePlanChange": True}, (False, True)),
    ],
)
def test_rules_left_out_on_create_are_off(api, store, rules, expected):
    fields = {} if rules is None else {"rules": rules}
    group = create_group(api, store, **fields)

    assert group["rules"] == {"sharedTrial": expected[0], "selfServicePlanChange": expected[1]}
    row = group_row(group["id"])
    assert (row.shared_trial, row.self_service_plan_change) == expected


def test_rules_merge_switch_by_switch_and_both_always_show(api, store):
    group = create_group(api, store, rules={"sharedTrial": True})
    gid = group["id"]

    steps = [
        ({"rules": {"selfServicePlanChange": True}}, (True, True)),
        ({"rules": {"sharedTrial": False}}, (False, True)),
        ({"name": "Renamed"}, (False, True)),  # no rules sent: unchanged
        ({"rules": {}}, (False, True)),
        ({"rules": None}, (False, True)),
        ({"rules": {"sharedTrial": True, "selfServicePlanChange": False}}, (True, False)),
    ]
    for fields, (shared, self_service) in steps:
        answer = _update(api, gid, **fields)
        assert answer["rules"] == {"sharedTrial": shared, "selfServicePlanChange": self_service}
        row = group_row(gid)
        assert (row.shared_trial, row.self_service_plan_change) == (shared, self_service), fields


def test_update_changes_name_and_description_and_keeps_what_was_left_out(api, store, plans):
    group = create_group(api, store, description="Old", productIds=plans[:2])

    renamed = _update(api, group["id"], name="New name")
    assert (renamed["name"], renamed["description"]) == ("New name", "Old")
    assert renamed["productIds"] == plans[:2]

    described = _update(api, group["id"], description="New")
    assert (described["name"], described["description"]) == ("New name", "New")

    cleared = _update(api, group["id"], description=None)
    assert cleared["description"] is None
    row = group_row(group["id"])
    assert (row.name, row.description) == ("New name", None)
    assert member_ids(row) == [product_uuid(p) for p in plans[:2]]


def test_product_ids_replace_the_whole_list_in_the_order_given(api, store, plans):
    a, b, c = plans
    group = create_group(api, store, productIds=[a, b])

    replaced = _update(api, group["id"], productIds=[c, a, c, a])

    assert replaced["productIds"] == [c, a]  # order kept, duplicates collapsed
    row = group_row(group["id"])
    assert member_ids(row) == [product_uuid(c), product_uuid(a)]
    assert list(row.memberships.order_by("position").values_list("position", flat=True)) == [0, 1]

    emptied = _update(api, group["id"], productIds=[])
    assert emptied["productIds"] == []
    assert not ProductGroupMembership.objects.filter(group_id=row.pk).exists()


def test_duplicates_on_create_are_collapsed(api, store, plans):
    a, b, _ = plans
    group = create_group(api, store, productIds=[b, a, b])

    assert group["productIds"] == [b, a]
    assert member_ids(group_row(group["id"])) == [product_uuid(b), product_uuid(a)]


def test_a_one_time_product_cannot_join_a_group(api, store, plans):
    onetime = create_product(api, ONETIME, store)["id"]
    message = f"Invalid productIds: {onetime} is not a subscription product of this store"

    response = api.post(
        f"{GROUP}/create-group",
        {"storeId": short("STO", store.pk), "name": "Mixed", "productIds": [plans[0], onetime]},
    )
    assert_error(response, 400, message, layer="product")
    assert not ProductGroup.objects.exists()

    group = create_group(api, store, productIds=plans[:1])
    response = api.post(f"{GROUP}/update-group", {"id": group["id"], "productIds": [onetime]})
    assert_error(response, 400, message, layer="product")
    assert member_ids(group_row(group["id"])) == [product_uuid(plans[0])]


def test_another_stores_product_cannot_join_a_group(api, store, plans, make_api):
    other = make_api()
    other_store = assert_ok(other.post("store/create-store", {"name": "Other"}))["data"]["store"]
    theirs = assert_ok(
        other.post(
            f"{SUBSCRIPTION}/create-product",
            {
                "storeId": other_store["id"],
                "name": "Their plan",
                "billingPeriod": "monthly",
                "prices": {"USD": {"amount": "5.00", "taxCategory": "saas"}},
            },
        )
    )["data"]["product"]["id"]
    message = f"Invalid productIds: {theirs} is not a subscription product of this store"

    response = api.post(
        f"{GROUP}/create-group",
        {"storeId": short("STO", store.pk), "name": "Theft", "productIds": [theirs]},
    )
    assert_error(response, 400, message, layer="product")

    group = create_group(api, store, productIds=plans)
    response = api.post(f"{GROUP}/update-group", {"id": group["id"], "productIds": [theirs]})
    assert_error(response, 400, message, layer="product")
    assert member_ids(group_row(group["id"])) == [product_uuid(p) for p in plans]


def test_an_unknown_product_id_is_named_in_the_error(api, store):
    ghost = short("PROD", uuid.uuid4())
    response = api.post(
        f"{GROUP}/create-group",
        {"storeId": short("STO", store.pk), "name": "Ghosts", "productIds": [ghost]},
    )
    assert_error(
        response,
        400,
        f"Invalid productIds: {ghost} is not a subscription product of this store",
        layer="product",
    )


def test_delete_is_permanent_answers_the_group_as_it_was_and_leaves_the_products(api, store, plans):
    group = create_group(
        api, store, description="Tiers", rules={"sharedTrial": True}, productIds=plans[::-1]
    )

    response = api.post(f"{GROUP}/delete-group", {"id": group["id"]})

    deleted = assert_ok(response)["data"]["group"]
    assert deleted == group | {"updatedAt": deleted["updatedAt"]}
    assert deleted["productIds"] == plans[::-1]
    assert not ProductGroup.objects.filter(pk=group["id"]).exists()
    assert not ProductGroupMembership.objects.filter(group_id=group["id"]).exists()
    assert Product.objects.filter(pk__in=[product_uuid(p) for p in plans]).count() == 3
    for action in ("delete-group", "update-group", "publish-group"):
        assert_error(api.post(f"{GROUP}/{action}", {"id": group["id"]}), 404, NOT_FOUND)


def test_publish_upserts_one_prod_copy_however_often_it_runs(api, store, plans):
    group = create_group(
        api, store, description="v1", rules={"sharedTrial": True}, productIds=plans[:2]
    )

    first = assert_ok(api.post(f"{GROUP}/publish-group", {"id": group["id"]}))["data"]["group"]

    assert first["id"] != group["id"]
    assert first["environment"] == "prod"
    for field in ("storeId", "name", "description", "rules", "productIds"):
        assert first[field] == group[field], field
    copy = group_row(first["id"])
    assert copy.source_id == uuid.UUID(group["id"])
    assert member_ids(copy) == [product_uuid(p) for p in plans[:2]]

    _update(
        api,
        group["id"],
        name="Renamed",
        description="v2",
        rules={"selfServicePlanChange": True},
        productIds=[plans[2], plans[0]],
    )
    second = assert_ok(api.post(f"{GROUP}/publish-group", {"id": group["id"]}))["data"]["group"]
    third = assert_ok(api.post(f"{GROUP}/publish-group", {"id": group["id"]}))["data"]["group"]

    assert second["id"] == third["id"] == first["id"]
    assert (second["name"], second["description"]) == ("Renamed", "v2")
    assert second["rules"] == {"sharedTrial": True, "selfServicePlanChange": True}
    assert second["productIds"] == [plans[2], plans[0]]
    assert ProductGroup.objects.filter(store=store, environment="prod").count() == 1
    copy.refresh_from_db()
    assert (copy.name, copy.description, copy.shared_trial, copy.self_service_plan_change) == (
        "Renamed",
        "v2",
        True,
        True,
    )
    assert member_ids(copy) == [product_uuid(plans[2]), product_uuid(plans[0])]
    # The test group itself is untouched by publishing.
    assert group_row(group["id"]).environment == "test"


def test_publishing_does_not_change_products_prod_state(api, store, plans):
    group = create_group(api, store, productIds=plans)
    assert_ok(api.post(f"{GROUP}/publish-group", {"id": group["id"]}))

    for product in Product.objects.filter(pk__in=[product_uuid(p) for p in plans]):
        assert (product.prod_version_id, product.prod_status) == (None, "inactive")


def test_a_prod_group_cannot_be_published(api, prod_api, store):
    test_group = create_group(api, store)
    copy = assert_ok(api.post(f"{GROUP}/publish-group", {"id": test_group["id"]}))["data"]["group"]
    live = create_group(prod_api, store, name="Made in prod")

    for client, gid in ((api, copy["id"]), (prod_api, copy["id"]), (prod_api, live["id"])):
        assert_error(
            client.post(f"{GROUP}/publish-group", {"id": gid}),
            400,
            "Only a test group can be published to production",
            layer="product",
        )
    assert ProductGroup.objects.filter(environment="prod").count() == 2


def test_a_prod_key_cannot_update_or_delete_a_test_group(api, prod_api, store, plans):
    group = create_group(api, store, productIds=plans[:1])

    for action, fields in (
        ("update-group", {"name": "Hijacked", "productIds": plans}),
        ("delete-group", {}),
    ):
        response = prod_api.post(f"{GROUP}/{action}", {"id": group["id"], **fields})
        assert_error(response, 404, NOT_FOUND, layer="product")

    row = group_row(group["id"])
    assert row.name == "Pro Plans"
    assert member_ids(row) == [product_uuid(plans[0])]


def test_a_test_key_cannot_update_or_delete_a_prod_group(api, prod_api, store):
    live = create_group(prod_api, store, name="Live")

    for action in ("update-group", "delete-group"):
        response = api.post(f"{GROUP}/{action}", {"id": live["id"], "name": "x"})
        assert_error(response, 404, NOT_FOUND, layer="product")
    assert group_row(live["id"]).name == "Live"


def test_another_merchants_groups_are_not_found(api, store, plans, outsider):
    group = create_group(api, store, productIds=plans)

    for action, fields in (
        ("update-group", {"name": "Mine now", "productIds": []}),
        ("publish-group", {}),
        ("delete-group", {}),
    ):
        response = outsider.post(f"{GROUP}/{action}", {"id": group["id"], **fields})
        assert_error(response, 404, NOT_FOUND, layer="product")
    response = outsider.post(
        f"{GROUP}/create-group", {"storeId": short("STO", store.pk), "name": "Squat"}
    )
    assert_error(response, 404, "Store not found")

    row = group_row(group["id"])
    assert row.name == "Pro Plans"
    assert member_ids(row) == [product_uuid(p) for p in plans]
    assert ProductGroup.objects.count() == 1


def test_group_ids_are_plain_uuids(api, store):
    group = create_group(api, store)
    response = api.post(f"{GROUP}/update-group", {"id": short("PROD", uuid.UUID(group["id"]))})
    assert_error(response, 400, layer="product")
    assert_error(api.post(f"{GROUP}/update-group", {"id": str(uuid.uuid4())}), 404, NOT_FOUND)
    assert_error(api.post(f"{GROUP}/update-group", {}), 400, "Missing required field: id")
