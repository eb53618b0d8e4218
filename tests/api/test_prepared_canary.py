"""Canary for pancake/api/prepared.py, the one module that uses Django's ORM internals (written
for Django 5.2, pinned ``Django~=5.2.20``).

It fails the day an upgrade changes any code the module copies, subclasses or calls below the
public API: read the module against the new Django, adapt it, then record the new fingerprints
here (``fingerprint(...)`` prints them) and move the pin. The module's own answers are checked
against the ORM's on real rows in tests/api/test_prepared.py and tests/graphql.
"""

import hashlib
import inspect
import uuid

import django
import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.query import ModelIterable, RelatedPopulator
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import InsertQuery
from django.utils import timezone

from checkout.models import Order
from pancake.api import prepared
from pancake.models import OutboxEvent
from tests.graphql import seed

# The source of every piece of Django the module depends on beyond the public API, as of 5.2.20.
FINGERPRINTS = {
    # copied by SharedRelatedModelIterable.__iter__ (the shared related instances)
    "ModelIterable.__iter__": (ModelIterable.__iter__, "c2a744b8c18e0b4a"),
    # subclassed by FastRelatedPopulator: its attributes and populate()
    "RelatedPopulator": (RelatedPopulator, "4cc87fb0e18cb0ce"),
    # what instance_builder does in their place: set attributes, a fresh ModelState
    "Model.__init__": (Model.__init__, "2950c3a90d8343b5"),
    "Model.from_db": (Model.from_db, "eba347895d11fa79"),
    "ModelState": (ModelState, "1c36c15dcbfdd1a9"),
    # the compiled statement run again: rows, converters
    "SQLCompiler.results_iter": (SQLCompiler.results_iter, "d279d61b80a3a115"),
    "SQLCompiler.apply_converters": (SQLCompiler.apply_converters, "c034ce3e5090aa2e"),
    "SQLCompiler.get_converters": (SQLCompiler.get_converters, "c6c8c1b71882ee8b"),
    # execute(): Django's wrappers around psycopg's execute, with prepare=True
    "CursorWrapper._execute_with_wrappers": (
        CursorWrapper._execute_with_wrappers,
        "1f629e7adeb9d61b",
    ),
    "CursorWrapper._execute": (CursorWrapper._execute, "8a3a172b0a15ed53"),
    "CursorDebugWrapper.debug_sql": (CursorDebugWrapper.debug_sql, "b9d41db9362ebf0a"),
    # insert(): the statement as save() compiles it, the checks save() makes first
    "InsertQuery": (InsertQuery, "510aba1dc253c165"),
    "Model._prepare_related_fields_for_save": (
        Model._prepare_related_fields_for_save,
        "d6d6a4ed2512cbb5",
    ),
    # memoized(): a fresh clone of the kept queryset; the iterable runs in _fetch_all
    "QuerySet._chain": (QuerySet._chain, "4c3270efb2e724c9"),
    "QuerySet._fetch_all": (QuerySet._fetch_all, "42566f1ae6d2e8e6"),
}


def fingerprint(obj) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def test_django_is_the_version_the_module_was_written_for():
    assert django.VERSION[:2] == (5, 2), (
        f"Django {django.get_version()}: pancake/api/prepared.py was written for 5.2"
    )


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_the_django_code_the_module_relies_on_is_unchanged(name):
    obj, recorded = FINGERPRINTS[name]
    assert fingerprint(obj) == recorded, (
        f"{name} changed in Django {django.get_version()}: read pancake/api/prepared.py "
        "against it before recording its new fingerprint"
    )


def test_the_names_and_signatures_the_module_calls_exist():
    assert "chunked_fetch" in inspect.signature(SQLCompiler.execute_sql).parameters
    assert list(inspect.signature(RelatedPopulator.__init__).parameters) == [
        "self",
        "klass_info",
        "select",
        "db",
    ]
    assert list(inspect.signature(CursorWrapper._execute_with_wrappers).parameters) == [
        "self",
        "sql",
        "params",
        "many",
        "executor",
    ]
    assert "use_last_executed_query" in inspect.signature(CursorDebugWrapper.debug_sql).parameters
    assert callable(BaseDatabaseWrapper.validate_no_broken_transaction)
    assert hasattr(BaseDatabaseWrapper, "wrap_database_errors")
    assert "on_conflict" in inspect.signature(InsertQuery.__init__).parameters
    assert OnConflict.IGNORE
    for attribute in ("_iterable_class", "_prefetch_related_lookups", "_known_related_objects"):
        assert hasattr(Order.objects.all(), attribute), attribute


@pytest.mark.django_db
def test_a_compiled_statement_and_its_shared_instances_answer_what_the_orm_answers(store):
    """The copied iterable and the compiled statement, on real rows: the same instances, the
    same values, the related rows shared."""
    seed.orders(store, seed.onetime(store), 3)

    def plain_queryset():
        return Order.objects.filter(store=store).select_related("product").order_by("pk")

    def build():
        return prepared.shared(plain_queryset())

    plain = list(plain_queryset())
    shared = list(build())
    memoized = [list(prepared.memoized(("canary", store.pk), (), build)) for _ in range(2)]
    for rows in (shared, *memoized):
        assert [o.__dict__.keys() - {"_state"} for o in rows] == [
            o.__dict__.keys() - {"_state"} for o in plain
        ]
        assert [(o.pk, o.status, o.product.slug) for o in rows] == [
            (o.pk, o.status, o.product.slug) for o in plain
        ]
        assert len({id(o.product) for o in rows}) == 1  # one product instance for the three
    assert memoized[0][0] is not memoized[1][0]  # the rows themselves are read every time


def _event(store, **kw):
    return OutboxEvent(
        store=store,
        environment="test",
        event_type="order.completed",
        subject_id=uuid.UUID(int=1),
        aggregate_id=uuid.UUID(int=2),
        data={"amount": 2900, "nested": {"list": [1, "two"]}},
        **kw,
    )


@pytest.mark.django_db(transaction=True)
def test_inserts_and_updates_write_what_save_writes(store):
    """insert() and update_fields() against save() on real rows: the same columns (defaults,
    auto_now_add, JSON, the foreign key), the instance saved the same way."""
    ours, theirs = _event(store), _event(store)
    for _ in range(2):  # compiled on the first insert, reused on the second
        assert prepared.insert(ours) is True
        theirs.save(force_insert=True)
        rows = {r.pop("id"): r for r in OutboxEvent.objects.values()}
        a, b = rows[ours.pk], rows[theirs.pk]
        assert a.pop("created_at") and b.pop("created_at")
        assert a == b
        assert (ours._state.adding, ours._state.db) == (theirs._state.adding, theirs._state.db)
        ours, theirs = _event(store), _event(store)
    assert prepared.insert(_event(store, id=ours.pk)) is True
    assert prepared.insert(_event(store, id=ours.pk), ignore_conflicts=True) is False
    now = timezone.now()
    ours.dispatched_at = now
    prepared.update_fields(ours, ["dispatched_at"])
    assert OutboxEvent.objects.get(pk=ours.pk).dispatched_at == now
