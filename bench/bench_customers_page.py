"""Benchmark the dashboard's Customers list on the analytics bench store (bench/seed_analytics.py:
1,000,000 payments and orders, 50,000 subscriptions, 250,000 distinct buyers, in its own
database; seeded when missing, kept with --reuse).

Measured in-process through Django's test client (middleware, session, template; no network),
each scenario --requests times after one warm-up request: the first page, the next page (after
the first page's cursor), oldest first, a search by email matching a few buyers, the status
filter (churned) and the country filter; SQL statements per page (CaptureQueriesContext), p50
and p95 time.

    python bench/bench_customers_page.py [--requests 5] [--reuse] [--db NAME]

``--db`` measures a copy of the seeded database under another name (``createdb -T``). A
database migrated by another checkout may lack checkout's ``order_store_env_email_idx``: the
bench creates it if missing (the index the Customers pages read by).

Prints one JSON object. Needs PostgreSQL on 127.0.0.1:5432 (user postgres).

Django and the project's modules are imported inside the functions that use them, after
``seed_analytics.prepare`` has chosen the settings and database and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_analytics  # noqa: E402


def measure(client, url: str, n: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(n):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
    html = response.content.decode()
    times.sort()
    return {
        "rows": html.count('data-customer="'),
        "statements": len(queries),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "next": (re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', html) or [None, None])[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    parser.add_argument("--db", default=seed_analytics.DB, help="the database to measure")
    args = parser.parse_args()
    seed_analytics.DB = args.db
    seed_analytics.ENV["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    prepared = seed_analytics.prepare(reuse=args.reuse)

    from django.conf import settings
    from django.db import connection

    # No collectstatic here: the pages link the static files unhashed (the rest is production's).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS order_store_env_email_idx ON checkout_order "
            "(store_id, environment, buyer_email, created_at)"
        )
        cursor.execute("ANALYZE")

    from django.test import Client
    from django.urls import reverse

    from stores.models import Store

    store = Store.objects.get(pk=prepared["store_id"])
    owner = store.memberships.select_related("merchant").first().merchant
    client = Client()
    client.force_login(owner)
    base = reverse("dashboard:customers", args=[store.pk])
    first = measure(client, base, args.requests)
    some_email = (
        store.orders.filter(environment="test").values_list("buyer_email", flat=True).first()
    )
    results = {
        "store": prepared,
        "first_page": first,
        "next_page": measure(client, base + first["next"].replace("&amp;", "&"), args.requests),
        "oldest_first": measure(client, base + "?sort=oldest", args.requests),
        "search_email": measure(client, base + f"?q={some_email}", args.requests),
        "status_churned": measure(client, base + "?status=churned", args.requests),
        "country_jp": measure(client, base + "?country=JP", args.requests),
    }
    for value in results.values():
        if isinstance(value, dict):
            value.pop("next", None)
    results["loadavg"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
