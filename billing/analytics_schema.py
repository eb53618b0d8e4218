"""GraphQL: the merchant's analytics roots (``orderStatistics`` … ``refundTicketAnalysis``).

Each root resolves to a ``Scope`` (one of the caller's stores, the key's environment, a
store-local window) and each sub-field computes its figure from it only when it is selected
(``billing.analytics.statistics``). A buyer session token gets an error; a store that is not
the caller's gets ``null``, as ``store(id:)`` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import graphene
from graphql import GraphQLError

from billing.analytics import statistics as st
from billing.analytics.periods import Granularity, Window, store_zone
from checkout.models import OrderKind
from pancake.graphql import filters as f
from pancake.graphql.context import timestamp
from pancake.graphql.scope import merchant_only, visible_store_ids
from stores.models import Store

DEFAULT_DAYS = 30


class TimePeriodGranularity(graphene.Enum):
    """How a series is grouped: store-local day, week (from Monday), month, quarter, year, or
    the whole range."""

    DAY = Granularity.DAY.value
    WEEK = Granularity.WEEK.value
    MONTH = Granularity.MONTH.value
    QUARTER = Granularity.QUARTER.value
    YEAR = Granularity.YEAR.value
    ALL_TIME = Granularity.ALL_TIME.value


class TimeRangeInput(graphene.InputObjectType):
    """A half-open time range."""

    start_date = graphene.String(description="ISO 8601 start, included.")
    end_date = graphene.String(description="ISO 8601 end, excluded.")


class AnalyticsFilterInput(graphene.InputObjectType):
    """What an analytics root covers."""

    time_range = graphene.Field(
        TimeRangeInput,
        description=f"Half-open [startDate, endDate). Missing: the store's last {DEFAULT_DAYS} "
        "local days, today included; a missing end is now, a missing start 30 days before it.",
    )


def _granularity(value) -> str:
    value = getattr(value, "value", value) or Granularity.MONTH
    return str(value)


def _window(filter, tz) -> Window:
    time_range = (filter or {}).get("time_range") or {}
    start, end = time_range.get("start_date"), time_range.get("end_date")
    if not start and not end:
        return Window.last_days(DEFAULT_DAYS, tz, datetime.now(UTC))
    end_at = f.parse_datetime(end, "endDate") if end else datetime.now(UTC)
    start_at = (
        f.parse_datetime(start, "startDate") if start else end_at - timedelta(days=DEFAULT_DAYS)
    )
    if end_at <= start_at:
        raise f._bad("Invalid timeRange: endDate must be after startDate")
    if end_at - start_at > timedelta(days=3700):
        raise f._bad("Invalid timeRange: at most ten years")
    return Window(start_at.astimezone(UTC), end_at.astimezone(UTC), tz)


def scope_for(info, store_id, filter) -> st.Scope | None:
    ctx = info.context
    if not merchant_only(ctx):
        raise GraphQLError(
            "Analytics are for the store's merchants: use an API key or a merchant token.",
            extensions={"layer": "graphql", "code": "FORBIDDEN"},
        )
    pk = f.parse_arg_id(store_id, "STO", "storeId")
    if pk not in visible_store_ids(ctx):
        return None
    zone = Store.objects.filter(pk=pk).values_list("timezone", flat=True).first()
    return st.Scope(pk, ctx.environment, _window(filter, store_zone(zone)))


def root_args():
    return {
        "store_id": graphene.String(required=True, description="Store id."),
        "filter": AnalyticsFilterInput(description="The time range."),
    }


def _g():
    return TimePeriodGranularity(description="Default MONTH.")


def _currency():
    return graphene.String(description="ISO 4217 code, any case (usd).")


def _limit(default=10):
    return graphene.Int(default_value=default, description="At most 100.")


def _lim(limit) -> int:
    return min(max(1, limit or 10), 100)


# -- shared row types --------------------------------------------------------------------------


class StatusCount(graphene.ObjectType):
    """How many rows have a status."""

    status = graphene.String(required=True)
    count = graphene.Int(required=True)


class PeriodCount(graphene.ObjectType):
    """How many rows fall in a store-local period."""

    period = graphene.String(required=True, description="2026-03, 2026-Q1, 2026-03-09, all…")
    count = graphene.Int(required=True)


class CurrencyRevenue(graphene.ObjectType):
    """A sum in one currency, minor units."""

    currency = graphene.String(required=True)
    total_amount = graphene.BigInt(required=True, description="Minor units.")
    payment_count = graphene.Int(required=True)


class PeriodRevenue(graphene.ObjectType):
    """Paid charges of a period in one currency."""

    period = graphene.String(required=True)
    currency = graphene.String()
    total_amount = graphene.BigInt(required=True, description="Minor units.")
    payment_count = graphene.Int(required=True)


class BuyerMetrics(graphene.ObjectType):
    """Customers (lower-cased buyer emails) who paid in the range."""

    total_buyers = graphene.Int(required=True)
    new_buyers = graphene.Int(required=True)
    returning_buyers = graphene.Int(required=True)


class CountryRevenue(graphene.ObjectType):
    """Paid charges of a billing country."""

    country = graphene.String(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class CountryCount(graphene.ObjectType):
    """Orders of a billing country."""

    country = graphene.String(required=True)
    count = graphene.Int(required=True)


class B2bBreakdown(graphene.ObjectType):
    """Paid charges of business buyers (B2B) and of consumers (B2C)."""

    is_business = graphene.Boolean(required=True)
    label = graphene.String(required=True, description="B2B or B2C.")
    total_amount = graphene.BigInt(required=True)
    order_count = graphene.Int(required=True)


class StateRevenue(graphene.ObjectType):
    """Paid charges of a state or province."""

    state = graphene.String(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


# -- orderStatistics ---------------------------------------------------------------------------


class OrderStatistics(graphene.ObjectType):
    """Orders created in the range; revenue from the charges paid in it."""

    total_count = graphene.Int(required=True)
    counts_by_status = graphene.List(graphene.NonNull(StatusCount), required=True)
    counts_by_period = graphene.List(graphene.NonNull(PeriodCount), required=True, granularity=_g())
    revenue_by_currency = graphene.List(graphene.NonNull(CurrencyRevenue), required=True)
    revenue_by_period = graphene.List(
        graphene.NonNull(PeriodRevenue), required=True, granularity=_g(), currency=_currency()
    )
    buyer_metrics = graphene.Field(BuyerMetrics, required=True)
    revenue_by_country = graphene.List(
        graphene.NonNull(CountryRevenue), required=True, currency=_currency()
    )
    orders_by_country = graphene.List(graphene.NonNull(CountryCount), required=True)
    b2b_vs_b2c_breakdown = graphene.List(
        graphene.NonNull(B2bBreakdown), required=True, currency=_currency()
    )
    revenue_by_state = graphene.List(
        graphene.NonNull(StateRevenue),
        required=True,
        country=graphene.String(description="ISO 3166 country code."),
        currency=_currency(),
    )

    def resolve_total_count(scope, info):
        return st.order_total_count(scope)

    def resolve_counts_by_status(scope, info):
        return st.order_counts_by_status(scope)

    def resolve_counts_by_period(scope, info, granularity=None):
        return st.order_counts_by_period(scope, _granularity(granularity))

    def resolve_revenue_by_currency(scope, info):
        return st.revenue_by_currency(scope)

    def resolve_revenue_by_period(scope, info, granularity=None, currency=None):
        return st.revenue_by_period(scope, _granularity(granularity), currency)

    def resolve_buyer_metrics(scope, info):
        return st.buyer_metrics(scope)

    def resolve_revenue_by_country(scope, info, currency=None):
        return st.revenue_by_country(scope, currency)

    def resolve_orders_by_country(scope, info):
        return st.orders_by_country(scope)

    def resolve_b2b_vs_b2c_breakdown(scope, info, currency=None):
        return st.b2b_vs_b2c(scope, currency)

    def resolve_revenue_by_state(scope, info, country=None, currency=None):
        return st.revenue_by_state(scope, country, currency)


# -- paymentStatistics -------------------------------------------------------------------------


class SuccessRate(graphene.ObjectType):
    """Payment attempts created in the range by outcome."""

    total_attempts = graphene.Int(required=True)
    succeeded = graphene.Int(required=True)
    failed = graphene.Int(required=True)
    pending = graphene.Int(required=True)
    success_rate = graphene.Float(required=True, description="Percent.")


class FailedReason(graphene.ObjectType):
    """Failed attempts per failure code."""

    reason = graphene.String(required=True)
    count = graphene.Int(required=True)
    percentage = graphene.Float(required=True)


class RefundStats(graphene.ObjectType):
    """Refunds created in the range."""

    total_count = graphene.Int(required=True)
    succeeded_count = graphene.Int(required=True)
    pending_count = graphene.Int(required=True)
    failed_count = graphene.Int(required=True)
    amount_by_currency = graphene.List(graphene.NonNull(CurrencyRevenue), required=True)
    refund_rate = graphene.Float(required=True, description="Percent of paid charges.")


class MethodShare(graphene.ObjectType):
    """Paid charges per payment method."""

    method_type = graphene.String(required=True)
    count = graphene.Int(required=True)
    total_amount = graphene.BigInt(description="Null when the charges mix currencies.")
    percentage = graphene.Float(required=True)


class BrandShare(graphene.ObjectType):
    """Paid card charges per card brand."""

    brand = graphene.String(required=True)
    count = graphene.Int(required=True)
    total_amount = graphene.BigInt(description="Null when the charges mix currencies.")
    percentage = graphene.Float(required=True)


class TaxSummary(graphene.ObjectType):
    """Tax in the paid charges of one currency."""

    currency = graphene.String(required=True)
    total_tax = graphene.BigInt(required=True)
    total_pre_tax = graphene.BigInt(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class PaymentStatistics(graphene.ObjectType):
    """Payment attempts created in the range and charges paid in it."""

    success_rate = graphene.Field(SuccessRate, required=True)
    failed_reasons = graphene.List(graphene.NonNull(FailedReason), required=True)
    refunds = graphene.Field(RefundStats, required=True)
    method_distribution = graphene.List(graphene.NonNull(MethodShare), required=True)
    card_brand_distribution = graphene.List(graphene.NonNull(BrandShare), required=True)
    tax_summary = graphene.List(graphene.NonNull(TaxSummary), required=True)
    pre_tax_revenue_by_currency = graphene.List(graphene.NonNull(CurrencyRevenue), required=True)
    settlement_revenue_by_currency = graphene.List(graphene.NonNull(CurrencyRevenue), required=True)

    def resolve_success_rate(scope, info):
        return st.success_rate(scope)

    def resolve_failed_reasons(scope, info):
        return st.failed_reasons(scope)

    def resolve_refunds(scope, info):
        return st.refund_stats(scope)

    def resolve_method_distribution(scope, info):
        return st.method_distribution(scope)

    def resolve_card_brand_distribution(scope, info):
        return st.card_brand_distribution(scope)

    def resolve_tax_summary(scope, info):
        return st.tax_summary(scope)

    def resolve_pre_tax_revenue_by_currency(scope, info):
        return st.pre_tax_revenue_by_currency(scope)

    def resolve_settlement_revenue_by_currency(scope, info):
        return st.settlement_revenue_by_currency(scope)


# -- productStatistics -------------------------------------------------------------------------


class ProductRank(graphene.ObjectType):
    """A product's paid charges in one currency."""

    product_id = graphene.String(required=True)
    product_type = graphene.String(required=True, description="onetime or subscription.")
    product_name = graphene.String(required=True)
    order_count = graphene.Int(required=True)
    total_revenue = graphene.BigInt(required=True)
    currency = graphene.String(required=True)


