"""graphql-core's executor answering a query from a plan compiled for its document.

A 100-row list of orders with their payments resolves some 2,300 fields. graphql-core's executor
walks them one by one with a path object, a resolve info, argument coercion, a dispatch on the
type and an error handler per field per row, which costs more than the data (bench/RESULTS.md:
the SDK guide's orders document takes twice the instructions on the stock executor). Here the
document is compiled once per request into a plan of small functions, one per field of the
selection, with the resolver (or a direct read of a plain attribute), the arguments and the resolve
info computed once; per row only those calls run, and a leaf whose value already has its
scalar's type (a ``str`` for String and ID, an ``int`` in range for Int, a ``bool``) is returned
as it is.

The plan answers only the ordinary case. Anything else (an error anywhere, a null in a non-null
field, a value a scalar refuses, an abstract type, introspection, middleware) stops it, and the
whole operation runs again on graphql-core's own executor, which then answers exactly as
graphql-core does, errors and partial data included. Resolvers only read, so running one twice
changes nothing but the time.

This subclasses graphql-core's ``ExecutionContext`` (the ``execution_context_class`` parameter of
``graphql.execute``) and relies on its internals. Written for graphql-core 3.2 (3.2.14) and
graphene 3.4 (3.4.3), both pinned in pyproject.toml; tests/graphql/test_execution_canary.py fails
loudly when an upgrade changes any of what it relies on:

- ``ExecutionContext.execute_operation(operation, root_value)`` runs an operation, with the
  attributes ``schema``, ``fragments``, ``variable_values``, ``context_value``,
  ``middleware_manager``, ``field_resolver`` and ``_subfields_cache``;
- ``build_resolve_info(field_def, field_nodes, parent_type, path)``,
  ``collect_subfields(return_type, field_nodes)`` and
  ``graphql.execution.collect_fields.collect_fields(schema, fragments, variables, type, set)``;
- the built-in scalars' ``serialize`` returns a ``str`` (String, ID), an ``int`` (Int, 32 bits)
  and a ``bool`` (Boolean) unchanged;
- graphene's default resolvers are ``partial(dict_or_attr_resolver, attname, default)`` and
  ``partial(source_resolver, attname)``.
"""

from __future__ import annotations

from functools import partial

from graphene.types.field import source_resolver
from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    OperationType,
    Undefined,
    is_leaf_type,
)
from graphql.execution import ExecutionContext, get_argument_values
from graphql.execution.collect_fields import collect_fields
from graphql.pyutils import Path, is_iterable

_SLOW = object()
_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


class _Bail(Exception):
    """Anything the plan does not answer exactly as graphql-core would: run the general path."""


# --- reading a field's value ---------------------------------------------------------------------


def _source_reader(attname: str):
    def read(source, _context):
        value = source.get(attname) if isinstance(source, dict) else getattr(source, attname, None)
        return _SLOW if callable(value) else value  # a method: graphene calls it

    return read


def _attribute(resolve) -> tuple[str, object] | None:
    """(attname, default) of graphene's default resolver, or None."""
    if isinstance(resolve, partial) and not resolve.keywords:
        if resolve.func is dict_or_attr_resolver and len(resolve.args) == 2:
            return resolve.args[0], resolve.args[1]
    return None


def _reader(resolve):
    """``read(source, context)`` reading the field without its resolve info, or None."""
    fast = getattr(resolve, "gql_fast", None)  # types.id_field and types.ts_field have one
    if fast is not None:
        return fast
    if isinstance(resolve, partial) and not resolve.keywords:
        if resolve.func is source_resolver and len(resolve.args) == 1:
            return _source_reader(resolve.args[0])
    return None


# --- completing a value --------------------------------------------------------------------------


def _leaf(serialize, nonnull: bool):
    def complete(value):
        if value is None:
            if nonnull:
                raise _Bail
            return None
        if isinstance(value, Exception):
            raise _Bail
        serialized = serialize(value)
        if serialized is None or serialized is Undefined:
            raise _Bail
        return serialized

    return complete


def _object(fields, is_type_of, info, nonnull: bool):
    def complete(value):
        if value is None:
            if nonnull:
                raise _Bail
            return None
        if isinstance(value, Exception) or (is_type_of is not None and not is_type_of(value, info)):
            raise _Bail
        return {key: run(value) for key, run in fields}

    return complete


def _list(item, nonnull: bool):
    def complete(value):
        if value.__class__ is list:  # what resolvers return (is_iterable is an ABC check)
            return [item(v) for v in value]
        if value is None:
            if nonnull:
                raise _Bail
            return None
        if not is_iterable(value):
            raise _Bail
        return [item(v) for v in value]

    return complete


# --- one field: read, then return at once what already has the scalar's type --------------------
# One closure per kind of leaf, so that a row's leaf costs one call: the common case (an
# attribute that is already a str, an int, a bool) never reaches ``complete``.


def _attribute_str(attname, default, complete):
    def run(source):
        if isinstance(source, dict):
            value = source.get(attname, default)
        else:
            value = getattr(source, attname, default)
        if value.__class__ is str:
            return value
        return complete(value)

    return run


