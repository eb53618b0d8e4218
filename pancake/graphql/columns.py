"""Which columns a query reads, so that lists load only those (``QuerySet.only``).

A 100-row list joins a store, a product and its versions to every row; loading every column of
each (JSON documents, timestamps, texts) costs far more than the fields a query asks for. The
columns a selection needs are found from the resolvers themselves, without a second declaration
to keep in step: the attribute names each selected field's resolver may read (its code's names,
its closure's strings, partial arguments such as a default resolver's
attribute name), followed through the project's functions it calls and the model methods and
properties it names. Every model of the query then loads its primary key, its relations and the
concrete fields whose name (or ``*_id`` column) is among those names.

The names are a superset: one type's names apply to every model of the query, so a query loads
a few columns it does not use, never fewer than it needs. When something cannot be told (a field
the schema does not know), nothing is restricted. A column missed anyway would cost one query per
row (Django loads a deferred field on access), never a wrong answer; tests/graphql run every
document with deferred loading turned into an error.
"""

from __future__ import annotations

import functools
import inspect
import types
from functools import lru_cache

from django.apps import apps
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

PROJECT = ("pancake", "stores", "products", "checkout", "billing")


def _project_function(value) -> bool:
    return isinstance(value, types.FunctionType) and (value.__module__ or "").startswith(PROJECT)


def _code_names(code: types.CodeType, globals_: dict, out: set, seen: set) -> None:
    out.update(code.co_names)
    for const in code.co_consts:
        # String constants are not names: ``order_by("created_at")`` in a fallback query does
        # not read the column (a ``getattr(obj, "literal")`` would be missed: one query per row,
        # which the tests' deferred-loading guard reports).
        if isinstance(const, types.CodeType):
            _code_names(const, globals_, out, seen)
    for name in code.co_names:
        value = globals_.get(name)
        if _project_function(value):
            _function_names(value, out, seen)
        elif isinstance(value, type) and (value.__module__ or "").startswith(PROJECT):
            # A class it uses (``BillingDetail.from_json``): its project methods named here.
            for attr in code.co_names:
                method = inspect.getattr_static(value, attr, None)
                method = getattr(method, "__func__", method)
                if _project_function(method):
                    _function_names(method, out, seen)


def _function_names(func, out: set, seen: set) -> None:
    if isinstance(func, functools.partial):
        out.update(a for a in func.args if isinstance(a, str))
        _function_names(func.func, out, seen)
        return
    func = getattr(func, "__func__", func)
    if not isinstance(func, types.FunctionType) or func in seen:
        return
    seen.add(func)
    _code_names(func.__code__, func.__globals__, out, seen)
    for cell in func.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, str):
            out.add(value)
        elif callable(value):
            _function_names(value, out, seen)


@lru_cache(maxsize=4096)
def resolver_names(resolver) -> frozenset[str]:
    """Every attribute name ``resolver`` may read (see the module's docstring)."""
    out: set[str] = set()
    _function_names(resolver, out, set())
    return frozenset(out)


@lru_cache(maxsize=4096)
def _member_names(name: str) -> frozenset[str]:
    """What a model method or property called ``name`` (on any project model) reads."""
    out: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith(PROJECT):
            continue
        member = inspect.getattr_static(model, name, None)
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, functools.cached_property):
            member = member.func
        member = getattr(member, "__func__", member)
        if _project_function(member):
            _function_names(member, out, set())
    return frozenset(out)


def _named_type(gql_type):
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


def _walk(gql_type, tree: dict, out: set) -> bool:
    if not isinstance(gql_type, GraphQLObjectType):
        return not tree
    for name, sub in tree.items():
        if name.startswith("__"):
            continue
        field = gql_type.fields.get(name)
        if field is None:
            return False
        if field.resolve is not None:
            out.update(resolver_names(field.resolve))
        else:
            return False
        if sub and not _walk(_named_type(field.type), sub, out):
            return False
    return True


def names_read(graphql_schema, type_name: str, tree: dict) -> frozenset[str] | None:
    """The attribute names a selection of ``type_name`` may read, model members followed; None
    when it cannot be told."""
    out: set[str] = set()
    if not _walk(graphql_schema.get_type(type_name), tree, out):
        return None
    pending = set(out)
    while pending:
        more = set()
        for name in pending:
            more |= _member_names(name)
        pending = more - out
        out |= pending
    return frozenset(out)


def restrictable(qs) -> bool:
    """A plain model queryset: no ``values()``, no deferral or joins of its own yet."""
    query = qs.query
    return (
        qs._fields is None
        and not query.select_related
        and query.deferred_loading == (frozenset(), True)
        and not qs._prefetch_related_lookups
    )


def _model_at(model, path: str):
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
    return model


def only_paths(model, selects, names: frozenset[str], keep=()) -> list[str]:
    """``only()`` arguments: for the model and each ``select_related`` path, its primary key, its
    relations on the path and the concrete fields named in ``names``; plus ``keep``."""
    paths = list(keep)

    def add(m, prefix: str) -> None:
        for f in m._meta.concrete_fields:
            if f.primary_key or f.name in names or f.attname in names:
                paths.append(prefix + f.name)

    add(model, "")
    for path in selects:
        paths.append(path)
        add(_model_at(model, path), path + "__")
    return list(dict.fromkeys(paths))
