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
from graphql import GraphQLNonNull, GraphQLScalarType, Undefined, located_error
from graphql.execution import ExecutionContext
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values

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
