"""Races on PostgreSQL: the product row lock numbers versions without gaps or
duplicates, publish never points prod at another product's version, racing creates get their
own slugs, and racing group publishes upsert one prod copy."""

import threading

import pytest
from django.db import connection
from django.test import Client

from products.models import Product, ProductGroup, ProductVersion
from tests.api.helpers import short
from tests.helpers import ApiClient
from tests.products.helpers import (
    GROUP,
    ONETIME,
    SUBSCRIPTION,
    create_group,
    create_product,
    product_row,
    product_uuid,
    version_numbers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def race(api, calls: list[tuple[str, dict]], rounds: int = 1) -> list[tuple[int, dict]]:
    """Run each (action, body) in its own thread, all released together by a barrier, each
    ``rounds`` times; answers (status, json) per call."""
    barrier = threading.Barrier(len(calls))
    results: list = []
    failures: list = []
    lock = threading.Lock()

    def worker(action, body):
        try:
            client = ApiClient(api.merchant, api.private_key, client=Client())
            barrier.wait(timeout=30)
            for _ in range(rounds):
                response = client.post(action, body)
                with lock:
                    results.append((response.status_code, response.json(), action))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not failures, failures
    assert len(results) == len(calls) * rounds
    return results


def test_concurrent_updates_number_versions_without_gaps_or_duplicates(
    require_postgres, api, store
):
    data = create_product(api, SUBSCRIPTION, store)

    results = race(
        api,
        [
            (f"{SUBSCRIPTION}/update-product", {"id": data["id"], "name": f"Plan {i}"})
            for i in range(8)
        ],
    )

    assert [status for status, _, _ in results] == [200] * 8, results
    answered = sorted(body["data"]["version"]["versionNumber"] for _, body, _ in results)
    assert answered == list(range(2, 10))
    product = product_row(data)
    assert version_numbers(product) == list(range(1, 10))
    assert product.test_version.number == 9
    names = set(product.versions.exclude(number=1).values_list("name", flat=True))
    assert names == {f"Plan {i}" for i in range(8)}


def test_concurrent_publishes_and_updates_keep_prod_on_the_products_own_versions(
    require_postgres, api, store
):
    products = [create_product(api, ONETIME, store, name=f"Product {n}") for n in "AB"]
    calls = []
    for data in products:
        for i in range(3):
            calls.append(
                (
                    f"{ONETIME}/update-product",
                    {
                        "id": data["id"],
                        "prices": {"USD": {"amount": 100 + i, "taxCategory": "ebook"}},
                    },
                )
            )
            calls.append((f"{ONETIME}/publish-product", {"id": data["id"]}))

    results = race(api, calls, rounds=3)

    assert {status for status, _, _ in results} == {200}, [r for r in results if r[0] != 200]
    for data in products:
        product = product_row(data)
        own = set(ProductVersion.objects.filter(product=product).values_list("id", flat=True))
        assert product.prod_version.product_id == product.pk
        assert product.test_version.product_id == product.pk
        assert product.prod_version.number <= product.test_version.number
        assert product.prod_status == "active"
        numbers = version_numbers(product)
        assert numbers == list(range(1, len(numbers) + 1))
        for _status, body, action in results:
            answer = body["data"]["product"]
            if answer["id"] != data["id"]:
                continue
            assert product_uuid(answer["id"]) == product.pk
            for key in ("testVersionId", "prodVersionId"):
                if answer[key] is not None:
                    assert answer[key] in {str(v) for v in own}, (action, key)


def test_concurrent_creates_with_one_name_get_their_own_slugs(require_postgres, api, store):
    body = {
        "storeId": short("STO", store.pk),
        "name": "Same Name",
        "prices": {"USD": {"amount": "1.00", "taxCategory": "ebook"}},
    }

    results = race(api, [(f"{ONETIME}/create-product", body)] * 8)

    assert [status for status, _, _ in results] == [200] * 8, results
    slugs = [body["data"]["slug"] for _, body, _ in results]
    assert len(set(slugs)) == 8 and "same-name" in slugs
    assert Product.objects.filter(store=store).count() == 8
    assert ProductVersion.objects.filter(product__store=store).count() == 8


def test_concurrent_group_publishes_upsert_a_single_prod_copy(require_postgres, api, store):
    plan = create_product(api, SUBSCRIPTION, store)["id"]
    group = create_group(api, store, productIds=[plan])

    results = race(api, [(f"{GROUP}/publish-group", {"id": group["id"]})] * 6)

    assert [status for status, _, _ in results] == [200] * 6, results
    copies = {body["data"]["group"]["id"] for _, body, _ in results}
    assert len(copies) == 1
    copy = ProductGroup.objects.get(environment="prod")
    assert str(copy.pk) in copies
    assert list(copy.memberships.values_list("product_id", flat=True)) == [product_uuid(plan)]
