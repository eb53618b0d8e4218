"""The analytics roots on a hand-built store (tests/graphql/analytics_store.py): every number
below is worked out by hand from the rows that module describes."""

import statistics
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ExchangeRate
from pancake.api.actor import Actor
from stores.services import buyer_session_issue
from tests.graphql import analytics_store as shop
from tests.graphql.helpers import post
from tests.graphql.test_scoping import buyer_post

FILTER = f'filter: {{ timeRange: {{ startDate: "{shop.START}", endDate: "{shop.END}" }} }}'


@pytest.fixture
def built(store):
    return shop.build(store)


@pytest.fixture
def sid(store, built, data):
    return data("{ stores { id } }")["stores"][0]["id"]


def run(data, sid, root, body):
    return data(f'{{ {root}(storeId: "{sid}", {FILTER}) {{ {body} }} }}')[root]


def test_order_statistics(data, sid):
    got = run(
        data,
        sid,
        "orderStatistics",
        """totalCount countsByStatus { status count }
        countsByPeriod(granularity: MONTH) { period count }
        revenueByCurrency { currency totalAmount paymentCount }
        revenueByPeriod(granularity: MONTH, currency: "usd") { period currency totalAmount
            paymentCount }
        buyerMetrics { totalBuyers newBuyers returningBuyers }
        revenueByCountry(currency: "usd") { country totalAmount paymentCount }
        ordersByCountry { country count }
        b2bVsB2cBreakdown(currency: "eur") { isBusiness label totalAmount orderCount }
        revenueByState(country: "US", currency: "usd") { state totalAmount paymentCount }""",
    )
    # Orders made in the window: alice ×2, bob, carol, dave (failed), erin (trial).
    assert got["totalCount"] == 6
    assert {r["status"]: r["count"] for r in got["countsByStatus"]} == {
        "completed": 3,
        "canceled": 1,
        "pending": 1,
        "trialing": 1,
    }
    assert got["countsByPeriod"] == [
        {"period": "2026-03", "count": 4},
        {"period": "2026-04", "count": 2},
    ]
    assert got["revenueByCurrency"] == [
        {"currency": "EUR", "totalAmount": 2000, "paymentCount": 1},
        {"currency": "USD", "totalAmount": 1100 + 3300 + 999, "paymentCount": 3},
    ]
    assert got["revenueByPeriod"] == [
        {"period": "2026-03", "currency": "USD", "totalAmount": 1100 + 999, "paymentCount": 2},
        {"period": "2026-04", "currency": "USD", "totalAmount": 3300, "paymentCount": 1},
    ]
    # alice paid in February already: returning; bob and carol are new.
    assert got["buyerMetrics"] == {"totalBuyers": 3, "newBuyers": 2, "returningBuyers": 1}
    assert got["revenueByCountry"] == [{"country": "US", "totalAmount": 5399, "paymentCount": 3}]
    assert {r["country"]: r["count"] for r in got["ordersByCountry"]} == {"US": 6}
    assert got["b2bVsB2cBreakdown"] == [
        {"isBusiness": True, "label": "B2B", "totalAmount": 2000, "orderCount": 1}
    ]
    assert got["revenueByState"] == [
        {"state": "CA", "totalAmount": 3300, "paymentCount": 1},
        {"state": "TX", "totalAmount": 1100, "paymentCount": 1},
        {"state": "NY", "totalAmount": 999, "paymentCount": 1},
    ]


