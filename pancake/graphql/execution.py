"""graphql-core's executor with a short way for plain leaf fields.

A 100-row list of orders with payments, product and store resolves some 1,700 fields; most are
leaves read straight off an object (``status``, ``buyerEmail``) or ids and timestamps rendered
from one attribute. For those, graphql-core's general path (resolve info, argument coercion,
completion dispatch) costs more than the value itself. ``ExecutionContext.execute_field`` here
reads such a leaf directly and serializes it with the field's scalar; anything else — a field with
arguments, an object or list, a custom resolver, a null, a value the scalar refuses, an error —
takes graphql-core's path unchanged, so answers and errors are the same either way. Other fields
without arguments in the document reuse one resolve info and one argument dict per field instead
of building them for every row.
"""

from __future__ import annotations

from functools import partial

from graphene.types.field import source_resolver
from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationType,
    Undefined,
    is_leaf_type,
    located_error,
)
from graphql.execution import ExecutionContext
from graphql.execution.collect_fields import collect_fields
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable

_SLOW = object()


def _attribute_reader(attname: str, default):
    def read(source, _context):
        if isinstance(source, dict):
            return source.get(attname, default)
        return getattr(source, attname, default)

    return read


def _source_reader(attname: str):
    def read(source, _context):
        value = source.get(attname) if isinstance(source, dict) else getattr(source, attname, None)
        return _SLOW if callable(value) else value  # a method: graphene calls it

    return read


def _reader(resolve):
    """How to read a leaf without graphql-core's machinery, or None."""
    fast = getattr(resolve, "gql_fast", None)
    if fast is not None:
        return fast
    if isinstance(resolve, partial) and not resolve.keywords:
        if resolve.func is dict_or_attr_resolver and len(resolve.args) == 2:
            return _attribute_reader(*resolve.args)
        if resolve.func is source_resolver and len(resolve.args) == 1:
            return _source_reader(resolve.args[0])
    return None


class FastLeafExecutionContext(ExecutionContext):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plans: dict = {}

    def _plan(self, parent_type, field_nodes, path):
        node = field_nodes[0]
        if node.arguments or self.middleware_manager:
            return None
        field_def = get_field_def(self.schema, parent_type, node)
        if field_def is None or field_def.resolve is None:
            return None
        leaf = field_def.type
        if isinstance(leaf, GraphQLNonNull):
            leaf = leaf.of_type
        if isinstance(leaf, GraphQLScalarType):
            reader = _reader(field_def.resolve)
            if reader is not None:
                return (reader, leaf.serialize)
        # A field without arguments in the document: its arguments (defaults only) and its
        # resolve info are the same for every row. Resolvers never read ``info.path``; errors
        # are located with the row's own path.
        args = get_argument_values(field_def, node, self.variable_values)
        info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
        return (field_def.resolve, field_def.type, info, args)

    def execute_field(self, parent_type, source, field_nodes, path):
        key = (parent_type.name, id(field_nodes[0]))
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plans[key] = self._plan(parent_type, field_nodes, path)
        if plan is None:
            return super().execute_field(parent_type, source, field_nodes, path)
        if len(plan) == 2:
            reader, serialize = plan
            try:
                value = reader(source, self.context_value)
                if value is not None and value is not _SLOW and not isinstance(value, Exception):
                    serialized = serialize(value)
                    if serialized is not None and serialized is not Undefined:
                        return serialized
            except Exception:  # noqa: BLE001, S110  (graphql-core's path reports it properly)
                pass
            return super().execute_field(parent_type, source, field_nodes, path)
        resolve, return_type, info, args = plan
        try:
            result = resolve(source, info, **args)
            if self.is_awaitable(result):
                return super().execute_field(parent_type, source, field_nodes, path)
            return self.complete_value(return_type, field_nodes, info, path, result)
        except Exception as raw_error:  # as graphql-core's execute_field does
            error = located_error(raw_error, field_nodes, path.as_list())
            self.handle_field_error(error, return_type, path)
            return None


# ---------------------------------------------------------------------------------------------
# The whole document at once: a plan of small functions, one per field of the selection.


class _Bail(Exception):
    """Anything the plan does not answer exactly as graphql-core would: run the general path."""


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
        if value is None:
            if nonnull:
                raise _Bail
            return None
        if not is_iterable(value):
            raise _Bail
        return [item(v) for v in value]

    return complete


class CompiledExecutionContext(FastLeafExecutionContext):
    """Answers a query from a plan built for this request's document, variables and context:
    per field, its resolver (or the direct reader of a plain leaf), its arguments and resolve
    info computed once, and how to complete its value; per row, only those calls. graphql-core's
    executor walks the same tree with a path object, a dispatch on the type and an error
    handler per field per row, which costs more than the data on a 100-row list.

    The plan answers only the ordinary case. Anything else — an error anywhere, a null in a
    non-null field, a value a scalar refuses, an abstract type, introspection — stops it and the
    whole operation runs again on graphql-core's path (``FastLeafExecutionContext``), which then
    answers exactly as graphql-core does, errors and partial data included. Resolvers only read,
    so running one twice changes nothing but the time."""

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
        reader = None if args else _reader(resolve)
        context = self.context_value
        if reader is not None:

            def run(source):
                value = reader(source, context)
                if value is _SLOW:
                    value = resolve(source, info)
                return complete(value)

        else:

            def run(source):
                return complete(resolve(source, info, **args))

        return run

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
