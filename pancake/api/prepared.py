"""Django ORM internals, in one module: the statements of the hot paths compiled once per
database connection and run again with new values, model instances built without
``Model.__init__``, and GraphQL lists built once per document whose related rows share one
instance.

Written for Django 5.2 (5.2.20), pinned in pyproject.toml (``Django~=5.2.20``);
tests/api/test_prepared_canary.py fails loudly when an upgrade changes what this module relies
on: ``QuerySet.query``, ``_chain``, ``_iterable_class``, ``_prefetch_related_lookups`` and
``_known_related_objects``; ``SQLCompiler.as_sql``, ``select``, ``klass_info``, ``col_count``,
``annotation_col_map``, ``get_converters``, ``apply_converters``, ``execute_sql`` and
``results_iter``; ``ModelIterable.__iter__`` (copied below for the shared instances) and
``RelatedPopulator``; ``InsertQuery`` and ``Model._prepare_related_fields_for_save``;
``CursorWrapper._execute_with_wrappers``, ``CursorDebugWrapper.debug_sql``, the psycopg
cursor under them and the connection's ``validate_no_broken_transaction`` and
``wrap_database_errors``; ``ModelState`` and plain attributes in ``__dict__`` for a model without
``__init__`` or ``from_db`` of its own.

Why each part is here rather than the public ORM (instructions per request, bench/callgrind.py;
bench/RESULTS.md has the figures and the 15% rule they were held to):

- ``PreparedSelect``: compiling a wide ``select_related`` read costs the ORM more than the
  database spends running it. Checkout (create-session and create-order) takes 14.2M
  instructions per request with the ORM compiling its reads, 6.8M with this.
- ``insert``/``update_fields``: ``save()`` builds and compiles its statement every time:
  checkout 8.5M instructions per request with ``save()`` (and ``bulk_create`` for the
  conflict-ignoring insert), 6.8M with this.
- ``execute``: the statements above prepared on the server (psycopg's ``prepare=True``), so
  PostgreSQL reuses one generic plan for them: checkout's PostgreSQL CPU is 1.1 ms per request
  with it, 2.2 ms without, 2.0 ms with psycopg's own ``prepare_threshold`` and custom plans.
  psycopg's threshold with PostgreSQL's default plan choice would prepare every statement,
  lists too, and a generic plan for "this store's newest orders" walks every store's orders
  when the store is small (73 ms instead of a fraction of one, measured): only these point
  reads and single-row writes, whose best plan does not depend on their values, are prepared.
- ``instance_builder``: ``Model.__init__`` (through ``from_db``) for the rows of a 100-row
  GraphQL list is over a quarter of such a request: the SDK guide's orders document takes
  69.9M instructions per request with it, 51.1M with this.
- ``SharedRelatedModelIterable``, ``PreparedList`` and ``memoized``: a list's related rows
  built once and shared between the rows pointing at them, its statement compiled once per
  connection, its prefetches run as compiled statements too. The same document takes 65.0M
  instructions without the memo (a queryset built and compiled per request, Django's
  ``Prefetch``) and 93.1M without either (Django's ``ModelIterable`` too), 51.1M with both.

Anything out of the ordinary (a value of an unexpected type, an expression as a value, save
signal receivers, multi-table inheritance, a prefetch of another shape) takes the ORM's own
path, unchanged.
"""

from __future__ import annotations

import inspect
import operator
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import lru_cache, partial
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import DatabaseError, connections, router
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model, Prefetch, QuerySet, UUIDField, signals
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, RelatedPopulator
from django.db.models.query_utils import DeferredAttribute
from django.db.models.sql.subqueries import InsertQuery
from django.db.transaction import TransactionManagementError

import pancake.lookups  # noqa: F401  (``__any``: the prefetches below filter with it)

_CACHE_ATTR = "_pancake_prepared"


def _cache(connection) -> dict:
    # One cache per connection object (one per thread): the statement text and the converters
    # are the backend's, and the compiler kept for its converters holds this connection.
    cache = connection.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = connection.__dict__[_CACHE_ATTR] = {}
    return cache


# --- running -------------------------------------------------------------------------------------


def _server_prepares(connection) -> bool:
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True
    )