class ProductContribution(graphene.ObjectType):
    """A product's share of the revenue in one currency."""

    product_id = graphene.String(required=True)
    product_type = graphene.String(required=True)
    product_name = graphene.String(required=True)
    revenue = graphene.BigInt(required=True)
    contribution_percentage = graphene.Float(required=True)
    cumulative_percentage = graphene.Float(required=True)


class ProductStatistics(graphene.ObjectType):
    """Orders created in the range per kind and status; products ranked by their paid charges."""

    onetime_counts_by_status = graphene.List(graphene.NonNull(StatusCount), required=True)
    subscription_counts_by_status = graphene.List(graphene.NonNull(StatusCount), required=True)
    onetime_total_count = graphene.Int(required=True)
    subscription_total_count = graphene.Int(required=True)
    top_by_order_count = graphene.List(graphene.NonNull(ProductRank), required=True, limit=_limit())
    top_by_revenue = graphene.List(
        graphene.NonNull(ProductRank), required=True, limit=_limit(), currency=_currency()
    )
    revenue_contribution = graphene.List(
        graphene.NonNull(ProductContribution), required=True, currency=_currency()
    )

    def resolve_onetime_counts_by_status(scope, info):
        return st.product_counts_by_status(scope, OrderKind.ONETIME)

    def resolve_subscription_counts_by_status(scope, info):
        return st.product_counts_by_status(scope, OrderKind.SUBSCRIPTION)

    def resolve_onetime_total_count(scope, info):
        return st.product_total_count(scope, OrderKind.ONETIME)

    def resolve_subscription_total_count(scope, info):
        return st.product_total_count(scope, OrderKind.SUBSCRIPTION)

    def resolve_top_by_order_count(scope, info, limit=10):
        return st.top_by_order_count(scope, _lim(limit), info.context)

    def resolve_top_by_revenue(scope, info, limit=10, currency=None):
        return st.top_by_revenue(scope, _lim(limit), currency, info.context)

    def resolve_revenue_contribution(scope, info, currency=None):
        return st.revenue_contribution(scope, currency, info.context)


