"""GraphQL: ``rate(fromCurrency, toCurrency)``, the exchange rate Pancake converts a merchant's
figures with (``billing.rates.rate``: the euro reference rates, any pair through the euro)."""

from __future__ import annotations

import graphene
from babel.numbers import list_currencies

from billing import rates
from pancake.graphql.context import timestamp
from pancake.money import is_currency

CurrencyCode = graphene.Enum(
    "CurrencyCode",
    [(code, code) for code in sorted(list_currencies()) if is_currency(code)],
    description="An ISO 4217 currency code.",
)


def _code(value) -> str:
    return str(getattr(value, "value", value))


class ExchangeRateQuote(graphene.ObjectType):
    """Units of ``toCurrency`` one unit of ``fromCurrency`` buys (major units)."""

    from_currency = graphene.Field(CurrencyCode, required=True, description="Converted from.")
    to_currency = graphene.Field(CurrencyCode, required=True, description="Converted to.")
    standard_rate = graphene.String(
        required=True, description="The rate as a decimal string (1 USD = 0.9412 EUR: 0.9412)."
    )
    rate_ref_id = graphene.String(
        required=True, description="Which day's reference rates the quote comes from."
    )
    expiry_time = graphene.String(
        required=True, description="When the quote stops being current (ISO 8601, UTC)."
    )

    def resolve_from_currency(quote, info):
        return quote.from_currency

    def resolve_to_currency(quote, info):
        return quote.to_currency

    def resolve_standard_rate(quote, info):
        return format(quote.rate.normalize(), "f")

    def resolve_rate_ref_id(quote, info):
        return quote.ref_id

    def resolve_expiry_time(quote, info):
        return timestamp(quote.expires_at)


class RateQueries:
    rate = graphene.Field(
        ExchangeRateQuote,
        from_currency=graphene.Argument(CurrencyCode, required=True),
        to_currency=graphene.Argument(CurrencyCode, required=True),
        description="The exchange rate between two currencies; null when either has no rate.",
    )

    def resolve_rate(root, info, from_currency, to_currency):
        return rates.rate(_code(from_currency), _code(to_currency))