def test_payment_statistics(data, sid):
    got = run(
        data,
        sid,
        "paymentStatistics",
        """successRate { totalAttempts succeeded failed pending successRate }
        failedReasons { reason count percentage }
        refunds { totalCount succeededCount pendingCount failedCount
                  amountByCurrency { currency totalAmount paymentCount } refundRate }
        methodDistribution { methodType count totalAmount percentage }
        cardBrandDistribution { brand count totalAmount percentage }
        taxSummary { currency totalTax totalPreTax totalAmount paymentCount }
        preTaxRevenueByCurrency { currency totalAmount paymentCount }""",
    )
    assert got["successRate"] == {
        "totalAttempts": 5,
        "succeeded": 4,
        "failed": 1,
        "pending": 0,
        "successRate": 80.0,
    }
    assert got["failedReasons"] == [{"reason": "card_declined", "count": 1, "percentage": 100.0}]
    assert got["refunds"] == {
        "totalCount": 1,
        "succeededCount": 1,
        "pendingCount": 0,
        "failedCount": 0,
        "amountByCurrency": [{"currency": "USD", "totalAmount": 1000, "paymentCount": 1}],
        "refundRate": 25.0,
    }
    # Four card charges in two currencies: no single total.
    assert got["methodDistribution"] == [
        {"methodType": "card", "count": 4, "totalAmount": None, "percentage": 100.0}
    ]
    assert got["cardBrandDistribution"] == [
        {"brand": "visa", "count": 3, "totalAmount": None, "percentage": 75.0},
        {"brand": "mastercard", "count": 1, "totalAmount": 3300, "percentage": 25.0},
    ]
    assert got["taxSummary"] == [
        {
            "currency": "EUR",
            "totalTax": 0,
            "totalPreTax": 2000,
            "totalAmount": 2000,
            "paymentCount": 1,
        },
        {
            "currency": "USD",
            "totalTax": 400,
            "totalPreTax": 4999,
            "totalAmount": 5399,
            "paymentCount": 3,
        },
    ]
    assert got["preTaxRevenueByCurrency"][1] == {
        "currency": "USD",
        "totalAmount": 4999,
        "paymentCount": 3,
    }


def test_product_statistics(data, sid):
    got = run(
        data,
        sid,
        "productStatistics",
        """onetimeCountsByStatus { status count } subscriptionCountsByStatus { status count }
        onetimeTotalCount subscriptionTotalCount
        topByOrderCount(limit: 10) { productName productType orderCount totalRevenue currency }
        topByRevenue(limit: 1, currency: "usd") { productName totalRevenue }
        revenueContribution(currency: "usd") { productName revenue contributionPercentage
            cumulativePercentage }""",
    )
    assert got["onetimeTotalCount"] == 4 and got["subscriptionTotalCount"] == 2
    assert {r["status"]: r["count"] for r in got["onetimeCountsByStatus"]} == {
        "completed": 3,
        "pending": 1,
    }
    assert got["topByOrderCount"] == [
        {
            "productName": "E-Book",
            "productType": "onetime",
            "orderCount": 2,
            "totalRevenue": 4400,
            "currency": "USD",
        },
        {
            "productName": "E-Book",
            "productType": "onetime",
            "orderCount": 1,
            "totalRevenue": 2000,
            "currency": "EUR",
        },
        {
            "productName": "Pro Plan",
            "productType": "subscription",
            "orderCount": 1,
            "totalRevenue": 999,
            "currency": "USD",
        },
    ]
    assert got["topByRevenue"] == [{"productName": "E-Book", "totalRevenue": 4400}]
    # 4400 / 5399 = 81.50 %, 999 / 5399 = 18.50 %.
    assert got["revenueContribution"] == [
        {
            "productName": "E-Book",
            "revenue": 4400,
            "contributionPercentage": 81.5,
            "cumulativePercentage": 81.5,
        },
        {
            "productName": "Pro Plan",
            "revenue": 999,
            "contributionPercentage": 18.5,
            "cumulativePercentage": 100.0,
        },
    ]