def execute(cursor, sql: str, params) -> None:
    """``cursor.execute(sql, params)``, prepared on the server where parameters are bound there
    (psycopg's ``prepare=True``): for a point read or single-row write whose text never changes
    (see the module's docstring). Through Django's execute wrappers, error translation and
    query log exactly as ``execute`` goes."""
    db = cursor.db
    if not _server_prepares(db):
        cursor.execute(sql, params)
        return
    raw = cursor.cursor

    def executor(sql, params, many, context):
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            return raw.execute(sql, params, prepare=True)

    if isinstance(cursor, CursorDebugWrapper):
        with cursor.debug_sql(sql, params, use_last_executed_query=True):
            cursor._execute_with_wrappers(sql, params, False, executor)
    else:
        cursor._execute_with_wrappers(sql, params, False, executor)


# --- model instances ------------------------------------------------------------------------------

_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


@lru_cache(maxsize=1024)
def _plain_attributes(model_cls, names: tuple) -> bool:
    # A class's attributes are fixed once its model is loaded: asked once per field list (a
    # list's rows are built from the same one request after request).
    return (
        model_cls.__init__ is Model.__init__
        and model_cls.from_db.__func__ is Model.from_db.__func__
        and all(
            type(inspect.getattr_static(model_cls, name, None)) in _PLAIN_ATTRIBUTES
            for name in names
        )
    )


def _plain_init(model_cls, init_list) -> bool:
    return (
        not signals.pre_init.has_listeners(model_cls)
        and not signals.post_init.has_listeners(model_cls)
        and _plain_attributes(model_cls, tuple(init_list))
    )


def instance_builder(model_cls, db: str, init_list):
    """``values -> instance``: the instance ``model_cls.from_db(db, init_list, values)`` builds.

    For a model with Django's own ``__init__`` and ``from_db``, no ``pre_init``/``post_init``
    receivers and plain attributes for the loaded columns, ``Model.__init__`` does nothing but
    set those attributes (in ``__dict__``) and a fresh ``ModelState``; this sets them at once,
    for a fraction of the CPU. Any other model takes ``from_db``."""
    if not _plain_init(model_cls, init_list):
        return partial(model_cls.from_db, db, init_list)
    names = tuple(init_list)
    new = object.__new__

    def build(values):
        obj = new(model_cls)
        state = ModelState()
        state.adding = False
        state.db = db
        attrs = obj.__dict__
        attrs["_state"] = state
        attrs.update(zip(names, values, strict=True))
        return obj

    return build


class FastRelatedPopulator(RelatedPopulator):
    """Django's ``select_related`` populator, building its instances with ``instance_builder``
    (its nested populators are of the same class)."""

    def __init__(self, klass_info, select, db):
        super().__init__(klass_info, select, db)
        self.related_populators = [
            type(self)(info, select, db) for info in klass_info.get("related_klass_infos", [])
        ]
        self.build = instance_builder(self.model_cls, db, self.init_list)

    def instance(self, row, obj_data):
        obj = self.build(obj_data)
        for populator in self.related_populators:
            populator.populate(row, obj)
        return obj

    def populate(self, row, from_obj):
        obj_data = (
            self.reorder_for_init(row)
            if self.reorder_for_init
            else row[self.cols_start : self.cols_end]
        )
        obj = None if obj_data[self.pk_idx] is None else self.instance(row, obj_data)
        self.local_setter(from_obj, obj)
        if obj is not None:
            self.remote_setter(obj, from_obj)


def related_populators(klass_info, select, db) -> list:
    return [
        FastRelatedPopulator(info, select, db) for info in klass_info.get("related_klass_infos", [])
    ]


# --- SELECT ---------------------------------------------------------------------------------------


def _stand_in(value):
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, list) and value and all(isinstance(v, uuid.UUID) for v in value):
        return [uuid.uuid4() for _ in value]  # for ``__any``: one array parameter
    if isinstance(value, bool):
        raise TypeError("bool")
    if isinstance(value, int):
        return secrets.randbits(52) + 10**15
    if isinstance(value, str):
        return "pancake-" + secrets.token_hex(12)
    raise TypeError(type(value).__name__)


_TRANSFORMS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("same", lambda v: v),
    ("str", str),
    ("hex", lambda v: v.hex if isinstance(v, uuid.UUID) else None),
)


