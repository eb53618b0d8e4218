"""Benchmark the nine GraphQL analytics roots on the seeded analytics store (bench/
seed_analytics.py: 1,000,000 payments and 50,000 subscriptions over two years, reused when
present).

Each root runs the SDK guide's document for it (tests/graphql/appendix_b.py, every sub-field
selected) over the seed's whole two years, signed like the SDK, in-process through Django's
test client on the production settings and the seed's PostgreSQL database: the time is the
server's (parsing, resolvers, SQL), without the network. Reports per root p50/p95 over --runs
requests (after one warm-up) and the SQL statements per request. Prints one JSON object.

    python bench/bench_graphql_analytics.py [--runs 5] [--roots orderStatistics,...]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres). It adds one test API key for the seed's
merchant on each run. Bounded: --runs × 9 requests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seed_analytics  # noqa: E402  (the seeded store, its database and environment)

LABELS = {
    "orderStatistics": "B.30",
    "paymentStatistics": "B.31",
    "productStatistics": "B.32",
    "trendAnalysis": "B.33",
    "distributionAnalysis": "B.34",
    "customerAnalysis": "B.35",
    "taxAnalysis": "B.36",
    "subscriptionAnalysis": "B.37",
    "refundTicketAnalysis": "B.38",
}


def _caller(store_id: str):
    """A signed in-process client for the seed's merchant, with a test API key."""
    from bench_actions import Signer
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.test import Client

    from pancake.api import ids
    from stores.models import StoreMembership
    from tests.factories import make_api_key

    merchant = StoreMembership.objects.filter(store_id=store_id).first().merchant
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    make_api_key(merchant, key)
    signer = Signer(key, ids.encode("MER", merchant.pk))
    client = Client(HTTP_HOST="127.0.0.1", **{"wsgi.url_scheme": "https"})

    def call(body: bytes):
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in signer.headers("/v1/graphql", body).items()
            if k != "Content-Type"
        }
        return client.post("/v1/graphql", data=body, content_type="application/json", **headers)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--roots", default=",".join(LABELS))
    args = parser.parse_args()
    seeded = seed_analytics.prepare(reuse=True)

    from django.db import connection
    from django.utils import timezone

    from pancake.api import ids
    from tests.graphql.appendix_b import DOCUMENTS

    store_id = ids.encode("STO", seeded["store_id"])
    now = timezone.now()
    start = (now - timedelta(days=731)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    call = _caller(seeded["store_id"])
    results = {}
    for root in args.roots.split(","):
        doc = (
            DOCUMENTS[LABELS[root]]
            .replace("2025-01-01T00:00:00Z", start)
            .replace("2026-01-01T00:00:00Z", end)
        )
        body = json.dumps({"query": doc, "variables": {"storeId": store_id}}).encode()
        statements = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = call(body)  # warm-up, and the statement count
        payload = response.json()
        assert response.status_code == 200 and "errors" not in payload, payload
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            call(body)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results[root] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "sql": len(statements),
        }
        print(root, results[root], file=sys.stderr, flush=True)
    print(json.dumps({"store": store_id, "range": [start, end], "runs": args.runs, **results}))


if __name__ == "__main__":
    main()