def test_trend_analysis(data, sid):
    got = run(
        data,
        sid,
        "trendAnalysis",
        """orderGrowth(granularity: MONTH) { period currentValue previousValue growthRate }
        revenueGrowth(granularity: MONTH, currency: "USD") { period currentValue previousValue
            growthRate }
        cumulativeRevenue(granularity: MONTH, currency: "usd") { period periodValue
            cumulativeValue }
        orderMovingAverage(windowDays: 7) { date dailyValue movingAverage }""",
    )
    assert got["orderGrowth"] == [
        {"period": "2026-03", "currentValue": 4, "previousValue": None, "growthRate": None},
        {"period": "2026-04", "currentValue": 2, "previousValue": 4, "growthRate": -50.0},
    ]
    # (3300 − 2099) / 2099 = 57.22 %
    assert got["revenueGrowth"][1] == {
        "period": "2026-04",
        "currentValue": 3300,
        "previousValue": 2099,
        "growthRate": 57.22,
    }
    assert got["cumulativeRevenue"] == [
        {"period": "2026-03", "periodValue": 2099, "cumulativeValue": 2099},
        {"period": "2026-04", "periodValue": 3300, "cumulativeValue": 5399},
    ]
    days = {r["date"]: r for r in got["orderMovingAverage"]}
    assert len(days) == 61
    # 03-14 … 03-20: dave's order (03-15) and bob's (03-20).
    assert days["2026-03-20"] == {"date": "2026-03-20", "dailyValue": 1, "movingAverage": 0.29}
    assert days["2026-03-01"]["movingAverage"] == 0.0


def test_distribution_analysis(data, sid):
    got = run(
        data,
        sid,
        "distributionAnalysis",
        """orderAmountPercentiles(currency: "usd") { p10 p50 p90 min max avg stddev count }
        aovTrend(granularity: MONTH, currency: "usd") { period averageOrderValue orderCount
            totalRevenue }
        orderAmountBuckets(currency: "usd", bucketCount: 2) { rangeMin rangeMax count
            percentage }""",
    )
    amounts = [999, 1100, 3300]
    assert got["orderAmountPercentiles"] == {
        "p10": 1019.2,  # 999 + 0.2 × 101
        "p50": 1100.0,
        "p90": 2860.0,  # 1100 + 0.8 × 2200
        "min": 999,
        "max": 3300,
        "avg": 1799.67,
        "stddev": round(statistics.pstdev(amounts), 2),
        "count": 3,
    }
    assert got["aovTrend"] == [
        {"period": "2026-03", "averageOrderValue": 1049.5, "orderCount": 2, "totalRevenue": 2099},
        {"period": "2026-04", "averageOrderValue": 3300.0, "orderCount": 1, "totalRevenue": 3300},
    ]
    assert got["orderAmountBuckets"] == [
        {"rangeMin": 999.0, "rangeMax": 2149.5, "count": 2, "percentage": 66.67},
        {"rangeMin": 2149.5, "rangeMax": 3300.0, "count": 1, "percentage": 33.33},
    ]


def test_customer_analysis(data, sid):
    got = run(
        data,
        sid,
        "customerAnalysis",
        """cohortRetention(granularity: MONTH) { cohortPeriod cohortSize
              retention { periodOffset activeCustomers retentionRate } }
        ltvDistribution(currency: "usd") { averageLtv medianLtv }
        purchaseFrequency { purchaseCount customerCount percentage }
        repeatPurchaseRate(granularity: MONTH) { period totalBuyers repeatBuyers repeatRate }
        topCustomers(limit: 10, currency: "usd") { buyerEmail totalSpent orderCount
            firstPurchaseDate }""",
    )
    assert got["cohortRetention"] == [
        {
            "cohortPeriod": "2026-03",
            "cohortSize": 3,
            "retention": [
                {"periodOffset": 0, "activeCustomers": 3, "retentionRate": 100.0},
                {"periodOffset": 1, "activeCustomers": 1, "retentionRate": 33.33},
            ],
        }
    ]
    assert got["ltvDistribution"] == {"averageLtv": 2699.5, "medianLtv": 2699.5}
    assert got["purchaseFrequency"] == [
        {"purchaseCount": 1, "customerCount": 2, "percentage": 66.67},
        {"purchaseCount": 2, "customerCount": 1, "percentage": 33.33},
    ]
    assert got["repeatPurchaseRate"] == [
        {"period": "2026-03", "totalBuyers": 3, "repeatBuyers": 0, "repeatRate": 0.0},
        {"period": "2026-04", "totalBuyers": 1, "repeatBuyers": 1, "repeatRate": 100.0},
    ]
    assert [(c["buyerEmail"], c["totalSpent"], c["orderCount"]) for c in got["topCustomers"]] == [
        ("alice@example.com", 4400, 2),
        ("carol@example.com", 999, 1),
    ]
    assert got["topCustomers"][0]["firstPurchaseDate"].startswith("2026-03-05T12:00:00")