class _Compiled:
    __slots__ = (
        "sql",
        "slots",
        "arg_types",
        "compiler",
        "converters",
        "model",
        "start",
        "end",
        "init_list",
        "select",
        "klass_info",
        "annotations",
        "for_update",
        "populators",
        "build",
    )


class PreparedSelect:
    """``build(*values)`` returns the queryset for those values (model instances, no
    prefetches); ``fetch(*values)`` runs it and returns the list of instances."""

    def __init__(self, build: Callable[..., Any]):
        self.build = build

    def _compile(self, connection, values) -> _Compiled | None:
        try:
            stand_ins = [[_stand_in(v) for v in values] for _ in range(2)]
        except TypeError:
            return None
        texts = []
        for sample in stand_ins:
            queryset = self.build(*sample)
            if queryset._prefetch_related_lookups or queryset._known_related_objects:
                return None
            if queryset._iterable_class.__name__ != "ModelIterable":
                return None
            compiler = queryset.query.get_compiler(connection=connection)
            needs_atomic = queryset.query.select_for_update and not connection.in_atomic_block
            if needs_atomic:
                # Compiled the way the ORM would refuse to run it; let the ORM say so.
                return None
            sql, params = compiler.as_sql()
            texts.append((sql, list(params), compiler))
        (sql_a, params_a, compiler), (sql_b, params_b, _) = texts
        if sql_a != sql_b or len(params_a) != len(params_b):
            return None
        slots = []
        for a, b in zip(params_a, params_b, strict=True):
            if type(a) is type(b) and a == b:
                slots.append((None, None, a))
                continue
            for index, (first, second) in enumerate(zip(*stand_ins, strict=True)):
                found = next(
                    (
                        fn
                        for _, fn in _TRANSFORMS
                        if (fa := fn(first)) is not None
                        and type(fa) is type(a)
                        and fa == a
                        and fn(second) == b
                    ),
                    None,
                )
                if found is not None:
                    slots.append((index, found, None))
                    break
            else:
                return None
        compiled = _Compiled()
        compiled.sql = sql_a
        compiled.slots = slots
        compiled.arg_types = tuple(type(v) for v in values)
        compiled.compiler = compiler
        select = compiler.select
        compiled.select = select
        compiled.converters = list(
            compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]).items()
        )
        klass_info = compiler.klass_info
        compiled.klass_info = klass_info
        compiled.model = klass_info["model"]
        fields = klass_info["select_fields"]
        compiled.start, compiled.end = fields[0], fields[-1] + 1
        compiled.init_list = [f[0].target.attname for f in select[compiled.start : compiled.end]]
        compiled.annotations = dict(compiler.annotation_col_map or {})
        compiled.for_update = bool(compiler.query.select_for_update)
        # Stateless: built once with the statement (the cache is per connection, so per alias).
        compiled.populators = related_populators(klass_info, select, connection.alias)
        compiled.build = instance_builder(compiled.model, connection.alias, compiled.init_list)
        return compiled

    def fetch(self, *values, using: str = "default") -> list:
        connection = connections[using]
        cache = _cache(connection)
        compiled = cache.get(self)
        if compiled is None:
            compiled = self._compile(connection, values)
            if compiled is None:
                return list(self.build(*values).using(using))
            cache[self] = compiled
        if tuple(type(v) for v in values) != compiled.arg_types:
            return list(self.build(*values).using(using))
        if compiled.for_update and not connection.in_atomic_block:
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = [
            constant if index is None else fn(values[index])
            for index, fn, constant in compiled.slots
        ]
        with connection.cursor() as cursor:
            execute(cursor, compiled.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, dict(compiled.converters))
        populators, build = compiled.populators, compiled.build
        start, end = compiled.start, compiled.end
        out = []
        for row in rows:
            obj = build(row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out

    def first(self, *values, using: str = "default"):
        rows = self.fetch(*values, using=using)
        return rows[0] if rows else None


# --- INSERT / UPDATE ------------------------------------------------------------------------------


def _plain(model: type[Model]) -> bool:
    meta = model._meta
    return not (
        model.save is not Model.save
        or meta.parents
        or meta.proxy
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
    )


def insert(obj: Model, using: str | None = None, *, ignore_conflicts: bool = False) -> bool:
    """``obj.save(force_insert=True)`` for a new row whose primary key is already set (a UUID
    default): the same values, the same statement, no save signals (there are none: with a
    receiver, or a ``save`` of the model's own, it is ``save`` itself). With
    ``ignore_conflicts``: ``INSERT … ON CONFLICT DO NOTHING RETURNING pk`` (SQLite: ``INSERT OR
    IGNORE``), True when the row went in. Returns True."""
    model = type(obj)
    meta = model._meta
    using = using or router.db_for_write(model, instance=obj)
    plain = (
        _plain(model)
        and obj.pk is not None
        # Nothing for the database to hand back but the key we already hold.
        and all(f is meta.pk for f in meta.db_returning_fields)
    )
    if not plain and not ignore_conflicts:
        obj.save(force_insert=True, using=using)
        return True
    obj._prepare_related_fields_for_save(operation_name="save")
    connection = connections[using]
    fields = [f for f in meta.local_concrete_fields if not f.generated]
    values = []
    for field in fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            plain = False
            break
        values.append(field.get_db_prep_save(value, connection=connection))
    cache = _cache(connection)
    key = ("insert", model, ignore_conflicts)
    sql = cache.get(key) if plain else None
    if sql is None:
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(connection=connection)
        if ignore_conflicts:
            compiler.returning_fields = [meta.pk]
        elif not plain:
            obj.save(force_insert=True, using=using)
            return True
        [(sql, params)] = compiler.as_sql()
        if not plain or sql.count("%s") != len(fields) or len(params) != len(fields):
            values = params  # not the usual shape: run what the ORM compiled, keep nothing
        else:
            cache[key] = sql
    with connection.cursor() as cursor:
        execute(cursor, sql, values)
        inserted = cursor.fetchone() is not None if ignore_conflicts else True
    if inserted:
        obj._state.adding = False
        obj._state.db = using
    return inserted


def update_fields(obj: Model, names: list[str], using: str | None = None) -> None:
    """``obj.save(update_fields=names)`` of a saved row, statement text compiled once."""
    model = type(obj)
    meta = model._meta
    using = using or obj._state.db or router.db_for_write(model, instance=obj)
    if not _plain(model) or obj.pk is None:
        obj.save(update_fields=names, using=using)
        return
    connection = connections[using]
    fields = [meta.get_field(name) for name in names]
    if any(f.primary_key or not f.concrete or hasattr(f, "get_placeholder") for f in fields):
        obj.save(update_fields=names, using=using)
        return
    obj._prepare_related_fields_for_save(operation_name="save")
    values = []
    for field in fields:
        value = field.pre_save(obj, False)
        if hasattr(value, "resolve_expression"):
            obj.save(update_fields=names, using=using)
            return
        values.append(field.get_db_prep_save(value, connection=connection))
    cache = _cache(connection)
    key = ("update", model, tuple(names))
    sql = cache.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608 - names from the model
        cache[key] = sql
    with connection.cursor() as cursor:
        execute(cursor, sql, [*values, meta.pk.get_db_prep_value(obj.pk, connection)])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.adding = False
    obj._state.db = using


# --- GraphQL lists: related rows shared, the same list again -----------------------------------


class _SharedPopulator(FastRelatedPopulator):
    """Builds one instance per related primary key (per relation) and hands it to every row."""

    def __init__(self, klass_info, select, db):
        super().__init__(klass_info, select, db)
        self.built: dict = {}

    def instance(self, row, obj_data):
        pk = obj_data[self.pk_idx]
        obj = self.built.get(pk)
        if obj is None:
            obj = self.built[pk] = super().instance(row, obj_data)
        return obj


class SharedRelatedModelIterable(ModelIterable):
    """``ModelIterable`` (Django 5.2) whose ``select_related`` instances are shared between rows
    with the same related primary key, per relation."""

    def __iter__(self):
        queryset = self.queryset
        db = queryset.db
        memo = getattr(queryset, "_pancake_memo", None)
        if memo is not None:
            compiler, rows = memo.run(connections[db], queryset)
        else:
            compiler = queryset.query.get_compiler(using=db)
            results = compiler.execute_sql(
                chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size
            )
            rows = compiler.results_iter(results)
        select, klass_info, annotation_col_map = (
            compiler.select,
            compiler.klass_info,
            compiler.annotation_col_map,
        )
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        model_fields_start, model_fields_end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[model_fields_start:model_fields_end]]
        related_populators = [
            _SharedPopulator(info, select, db) for info in klass_info.get("related_klass_infos", [])
        ]
        known_related_objects = [
            (
                field,
                related_objs,
                operator.attrgetter(
                    *[
                        (
                            field.attname
                            if from_field == "self"
                            else queryset.model._meta.get_field(from_field).attname
                        )
                        for from_field in field.from_fields
                    ]
                ),
            )
            for field, related_objs in queryset._known_related_objects.items()
        ]
        build = instance_builder(model_cls, db, init_list)
        objs = self._objects(
            rows,
            build,
            model_fields_start,
            model_fields_end,
            related_populators,
            annotation_col_map,
            known_related_objects,
        )
        if memo is not None and memo.prefetch:
            objs = list(objs)
            memo.run_prefetch(objs, db)
        yield from objs

    @staticmethod
    def _objects(rows, build, start, end, related_populators, annotation_col_map, known):
        for row in rows:
            obj = build(row[start:end])
            for rel_populator in related_populators:
                rel_populator.populate(row, obj)
            if annotation_col_map:
                for attr_name, col_pos in annotation_col_map.items():
                    setattr(obj, attr_name, row[col_pos])
            for field, rel_objs, rel_getter in known:
                if field.is_cached(obj):
                    continue
                try:
                    rel_obj = rel_objs[rel_getter(obj)]
                except KeyError:
                    pass
                else:
                    setattr(obj, field.name, rel_obj)
            yield obj


