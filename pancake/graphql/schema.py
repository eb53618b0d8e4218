"""The GraphQL schema: one ``Query`` composed from each app's queries. Read-only: there
is no Mutation type; writes go through the action API."""

from __future__ import annotations

import graphene

from billing.analytics_schema import AnalyticsQueries
from billing.rates_schema import RateQueries
from billing.schema import BillingQueries
from checkout.schema import CheckoutQueries
from products.schema import ProductQueries
from stores.schema import StoreQueries


class Query(
    StoreQueries,
    ProductQueries,
    CheckoutQueries,
    BillingQueries,
    AnalyticsQueries,
    RateQueries,
    graphene.ObjectType,
):
    """Pancake's read API. Lists take `filter`, `limit` (≤ 100) and `offset`, and have a `*Count`
    with the same filter. What a caller sees: an API key or merchant JWT, the merchant's stores;
    a buyer session token, the buyer's own orders and payments. The key's (or the token's)
    environment decides which orders, payments and product versions are seen."""


schema = graphene.Schema(query=Query)


def printed() -> str:
    """The schema in SDL, as committed in docs/schema.graphql."""
    return str(schema).rstrip() + "\n"
