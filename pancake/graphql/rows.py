"""One instance per related row: a 100-row list whose rows all join the same store, product and
version builds each of those once instead of once per row. And a list asked again the same way
is not built again (``memoized``).

``select_related`` builds a fresh instance of every joined model for every row. GraphQL only
reads them, so rows pointing at the same related row can share one instance: the iterable below
is Django's ``ModelIterable`` with a populator that remembers, per relation, the instances it
built by primary key. Everything else (annotations, known related objects) is Django's.

The instances themselves are built without ``Model.__init__`` where that is the same
(``pancake.api.prepared.instance_builder``).
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections
from django.db.models import Prefetch, QuerySet, UUIDField
from django.db.models.query import ModelIterable

from pancake.api import prepared
from pancake.api.prepared import FastRelatedPopulator, PreparedSelect, instance_builder
from pancake.graphql.scope import scope_key


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


class _Memo:
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
        cache = prepared._cache(connection)
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
        entry = _Memo(anchors, queryset)
        with _memo_lock:
            _memo[key] = entry
            if len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    out = entry.queryset._chain()
    out._pancake_memo = entry
    if entry.prefetch:
        out._prefetch_related_lookups = ()  # the iterable does them (``_Memo.run_prefetch``)
    return out


def memoized_list(info, parts: tuple, build: Callable[[], QuerySet]) -> QuerySet:
    """A list root's ``build()`` (its base queryset, filtered, optimized for the selection,
    paginated) through ``memoized``, keyed by ``parts`` (the root's name and every argument it
    was given, filters frozen: ``filters.frozen``), this field of this document and the
    caller's scope."""
    nodes = tuple(info.field_nodes)
    key = (*parts, tuple(map(id, nodes)), scope_key(info.context))
    return memoized(key, nodes, build)


def shared(qs):
    """``qs`` yielding shared related instances, built at once (a plain model queryset)."""
    if qs._iterable_class is ModelIterable:
        qs = qs._chain()
        qs._iterable_class = SharedRelatedModelIterable
    return qs