# -- trendAnalysis -----------------------------------------------------------------------------


class Growth(graphene.ObjectType):
    """A period's value against the previous period's."""

    period = graphene.String(required=True)
    current_value = graphene.BigInt(required=True)
    previous_value = graphene.BigInt(description="Null for the first period.")
    growth_rate = graphene.Float(description="Percent; null without a previous value.")


class Cumulative(graphene.ObjectType):
    """A period's revenue and the running total."""

    period = graphene.String(required=True)
    period_value = graphene.BigInt(required=True)
    cumulative_value = graphene.BigInt(required=True)


class MovingAverage(graphene.ObjectType):
    """A store-local day's value and the trailing mean."""

    date = graphene.String(required=True, description="Store-local day.")
    daily_value = graphene.BigInt(required=True)
    moving_average = graphene.Float(required=True)


def _window_days():
    return graphene.Int(default_value=7, description="Days averaged (1–90).")


class TrendAnalysis(graphene.ObjectType):
    """Growth, cumulative revenue and moving averages of one store."""

    order_growth = graphene.List(graphene.NonNull(Growth), required=True, granularity=_g())
    revenue_growth = graphene.List(
        graphene.NonNull(Growth), required=True, granularity=_g(), currency=_currency()
    )
    cumulative_revenue = graphene.List(
        graphene.NonNull(Cumulative), required=True, granularity=_g(), currency=_currency()
    )
    order_moving_average = graphene.List(
        graphene.NonNull(MovingAverage), required=True, window_days=_window_days()
    )
    revenue_moving_average = graphene.List(
        graphene.NonNull(MovingAverage),
        required=True,
        window_days=_window_days(),
        currency=_currency(),
    )

    def resolve_order_growth(scope, info, granularity=None):
        return st.order_growth(scope, _granularity(granularity))

    def resolve_revenue_growth(scope, info, granularity=None, currency=None):
        return st.revenue_growth(scope, _granularity(granularity), currency)

    def resolve_cumulative_revenue(scope, info, granularity=None, currency=None):
        return st.cumulative_revenue(scope, _granularity(granularity), currency)

    def resolve_order_moving_average(scope, info, window_days=7):
        return st.order_moving_average(scope, min(max(1, window_days or 7), 90))

    def resolve_revenue_moving_average(scope, info, window_days=7, currency=None):
        return st.revenue_moving_average(scope, min(max(1, window_days or 7), 90), currency)