# --- the same list again --------------------------------------------------------------------

MEMO_SIZE = 256  # lists per process (and compiled statements per connection)
_memo: OrderedDict = OrderedDict()
_memo_lock = threading.Lock()


class PreparedList:
    """A list's queryset as ``build()`` made it for one set of inputs, and (per database
    connection) its statement as the ORM compiled it."""

    __slots__ = ("anchors", "queryset", "prefetch")

    def __init__(self, anchors: tuple, queryset: QuerySet):
        self.anchors = anchors
        self.queryset = queryset
        self.prefetch = _prefetch_plan(queryset)

    def run_prefetch(self, parents: list, db: str) -> None:
        """The plan's children of ``parents``, one statement per relation (compiled once per
        connection, the parents' keys one array parameter), set as Django's ``Prefetch(…,
        to_attr=…)`` sets them: a list per parent, each child's way back set to its parent; and
        for a foreign key of the parents, as Django's ``Prefetch`` sets it: one instance per
        key, the same for every parent pointing at it."""
        for lookup, fk, select in self.prefetch:
            if lookup.to_attr is None:  # a foreign key of the parents: one instance per key
                keys = [getattr(parent, fk.attname) for parent in parents]
                wanted = [key for key in dict.fromkeys(keys) if key is not None]
                found = {obj.pk: obj for obj in select.fetch(wanted, using=db)} if wanted else {}
                for parent, key in zip(parents, keys, strict=True):
                    fk.set_cached_value(parent, found.get(key))
                continue
            keys = [getattr(parent, fk.target_field.attname) for parent in parents]
            children: dict = {}
            if keys:
                for child in select.fetch(list(dict.fromkeys(keys)), using=db):
                    children.setdefault(getattr(child, fk.attname), []).append(child)
            for parent, key in zip(parents, keys, strict=True):
                mine = children.get(key, [])
                for child in mine:
                    fk.set_cached_value(child, parent)
                setattr(parent, lookup.to_attr, mine)

    def run(self, connection, queryset: QuerySet):
        """(compiler, converted rows) of the statement, compiled on this connection's first
        run; the statement is the same every time (the inputs are), so is its text."""
        cache = _cache(connection)
        compiled = cache.get("graphql_lists")
        if compiled is None:
            compiled = cache["graphql_lists"] = OrderedDict()
        found = compiled.get(self)
        if found is None:
            compiler = queryset.query.get_compiler(connection=connection)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # ``__in`` an empty list (a caller who sees no store)
                sql, params = None, None
            fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
            found = compiled[self] = (compiler, sql, params, compiler.get_converters(fields))
            if len(compiled) > MEMO_SIZE:
                gone, _ = compiled.popitem(last=False)
                for _lookup, _fk, select in gone.prefetch:  # its children's statements too
                    cache.pop(select, None)
        else:
            compiled.move_to_end(self)
        compiler, sql, params, converters = found
        if sql is None:
            return compiler, []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters and rows:
            rows = compiler.apply_converters(rows, converters)
        return compiler, rows