def test_tax_analysis(data, sid):
    got = run(
        data,
        sid,
        "taxAnalysis",
        """byCategory(currency: "usd") { taxCategory totalTax totalAmount paymentCount }
        byCountry(currency: "usd") { country totalTax totalAmount paymentCount }
        b2bVsB2c(currency: "usd") { isBusiness label totalTax totalAmount orderCount }
        effectiveTaxRateTrend(granularity: MONTH, currency: "usd") { period avgTaxRate
            paymentCount }
        taxAmountByPeriod(granularity: MONTH, currency: "usd") { period totalTax paymentCount }""",
    )
    assert got["byCategory"] == [
        {"taxCategory": "saas", "totalTax": 400, "totalAmount": 5399, "paymentCount": 3}
    ]
    assert got["byCountry"] == [
        {"country": "US", "totalTax": 400, "totalAmount": 5399, "paymentCount": 3}
    ]
    assert got["b2bVsB2c"] == [
        {"isBusiness": False, "label": "B2C", "totalTax": 400, "totalAmount": 5399, "orderCount": 3}
    ]
    # March: 100 tax on 1999 before tax; April: 300 on 3000.
    assert got["effectiveTaxRateTrend"] == [
        {"period": "2026-03", "avgTaxRate": 5.0, "paymentCount": 2},
        {"period": "2026-04", "avgTaxRate": 10.0, "paymentCount": 1},
    ]
    assert got["taxAmountByPeriod"] == [
        {"period": "2026-03", "totalTax": 100, "paymentCount": 2},
        {"period": "2026-04", "totalTax": 300, "paymentCount": 1},
    ]


def test_subscription_analysis(data, sid):
    got = run(
        data,
        sid,
        "subscriptionAnalysis",
        """billingPeriodDistribution(currency: "usd") { billingPeriod count totalAmount percentage }
        activeCount
        cancellationStats { totalSubscriptions canceledCount cancellationRate avgLifetimeDays
            medianLifetimeDays }
        cancellationTrend(granularity: MONTH) { period canceledCount }
        trialConversion { totalTrials convertedCount activeTrials conversionRate }
        trialConversionByProduct { productName totalTrials }
        churnRate(granularity: MONTH) { period startActive churned churnRate }""",
    )
    assert got["billingPeriodDistribution"] == [
        {"billingPeriod": "monthly", "count": 2, "totalAmount": 1998, "percentage": 100.0}
    ]
    assert got["activeCount"] == 1  # erin's trial
    # carol: 03-10 12:00 → 04-15 12:00, 36 days.
    assert got["cancellationStats"] == {
        "totalSubscriptions": 2,
        "canceledCount": 1,
        "cancellationRate": 50.0,
        "avgLifetimeDays": 36.0,
        "medianLifetimeDays": 36.0,
    }
    assert got["cancellationTrend"] == [
        {"period": "2026-03", "canceledCount": 0},
        {"period": "2026-04", "canceledCount": 1},
    ]
    assert got["trialConversion"] == {
        "totalTrials": 1,
        "convertedCount": 0,
        "activeTrials": 1,
        "conversionRate": 0.0,
    }
    assert got["trialConversionByProduct"] == [{"productName": "Pro Plan", "totalTrials": 1}]
    assert got["churnRate"] == [
        {"period": "2026-03", "startActive": 0, "churned": 0, "churnRate": 0.0},
        {"period": "2026-04", "startActive": 1, "churned": 1, "churnRate": 100.0},
    ]


