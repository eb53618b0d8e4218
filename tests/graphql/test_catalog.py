"""Products as the request's environment sees them: a product active in test and
unpublished in prod, versions, groups."""

import pytest

from pancake.api import ids
from tests.graphql import seed

PRODUCTS = """{ onetimeProducts { id name status version hasProdVersion prices }
                onetimeProductsCount(filter: { status: { eq: "active" } }) }"""


@pytest.fixture
def prod_api(make_api, member_of, store):
    client = make_api(environment="prod")
    member_of(store, client.merchant, "admin")
    return client


def test_a_product_active_in_test_is_unpublished_in_prod(data, store, prod_api):
    seed.onetime(store)
    test = data(PRODUCTS)
    assert test["onetimeProducts"][0]["status"] == "active"
    assert test["onetimeProducts"][0]["version"] == 1
    assert test["onetimeProductsCount"] == 1
    prod = data(PRODUCTS, client=prod_api)
    assert prod["onetimeProducts"][0]["status"] == "inactive"
    assert prod["onetimeProducts"][0]["version"] is None
    assert prod["onetimeProducts"][0]["hasProdVersion"] is False
    assert prod["onetimeProductsCount"] == 0


def test_after_publish_prod_sells_its_own_version(data, store, prod_api):
    from products.models import ProductVersion

    book = seed.onetime(store, publish=True)
    v2 = ProductVersion.objects.create(
        product=book,
        number=2,
        name="E-Book 2nd ed.",
        prices={"USD": {"amount": 3900, "taxCategory": "ebook"}},
    )
    book.test_version = v2
    book.save()
    test = data(PRODUCTS)["onetimeProducts"][0]
    prod = data(PRODUCTS, client=prod_api)["onetimeProducts"][0]
    assert (test["name"], test["version"]) == ("E-Book 2nd ed.", 2)
    assert test["prices"]["USD"]["amount"] == "39.00"
    assert (prod["name"], prod["version"], prod["status"]) == ("E-Book", 1, "active")
    assert prod["prices"]["USD"]["amount"] == "29.00" and prod["hasProdVersion"] is True
    versions = data(
        """query ($p: String!) { onetimeProductVersions(productId: $p) {
             versionNumber isTestVersion isProdVersion media { type url alt } } }""",
        {"p": ids.encode("PROD", book.pk)},
    )["onetimeProductVersions"]
    assert [(v["versionNumber"], v["isTestVersion"], v["isProdVersion"]) for v in versions] == [
        (1, False, True),
        (2, True, False),
    ]
    assert versions[0]["media"][0]["type"] == "image"


def test_filters_by_the_environment_status_and_name(data, store, prod_api):
    seed.onetime(store, name="Alpha", publish=True)
    seed.onetime(store, name="Beta")
    query = '{ onetimeProducts(filter: { name: { startsWith: "Al" } }) { name } }'
    assert data(query)["onetimeProducts"] == [{"name": "Alpha"}]
    active = data(
        '{ onetimeProducts(filter: { status: { eq: "active" } }) { name } }', client=prod_api
    )
    assert active["onetimeProducts"] == [{"name": "Alpha"}]


def test_groups_belong_to_one_environment(data, store, prod_api):
    plan = seed.subscription(store)
    seed.group(store, [plan], environment="test", name="Test plans")
    seed.group(store, [plan], environment="prod", name="Prod plans")
    got = data(
        "{ subscriptionProductGroups { name environment rules { sharedTrial } productIds "
        "products { name billingPeriod prices { currency priceInfo { amount trialAmount } } } } "
        "subscriptionProductGroupsCount }"
    )
    assert got["subscriptionProductGroupsCount"] == 1
    group = got["subscriptionProductGroups"][0]
    assert group["name"] == "Test plans" and group["environment"] == "test"
    assert group["productIds"] == [ids.encode("PROD", plan.pk)]
    assert group["products"][0]["prices"][0]["priceInfo"] == {
        "amount": "9.99",
        "trialAmount": "1.00",
    }
    prod = data("{ subscriptionProductGroups { name } }", client=prod_api)
    assert prod["subscriptionProductGroups"] == [{"name": "Prod plans"}]


def test_store_webhooks_are_those_of_the_environment(data, store, prod_api):
    seed.webhook(store, "test", "https://hooks.example.com/test")
    seed.webhook(store, "prod", "https://hooks.example.com/prod")
    query = "{ stores { storeWebhooks { url environment } } }"
    assert data(query)["stores"][0]["storeWebhooks"] == [
        {"url": "https://hooks.example.com/test", "environment": "test"}
    ]
    assert data(query, client=prod_api)["stores"][0]["storeWebhooks"][0]["environment"] == "prod"
