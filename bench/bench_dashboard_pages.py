"""Benchmark the dashboard's Home and Analytics pages on the 1,000,000-payment store of
``bench/seed_analytics.py`` (its own database; seeded unless --reuse finds it loaded).

Production settings (``PANCAKE_ENV=production``, DEBUG off, cached templates) on PostgreSQL,
measured in-process through Django's test client (the whole middleware stack, the session, the
template; no network), each scenario --requests times after --warmup (3) requests: Home for 7, 30
and 90 days; Analytics for 7, 30 and 90 days and a custom two-year range (by day and by month).
For each: p50 and p95 time, and the SQL statements of one more request (CaptureQueriesContext).

    python bench/bench_dashboard_pages.py [--requests 20] [--warmup 3] [--reuse]

The database is migrated before measuring (``manage.py migrate``: the pages need this branch's
columns; with --reuse nothing else changes). Prints one JSON object. Needs PostgreSQL on
127.0.0.1:5432 (user postgres). Bounded in time; stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
environment is set and ``django.setup()`` is called.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed_analytics  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, requests: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
    }


def measure(store_id: str, requests: int, warmup: int = 3) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from billing.analytics.periods import store_zone
    from stores.models import Store

    store = Store.objects.get(pk=store_id)
    merchant = store.created_by
    client = Client()
    client.force_login(merchant)
    home = reverse("dashboard:store", args=[store.pk])
    analytics = reverse("dashboard:analytics", args=[store.pk])
    today = timezone.now().astimezone(store_zone(store.timezone)).date()
    two_years = {
        "preset": "custom",
        "start": (today - timedelta(days=729)).isoformat(),
        "end": today.isoformat(),
    }
    scenarios = [
        ("home 7 days", home, {"days": 7}),
        ("home 30 days", home, {"days": 30}),
        ("home 90 days", home, {"days": 90}),
        ("analytics 7 days", analytics, {"preset": "7d", "granularity": "day"}),
        ("analytics 30 days", analytics, {"preset": "30d", "granularity": "day"}),
        ("analytics 90 days", analytics, {"preset": "90d", "granularity": "day"}),
        ("analytics 2 years by day", analytics, {**two_years, "granularity": "day"}),
        ("analytics 2 years by month", analytics, {**two_years, "granularity": "month"}),
    ]
    results = {}
    for name, url, params in scenarios:
        times = timed(lambda u=url, p=params: client.get(u, p), requests, warmup)
        # Statements of a request like the measured ones (the first of a scenario may also
        # save the merchant's granularity, once).
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        results[name] = {"sql_statements": len(queries), **times}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="requests before measuring")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    args = parser.parse_args()
    os.environ.update(seed_analytics.ENV)
    if args.reuse:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True
        )
    prepared = seed_analytics.prepare(reuse=args.reuse)
    from django.conf import settings

    # No collectstatic here: the pages link the static files unhashed (the rest is production's).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from billing.models import Payment

    result = {
        "store": prepared,
        "payments": Payment.objects.filter(store_id=prepared["store_id"]).count(),
        "requests": args.requests,
        "pages": measure(prepared["store_id"], args.requests, args.warmup),
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
