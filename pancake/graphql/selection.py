"""Loading driven by the selection: the SQL statements of a request depend on the shape of the
query, never on the number of rows, and each statement reads only the columns the selected fields
need.

Each object type served from a model declares, beside its fields, what every field reads:

    class OrderType(graphene.ObjectType):
        columns = {"status": ("status",),
                   "priceSnapshot": ("currency", "total", "session__tax_category"), …}
        relations = {"store": Rel("store", "stores.schema.StoreType"),
                     "payments": Rel("payments", "billing.schema.PaymentType", many=True,
                                     queryset=lambda ctx: Payment.objects.order_by("created_at"),
                                     to_attr="gql_payments")}

``columns`` names, for every field of the type that is not a relation, the model fields its
resolver reads (``only()`` paths; ``session__tax_category`` joins the session); a field that
reads nothing has ``()``. tests/graphql check that every field of such a type is declared. A
to-one relation becomes a ``select_related`` join (its own fields are read through the joined
path); a to-many relation becomes one ``Prefetch(queryset=…, to_attr=…)`` whose queryset is
planned the same way for the sub-selection. Resolvers read the prefetched attribute and never
query.

A plan depends only on the type and the selection, so it is made once per selection shape
(``plan``) and applied to each request's queryset (``optimize``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils.module_loading import import_string
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from pancake.api import prepared


@dataclass(frozen=True)
class Rel:
    # The Django relation (to-one: FK/one-to-one; many: reverse FK or M2M, possibly reached
    # through to-one relations, ``subscription__plan_changes``, which are then joined).
    path: str
    # The graphene type the field returns: its dotted path ("stores.schema.StoreType"), as
    # graphene takes a field's type, so app schemas name each other's types without importing
    # them; or a callable answering it (a type later in the same module).
    type: str | Callable[[], type]
    many: bool = False
    queryset: Callable | None = None  # many: (ctx) -> the base queryset, already scoped
    to_attr: str | None = None
    # The same sub-selection read through these to-one paths too (a product's current version
    # is its test or its prod version).
    also: tuple[str, ...] = ()
    # many: each row of the relation is the way to the rows the field returns (a group's
    # memberships lead to their products): the sub-selection is read through this to-one path.
    via: str | None = None
    # to-one: read by a statement of its own (a Prefetch) rather than joined to every row: for
    # a relation many rows share (a hundred orders of one product read it once, and each order
    # holds the same instance).
    prefetch: bool = False


def _graphene_type(rel: Rel) -> type:
    return import_string(rel.type) if isinstance(rel.type, str) else rel.type()


def _merge(into: dict, selections, fragments) -> None:
    for node in selections:
        if isinstance(node, FieldNode):
            sub = into.setdefault(node.name.value, {})
            if node.selection_set:
                _merge(sub, node.selection_set.selections, fragments)
        elif isinstance(node, InlineFragmentNode):
            _merge(into, node.selection_set.selections, fragments)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                _merge(into, fragment.selection_set.selections, fragments)


def selection_tree(info) -> dict:
    """``{fieldName: {subField: {...}}}`` for the field being resolved, fragments merged."""
    tree: dict = {}
    for node in info.field_nodes:
        if node.selection_set:
            _merge(tree, node.selection_set.selections, info.fragments)
    return tree


def _frozen(tree: dict) -> tuple:
    return tuple(sorted((name, _frozen(sub)) for name, sub in tree.items()))


@dataclass(frozen=True)
class Many:
    """A relation of a plan read by a statement of its own: one ``Prefetch`` per request."""

    path: str  # from the planned model
    rel: Rel
    plan: Plan  # of the relation's rows
    model: type | None = None  # a prefetched to-one relation's model (its rows: all of them)


@dataclass(frozen=True)
class Plan:
    """What a queryset of one model loads for one selection: ``only`` (None: every column),
    ``select_related`` and the to-many relations to prefetch."""

    only: tuple[str, ...] | None
    joins: tuple[str, ...]
    many: tuple[Many, ...]


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _joins_of(path: str) -> list[str]:
    """The to-one joins a column path goes through: ``session__tax_category`` → ``session``."""
    parts = path.split("__")[:-1]
    return ["__".join(parts[: i + 1]) for i in range(len(parts))]


def _back_reference(model, path: str) -> str | None:
    """For a reverse foreign key (``Order.payments``, or one reached through to-one relations:
    ``Order.subscription__plan_changes``), the child's field pointing back (``Payment.order``,
    ``PlanChange.subscription``): a Prefetch through it sets that field to the parent
    instance."""
    through, _, name = path.rpartition("__")
    owner = _related(model, through) if through else model
    field = _field(owner, name) if owner is not None else None
    if field is None or not getattr(field, "one_to_many", False) or field.concrete:
        return None
    return field.field.name


class _Collected:
    def __init__(self):
        self.columns: list[str] = []
        self.joins: list[str] = []
        self.many: list[Many] = []
        self.complete = True  # False: a field without a declaration (load every column)

    def plan(self) -> Plan:
        only = tuple(dict.fromkeys(self.columns)) if self.complete else None
        # Two fields served by the same relation (``products`` and ``productIds``): one
        # Prefetch that reads what both need.
        many: dict[tuple, Many] = {}
        for item in self.many:
            key = (item.path, item.rel.to_attr)  # what Django's Prefetch is known by
            seen = many.get(key)
            many[key] = (
                item
                if seen is None
                else Many(item.path, seen.rel, _union(seen.plan, item.plan), seen.model)
            )
        return Plan(only, tuple(dict.fromkeys(self.joins)), tuple(many.values()))


def _union(a: Plan, b: Plan) -> Plan:
    only = None if a.only is None or b.only is None else tuple(dict.fromkeys(a.only + b.only))
    out = _Collected()
    out.many = [*a.many, *b.many]
    return Plan(only, tuple(dict.fromkeys(a.joins + b.joins)), out.plan().many)


def _related(model, path: str):
    """The model at the end of a relation path (``subscription__plan_changes``), or None."""
    for name in path.split("__"):
        field = _field(model, name) if model is not None else None
        model = field.related_model if field is not None else None
    return model


def _collect(gtype, tree: dict, model, prefix: str, out: _Collected) -> None:
    """The columns, joins and prefetches of ``tree`` on ``gtype``, read through ``prefix``."""
    columns = getattr(gtype, "columns", None)
    relations = getattr(gtype, "relations", {})
    if columns is None:
        out.complete = False
    if not prefix:
        out.columns.append("pk")  # (a related row's primary key is always loaded)
    for name, sub in tree.items():
        if name.startswith("__"):
            continue
        rel = relations.get(name)
        declared = columns.get(name) if columns is not None else None
        if declared is None and rel is None:
            out.complete = False
            continue
        for path in declared or ():
            out.columns.append(prefix + path)
            out.joins += [prefix + join for join in _joins_of(path)]
        if rel is None:
            continue
        if rel.many:
            _collect_many(rel, sub, model, prefix, out)
            continue
        if rel.prefetch:
            target = _related(model, rel.path)
            child = _Collected()
            _collect(_graphene_type(rel), sub, target, "", child)
            child.columns.insert(0, "pk")
            out.columns.append(prefix + rel.path)  # the key the Prefetch matches rows on
            out.many.append(Many(prefix + rel.path, rel, child.plan(), target))
            continue
        for path in (rel.path, *rel.also):
            out.columns.append(prefix + path)
            out.joins.append(prefix + path)
            _collect(_graphene_type(rel), sub, _related(model, path), f"{prefix}{path}__", out)


def _collect_many(rel: Rel, tree: dict, model, prefix: str, out: _Collected) -> None:
    """A to-many relation: its rows' plan, and what they read through their way back to the
    parent, read by the parent instead (the Prefetch sets the child's foreign key to the parent
    instance: a payment's ``order__session__tax_category`` is the order's own)."""
    rows_model = _related(model, rel.path)
    child = _Collected()
    if rel.via:
        child.columns += ["pk", rel.via]  # the row, and its way to the rows returned
        child.joins.append(rel.via)
        _collect(_graphene_type(rel), tree, _related(rows_model, rel.via), rel.via + "__", child)
    else:
        _collect(_graphene_type(rel), tree, rows_model, "", child)
    # A relation reached through to-one relations of the parent (``subscription__plan_changes``):
    # those are joined to the parent's rows, so the Prefetch finds them loaded.
    through = rel.path.rpartition("__")[0]
    if through:
        way = _related(model, through)
        out.columns.append(f"{prefix}{through}__{way._meta.pk.name if way else 'id'}")
        out.joins += [prefix + join for join in _joins_of(rel.path)]
        through += "__"
    back = _back_reference(model, rel.path)
    if back is not None:
        start = back + "__"
        moved = [c[len(start) :] for c in child.columns if c.startswith(start)]
        out.columns += [prefix + through + c for c in moved]
        moved = [j[len(start) :] for j in child.joins if j.startswith(start)]
        out.joins += [prefix + through + j for j in moved]
        child.columns = [c for c in child.columns if not c.startswith(start)] + [back]
        child.joins = [j for j in child.joins if j != back and not j.startswith(start)]
    out.many.append(Many(prefix + rel.path, rel, child.plan()))


@lru_cache(maxsize=1024)
def plan(gtype, tree: tuple, model) -> Plan:
    """The plan of a selection (``tree``: ``_frozen``) of a type on ``model``."""

    def thaw(frozen: tuple) -> dict:
        return {name: thaw(sub) for name, sub in frozen}

    out = _Collected()
    _collect(gtype, thaw(tree), model, "", out)
    return out.plan()


def _apply(qs: QuerySet, plan_: Plan, ctx) -> QuerySet:
    if plan_.only is not None:
        qs = qs.only(*plan_.only)
    if plan_.joins:
        qs = qs.select_related(*plan_.joins)
    qs = prepared.shared(qs)  # related rows shared between the list's rows
    if plan_.many:
        qs = qs.prefetch_related(
            *(
                Prefetch(
                    many.path,
                    queryset=_apply(
                        many.rel.queryset(ctx)
                        if many.rel.queryset
                        else many.model._default_manager.all(),
                        many.plan,
                        ctx,
                    ),
                    to_attr=many.rel.to_attr,
                )
                for many in plan_.many
            )
        )
    return qs


def optimize(qs: QuerySet, gtype, tree: dict, ctx) -> QuerySet:
    return _apply(qs, plan(gtype, _frozen(tree), qs.model), ctx)


def optimized(qs: QuerySet, gtype, info) -> QuerySet:
    return optimize(qs, gtype, selection_tree(info), info.context)


def prefetched(obj, attr: str, fallback: Callable[[], object]):
    """The list a Prefetch put on ``obj``; the fallback query only when nothing was prefetched
    (a resolver reached some other way)."""
    value = getattr(obj, attr, None)
    return value if value is not None else list(fallback())