def test_refund_ticket_analysis(data, sid):
    got = run(
        data,
        sid,
        "refundTicketAnalysis",
        """reasonDistribution(currency: "usd") { reason count totalAmount percentage }
        statusDistribution { status count percentage }
        reviewEfficiency { avgHours medianHours p90Hours totalReviewed }
        ticketTrend(granularity: MONTH) { period totalCreated resolvedCount approvedCount
            rejectedCount }
        approvalRate { approved rejected rate }
        processingSuccessRate { succeeded failed rate }""",
    )
    assert sorted(got["reasonDistribution"], key=lambda r: r["reason"]) == [
        {"reason": "Changed my mind", "count": 1, "totalAmount": 500, "percentage": 50.0},
        {"reason": "Not as described", "count": 1, "totalAmount": 1000, "percentage": 50.0},
    ]
    assert sorted((r["status"], r["count"]) for r in got["statusDistribution"]) == [
        ("rejected", 1),
        ("succeeded", 1),
    ]
    # Reviewed after 2 h and 6 h: p90 = 2 + 0.9 × 4.
    assert got["reviewEfficiency"] == {
        "avgHours": 4.0,
        "medianHours": 4.0,
        "p90Hours": 5.6,
        "totalReviewed": 2,
    }
    assert got["ticketTrend"] == [
        {
            "period": "2026-03",
            "totalCreated": 1,
            "resolvedCount": 1,
            "approvedCount": 0,
            "rejectedCount": 1,
        },
        {
            "period": "2026-04",
            "totalCreated": 1,
            "resolvedCount": 1,
            "approvedCount": 1,
            "rejectedCount": 0,
        },
    ]
    assert got["approvalRate"] == {"approved": 1, "rejected": 1, "rate": 50.0}
    assert got["processingSuccessRate"] == {"succeeded": 1, "failed": 0, "rate": 100.0}


def test_default_range_is_the_last_thirty_days(data, sid):
    # Nothing of the hand-built store is in the last 30 days (it is all in 2026-03/04 and the
    # tests run later); the series has one point per local day.
    got = data(f'{{ trendAnalysis(storeId: "{sid}") {{ orderMovingAverage {{ date }} }} }}')
    assert len(got["trendAnalysis"]["orderMovingAverage"]) == 30


def test_a_buyer_token_gets_an_error_not_figures(api, sid, store):
    actor = Actor(kind="merchant", environment="test", merchant=api.merchant)
    token, _ = buyer_session_issue(
        actor=actor, buyer_identity="alice@example.com", store_id=store.pk
    )
    body = buyer_post(
        token, "test", f'{{ orderStatistics(storeId: "{sid}", {FILTER}) {{ totalCount }} }}'
    ).json()
    assert body["data"] == {"orderStatistics": None}
    assert "for the store's merchants" in body["errors"][0]["message"]


def test_rate_goes_through_the_euro(data):
    ExchangeRate.objects.update_or_create(
        currency="USD", defaults={"per_eur": Decimal("1.25"), "rate_date": date(2026, 12, 4)}
    )
    ExchangeRate.objects.update_or_create(
        currency="JPY", defaults={"per_eur": Decimal("150"), "rate_date": date(2026, 12, 3)}
    )
    got = data(
        "{ rate(fromCurrency: USD, toCurrency: JPY) "
        "{ fromCurrency toCurrency standardRate rateRefId expiryTime } }"
    )["rate"]
    # 150 JPY per euro / 1.25 USD per euro; the older of the two days names the quote.
    assert got["fromCurrency"] == "USD" and got["toCurrency"] == "JPY"
    assert got["standardRate"] == "120"
    assert got["rateRefId"] == "EUR-2026-12-03:USD/JPY"
    assert got["expiryTime"].startswith("20")


