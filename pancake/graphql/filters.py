"""Typed filters, pagination and counts shared by every list.

A list declares its filterable fields once, as ``{graphqlName: Column}``; the same declaration
builds the ``<Type>Filter`` input, applies a ``filter`` argument to a queryset and serves the
``*Count`` root, so a list and its count can never disagree about what a filter means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import graphene
from django.db.models import Q, QuerySet
from graphql import GraphQLError

from pancake.api import ids
from pancake.api.errors import InvalidInput

MAX_LIMIT = 100
DEFAULT_LIMIT = 100


class StringFilter(graphene.InputObjectType):
    """Compare a text (or id) field. Ids accept the UUID and the short form."""

    eq = graphene.String(description="Equal to.")
    ne = graphene.String(description="Not equal to.")
    in_ = graphene.List(graphene.NonNull(graphene.String), name="in", description="One of.")
    contains = graphene.String(description="Contains (case-sensitive).")
    starts_with = graphene.String(name="startsWith", description="Starts with.")
    ends_with = graphene.String(name="endsWith", description="Ends with.")


class DateTimeFilter(graphene.InputObjectType):
    """Compare a timestamp: ISO 8601 (``2026-01-15T10:30:00Z``) or a date (``2026-01-15``, its
    midnight UTC). A value without a zone is UTC."""

    eq = graphene.String(description="At exactly.")
    ne = graphene.String(description="Not at.")
    gt = graphene.String(description="After.")
    lt = graphene.String(description="Before.")
    gte = graphene.String(description="At or after.")
    lte = graphene.String(description="At or before.")


class IntFilter(graphene.InputObjectType):
    """Compare an integer (amounts in minor units)."""

    eq = graphene.Int(description="Equal to.")
    ne = graphene.Int(description="Not equal to.")
    gt = graphene.Int(description="Greater than.")
    lt = graphene.Int(description="Less than.")
    gte = graphene.Int(description="Greater than or equal to.")
    lte = graphene.Int(description="Less than or equal to.")


class BooleanFilter(graphene.InputObjectType):
    """Compare a true/false field."""

    eq = graphene.Boolean(description="Equal to.")


STRING, ID, DATETIME, INT, BOOL = "string", "id", "datetime", "int", "bool"
_INPUTS = {
    STRING: StringFilter,
    ID: StringFilter,
    DATETIME: DateTimeFilter,
    INT: IntFilter,
    BOOL: BooleanFilter,
}
_LOOKUPS = {
    "gt": "gt",
    "lt": "lt",
    "gte": "gte",
    "lte": "lte",
    "in_": "in",
    "contains": "contains",
    "starts_with": "startswith",
    "ends_with": "endswith",
}


@dataclass(frozen=True)
class Column:
    """A filterable field: the model path it reads (or a function of the context, for fields
    whose column depends on the environment), its kind, and for ids their short-id prefix."""

    path: str | Callable
    kind: str = STRING
    prefix: str | None = None
    description: str = ""

    def resolve_path(self, ctx) -> str:
        return self.path(ctx) if callable(self.path) else self.path


def filter_input(name: str, columns: dict[str, Column], description: str) -> type:
    """The ``<name>`` input type: one typed filter per declared column."""
    attrs = {
        key: graphene.Field(_INPUTS[col.kind], description=col.description or None)
        for key, col in columns.items()
    }
    attrs["Meta"] = type("Meta", (), {"description": description})
    return type(name, (graphene.InputObjectType,), attrs)


def _bad(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"layer": "graphql"})


def parse_datetime(value: str, field: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"Invalid {field}: {value!r} is not an ISO 8601 date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _value(col: Column, name: str, value):
    if col.kind == ID:
        try:
            if isinstance(value, list):
                return [ids.parse_id(v, col.prefix, field=name) for v in value]
            return ids.parse_id(value, col.prefix, field=name)
        except InvalidInput as exc:
            raise _bad(str(exc)) from None
    if col.kind == DATETIME:
        return parse_datetime(value, name)
    return value


def apply_filter(qs: QuerySet, value: dict | None, columns: dict[str, Column], ctx) -> QuerySet:
    """``filter: {field: {op: value}}`` → WHERE; every operator present must hold (AND)."""
    if not value:
        return qs
    condition = Q()
    for key, ops in value.items():
        if not ops:
            continue
        col = columns[key]
        path = col.resolve_path(ctx)
        for op, operand in ops.items():
            if operand is None:
                continue
            if col.kind == ID and op in {"contains", "starts_with", "ends_with"}:
                raise _bad(f"Invalid filter on {key}: ids take eq, ne or in")
            operand = _value(col, key, operand)
            if op == "eq":
                condition &= Q(**{path: operand})
            elif op == "ne":
                condition &= ~Q(**{path: operand})
            else:
                condition &= Q(**{f"{path}__{_LOOKUPS[op]}": operand})
    return qs.filter(condition)


def frozen(value):
    """A filter argument as a hashable value (part of a ``rows.memoized`` key)."""
    if isinstance(value, dict):
        return tuple(sorted((k, frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value


def paginate(qs: QuerySet, limit: int | None, offset: int | None):
    """``limit`` (default and cap 100) and ``offset``; a negative value is an error."""
    if limit is not None and limit < 0 or offset is not None and offset < 0:
        raise _bad("Invalid pagination: limit and offset are not negative")
    limit = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
    offset = offset or 0
    return qs[offset : offset + limit]


def list_args(filter_type: type, **extra) -> dict:
    return {
        "filter": graphene.Argument(filter_type, description="Typed filters (all must hold)."),
        "limit": graphene.Int(description=f"At most this many rows (default and cap {MAX_LIMIT})."),
        "offset": graphene.Int(description="Skip this many rows first."),
        **extra,
    }


def count_args(filter_type: type, **extra) -> dict:
    return {
        "filter": graphene.Argument(filter_type, description="The same filter as the list."),
        **extra,
    }


def store_id_arg() -> graphene.Argument:
    return graphene.Argument(
        graphene.ID, name="storeId", description="Only this store (UUID or STO_ short id)."
    )


def parse_arg_id(value, prefix: str | None, field: str):
    """An id argument → UUID; a malformed one is a GraphQL error naming the argument."""
    try:
        return ids.parse_id(value, prefix, field=field)
    except InvalidInput as exc:
        raise _bad(str(exc)) from None
