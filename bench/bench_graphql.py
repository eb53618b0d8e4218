"""Benchmark the GraphQL read API against the yardstick, on the production stack.

gunicorn (2 workers, the README's sync workers; --threads N for gthread workers) + PostgreSQL +
Redis, the way the README deploys it, with the
settings module bench.settings_bench (production settings + the yardstick URL, see
bench/yardstick_urls.py), in its own database, port and Redis database (DB, PORT below; the
database is dropped and recreated), so it can run beside the other benchmarks.

Seeds --orders one-time orders (default 100k; one checkout session and one payment each, one
product, one store; bulk_create), then measures side by side in the same run:

- the yardstick: POST /bench/yardstick verifies one SDK signature and inserts one row (the least
  a signed request can cost on this stack);
- GraphQL: POST /v1/graphql, signed like the SDK over /v1/graphql, a 100-row nested query (orders
  with their payments, product and store; QUERY below).

The two loads alternate in --rounds rounds, so a change in the machine's other load weighs on
both alike. Reports requests/s, p50/p99, the CPU the server spent per request (gunicorn workers +
their PostgreSQL backends, from /proc), SQL queries per request (in-process, same settings and
database, CaptureQueriesContext) and the load average, against the targets of issue 12 (at most 6
SQL queries whatever the row count; at least a quarter of the yardstick's requests/s). Prints
one JSON object. It also times the same query, in-process, for a second merchant with five
orders among the big one's (its plan must not walk the other merchant's orders).

    python bench/bench_graphql.py [--orders 100000] [--seconds 10] [--rounds 5]
        [--concurrency 8] [--profile 200]

--profile N also runs N requests in-process under cProfile and prints the top functions to
stderr. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379.
Loopback only; bounded in time; stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
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
    from cryptography.hazmat.primitives.asymmetric import rsa
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
    )


def graphql_iteration(conn, signer, n, record):
    # The body is the same every time: the client signs once a second per thread (cached), like
    # the yardstick's load; the server verifies every request.
    latency, status, payload = chk.post(conn, signer, GRAPHQL, BODY)
    ok = status == 200 and b'"errors"' not in payload
    if ok and n % 97 == 0:
        ok = len(json.loads(payload)["data"]["onetimeOrders"]) == ROWS
    record("graphql", latency, ok, f"{status} {payload[:300]!r}")


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


def queries_per_request(key, merchant_id: str) -> tuple[dict, list[str]]:
    """SQL statements per request, counted in-process on the same database and code path, for
    100 rows and for 5 rows (the count must not depend on the row count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = _client_call(key, merchant_id)
    small = json.dumps({"query": QUERY.replace("limit: 100", "limit: 5")}).encode()
    counts, statements = {}, []
    for name, body, rows in (("graphql (100 rows)", BODY, ROWS), ("graphql (5 rows)", small, 5)):
        call(GRAPHQL, body)  # warm (key touch, caches)
        with CaptureQueriesContext(connection) as ctx:
            response = call(GRAPHQL, body)
        payload = response.json()
        assert response.status_code == 200 and "errors" not in payload, response.content[:500]
        assert len(payload["data"]["onetimeOrders"]) == rows
        counts[name] = len(ctx.captured_queries)
        if rows == ROWS:
            statements = [q["sql"][:200] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        assert call(chk.YARDSTICK, b'{"bench":true}').status_code == 200
    counts["yardstick"] = len(ctx.captured_queries)
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
    import cProfile
    import io
    import pstats

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


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(master_pid: int) -> dict[str, float]:
    """CPU seconds so far of the gunicorn workers and of the PostgreSQL backends serving them."""
    from django.db import connection

    workers = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return {
        "workers": sum(_cpu_seconds(int(p)) for p in workers),
        "postgres": sum(_cpu_seconds(p) for p in backends),
    }


def _per_request(cpu: dict, requests: int) -> dict:
    if not requests:
        return {}
    out = {k: round(v * 1000 / requests, 2) for k, v in cpu.items()}
    out["total"] = round(sum(out.values()), 2)
    return out


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


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
    key, merchant_id, seed_seconds, (small_key, small_id) = seed(args.orders)
    env = {**os.environ, **ENV, "DJANGO_SETTINGS_MODULE": SETTINGS}
    server = chk.start_gunicorn(env, PORT, args.threads)
    try:
        warm = chk.Stats()
        run = chk.run
        run(args.concurrency, 2, chk.yardstick_iteration, warm, key, merchant_id)
        run(args.concurrency, 2, graphql_iteration, warm, key, merchant_id)
        load_before_measure = _loadavg()

        yard, gql = chk.Stats(), chk.Stats()
        elapsed = {"yardstick": 0.0, "graphql": 0.0}
        cpu = {
            "yardstick": {"workers": 0.0, "postgres": 0.0},
            "graphql": {"workers": 0.0, "postgres": 0.0},
        }
        share = args.seconds / max(args.rounds, 1)
        for _ in range(max(args.rounds, 1)):
            for name, stats, iteration in (
                ("yardstick", yard, chk.yardstick_iteration),
                ("graphql", gql, graphql_iteration),
            ):
                before = server_cpu(server.pid)
                elapsed[name] += run(args.concurrency, share, iteration, stats, key, merchant_id)
                after = server_cpu(server.pid)
                for k in before:
                    cpu[name][k] += after[k] - before[k]
        load_after_measure = _loadavg()
        rss = chk.worker_rss_mb(server.pid)
        yardstick = yard.summary("yardstick", elapsed["yardstick"])
        graphql = gql.summary("graphql", elapsed["graphql"])
        yardstick["server_cpu_ms_per_request"] = _per_request(
            cpu["yardstick"], yardstick["requests"]
        )
        graphql["server_cpu_ms_per_request"] = _per_request(cpu["graphql"], graphql["requests"])
        queries, statements = queries_per_request(key, merchant_id)
        small = small_merchant(small_key, small_id)
        profiled = profile(key, merchant_id, args.profile) if args.profile else None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    from checkout.models import Order

    ratio = round(graphql["rps"] / yardstick["rps"], 3) if yardstick.get("rps") else None
    sql = queries["graphql (100 rows)"]
    out = {
        "yardstick": yardstick,
        "graphql_100_row_nested_query": graphql,
        "sql_queries_per_request": queries,
        "sql_statements": statements,
        "orders_in_database": Order.objects.count(),
        "small_merchant_same_query": small,
        "seed_seconds": seed_seconds,
        "gunicorn_rss_mb": rss,
        "targets": {
            "graphql_rps_at_least_a_quarter_of_yardstick": {
                "graphql_rps": graphql.get("rps"),
                "yardstick_rps": yardstick.get("rps"),
                "ratio": ratio,
                "target": f">= {TARGET_RPS_RATIO}",
                "pass": ratio is not None and ratio >= TARGET_RPS_RATIO,
            },
            "sql_per_request_whatever_the_row_count": {
                "value": sql,
                "same_for_5_rows": queries["graphql (5 rows)"] == sql,
                "target": f"<= {TARGET_SQL}",
                "pass": sql <= TARGET_SQL and queries["graphql (5 rows)"] == sql,
            },
        },
        "load_average": {
            "at_start": load_at_start,
            "before_measuring": load_before_measure,
            "after_measuring": load_after_measure,
            "nproc": os.cpu_count(),
        },
        "query": QUERY,
        "notes": [
            "Client and server share this machine's cores: the load threads sign like the SDK "
            "(one RSA-2048 signature per thread per second, the body repeating) and parse "
            "every response, so both loads carry some client CPU.",
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
