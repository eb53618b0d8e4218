"""Amounts and ids by API version: a JSON number is minor units, a
string a display amount converted with the currency's exponent; out, 2026-09-23 answers display
strings and short ids, 2026-01-15 integers and UUIDs. Both id forms are accepted on input."""

import uuid

import pytest

from pancake.api import ids
from tests.api.helpers import SHORT_RE, assert_ok, id_forms, short
from tests.products.helpers import (
    GROUP,
    NEW,
    OLD,
    OLD_VERSION,
    ONETIME,
    SUBSCRIPTION,
    create_group,
    create_product,
    group_row,
    member_ids,
    product_row,
    publish,
    set_status,
    update_product,
)

# (currency, what the caller sends, stored minor units, out in 2026-09-23, out in 2026-01-15)
AMOUNTS = [
    ("USD", "29.00", 2900, "29.00", 2900),
    ("USD", "29", 2900, "29.00", 2900),
    ("USD", "29.5", 2950, "29.50", 2950),
    ("USD", 2900, 2900, "29.00", 2900),
    ("USD", "0.99", 99, "0.99", 99),
    ("USD", "0", 0, "0.00", 0),
    ("EUR", "1234567.89", 123456789, "1234567.89", 123456789),
    ("JPY", "4500", 4500, "4500", 4500),
    ("JPY", 4500, 4500, "4500", 4500),
    ("BHD", "1.5", 1500, "1.500", 1500),
    ("BHD", "1.234", 1234, "1.234", 1234),
    ("BHD", 1500, 1500, "1.500", 1500),
    ("KWD", "0.005", 5, "0.005", 5),
]


def _ids(cases):
    return [f"{c[0]}-{c[1]!r}" for c in cases]


@pytest.mark.parametrize(("currency", "sent", "minor", "new", "old"), AMOUNTS, ids=_ids(AMOUNTS))
def test_amounts_convert_by_exponent_in_both_directions_and_both_versions(
    api, store, currency, sent, minor, new, old
):
    prices = {currency: {"amount": sent, "taxCategory": "ebook"}}

    data = create_product(api, ONETIME, store, prices=prices)

    assert product_row(data).test_version.prices[currency]["amount"] == minor
    assert data["prices"][currency]["amount"] == new
    assert data["version"]["prices"][currency]["amount"] == new
    as_old = update_product(api, ONETIME, data["id"], headers=OLD_VERSION)
    assert as_old["prices"][currency]["amount"] == old
    assert as_old["version"]["prices"][currency]["amount"] == old
    # The same content sent back in the old format is not a change.
    update_product(api, ONETIME, data["id"], prices={currency: as_old["prices"][currency]})
    assert product_row(data).versions.count() == 1


TRIALS = [
    ("USD", "9.99", "1.00", (999, 100), ("9.99", "1.00")),
    ("USD", 999, 100, (999, 100), ("9.99", "1.00")),
    ("USD", "9.99", "0", (999, 0), ("9.99", "0.00")),
    ("JPY", "1200", "100", (1200, 100), ("1200", "100")),
    ("BHD", "1.5", "0.5", (1500, 500), ("1.500", "0.500")),
]


@pytest.mark.parametrize(
    ("currency", "amount", "trial", "minor", "display"), TRIALS, ids=_ids(TRIALS)
)
def test_trial_amounts_convert_like_amounts(api, store, currency, amount, trial, minor, display):
    prices = {currency: {"amount": amount, "taxCategory": "saas", "trialAmount": trial}}

    data = create_product(api, SUBSCRIPTION, store, prices=prices, metadata={"trialDays": 7})

    stored = product_row(data).test_version.prices[currency]
    assert (stored["amount"], stored["trialAmount"]) == minor
    price = data["prices"][currency]
    assert (price["amount"], price["trialAmount"]) == display
    old = update_product(api, SUBSCRIPTION, data["id"], headers=OLD_VERSION)["prices"][currency]
    assert (old["amount"], old["trialAmount"]) == minor


def test_a_key_made_for_the_old_version_sends_and_receives_the_pages_format(make_api):
    old_api = make_api(api_version=OLD)
    store = assert_ok(old_api.post("store/create-store", {"name": "Docs Store"}))["data"]["store"]
    store_uuid = uuid.UUID(store["id"])  # the old version answers UUIDs

    response = old_api.post(
        f"{SUBSCRIPTION}/create-product",
        {
            "storeId": str(store_uuid),
            "name": "Pro Plan",
            "billingPeriod": "monthly",
            "prices": {
                "USD": {"amount": 2900, "taxIncluded": False, "taxCategory": "saas"},
                "EUR": {"amount": 2700, "taxIncluded": True, "taxCategory": "saas"},
            },
        },
    )

    assert response["Pancake-Version"] == OLD
    data = assert_ok(response)["data"]
    assert uuid.UUID(data["id"]) and uuid.UUID(data["storeId"]) == store_uuid
    assert data["version"]["productId"] == data["id"]
    assert data["prices"] == {
        "USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": False},
        "EUR": {"amount": 2700, "taxCategory": "saas", "taxIncluded": True},
    }
    # The header overrides the key's version, the other way round.
    new = update_product(old_api, SUBSCRIPTION, data["id"], headers={"HTTP_PANCAKE_VERSION": NEW})
    assert new["id"] == short("PROD", uuid.UUID(data["id"]))
    assert new["prices"]["EUR"]["amount"] == "27.00"


