"""Scalars and small shared types of the GraphQL schema."""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from pancake.graphql.context import timestamp


class JSON(GenericScalar):
    """Any JSON value (object, list, string, number, boolean or null)."""


def ts_field(attr: str, description: str) -> graphene.Field:
    """A timestamp field read from the model attribute ``attr``."""

    def resolve(obj, info):
        return timestamp(getattr(obj, attr))

    # The executor's short way (pancake/graphql/execution.py): the same value, without info.
    resolve.gql_fast = lambda obj, ctx: timestamp(getattr(obj, attr))
    return graphene.Field(graphene.String, description=description, resolver=resolve)


def id_field(attr: str, prefix: str | None, description: str, required: bool = False):
    """An id read from ``attr``: short (``PREFIX_…``) or UUID by API version for the prefixed
    types, a plain UUID otherwise."""

    def resolve(obj, info):
        return info.context.id(getattr(obj, attr), prefix)

    resolve.gql_fast = lambda obj, ctx: ctx.id(getattr(obj, attr), prefix)

    return graphene.Field(
        graphene.NonNull(graphene.ID) if required else graphene.ID,
        description=description,
        resolver=resolve,
    )


class BillingDetail(graphene.ObjectType):
    """Where and as whom the buyer was taxed."""

    country = graphene.String(description="ISO 3166-1 alpha-2 country code.")
    state = graphene.String(description="State or province (US, CA).")
    postcode = graphene.String(description="Postal code.")
    is_business = graphene.Boolean(description="Bought as a business.")
    business_name = graphene.String(description="The business's name.")
    tax_id = graphene.String(description="The business's tax id (VAT number, …).")

    @staticmethod
    def from_json(detail: dict | None):
        if not detail:
            return None
        return BillingDetail(
            country=detail.get("country"),
            state=detail.get("state"),
            postcode=detail.get("postcode"),
            is_business=bool(detail.get("isBusiness", False)),
            business_name=detail.get("businessName"),
            tax_id=detail.get("taxId"),
        )


class CurrencyAmount(graphene.ObjectType):
    """An amount as a display string in its currency (``"29.00"``)."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    amount = graphene.String(required=True, description='Display string, e.g. "29.00".')