def test_another_merchants_store_is_null(data, sid, make_api):
    other = make_api("other@example.com")
    body = post(other, f'{{ orderStatistics(storeId: "{sid}", {FILTER}) {{ totalCount }} }}')
    assert body.status_code == 200
    assert body.json()["data"] == {"orderStatistics": None}
    assert data(f'{{ store(id: "{sid}") {{ id }} }}', client=other) == {"store": None}


def test_a_bad_range_is_a_clear_error(gql, sid):
    body = gql(
        f'{{ orderStatistics(storeId: "{sid}", filter: {{ timeRange: '
        f'{{ startDate: "2026-05-01T00:00:00Z", endDate: "2026-03-01T00:00:00Z" }} }}) '
        "{ totalCount } }"
    )
    assert "endDate must be after startDate" in body["errors"][0]["message"]
    assert body["data"] == {"orderStatistics": None}


ROOTS = {
    "orderStatistics": "totalCount revenueByCurrency { totalAmount } buyerMetrics { newBuyers }",
    "paymentStatistics": "successRate { succeeded } refunds { totalCount } taxSummary { totalTax }",
    "productStatistics": "topByOrderCount { orderCount } "
    'revenueContribution(currency: "usd") { revenue }',
    "trendAnalysis": "orderGrowth { currentValue } orderMovingAverage { movingAverage }",
    "distributionAnalysis": 'orderAmountPercentiles(currency: "usd") { p50 } '
    'orderAmountBuckets(currency: "usd") { count }',
    "customerAnalysis": "cohortRetention { cohortSize } "
    'topCustomers(currency: "usd") { totalSpent }',
    "taxAnalysis": 'byCategory(currency: "usd") { totalTax } taxAmountByPeriod { totalTax }',
    "subscriptionAnalysis": "activeCount churnRate { churned } cancellationStats { canceledCount }",
    "refundTicketAnalysis": "reviewEfficiency { p90Hours } ticketTrend { totalCreated }",
}


def _statements(api, sid):
    counts = {}
    for root, body in ROOTS.items():
        query = f'{{ {root}(storeId: "{sid}", {FILTER}) {{ {body} }} }}'
        with CaptureQueriesContext(connection) as queries:
            response = post(api, query)
        assert response.status_code == 200 and "errors" not in response.json(), response.json()
        counts[root] = len(queries)
    return counts


def test_statement_count_is_the_same_for_1_and_for_50_payments(api, store, data):
    sid = data("{ stores { id } }")["stores"][0]["id"]
    shop.extra_charges(store, 1)
    one = _statements(api, sid)
    shop.extra_charges(store, 49, first=1)
    fifty = _statements(api, sid)
    assert one == fifty
    # The store's ids and timezone, then a few statements per selected sub-field.
    assert all(4 <= n <= 12 for n in one.values()), one


@pytest.mark.parametrize(
    "args, message",
    [
        ('storeSlug: "maple"', "Unknown argument 'storeSlug'"),
        ('filter: { currency: "usd" }', "Field 'currency' is not defined by type"),
        ('filter: { status: "succeeded" }', "Field 'status' is not defined by type"),
    ],
)
def test_arguments_the_roots_do_not_take_are_refused_not_ignored(gql, sid, args, message):
    """The roots take ``storeId`` and ``filter.timeRange`` (the SDK guide's documents); currency
    and the like are sub-field arguments. Anything else fails validation: no figure is ever
    answered for a filter that was silently dropped."""
    for root in ROOTS:
        body = gql(f'{{ {root}(storeId: "{sid}", {args}) {{ __typename }} }}', expect=400)
        assert body["data"] is None
        assert message in body["errors"][0]["message"], body
