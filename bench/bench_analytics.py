"""Benchmark the merchant's figures (billing.analytics.metrics) on the analytics bench store:
1,000,000 payments and 50,000 subscriptions over two years (bench/seed_analytics.py).

For windows of the last 7, 30, 90, 365 and 730 store-local days: ``summary`` + ``series`` (by
day up to 90 days, by week for 365, by month for 730) as the dashboard asks for them, each
--requests times after --warmup runs: p50, p95 and SQL statements, read through the rollups
(after the rollup task ran) and, side by side, the raw computation (``source="raw"``): the
yardstick the rollups must beat. Also the rollup task's time, from scratch and again.

    python bench/bench_analytics.py [--requests 20] [--reuse] [--sources rollups]
        [--ended] [--geography] [--keep-rollups]

Prints one JSON object. Needs PostgreSQL on 127.0.0.1:5432 (user postgres).
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

import seed_analytics  # noqa: E402

RANGES = {7: "DAY", 30: "DAY", 90: "DAY", 365: "WEEK", 730: "MONTH"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, requests: int, warmup: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "statements": len(queries),
        "slowest_statements": [{"s": float(q["time"]), "sql": q["sql"][:110]} for q in slowest],
    }


def measure(
    store_id: str,
    requests: int,
    warmup: int,
    ranges: list[int],
    sources=("rollups", "raw"),
    *,
    ended: bool = False,
    geography: bool = False,
    rebuild: bool = True,
) -> dict:
    from django.utils import timezone

    from billing.analytics import metrics, rollups
    from billing.analytics.periods import Window, store_zone
    from billing.models import AnalyticsDay, AnalyticsSeal
    from stores.models import Store

    store = Store.objects.get(pk=store_id)
    if rebuild:
        AnalyticsSeal.objects.filter(store=store).delete()
        AnalyticsDay.objects.filter(store=store).delete()
    started = time.perf_counter()
    days = rollups.roll_up(store, "test")
    scratch = time.perf_counter() - started
    started = time.perf_counter()
    rollups.roll_up(store, "test")
    again = time.perf_counter() - started
    result = {
        "rollup": {
            "days": days,
            "from_scratch_s": round(scratch, 2),
            "again_s": round(again, 3),
            "rows": AnalyticsDay.objects.filter(store=store).count(),
        }
    }
    tz = store_zone(store.timezone)
    now = timezone.now()
    for n in ranges:
        granularity = RANGES[n]
        window = Window.last_days(n, tz, now)
        if ended:  # the n days up to yesterday: a window that does not reach now
            today = now.astimezone(tz).date()
            window = Window.of_days(today - timedelta(days=n), today - timedelta(days=1), tz)
        scope = metrics.Scope(store, "test", window)
        row = {"granularity": granularity}
        for source in sources:

            def read(scope=scope, granularity=granularity, source=source):
                metrics.summary(scope, source=source)
                metrics.series(scope, granularity, source=source)
                if geography:
                    metrics.geography(scope, source=source)

            row[source] = timed(read, requests, warmup)
        result[f"{n}_days"] = row
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--ranges", default="7,30,90,365,730", help="days, comma-separated (of 7,30,90,365,730)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    parser.add_argument(
        "--ended", action="store_true", help="windows ending yesterday instead of today"
    )
    parser.add_argument("--geography", action="store_true", help="read geography() too")
    parser.add_argument(
        "--keep-rollups", action="store_true", help="bring the rollups up to date, no rebuild"
    )
    parser.add_argument(
        "--sources", default="rollups,raw", help="comma-separated, of rollups,raw (raw is slow)"
    )
    args = parser.parse_args()
    info = seed_analytics.prepare(reuse=args.reuse)
    print(
        json.dumps(
            {
                "seed": info,
                **measure(
                    info["store_id"],
                    args.requests,
                    args.warmup,
                    [int(n) for n in args.ranges.split(",")],
                    args.sources.split(","),
                    ended=args.ended,
                    geography=args.geography,
                    rebuild=not args.keep_rollups,
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