@pytest.mark.parametrize("version", [NEW, OLD])
def test_ids_go_out_short_or_as_uuids_by_version(api, store, version):
    headers = {"HTTP_PANCAKE_VERSION": version}
    created = create_product(api, SUBSCRIPTION, store, headers=headers)
    product = product_row(created if version == NEW else short("PROD", uuid.UUID(created["id"])))
    answers = [
        created,
        update_product(api, SUBSCRIPTION, created["id"], headers=headers, name="Renamed"),
        assert_ok(api.post(f"{SUBSCRIPTION}/publish-product", {"id": created["id"]}, headers))[
            "data"
        ]["product"],
        assert_ok(
            api.post(
                f"{SUBSCRIPTION}/update-status",
                {"id": created["id"], "status": "active"},
                headers,
            )
        )["data"]["product"],
    ]

    product_out = short("PROD", product.pk) if version == NEW else str(product.pk)
    store_out = short("STO", store.pk) if version == NEW else str(store.pk)
    for data in answers:
        assert data["id"] == product_out
        assert data["storeId"] == store_out
        assert data["version"]["productId"] == product_out
        # versions are plain UUIDs in every version
        for key in ("testVersionId", "version"):
            value = data[key]["id"] if key == "version" else data[key]
            assert str(uuid.UUID(value)) == value

    group = create_group(api, store, headers=headers, productIds=[product_out])
    assert str(uuid.UUID(group["id"])) == group["id"]  # group ids are always UUIDs
    assert group["storeId"] == store_out
    assert group["productIds"] == [product_out]


@pytest.mark.parametrize("form", ["short", "uuid", "uuid-upper-nodash"])
def test_every_product_action_takes_the_id_in_every_form(api, store, form):
    data = create_product(api, ONETIME, store)
    pid = id_forms("PROD", product_row(data).pk)[form]

    assert update_product(api, ONETIME, pid, name="Via " + form)["name"] == "Via " + form
    assert publish(api, ONETIME, pid)["prodVersionId"] is not None
    assert set_status(api, ONETIME, pid, "inactive")["status"] == "inactive"
    product = product_row(data)
    assert product.test_version.name == "Via " + form
    assert product.test_status == "inactive"


@pytest.mark.parametrize("form", ["short", "uuid", "uuid-upper-nodash"])
def test_create_takes_the_store_id_in_every_form(api, store, form):
    for prefix in (ONETIME, SUBSCRIPTION):
        data = create_product(api, prefix, store, storeId=id_forms("STO", store.pk)[form])
        assert data["storeId"] == short("STO", store.pk)
        assert product_row(data).store_id == store.pk
    group = create_group(api, store, storeId=id_forms("STO", store.pk)[form])
    assert group_row(group["id"]).store_id == store.pk


def test_group_product_ids_take_both_forms_mixed(api, store):
    a, b, c = (create_product(api, SUBSCRIPTION, store, name=n)["id"] for n in "ABC")
    a_uuid, c_uuid = str(ids.parse_id(a, "PROD")), str(ids.parse_id(c, "PROD"))

    group = create_group(api, store, productIds=[a_uuid, b, a])
    assert group["productIds"] == [a, b]  # the same product in two spellings is one member

    updated = assert_ok(
        api.post(f"{GROUP}/update-group", {"id": group["id"], "productIds": [c_uuid, b]})
    )["data"]["group"]
    assert updated["productIds"] == [c, b]
    assert member_ids(group_row(group["id"])) == [
        ids.parse_id(c, "PROD"),
        ids.parse_id(b, "PROD"),
    ]
    assert all(SHORT_RE.match(p) for p in updated["productIds"])


def test_a_short_id_with_the_wrong_prefix_is_refused(api, store):
    data = create_product(api, ONETIME, store)
    as_store = short("STO", product_row(data).pk)
    response = api.post(f"{ONETIME}/update-product", {"id": as_store, "name": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Invalid id: expected PROD_ prefix, got STO_"
    )
    assert product_row(data).versions.count() == 1