# -- distributionAnalysis ----------------------------------------------------------------------


class Percentiles(graphene.ObjectType):
    """The distribution of paid charges' amounts (minor units)."""

    p10 = graphene.Float()
    p25 = graphene.Float()
    p50 = graphene.Float()
    p75 = graphene.Float()
    p90 = graphene.Float()
    p95 = graphene.Float()
    p99 = graphene.Float()
    min = graphene.BigInt()
    max = graphene.BigInt()
    avg = graphene.Float()
    stddev = graphene.Float(description="Population standard deviation.")
    count = graphene.Int(required=True)


class AovPoint(graphene.ObjectType):
    """Average order value of a period."""

    period = graphene.String(required=True)
    average_order_value = graphene.Float(required=True)
    order_count = graphene.Int(required=True)
    total_revenue = graphene.BigInt(required=True)


class AmountBucket(graphene.ObjectType):
    """An equal-width range of amounts and how many fall in it."""

    range_min = graphene.Float(required=True)
    range_max = graphene.Float(required=True)
    count = graphene.Int(required=True)
    percentage = graphene.Float(required=True)


class DistributionAnalysis(graphene.ObjectType):
    """Paid charges' amounts in one currency (minor units)."""

    order_amount_percentiles = graphene.Field(Percentiles, required=True, currency=_currency())
    aov_trend = graphene.List(
        graphene.NonNull(AovPoint), required=True, granularity=_g(), currency=_currency()
    )
    order_amount_buckets = graphene.List(
        graphene.NonNull(AmountBucket),
        required=True,
        currency=_currency(),
        bucket_count=graphene.Int(default_value=10, description="Equal-width buckets (1–100)."),
    )

    def resolve_order_amount_percentiles(scope, info, currency=None):
        return st.order_amount_percentiles(scope, currency)

    def resolve_aov_trend(scope, info, granularity=None, currency=None):
        return st.aov_trend(scope, _granularity(granularity), currency)

    def resolve_order_amount_buckets(scope, info, currency=None, bucket_count=10):
        return st.order_amount_buckets(scope, currency, bucket_count or 10)