def _prefetch_plan(queryset: QuerySet) -> tuple:
    """(Prefetch, the foreign key, its statement) for every prefetch of ``queryset``, when all
    are one relation deep with a queryset of their own (no prefetches): a reverse foreign key
    with a ``to_attr``, or a foreign key of the parents to a primary key; keyed by UUIDs, on
    PostgreSQL. Otherwise () and Django prefetches as usual."""
    if connections[queryset.db].vendor != "postgresql":
        return ()  # ``__any`` is one parameter on PostgreSQL only: elsewhere, Django's way
    plan = []
    for lookup in queryset._prefetch_related_lookups:
        if not isinstance(lookup, Prefetch) or lookup.queryset is None:
            return ()
        if "__" in lookup.prefetch_through:
            return ()
        try:
            field = queryset.model._meta.get_field(lookup.prefetch_through)
        except FieldDoesNotExist:
            return ()
        child = lookup.queryset
        if child._prefetch_related_lookups or child._known_related_objects:
            return ()
        if child._iterable_class is SharedRelatedModelIterable:
            child = child._chain()
            child._iterable_class = ModelIterable
        if field.many_to_one and field.concrete and not lookup.to_attr:
            # The parents' foreign key: the rows it points at, by primary key.
            if not isinstance(field.target_field, UUIDField) or not field.target_field.primary_key:
                return ()
            select = PreparedSelect(lambda keys, child=child: child.filter(pk__any=keys))
            plan.append((lookup, field, select))
            continue
        if not (field.one_to_many and not field.concrete) or not lookup.to_attr:
            return ()
        fk = field.field
        if not isinstance(fk.target_field, UUIDField):
            return ()
        select = PreparedSelect(
            lambda keys, child=child, name=fk.attname: child.filter(**{f"{name}__any": keys})
        )
        plan.append((lookup, fk, select))
    return tuple(plan)


