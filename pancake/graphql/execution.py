"""graphql-core's executor with a short way for plain leaf fields.

A 100-row list of orders with payments, product and store resolves some 1,700 fields; most are
leaves read straight off an object (``status``, ``buyerEmail``) or ids and timestamps rendered
from one attribute. For those, graphql-core's general path (resolve info, argument coercion,
completion dispatch) costs more than the value itself. ``ExecutionContext.execute_field`` here
reads such a leaf directly and serializes it with the field's scalar; anything else — a field with
arguments, an object or list, a custom resolver, a null, a value the scalar refuses, an error —
takes graphql-core's path unchanged, so answers and errors are the same either way.
"""

from __future__ import annotations

from functools import partial

from graphene.types.field import source_resolver
from graphene.types.resolver import dict_or_attr_resolver
from graphql import GraphQLNonNull, GraphQLScalarType, Undefined
from graphql.execution import ExecutionContext
from graphql.execution.execute import get_field_def

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

    def _plan(self, parent_type, node):
        if node.arguments or self.middleware_manager:
            return None
        field_def = get_field_def(self.schema, parent_type, node)
        if field_def is None or field_def.resolve is None:
            return None
        leaf = field_def.type
        if isinstance(leaf, GraphQLNonNull):
            leaf = leaf.of_type
        if not isinstance(leaf, GraphQLScalarType):
            return None
        reader = _reader(field_def.resolve)
        return (reader, leaf.serialize) if reader is not None else None

    def execute_field(self, parent_type, source, field_nodes, path):
        node = field_nodes[0]
        key = (parent_type.name, id(node))
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plans[key] = self._plan(parent_type, node)
        if plan is not None:
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