# -- customerAnalysis --------------------------------------------------------------------------


class RetentionPoint(graphene.ObjectType):
    """How many of a cohort paid again some periods later."""

    period_offset = graphene.Int(required=True)
    active_customers = graphene.Int(required=True)
    retention_rate = graphene.Float(required=True)


class Cohort(graphene.ObjectType):
    """Customers whose first paid charge in the range fell in one period."""

    cohort_period = graphene.String(required=True)
    cohort_size = graphene.Int(required=True)
    retention = graphene.List(graphene.NonNull(RetentionPoint), required=True)


class LtvDistribution(graphene.ObjectType):
    """What customers paid in the range, one currency."""

    average_ltv = graphene.Float(required=True)
    median_ltv = graphene.Float(required=True)
    buckets = graphene.List(graphene.NonNull(AmountBucket), required=True)


class FrequencyRow(graphene.ObjectType):
    """How many customers paid a given number of times."""

    purchase_count = graphene.Int(required=True)
    customer_count = graphene.Int(required=True)
    percentage = graphene.Float(required=True)


class RepeatRate(graphene.ObjectType):
    """Customers of a period who had paid before in the range or paid twice in it."""

    period = graphene.String(required=True)
    total_buyers = graphene.Int(required=True)
    repeat_buyers = graphene.Int(required=True)
    repeat_rate = graphene.Float(required=True)


class TopCustomer(graphene.ObjectType):
    """A customer's paid charges in one currency."""

    buyer_email = graphene.String(required=True)
    total_spent = graphene.BigInt(required=True)
    order_count = graphene.Int(required=True)
    first_purchase_date = graphene.String(required=True)
    last_purchase_date = graphene.String(required=True)

    def resolve_first_purchase_date(row, info):
        return timestamp(row["first_purchase_date"])

    def resolve_last_purchase_date(row, info):
        return timestamp(row["last_purchase_date"])


class CustomerAnalysis(graphene.ObjectType):
    """Customers (lower-cased buyer emails) by their charges paid in the range."""

    cohort_retention = graphene.List(graphene.NonNull(Cohort), required=True, granularity=_g())
    ltv_distribution = graphene.Field(LtvDistribution, required=True, currency=_currency())
    purchase_frequency = graphene.List(graphene.NonNull(FrequencyRow), required=True)
    repeat_purchase_rate = graphene.List(
        graphene.NonNull(RepeatRate), required=True, granularity=_g()
    )
    top_customers = graphene.List(
        graphene.NonNull(TopCustomer), required=True, limit=_limit(), currency=_currency()
    )

    def resolve_cohort_retention(scope, info, granularity=None):
        return st.cohort_retention(scope, _granularity(granularity))

    def resolve_ltv_distribution(scope, info, currency=None):
        return st.ltv_distribution(scope, currency)

    def resolve_purchase_frequency(scope, info):
        return st.purchase_frequency(scope)

    def resolve_repeat_purchase_rate(scope, info, granularity=None):
        return st.repeat_purchase_rate(scope, _granularity(granularity))

    def resolve_top_customers(scope, info, limit=10, currency=None):
        return st.top_customers(scope, _lim(limit), currency)


