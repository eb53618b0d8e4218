"""What happens to a document before it runs: the ``prices`` rewrite, the id-variable rule, and
the depth and size limits. Introspection (``__schema``, ``__type``) is exempt from the
limits: tools need the whole schema."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    specified_rules,
)
from graphql.utilities import type_from_ast
from graphql.validation import ValidationRule, VariablesInAllowedPositionRule
from graphql.validation.rules.variables_in_allowed_position import allowed_variable_usage

MAX_DEPTH = 10
MAX_FIELDS = 500
MAX_QUERY_CHARS = 20_000


# --- prices: a JSON leaf, or a list with sub-fields ------------------------------------------


def _rewrite(selections) -> None:
    for node in selections or ():
        if isinstance(node, FieldNode):
            if node.selection_set is not None:
                if node.name.value == "prices":
                    # `prices { currency priceInfo {…} }` is served by `priceList`, answered
                    # under the name the caller used.
                    node.alias = node.alias or NameNode(value="prices")
                    node.name = NameNode(value="priceList")
                _rewrite(node.selection_set.selections)
        elif isinstance(node, InlineFragmentNode | FragmentDefinitionNode):
            _rewrite(node.selection_set.selections)


def rewrite_prices(document: DocumentNode) -> DocumentNode:
    """The documentation pages select ``prices`` as a JSON leaf, the SDK guide as ``prices {
    currency priceInfo { amount taxCategory } }``. Both validate: a ``prices`` with a
    sub-selection becomes an aliased ``priceList`` before validation."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            _rewrite(definition.selection_set.selections)
    return document


# --- ID and String variables are interchangeable ---------------------------------------------


def _loosen(type_):
    """The same type with ID read as String (ids travel as strings either way)."""
    if isinstance(type_, GraphQLNonNull):
        return GraphQLNonNull(_loosen(type_.of_type))
    if isinstance(type_, GraphQLList):
        return GraphQLList(_loosen(type_.of_type))
    return GraphQLString if type_ is GraphQLID else type_


class IdStringVariablesRule(VariablesInAllowedPositionRule):
    """graphql-core's rule, except that a ``String`` variable may fill an ``ID`` position and the
    reverse: the SDK's docs declare the same id ``$id: ID!`` in one place and ``String!`` in
    another, and the documentation pages say to use ``String!``."""

    def leave_operation_definition(self, operation: OperationDefinitionNode, *_args: Any) -> None:
        schema = self.context.schema
        for usage in self.context.get_recursive_variable_usages(operation):
            node, expected = usage.node, usage.type
            var_def = self.var_def_map.get(node.name.value)
            if not (var_def and expected):
                continue
            var_type = type_from_ast(schema, var_def.type)
            if var_type and not allowed_variable_usage(
                schema,
                _loosen(var_type),
                var_def.default_value,
                _loosen(expected),
                usage.default_value,
            ):
                self.report_error(
                    GraphQLError(
                        f"Variable '${node.name.value}' of type '{var_type}' used"
                        f" in position expecting type '{expected}'.",
                        [var_def, node],
                    )
                )


# --- depth and size ---------------------------------------------------------------------------


def _measure(selections, fragments, depth: int, seen: frozenset) -> tuple[int, int]:
    """(deepest level, number of fields) below ``selections``, introspection not counted."""
    deepest, count = depth, 0
    for node in selections or ():
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__"):
                continue
            count += 1
            if node.selection_set is not None:
                d, c = _measure(node.selection_set.selections, fragments, depth + 1, seen)
                deepest, count = max(deepest, d), count + c
            else:
                deepest = max(deepest, depth + 1)
        elif isinstance(node, InlineFragmentNode):
            d, c = _measure(node.selection_set.selections, fragments, depth, seen)
            deepest, count = max(deepest, d), count + c
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:  # unknown or cyclic: validation reports it
                continue
            d, c = _measure(fragment.selection_set.selections, fragments, depth, seen | {name})
            deepest, count = max(deepest, d), count + c
    return deepest, count


class LimitsRule(ValidationRule):
    """Refuse documents nested deeper than MAX_DEPTH fields or selecting more than MAX_FIELDS
    fields (fragments expanded), so one request cannot ask for an unbounded amount of work."""

    def enter_document(self, node: DocumentNode, *_args: Any):
        fragments = {
            d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in node.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            depth, count = _measure(definition.selection_set.selections, fragments, 0, frozenset())
            if depth > MAX_DEPTH:
                self.report_error(
                    GraphQLError(f"Query is too deep: {depth} levels, at most {MAX_DEPTH}")
                )
            if count > MAX_FIELDS:
                self.report_error(
                    GraphQLError(f"Query is too large: {count} fields, at most {MAX_FIELDS}")
                )
        return self.SKIP


RULES = tuple(
    IdStringVariablesRule if rule is VariablesInAllowedPositionRule else rule
    for rule in specified_rules
) + (LimitsRule,)


def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
    """The type of the operation that would run (None when the name matches none)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    elif len(operations) > 1:
        # Several operations and no name: execution refuses; a mutation among them still counts.
        mutating = [o for o in operations if o.operation != OperationType.QUERY]
        return mutating[0].operation if mutating else OperationType.QUERY
    return operations[0].operation if operations else None
