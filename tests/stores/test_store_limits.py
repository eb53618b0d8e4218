"""At most 20 live stores per owner; soft delete frees a slot and keeps the data."""

import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.utils import timezone

from stores import services
from stores.models import Store, StoreMembership
from tests.api.helpers import assert_error, assert_ok, short
from tests.helpers import ApiClient

LIMIT_MESSAGE = "Store limit reached: a merchant can own at most 20 stores"


def _fill(merchant, n):
    return [services.store_create(merchant=merchant, name=f"Store {i}") for i in range(n)]


def _owned(merchant):
    return StoreMembership.objects.filter(
        merchant=merchant, role="owner", store__deleted_at__isnull=True
    ).count()


def test_twenty_first_store_is_refused_with_403(api):
    _fill(api.merchant, 19)
    assert_ok(api.post("store/create-store", {"name": "Twentieth"}))
    response = api.post("store/create-store", {"name": "Twenty-first"})
    assert_error(response, 403, LIMIT_MESSAGE, layer="store")
    assert _owned(api.merchant) == 20
    assert not Store.objects.filter(name="Twenty-first").exists()


def test_deleting_a_store_frees_a_slot(api):
    stores = _fill(api.merchant, 20)
    assert_error(api.post("store/create-store", {"name": "Extra"}), 403)
    assert_ok(api.post("store/delete-store", {"id": short("STO", stores[0].pk)}))
    assert_ok(api.post("store/create-store", {"name": "Extra"}))
    assert_error(api.post("store/create-store", {"name": "Extra 2"}), 403)


def test_stores_where_the_merchant_is_not_owner_do_not_count(api, make_api, member_of):
    other = make_api()
    for store in _fill(other.merchant, 5):
        member_of(store, api.merchant, "admin")
    _fill(api.merchant, 19)
    assert_ok(api.post("store/create-store", {"name": "Twentieth"}))


def test_limit_is_per_merchant(api, make_api):
    _fill(api.merchant, 20)
    assert_ok(make_api().post("store/create-store", {"name": "Mine"}))


def test_creator_becomes_the_active_owner(api):
    data = assert_ok(api.post("store/create-store", {"name": "Mine"}))["data"]["store"]
    membership = StoreMembership.objects.get(store__slug=data["slug"])
    assert membership.merchant == api.merchant
    assert membership.role == "owner"
    assert membership.status == "active"
    assert Store.objects.get(slug=data["slug"]).created_by == api.merchant


@pytest.mark.parametrize("already_owned", [0, 19])
def test_create_store_costs_a_fixed_small_number_of_queries(
    api, already_owned, django_assert_max_num_queries
):
    _fill(api.merchant, already_owned)
    ContentType.objects.get_for_models(Store, StoreMembership)  # cached for the process's life
    # key lookup, key touch, 2 savepoints + releases, merchant lock, owned count, slug check,
    # store insert, membership insert, and their audit entries (pancake/audit.py).
    with django_assert_max_num_queries(13):
        assert_ok(api.post("store/create-store", {"name": "Counted"}))


# --- soft delete ------------------------------------------------------------------------------


def test_soft_delete_keeps_the_row_and_answers_the_store_with_deleted_at(api, store):
    before = timezone.now()
    response = api.post("store/delete-store", {"id": short("STO", store.pk)})
    data = assert_ok(response)["data"]
    assert set(data) == {"store"}
    assert data["store"]["id"] == short("STO", store.pk)
    assert data["store"]["deletedAt"] is not None
    store.refresh_from_db()
    assert store.deleted_at is not None and store.deleted_at >= before
    assert data["store"]["deletedAt"] == store.deleted_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{store.deleted_at.microsecond // 1000:03d}Z"
    )
    # The data stays: the row, its slug and its team.
    assert Store.objects.filter(pk=store.pk).exists()
    assert StoreMembership.objects.filter(store=store, role="owner").exists()


def test_deleting_twice_is_404(api, store):
    assert_ok(api.post("store/delete-store", {"id": short("STO", store.pk)}))
    assert_error(api.post("store/delete-store", {"id": short("STO", store.pk)}), 404)


def test_delete_store_needs_an_id(api):
    assert_error(api.post("store/delete-store", {}), 400, "Missing required field: id")


# --- races (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_never_exceed_twenty_stores(require_postgres, api):
    _fill(api.merchant, 14)
    threads_n = 16
    barrier = threading.Barrier(threads_n)
    statuses: list = []
    failures: list = []

    def worker(i):
        try:
            client = ApiClient(api.merchant, api.private_key, client=Client())
            barrier.wait(timeout=30)
            statuses.append(client.post("store/create-store", {"name": f"Race {i}"}).status_code)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    assert sorted(statuses) == [200] * 6 + [403] * 10
    assert _owned(api.merchant) == 20
