"""Canary for pancake/graphql/execution.py, the one module that uses graphql-core's executor
internals and graphene's resolver shapes (written for graphql-core 3.2 and graphene 3.4, pinned
``graphql-core~=3.2.14``, ``graphene~=3.4.3``).

It fails the day an upgrade changes what the module relies on: read the module against the new
versions, adapt it, then record the new fingerprints here and move the pins. That its answers are
graphql-core's own, errors included, is checked on every SDK document in
tests/graphql/test_execution_cache.py.
"""

import hashlib
import inspect
from functools import partial

import graphene
import graphql
import pytest
from graphene.types.field import source_resolver
from graphene.types.resolver import dict_or_attr_resolver
from graphql import GraphQLBoolean, GraphQLError, GraphQLID, GraphQLInt, GraphQLString, parse
from graphql.execution import ExecutionContext
from graphql.execution.collect_fields import collect_fields

from pancake.graphql.execution import CompiledExecutionContext

FINGERPRINTS = {
    # overridden: the query's root fields, then graphql-core's own way when the plan gives up
    "ExecutionContext.execute_operation": (
        ExecutionContext.execute_operation,
        "4173ce5856aa8fcf",
    ),
    # called once per field of the plan
    "ExecutionContext.build_resolve_info": (
        ExecutionContext.build_resolve_info,
        "60e2e8c33512f15d",
    ),
    "ExecutionContext.collect_subfields": (
        ExecutionContext.collect_subfields,
        "483eeb64eae98830",
    ),
    "collect_fields": (collect_fields, "fe477988e5763ea4"),
    # the attributes read (schema, fragments, variable_values, context_value, …)
    "ExecutionContext.__init__": (ExecutionContext.__init__, "f0165b456fa21db7"),
}


def fingerprint(obj) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def test_the_versions_are_those_the_module_was_written_for():
    assert graphql.__version__.startswith("3.2."), graphql.__version__
    assert graphene.__version__.startswith("3.4."), graphene.__version__


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_the_graphql_core_code_the_module_relies_on_is_unchanged(name):
    obj, recorded = FINGERPRINTS[name]
    assert fingerprint(obj) == recorded, (
        f"{name} changed in graphql-core {graphql.__version__}: read "
        "pancake/graphql/execution.py against it before recording its new fingerprint"
    )


def test_an_execution_context_has_what_the_plan_reads():
    schema = graphene.Schema(query=type("Query", (graphene.ObjectType,), {"a": graphene.String()}))
    context = CompiledExecutionContext.build(schema.graphql_schema, parse("{ a }"))
    assert isinstance(context, CompiledExecutionContext)
    for name in (
        "schema",
        "fragments",
        "variable_values",
        "context_value",
        "middleware_manager",
        "field_resolver",
        "_subfields_cache",
    ):
        assert hasattr(context, name), name


def test_the_built_in_scalars_return_values_of_their_type_unchanged():
    """What the plan returns without calling ``serialize``, ``serialize`` returns unchanged;
    what it does not (an Int out of 32 bits), ``serialize`` refuses."""
    text = "a string"
    assert GraphQLString.serialize(text) is text
    assert GraphQLID.serialize(text) is text
    assert GraphQLInt.serialize(2**31 - 1) == 2**31 - 1
    assert GraphQLInt.serialize(-(2**31)) == -(2**31)
    with pytest.raises(GraphQLError):
        GraphQLInt.serialize(2**31)
    assert GraphQLBoolean.serialize(True) is True
    assert GraphQLBoolean.serialize(False) is False


def test_graphenes_default_resolvers_have_the_shapes_the_plan_reads():
    class Thing(graphene.ObjectType):
        plain = graphene.String()
        renamed = graphene.Int(source="number")

    class Query(graphene.ObjectType):
        thing = graphene.Field(Thing)

    fields = graphene.Schema(query=Query).graphql_schema.get_type("Thing").fields
    plain, renamed = fields["plain"].resolve, fields["renamed"].resolve
    assert isinstance(plain, partial) and plain.func is dict_or_attr_resolver
    assert plain.args == ("plain", None) and not plain.keywords
    assert isinstance(renamed, partial) and renamed.func is source_resolver
    assert renamed.args == ("number",) and not renamed.keywords