def memoized(key: Hashable, anchors: tuple, build: Callable[[], QuerySet]) -> QuerySet:
    """``build()``, made once for ``key`` and reused while the process lives (the least
    recently used beyond MEMO_SIZE go), its SQL compiled once per connection: a client asking
    the same list the same way again (a dashboard polling a query) costs the database round
    trip and the rows, not the ORM's filter building and compiling.

    ``key`` must hold every input ``build`` reads (the resolver, its arguments, the caller's
    scope: ``scope_key``) and nothing that changes by itself (the time); ``anchors`` are objects
    the answer depends on by identity (the query document's field nodes, which the selection
    and its prefetches come from): the entry is used only while they are the same objects. The
    queryset handed out is a fresh clone; anything done to it (``first()``, a filter) makes
    another clone that takes the ORM's path again."""
    try:
        hash(key)
    except TypeError:  # an argument of an unexpected kind: no memo
        return build()
    with _memo_lock:
        entry = _memo.get(key)
        if entry is not None:
            _memo.move_to_end(key)
    if (
        entry is None
        or len(entry.anchors) != len(anchors)
        or any(a is not b for a, b in zip(entry.anchors, anchors, strict=True))
    ):
        queryset = build()
        if queryset._iterable_class is not SharedRelatedModelIterable:
            return queryset
        entry = PreparedList(anchors, queryset)
        with _memo_lock:
            _memo[key] = entry
            if len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    out = entry.queryset._chain()
    out._pancake_memo = entry
    if entry.prefetch:
        out._prefetch_related_lookups = ()  # the iterable does them (``PreparedList.run_prefetch``)
    return out


def shared(qs):
    """``qs`` yielding shared related instances, built at once (a plain model queryset)."""
    if qs._iterable_class is ModelIterable:
        qs = qs._chain()
        qs._iterable_class = SharedRelatedModelIterable
    return qs
