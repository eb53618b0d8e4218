"""Prefetching driven by the selection: the number of SQL statements of a request depends on
the shape of the query, never on the number of rows.

Each object type declares how its relation fields reach the database:

    class OrderType(graphene.ObjectType):
        relations = {"store": Rel("store", lambda: StoreType),
                     "payments": Rel("payments", lambda: PaymentType, many=True,
                                     queryset=lambda ctx: Payment.objects.order_by("created_at"),
                                     to_attr="gql_payments")}
        select_always = ("version",)

A to-one relation becomes a ``select_related`` join (its own relations are followed with the
joined path); a to-many relation becomes one ``Prefetch`` whose queryset is optimized the same way
for the sub-selection. Resolvers read the prefetched attribute and never query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from pancake.graphql import columns, rows


@dataclass(frozen=True)
class Rel:
    path: str  # the Django relation (to-one: FK/one-to-one; many: reverse FK or M2M)
    type: Callable[[], type]  # the graphene type the field returns (lazy)
    many: bool = False
    queryset: Callable | None = None  # many: (ctx) -> the base queryset, already scoped
    to_attr: str | None = None


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


def _related_model(model, path: str):
    """The model at the end of a Django relation path, or None when it cannot be told."""
    try:
        return model._meta.get_field(path).related_model if model is not None else None
    except Exception:  # noqa: BLE001  (a to_attr-only name, a generic relation, …)
        return None


def _back_reference(model, path: str) -> str | None:
    """For a reverse foreign key (``Order.payments``), the child's field pointing back
    (``Payment.order``): a Prefetch through it sets that field to the parent instance."""
    try:
        field = model._meta.get_field(path) if model is not None else None
    except Exception:  # noqa: BLE001
        return None
    if field is None or not getattr(field, "one_to_many", False) or field.concrete:
        return None
    return field.field.name


def _collect(
    gtype, tree: dict, ctx, prefix: str, model=None, names=None
) -> tuple[list[str], list[Prefetch]]:
    selects = [
        prefix + path
        for path in getattr(gtype, "select_always", ())
        if names is None or all(part in names for part in path.split("__"))
    ]
    prefetches: list[Prefetch] = []
    relations = getattr(gtype, "relations", {})
    for name, sub in tree.items():
        rel = relations.get(name)
        if rel is None:
            continue
        target = rel.type()
        if rel.many:
            base = rel.queryset(ctx)
            restrict = names is not None and columns.restrictable(base)
            child_selects, child_prefetches = _collect(
                target, sub, ctx, "", base.model, names if restrict else None
            )
            back = _back_reference(model, rel.path)
            if back is not None:
                # The child's way back to its parent is the parent itself (the Prefetch sets
                # it): what the child would join beyond it, the parent joins once instead of
                # once per child row.
                kept = []
                for path in child_selects:
                    if path == back:
                        continue
                    if path.startswith(back + "__"):
                        selects.append(prefix + path[len(back) + 2 :])
                    else:
                        kept.append(path)
                child_selects = kept
            only = None
            if restrict and back is not None:
                # The foreign key back to the parent is what the Prefetch matches rows on.
                only = columns.only_paths(base.model, child_selects, names, keep=(back,))
            qs = _apply(base, child_selects, child_prefetches, only)
            prefetches.append(Prefetch(prefix + rel.path, queryset=qs, to_attr=rel.to_attr))
        else:
            selects.append(prefix + rel.path)
            more_selects, more_prefetches = _collect(
                target, sub, ctx, f"{prefix}{rel.path}__", _related_model(model, rel.path), names
            )
            selects += more_selects
            prefetches += more_prefetches
    return selects, prefetches


def _apply(qs: QuerySet, selects: list[str], prefetches: list[Prefetch], only=None) -> QuerySet:
    if only:
        qs = qs.only(*only)
    if selects:
        qs = qs.select_related(*dict.fromkeys(selects))
    qs = rows.shared(qs)
    if prefetches:
        # Two fields served by the same relation (``products`` and ``productIds``) share one.
        unique: dict[str, Prefetch] = {}
        for prefetch in prefetches:
            unique.setdefault(prefetch.prefetch_to, prefetch)
        qs = qs.prefetch_related(*unique.values())
    return qs


def optimize(qs: QuerySet, gtype, tree: dict, ctx) -> QuerySet:
    names = None
    if columns.restrictable(qs):
        from pancake.graphql.schema import schema

        names = columns.names_read(schema.graphql_schema, gtype._meta.name, tree)
    selects, prefetches = _collect(gtype, tree, ctx, "", qs.model, names)
    only = columns.only_paths(qs.model, selects, names) if names is not None else None
    return _apply(qs, selects, prefetches, only)


def optimized(qs: QuerySet, gtype, info) -> QuerySet:
    return optimize(qs, gtype, selection_tree(info), info.context)


def prefetched(obj, attr: str, fallback: Callable[[], object]):
    """The list a Prefetch put on ``obj``; the fallback query only when nothing was prefetched
    (a resolver reached some other way)."""
    value = getattr(obj, attr, None)
    return value if value is not None else list(fallback())