# -- taxAnalysis -------------------------------------------------------------------------------


class TaxByCategory(graphene.ObjectType):
    """Tax per tax category."""

    tax_category = graphene.String(required=True)
    total_tax = graphene.BigInt(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class TaxByRate(graphene.ObjectType):
    """Tax per tax rate."""

    tax_rate = graphene.Float(required=True, description="Percent (8.25).")
    total_tax = graphene.BigInt(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class TaxByCountry(graphene.ObjectType):
    """Tax per billing country."""

    country = graphene.String(required=True)
    total_tax = graphene.BigInt(required=True)
    total_amount = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class TaxB2b(graphene.ObjectType):
    """Tax of business buyers and of consumers."""

    is_business = graphene.Boolean(required=True)
    label = graphene.String(required=True)
    total_tax = graphene.BigInt(required=True)
    total_amount = graphene.BigInt(required=True)
    order_count = graphene.Int(required=True)


class TaxRatePoint(graphene.ObjectType):
    """The effective tax rate of a period."""

    period = graphene.String(required=True)
    avg_tax_rate = graphene.Float(required=True, description="Tax over pre-tax, percent.")
    payment_count = graphene.Int(required=True)


class TaxPoint(graphene.ObjectType):
    """Tax collected in a period."""

    period = graphene.String(required=True)
    total_tax = graphene.BigInt(required=True)
    payment_count = graphene.Int(required=True)


class TaxAnalysis(graphene.ObjectType):
    """Tax in the charges paid in the range, one currency."""

    by_category = graphene.List(
        graphene.NonNull(TaxByCategory), required=True, currency=_currency()
    )
    by_rate_group = graphene.List(graphene.NonNull(TaxByRate), required=True, currency=_currency())
    by_country = graphene.List(graphene.NonNull(TaxByCountry), required=True, currency=_currency())
    b2b_vs_b2c = graphene.List(graphene.NonNull(TaxB2b), required=True, currency=_currency())
    effective_tax_rate_trend = graphene.List(
        graphene.NonNull(TaxRatePoint), required=True, granularity=_g(), currency=_currency()
    )
    tax_amount_by_period = graphene.List(
        graphene.NonNull(TaxPoint), required=True, granularity=_g(), currency=_currency()
    )

    def resolve_by_category(scope, info, currency=None):
        return st.tax_by_category(scope, currency)

    def resolve_by_rate_group(scope, info, currency=None):
        return st.tax_by_rate(scope, currency)

    def resolve_by_country(scope, info, currency=None):
        return st.tax_by_country(scope, currency)

    def resolve_b2b_vs_b2c(scope, info, currency=None):
        return st.tax_b2b_vs_b2c(scope, currency)

    def resolve_effective_tax_rate_trend(scope, info, granularity=None, currency=None):
        return st.effective_tax_rate_trend(scope, _granularity(granularity), currency)

    def resolve_tax_amount_by_period(scope, info, granularity=None, currency=None):
        return st.tax_amount_by_period(scope, _granularity(granularity), currency)


# -- subscriptionAnalysis ----------------------------------------------------------------------


class BillingPeriodShare(graphene.ObjectType):
    """Subscriptions per billing period."""

    billing_period = graphene.String(required=True)
    count = graphene.Int(required=True)
    total_amount = graphene.BigInt(required=True, description="Sum of one period's price.")
    percentage = graphene.Float(required=True)


class CancellationStats(graphene.ObjectType):
    """Subscriptions started in the range and how many were canceled."""

    total_subscriptions = graphene.Int(required=True)
    canceled_count = graphene.Int(required=True)
    cancellation_rate = graphene.Float(required=True)
    avg_lifetime_days = graphene.Float()
    median_lifetime_days = graphene.Float()


class CanceledPoint(graphene.ObjectType):
    """Subscriptions canceled in a period."""

    period = graphene.String(required=True)
    canceled_count = graphene.Int(required=True)


class TrialConversion(graphene.ObjectType):
    """Trials started in the range and how many converted to a paid charge."""

    total_trials = graphene.Int(required=True)
    converted_count = graphene.Int(required=True)
    active_trials = graphene.Int(required=True)
    conversion_rate = graphene.Float(required=True, description="Of the ended trials, percent.")


class TrialConversionByProduct(graphene.ObjectType):
    """Trial conversion of one product."""

    product_id = graphene.String(required=True)
    product_name = graphene.String(required=True)
    total_trials = graphene.Int(required=True)
    converted_count = graphene.Int(required=True)
    conversion_rate = graphene.Float(required=True)


class ChurnPoint(graphene.ObjectType):
    """Subscriptions live at a period's start and canceled during it."""

    period = graphene.String(required=True)
    start_active = graphene.Int(required=True)
    churned = graphene.Int(required=True)
    churn_rate = graphene.Float(required=True)


class SubscriptionAnalysis(graphene.ObjectType):
    """Subscriptions started in the range (activeCount: live now)."""

    billing_period_distribution = graphene.List(
        graphene.NonNull(BillingPeriodShare), required=True, currency=_currency()
    )
    active_count = graphene.Int(required=True)
    cancellation_stats = graphene.Field(CancellationStats, required=True)
    cancellation_trend = graphene.List(
        graphene.NonNull(CanceledPoint), required=True, granularity=_g()
    )
    trial_conversion = graphene.Field(TrialConversion, required=True)
    trial_conversion_by_product = graphene.List(
        graphene.NonNull(TrialConversionByProduct), required=True
    )
    churn_rate = graphene.List(graphene.NonNull(ChurnPoint), required=True, granularity=_g())

    def resolve_billing_period_distribution(scope, info, currency=None):
        return st.billing_period_distribution(scope, currency)

    def resolve_active_count(scope, info):
        return st.active_count(scope)

    def resolve_cancellation_stats(scope, info):
        return st.cancellation_stats(scope)

    def resolve_cancellation_trend(scope, info, granularity=None):
        return st.cancellation_trend(scope, _granularity(granularity))

    def resolve_trial_conversion(scope, info):
        return st.trial_conversion(scope)

    def resolve_trial_conversion_by_product(scope, info):
        return st.trial_conversion_by_product(scope, info.context)

    def resolve_churn_rate(scope, info, granularity=None):
        return st.churn_rate(scope, _granularity(granularity))


# -- refundTicketAnalysis ----------------------------------------------------------------------


class ReasonShare(graphene.ObjectType):
    """Refund tickets per reason."""

    reason = graphene.String(required=True)
    count = graphene.Int(required=True)
    total_amount = graphene.BigInt(required=True, description="Requested, minor units.")
    percentage = graphene.Float(required=True)


class StatusShare(graphene.ObjectType):
    """Refund tickets per status."""

    status = graphene.String(required=True)
    count = graphene.Int(required=True)
    percentage = graphene.Float(required=True)


class ReviewEfficiency(graphene.ObjectType):
    """Hours from a ticket's filing to its review."""

    avg_hours = graphene.Float()
    median_hours = graphene.Float()
    p90_hours = graphene.Float()
    total_reviewed = graphene.Int(required=True)


class TicketPoint(graphene.ObjectType):
    """Refund tickets filed in a period and what became of them."""

    period = graphene.String(required=True)
    total_created = graphene.Int(required=True)
    resolved_count = graphene.Int(required=True)
    approved_count = graphene.Int(required=True)
    rejected_count = graphene.Int(required=True)


class ApprovalRate(graphene.ObjectType):
    """Approved against rejected tickets."""

    approved = graphene.Int(required=True)
    rejected = graphene.Int(required=True)
    rate = graphene.Float(required=True)


class ProcessingRate(graphene.ObjectType):
    """Refunds that succeeded against those that failed."""

    succeeded = graphene.Int(required=True)
    failed = graphene.Int(required=True)
    rate = graphene.Float(required=True)


class RefundTicketAnalysis(graphene.ObjectType):
    """Refund tickets filed in the range."""

    reason_distribution = graphene.List(
        graphene.NonNull(ReasonShare), required=True, currency=_currency()
    )
    status_distribution = graphene.List(graphene.NonNull(StatusShare), required=True)
    review_efficiency = graphene.Field(ReviewEfficiency, required=True)
    ticket_trend = graphene.List(graphene.NonNull(TicketPoint), required=True, granularity=_g())
    approval_rate = graphene.Field(ApprovalRate, required=True)
    processing_success_rate = graphene.Field(ProcessingRate, required=True)

    def resolve_reason_distribution(scope, info, currency=None):
        return st.reason_distribution(scope, currency)

    def resolve_status_distribution(scope, info):
        return st.ticket_status_distribution(scope)

    def resolve_review_efficiency(scope, info):
        return st.review_efficiency(scope)

    def resolve_ticket_trend(scope, info, granularity=None):
        return st.ticket_trend(scope, _granularity(granularity))

    def resolve_approval_rate(scope, info):
        return st.approval_rate(scope)

    def resolve_processing_success_rate(scope, info):
        return st.processing_success_rate(scope)


def _root(type_, description):
    return graphene.Field(type_, description=description, **root_args())


def _resolve(root, info, store_id, filter=None):
    return scope_for(info, store_id, filter)


class AnalyticsQueries:
    order_statistics = _root(OrderStatistics, "Orders and revenue of one store.")
    payment_statistics = _root(PaymentStatistics, "Payment success, refunds, methods, tax.")
    product_statistics = _root(ProductStatistics, "Orders per product and kind.")
    trend_analysis = _root(TrendAnalysis, "Growth, cumulative and moving averages.")
    distribution_analysis = _root(DistributionAnalysis, "Order amount distribution.")
    customer_analysis = _root(CustomerAnalysis, "Cohorts, lifetime value, repeat buyers.")
    tax_analysis = _root(TaxAnalysis, "Tax by category, rate, country, period.")
    subscription_analysis = _root(SubscriptionAnalysis, "Subscriptions, cancellations, trials.")
    refund_ticket_analysis = _root(RefundTicketAnalysis, "Refund tickets and their review.")

    resolve_order_statistics = staticmethod(_resolve)
    resolve_payment_statistics = staticmethod(_resolve)
    resolve_product_statistics = staticmethod(_resolve)
    resolve_trend_analysis = staticmethod(_resolve)
    resolve_distribution_analysis = staticmethod(_resolve)
    resolve_customer_analysis = staticmethod(_resolve)
    resolve_tax_analysis = staticmethod(_resolve)
    resolve_subscription_analysis = staticmethod(_resolve)
    resolve_refund_ticket_analysis = staticmethod(_resolve)


# What each field means, by name (the types above share their field names). A field without an
# entry here is named for what it is ("total_tax": "Total tax.").
GLOSSARY = {
    "count": "How many.",
    "percentage": "Share of the whole, in percent (0–100).",
    "period": "Store-local period: 2026-03-09 (day, or a week by its Monday), 2026-03, 2026-Q1, "
    "2026, or all.",
    "currency": "ISO 4217 code.",
    "total_amount": "Sum in minor units, one currency.",
    "payment_count": "Paid charges counted.",
    "order_count": "Distinct orders counted.",
    "rate": "In percent (0–100).",
    "success_rate": "Succeeded over all attempts, in percent.",
    "refund_rate": "Paid charges with a refund, in percent.",
    "churn_rate": "Canceled during the period over live at its start, in percent.",
    "label": "B2B or B2C.",
    "is_business": "The billing details name a business.",
    "product_id": "Product id.",
    "product_type": "onetime or subscription.",
    "revenue": "Paid charges, minor units.",
    "total_revenue": "Paid charges, minor units.",
    "growth_rate": "Change from the previous period, in percent.",
    "moving_average": "Mean of the last windowDays days.",
    "avg": "Mean.",
    "min": "Smallest.",
    "max": "Largest.",
    "stddev": "Population standard deviation.",
    "active_count": "Subscriptions live now: trialing, active, past due or canceling.",
    "start_active": "Subscriptions live at the period's start.",
    "churned": "Of those, canceled during the period.",
    "new_buyers": "Customers whose first paid charge of the store is in the range.",
    "returning_buyers": "Customers who had paid before the range.",
    "tax_rate": "Tax rate in percent (8.25).",
    "billing_period": "weekly, monthly, quarterly or yearly.",
    "reason": "Reason, as given.",
    "status": "Status.",
}


def _describe(types) -> None:
    for type_ in types:
        for name, field in type_._meta.fields.items():
            if not field.description:
                field.description = GLOSSARY.get(name) or name.replace("_", " ").capitalize() + "."


_describe(
    value
    for value in list(globals().values())
    if isinstance(value, type)
    and issubclass(value, graphene.ObjectType)
    and value.__module__ == __name__
)
