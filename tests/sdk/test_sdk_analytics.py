"""The SDK guide's analytics documents and its ``rate`` query, verbatim but for the time range
(the hand-built store's two months), through the unmodified SDK's ``client.graphql.query``
against a live server; a few of the hand-built store's numbers (tests/graphql/test_analytics.py
works them all out)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from billing.models import ExchangeRate
from pancake.api import ids
from stores.models import Role
from tests.factories import MembershipFactory, StoreFactory
from tests.graphql import analytics_store as shop
from tests.graphql.appendix_b import DOCUMENTS
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

ANALYTICS = [f"B.{n}" for n in range(30, 39)]

SCRIPT = """
const docs = JSON.parse(process.env.DOCS);
for (const [label, query] of Object.entries(docs)) {
  out[label] = await client.graphql.query({ query, variables: { storeId: process.env.STORE_ID } });
}
out.rate = await client.graphql.query({ query: process.env.RATE });
"""


def _ranged(doc: str) -> str:
    return doc.replace("2025-01-01T00:00:00Z", shop.START).replace("2026-01-01T00:00:00Z", shop.END)


def test_sdk_runs_the_analytics_documents_and_rate(live_server, merchant_key):
    merchant, key = merchant_key
    store = StoreFactory(name="Analytics Store")
    MembershipFactory(store=store, merchant=merchant, role=Role.OWNER)
    shop.build(store)
    ExchangeRate.objects.update_or_create(
        currency="USD", defaults={"per_eur": Decimal("1.25"), "rate_date": date(2026, 12, 4)}
    )
    docs = {label: _ranged(DOCUMENTS[label]) for label in ANALYTICS}
    env = {
        **sdk_env(merchant, key, live_server),
        "STORE_ID": ids.encode("STO", store.pk),
        "DOCS": json.dumps(docs),
        "RATE": DOCUMENTS["B.25"],
    }
    out = run_sdk(SCRIPT, env)

    for label in ANALYTICS:
        assert "errors" not in out[label], (label, out[label])
    orders = out["B.30"]["data"]["orderStatistics"]
    assert orders["totalCount"] == 6
    assert orders["buyerMetrics"] == {"totalBuyers": 3, "newBuyers": 2, "returningBuyers": 1}
    payments = out["B.31"]["data"]["paymentStatistics"]
    assert payments["successRate"]["successRate"] == 80.0
    products = out["B.32"]["data"]["productStatistics"]
    assert products["topByRevenue"][0]["totalRevenue"] == 4400
    percentiles = out["B.34"]["data"]["distributionAnalysis"]["orderAmountPercentiles"]
    assert (percentiles["p50"], percentiles["count"]) == (1100.0, 3)
    subs = out["B.37"]["data"]["subscriptionAnalysis"]
    assert subs["cancellationStats"]["avgLifetimeDays"] == 36.0
    tickets = out["B.38"]["data"]["refundTicketAnalysis"]
    assert tickets["approvalRate"] == {"approved": 1, "rejected": 1, "rate": 50.0}
    # USD → EUR: 1 / 1.25 USD per euro.
    rate = out["rate"]["data"]["rate"]
    assert (rate["fromCurrency"], rate["toCurrency"], rate["standardRate"]) == ("USD", "EUR", "0.8")
    assert rate["rateRefId"] == "EUR-2026-12-04:USD/EUR"
