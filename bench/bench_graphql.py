"""Benchmark the GraphQL read API against the yardstick, on the production stack.

gunicorn (2 workers, the README's sync workers; --threads N for gthread workers) + PostgreSQL +
Redis, the way the README deploys it, with the
settings module bench.settings_bench (production settings + the yardstick URL, see
bench/yardstick_urls.py), in its own database, port and Redis database (DB, PORT below; the
database is dropped and recreated), so it can run beside the other benchmarks.

Seeds --orders one-time orders (default 100k; one checkout session and one payment each, one
product, one store; bulk_create), then measures side by side in the same run:

- the bare yardstick (the target's reference): a separate minimal Django + DRF project
  (bench/yardstick, see bench/bench_checkout.py) with its own gunicorn (same worker and thread
  counts) and database on the same PostgreSQL server: verifies one SDK signature (one query for
  the key) and inserts one row;
- the in-project yardstick (labelled, for comparison with earlier readings): the same work as a
  view inside Pancake, POST /bench/yardstick;
- GraphQL, POST /v1/graphql, signed like the SDK over /v1/graphql, two documents:
  the nested query (100 orders with their payments, product and store; QUERY below) and the SDK
  guide's orders document (SDK_QUERY below: the guide's one-time orders list with a store id
  variable, 100 rows, price snapshots and the payments' amounts).

The loads alternate in --rounds rounds, so a change in the machine's other load weighs on all
alike. Reports requests/s, p50/p99, the CPU the server spent per request (gunicorn workers +
their PostgreSQL backends, from /proc), SQL queries per request (in-process, same settings and
database, CaptureQueriesContext) and the load average, against the targets (at most 6 SQL
queries whatever the row count; at least a quarter of the bare yardstick's requests/s). Prints
one JSON object. It also times the same query, in-process, for a second merchant with five
orders among the big one's (its plan must not walk the other merchant's orders).

    python bench/bench_graphql.py [--orders 100000] [--seconds 10] [--rounds 5]
        [--concurrency 8] [--profile 200]

--profile N also runs N requests in-process under cProfile and prints the top functions to
stderr. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379.
Loopback only; bounded in time; stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import signal
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare  # noqa: E402  (the bare yardstick)
import bench_actions as base  # noqa: E402  (database, environment, signer)
import bench_checkout as chk  # noqa: E402  (load driver, stats, yardstick, RSS)

# Its own database, port and Redis database: other benchmarks may run at the same time.
DB, PORT = "pancake_bench_graphql", 8767
base.DB = DB
base.PORT = chk.PORT = PORT  # the helpers read these module globals
base.ENV.update(
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
    REDIS_URL="redis://127.0.0.1:6379/12",
    BASE_URL=f"http://127.0.0.1:{PORT}",
)
ROOT, ENV, Signer = base.ROOT, base.ENV, base.Signer
SETTINGS = chk.SETTINGS
GRAPHQL = "/v1/graphql"
QUERY = """{
  onetimeOrders(limit: 100) {
    id status buyerEmail
    payments { id status snapshotAmountDetails { total } cardInfo { brand last4 } }
    onetimeProduct { id name }
    store { id name }
  }
}"""
BODY = json.dumps({"query": QUERY}).encode()
# The SDK guide's one-time orders document (its list and its one-order documents combined): what
# a merchant's order list asks for.
SDK_QUERY = """query ($storeId: String!) {
  onetimeOrders(storeId: $storeId, limit: 100) {
    id buyerEmail currency status
    priceSnapshot { currency subtotal taxAmount total taxCategory }
    onetimeProduct { id name }
    payments { id status snapshotAmountDetails { currency subtotal taxAmount total taxCategory } }
    createdAt
  }
}"""
ROWS = 100
SMALL_ORDERS = 5
TARGET_RPS_RATIO = 0.25
TARGET_SQL = 6
BATCH = 5000


def seed(n_orders: int):
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()
    from django.db import connection

    from pancake.api import ids
    from stores import services
    from tests.factories import make_api_key
    from tests.graphql import seed as rows

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    merchant, _ = services.merchant_get_or_create(email="bench@example.com")
    make_api_key(merchant, key)
    store = services.store_create(merchant=merchant, name="Bench Store")
    product = rows.onetime(store, name="Bench E-Book")
    started = time.perf_counter()
    done = 0
    while done < n_orders:
        n = min(BATCH, n_orders - done)
        rows.orders(store, product, n, email=f"buyer{done // BATCH}@example.com")
        done += n
    # A second merchant with a handful of orders among everyone's: its list must not cost a
    # walk through the big merchant's orders (small_merchant below).
    small, _ = services.merchant_get_or_create(email="small@example.com")
    small_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    make_api_key(small, small_key)
    small_store = services.store_create(merchant=small, name="Small Store")
    rows.orders(small_store, rows.onetime(small_store, name="Small Book"), SMALL_ORDERS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return (
        key,
        ids.encode("MER", merchant.pk),
        round(time.perf_counter() - started, 1),
        (small_key, ids.encode("MER", small.pk)),
        ids.encode("STO", store.pk),
    )


def sdk_body(store_id: str, limit: int = ROWS) -> bytes:
    query = SDK_QUERY.replace("limit: 100", f"limit: {limit}")
    return json.dumps({"query": query, "variables": {"storeId": store_id}}).encode()


def graphql_iteration(name: str, body: bytes):
    def iteration(conn, signer, n, record):
        # The body is the same every time: the client signs once a second per thread (cached),
        # like the yardsticks' loads; the server verifies every request.
        latency, status, payload = chk.post(conn, signer, GRAPHQL, body)
        ok = status == 200 and b'"errors"' not in payload
        if ok and n % 97 == 0:
            ok = len(json.loads(payload)["data"]["onetimeOrders"]) == ROWS
        record(name, latency, ok, f"{status} {payload[:300]!r}")

    return iteration


def _client_call(key, merchant_id):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", **{"wsgi.url_scheme": "https"})
    signer = Signer(key, merchant_id)

    def call(path, body):
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in signer.headers(path, body).items()
            if k != "Content-Type"
        }
        return client.post(path, data=body, content_type="application/json", **headers)

    return call


def queries_per_request(key, merchant_id: str, store_id: str) -> tuple[dict, dict]:
    """SQL statements per request, counted in-process on the same database and code path, for
    100 rows and for 5 rows (the count must not depend on the row count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = _client_call(key, merchant_id)
    small = json.dumps({"query": QUERY.replace("limit: 100", "limit: 5")}).encode()
    counts, statements = {}, {}
    for name, body, rows in (
        ("nested (100 rows)", BODY, ROWS),
        ("nested (5 rows)", small, 5),
        ("sdk orders (100 rows)", sdk_body(store_id), ROWS),
        ("sdk orders (5 rows)", sdk_body(store_id, 5), 5),
    ):
        call(GRAPHQL, body)  # warm (key touch, caches)
        with CaptureQueriesContext(connection) as ctx:
            response = call(GRAPHQL, body)
        payload = response.json()
        assert response.status_code == 200 and "errors" not in payload, response.content[:500]
        assert len(payload["data"]["onetimeOrders"]) == rows
        counts[name] = len(ctx.captured_queries)
        if rows == ROWS:
            statements[name] = [q["sql"][:200] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        assert call(chk.YARDSTICK, b'{"bench":true}').status_code == 200
    counts["in-project yardstick"] = len(ctx.captured_queries)
    return counts, statements


def small_merchant(key, merchant_id: str, n: int = 50) -> dict:
    """The same query for a merchant with SMALL_ORDERS orders among the big one's, in-process:
    its latency must not grow with the other merchant's orders."""
    call = _client_call(key, merchant_id)
    call(GRAPHQL, BODY)
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        response = call(GRAPHQL, BODY)
        latencies.append(time.perf_counter() - started)
        assert len(response.json()["data"]["onetimeOrders"]) == SMALL_ORDERS
    latencies.sort()
    return {
        "orders_of_this_merchant": SMALL_ORDERS,
        "requests": n,
        "p50_ms_in_process": round(latencies[n // 2] * 1000, 2),
        "max_ms_in_process": round(latencies[-1] * 1000, 2),
    }


def profile(key, merchant_id: str, n: int) -> dict:
    """``n`` requests in-process under cProfile; the top functions go to stderr."""

    call = _client_call(key, merchant_id)
    call(GRAPHQL, BODY)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(n):
        call(GRAPHQL, BODY)
    profiler.disable()
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue(), file=sys.stderr)
    return {"requests": n, "ms_per_request_in_process_profiled": round(elapsed * 1000 / n, 2)}


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _reading(stats, name: str, elapsed: float, cpu: dict, bare_rps: float | None) -> dict:
    out = stats.summary(RECORDED_AS.get(name, name), elapsed)
    out["server_cpu_ms_per_request"] = chk.cpu_per_request(cpu, out["requests"])
    if bare_rps and out.get("rps"):
        out["ratio_to_bare_yardstick"] = round(out["rps"] / bare_rps, 3)
    return out


RECORDED_AS = {"in-project yardstick": "yardstick"}  # the name chk.yardstick_iteration records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10, help="per measured load, in total")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=1, help="per gunicorn worker (1: the README's sync workers)"
    )
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many requests")
    args = parser.parse_args()

    load_at_start = _loadavg()
    base.setup_database()
    key, merchant_id, seed_seconds, (small_key, small_id), store_id = seed(args.orders)
    env = {**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": SETTINGS}
    server = chk.start_gunicorn(env, PORT, args.threads)
    bare_server, reconnecting_server, stripped_server = chk.start_bare(
        key, merchant_id, args.threads
    )
    loads = {
        "bare yardstick": (chk.bare_iteration, bare_server, chk.bare_db(), chk.bare_port()),
        chk.RECONNECTING: (
            chk.bare_reconnecting_iteration,
            reconnecting_server,
            chk.bare_db(),
            chk.bare_port(1),
        ),
        chk.STRIPPED: (
            chk.bare_stripped_iteration,
            stripped_server,
            chk.bare_db(),
            chk.bare_port(2),
        ),
        "in-project yardstick": (chk.yardstick_iteration, server, None, PORT),
        "nested": (graphql_iteration("nested", BODY), server, None, PORT),
        "sdk orders": (graphql_iteration("sdk orders", sdk_body(store_id)), server, None, PORT),
    }
    try:
        warm = chk.Stats()
        for iteration, _process, _db, port in loads.values():
            chk.run(args.concurrency, 2, iteration, warm, key, merchant_id, port)
        load_before_measure = _loadavg()

        stats = {name: chk.Stats() for name in loads}
        elapsed = dict.fromkeys(loads, 0.0)
        cpu = {name: {"workers": 0.0, "postgres": 0.0, "client": 0.0} for name in loads}
        share = args.seconds / max(args.rounds, 1)
        for _ in range(max(args.rounds, 1)):
            for name, (iteration, process, db, port) in loads.items():
                before = chk.server_cpu(process.pid, db)
                client = time.process_time()
                elapsed[name] += chk.run(
                    args.concurrency, share, iteration, stats[name], key, merchant_id, port
                )
                cpu[name]["client"] += time.process_time() - client
                spent = chk.cpu_spent(before, chk.server_cpu(process.pid, db))
                for k in spent:
                    cpu[name][k] += spent[k]
        load_after_measure = _loadavg()
        rss = chk.worker_rss_mb(server.pid)
        bare_rps = stats["bare yardstick"].summary("bare yardstick", elapsed["bare yardstick"])
        bare_rps = bare_rps.get("rps")  # the reference of every ratio below
        readings = {
            name: _reading(stats[name], name, elapsed[name], cpu[name], bare_rps) for name in loads
        }
        queries, statements = queries_per_request(key, merchant_id, store_id)
        bare_sql = chk.bare_queries(key, merchant_id)
        queries["bare yardstick"] = bare_sql["bare yardstick"]
        small = small_merchant(small_key, small_id)
        profiled = profile(key, merchant_id, args.profile) if args.profile else None
    finally:
        for process in (server, bare_server, reconnecting_server, stripped_server):
            process.send_signal(signal.SIGTERM)
        for process in (server, bare_server, reconnecting_server, stripped_server):
            process.wait(timeout=30)
        bare.drop(chk.bare_db())

    from checkout.models import Order

    in_project_rps = readings["in-project yardstick"].get("rps")
    reconnecting_rps = readings[chk.RECONNECTING].get("rps")
    stripped_rps = readings[chk.STRIPPED].get("rps")
    targets = {}
    for name, label in (("nested", "nested"), ("sdk orders", "sdk orders")):
        reading = readings[name]
        ratio = reading.get("ratio_to_bare_yardstick")
        sql, sql_small = queries[f"{label} (100 rows)"], queries[f"{label} (5 rows)"]
        targets[name] = {
            "rps_at_least_a_quarter_of_bare_yardstick": {
                "graphql_rps": reading.get("rps"),
                "bare_yardstick_rps": bare_rps,
                "ratio": ratio,
                "target": f">= {TARGET_RPS_RATIO}",
                "pass": ratio is not None and ratio >= TARGET_RPS_RATIO,
                "in_project_yardstick_rps": in_project_rps,
                "ratio_to_in_project_yardstick": (
                    round(reading["rps"] / in_project_rps, 3)
                    if in_project_rps and reading.get("rps")
                    else None
                ),
                "bare_yardstick_reconnecting_rps": reconnecting_rps,
                "ratio_to_bare_yardstick_reconnecting": (
                    round(reading["rps"] / reconnecting_rps, 3)
                    if reconnecting_rps and reading.get("rps")
                    else None
                ),
                "bare_yardstick_stripped_rps": stripped_rps,
                "ratio_to_bare_yardstick_stripped": (
                    round(reading["rps"] / stripped_rps, 3)
                    if stripped_rps and reading.get("rps")
                    else None
                ),
            },
            "sql_per_request_whatever_the_row_count": {
                "value": sql,
                "same_for_5_rows": sql_small == sql,
                "target": f"<= {TARGET_SQL}",
                "pass": sql <= TARGET_SQL and sql_small == sql,
            },
        }
    out = {
        "bare_yardstick": readings["bare yardstick"],
        "bare_yardstick_reconnecting": readings[chk.RECONNECTING],
        "bare_yardstick_stripped": readings[chk.STRIPPED],
        "yardstick_in_project": readings["in-project yardstick"],
        "graphql_100_row_nested_query": readings["nested"],
        "graphql_sdk_orders_document": readings["sdk orders"],
        "sql_queries_per_request": queries,
        "sql_statements": statements,
        "orders_in_database": Order.objects.count(),
        "small_merchant_same_query": small,
        "seed_seconds": seed_seconds,
        "gunicorn_rss_mb": rss,
        "targets": targets,
        "load_average": {
            "at_start": load_at_start,
            "before_measuring": load_before_measure,
            "after_measuring": load_after_measure,
            "nproc": os.cpu_count(),
        },
        "queries": {"nested": QUERY, "sdk orders": SDK_QUERY},
        "notes": [
            "Client and server share this machine's cores: the load threads sign like the SDK "
            "(one RSA-2048 signature per thread per second, the body repeating) and parse "
            "every response, so every load carries some client CPU.",
            "The targets' ratios are to the bare yardstick (a separate minimal Django + DRF "
            "project as startproject and DRF's defaults make it, bench/yardstick) keeping its "
            "database connections as Pancake does; the same with startproject's "
            "CONN_MAX_AGE=0 (a new connection per request), the same stripped of the contrib "
            "apps, middleware and DRF defaults (stricter), and the in-project yardstick are "
            "shown for comparison.",
            "server_cpu_ms_per_request: utime + stime of the gunicorn workers and their "
            "PostgreSQL backends over the measured rounds, divided by the requests answered.",
            "SQL counts are in-process (django.test.Client, same settings and database) after "
            "one warm-up call; transaction-control statements included.",
        ],
        "concurrency": args.concurrency,
        "gunicorn_threads_per_worker": args.threads,
        "seconds": args.seconds,
        "rounds": args.rounds,
    }
    if profiled:
        out["profile"] = profiled
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
