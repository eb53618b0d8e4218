"""Statements of the hot request paths, compiled by the ORM once per database connection and run
again with new values.

Compiling a wide ``select_related`` read costs the ORM 1-2 ms of CPU per request (column lists,
joins, converters), more than the database spends running it; an INSERT of a 30-column row about
0.5 ms. The SQL text of such a statement never changes between requests, only its values do, so
``PreparedSelect`` compiles the queryset once (twice, the first time: with two different sets of
stand-in values, to learn which parameters are the caller's values and to prove nothing else in
the text depends on them), then runs that text with the values of the moment and builds the
model instances exactly as ``QuerySet`` iteration does. ``insert`` and ``update_fields`` write a
model instance the way ``Model.save`` does (``pre_save`` of every field, ``get_db_prep_save``),
from a statement text compiled once per model and field list.

Anything out of the ordinary (a value of an unexpected type, an expression as a value, save
signal receivers, multi-table inheritance) takes the ORM's own path, unchanged.

On PostgreSQL with server-side parameters (the default, ``DB_PREPARED_STATEMENTS``), these
statements are also prepared on the server, and PostgreSQL may settle on one generic plan for
each: it stops planning them on every request. That is right only for statements whose best plan
does not depend on their values: the point reads and single-row writes of the hot paths, which
is all this module is for. Lists ("this store's newest orders") go through the ORM, unprepared,
and are planned for their values every time (a generic plan would walk every store's rows for a
small store's few).
"""

from __future__ import annotations

import inspect
import secrets
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, router
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Field, Lookup, Model, signals
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import RelatedPopulator
from django.db.models.query_utils import DeferredAttribute
from django.db.models.sql.subqueries import InsertQuery
from django.db.transaction import TransactionManagementError

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


def _plain_init(model_cls, init_list) -> bool:
    return (
        model_cls.__init__ is Model.__init__
        and model_cls.from_db.__func__ is Model.from_db.__func__
        and not signals.pre_init.has_listeners(model_cls)
        and not signals.post_init.has_listeners(model_cls)
        and all(
            type(inspect.getattr_static(model_cls, name, None)) in _PLAIN_ATTRIBUTES
            for name in init_list
        )
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


class AnyOf(Lookup):
    """``filter(pk__any=[uuid, …])``: ``__in`` with one array parameter on PostgreSQL (``= ANY
    (%s)``), so the statement's text is the same however many values there are and it can be
    compiled once (a batch of one event or of fifty). Elsewhere, ``IN (%s, …)``."""

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # a relation's lookups are its own (its target's value)


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