def _attribute_int(attname, default, complete):
    def run(source):
        if isinstance(source, dict):
            value = source.get(attname, default)
        else:
            value = getattr(source, attname, default)
        if value.__class__ is int and _MIN_INT <= value <= _MAX_INT:
            return value
        return complete(value)

    return run


def _attribute_bool(attname, default, complete):
    def run(source):
        if isinstance(source, dict):
            value = source.get(attname, default)
        else:
            value = getattr(source, attname, default)
        if value is True or value is False:
            return value
        return complete(value)

    return run


def _attribute_any(attname, default, complete):
    def run(source):
        if isinstance(source, dict):
            return complete(source.get(attname, default))
        return complete(getattr(source, attname, default))

    return run


_ATTRIBUTE = {"str": _attribute_str, "int": _attribute_int, "bool": _attribute_bool}


def _read_str(read, context, resolve, info, complete):
    def run(source):
        value = read(source, context)
        if value.__class__ is str:
            return value
        if value is _SLOW:
            value = resolve(source, info)
        return complete(value)

    return run


def _read_any(read, context, resolve, info, complete):
    def run(source):
        value = read(source, context)
        if value is _SLOW:
            value = resolve(source, info)
        return complete(value)

    return run


def _call_str(resolve, info, complete):
    def run(source):
        value = resolve(source, info)
        if value.__class__ is str:
            return value
        return complete(value)

    return run


def _call_int(resolve, info, complete):
    def run(source):
        value = resolve(source, info)
        if value.__class__ is int and _MIN_INT <= value <= _MAX_INT:
            return value
        return complete(value)

    return run


def _call_bool(resolve, info, complete):
    def run(source):
        value = resolve(source, info)
        if value is True or value is False:
            return value
        return complete(value)

    return run


def _call_any(resolve, info, complete):
    def run(source):
        return complete(resolve(source, info))

    return run


def _call_with_args(resolve, info, args, complete):
    def run(source):
        return complete(resolve(source, info, **args))

    return run


_CALL = {"str": _call_str, "int": _call_int, "bool": _call_bool}
_KIND = {GraphQLString: "str", GraphQLID: "str", GraphQLInt: "int", GraphQLBoolean: "bool"}


def _kind(gql_type) -> str | None:
    """The Python type a leaf's value has when its scalar returns it unchanged."""
    if isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return _KIND.get(gql_type)


class CompiledExecutionContext(ExecutionContext):
    """Answers a query from a plan built for this request's document, variables and context;
    anything out of the ordinary runs on graphql-core's own executor (see the module)."""

    def execute_operation(self, operation, root_value):
        if operation.operation == OperationType.QUERY and not self.middleware_manager:
            try:
                root_type = self.schema.query_type
                fields = collect_fields(
                    self.schema,
                    self.fragments,
                    self.variable_values,
                    root_type,
                    operation.selection_set,
                )
                plan = self._plan_fields(root_type, fields, None)
                return {key: run(root_value) for key, run in plan}
            except Exception:  # noqa: BLE001, S110  (_Bail, or an error the general path reports)
                pass
            self._subfields_cache.clear()
        return super().execute_operation(operation, root_value)

    def _plan_fields(self, parent_type, fields, path) -> list:
        plan = []
        for key, field_nodes in fields.items():
            run = self._plan_field(parent_type, field_nodes, Path(path, key, parent_type.name))
            if run is not None:
                plan.append((key, run))
        return plan

    def _plan_field(self, parent_type, field_nodes, path):
        node = field_nodes[0]
        name = node.name.value
        if name == "__typename":
            type_name = parent_type.name
            return lambda _source: type_name
        if name.startswith("__"):
            raise _Bail  # introspection: graphql-core's path
        field_def = parent_type.fields.get(name)
        if field_def is None:
            return None  # graphql-core leaves an unknown field out too
        args = get_argument_values(field_def, node, self.variable_values)
        info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
        complete = self._plan_type(field_def.type, field_nodes, info, path)
        resolve = field_def.resolve or self.field_resolver
        if args:
            return _call_with_args(resolve, info, args, complete)
        kind = _kind(field_def.type)
        attribute = _attribute(resolve)
        if attribute is not None:
            return _ATTRIBUTE.get(kind, _attribute_any)(*attribute, complete)
        read = _reader(resolve)
        if read is not None:
            make = _read_str if kind == "str" else _read_any
            return make(read, self.context_value, resolve, info, complete)
        return _CALL.get(kind, _call_any)(resolve, info, complete)

    def _plan_type(self, gql_type, field_nodes, info, path):
        nonnull = isinstance(gql_type, GraphQLNonNull)
        if nonnull:
            gql_type = gql_type.of_type
        if isinstance(gql_type, GraphQLList):
            return _list(self._plan_type(gql_type.of_type, field_nodes, info, path), nonnull)
        if is_leaf_type(gql_type):
            return _leaf(gql_type.serialize, nonnull)
        if isinstance(gql_type, GraphQLObjectType):
            sub = self._plan_fields(gql_type, self.collect_subfields(gql_type, field_nodes), path)
            return _object(sub, gql_type.is_type_of, info, nonnull)
        raise _Bail  # an interface or a union: graphql-core resolves the type per value
