"""Benchmark the dashboard's Payments list page and its CSV export on 1,000,000 payments.

Production settings (``PANCAKE_ENV=production``, DEBUG off, cached templates) on PostgreSQL, in
its own database (DB below; dropped and recreated unless --reuse). One store owns --payments
payments (default 1,000,000), each with its own order and checkout session, over --days days,
in the six statuses, three products and two currencies. The rows are bulk-loaded in SQL: one
real session, order and payment are made through the project's factories, then copied with
``INSERT … SELECT … FROM generate_series`` (ids from md5 of the row number), so every column the
schema has is filled as the project fills it; then VACUUM ANALYZE.

Measured in-process through Django's test client (the whole middleware stack, the session, the
template; no network), each scenario --requests times after 3 warm-up requests:

- the list page: the first page, a page deep in the list (after a cursor 800,000 rows down),
  filtered by status, by product, by customer email, by an amount range and a date range, and
  searches (a payment id, a merchant order id, an email matching 5 rows, a text every email
  has): SQL statements per page (CaptureQueriesContext), p50 and p95 time;
- the CSV export of the whole list, and of one status: rows/s, the response consumed as a
  browser would (the streamed chunks), and the peak RSS growth while it streams;
- the yardsticks beside them: a bare Django view (no middleware, no template: one query for the
  same 25 rows with ``values()``, answered as JSON) for the page, and PostgreSQL's own
  ``COPY (SELECT … the export's columns and joins …) TO STDOUT WITH CSV`` read by psycopg for the
  export: the floors a page and an export cannot beat.

    python bench/bench_payments_pages.py [--payments 1000000] [--requests 40] [--reuse]

Prints one JSON object. Needs PostgreSQL on 127.0.0.1:5432 (user postgres). Bounded in time;
stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "pancake_pages"
ENV = {
    "PANCAKE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "BASE_URL": "http://127.0.0.1:8790",
    "ALLOWED_HOSTS": "testserver,127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "pancake.settings",
}


def setup_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **ENV}
    )


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _copy_rows(cursor, table: str, template_id, n: int, overrides: dict[str, str]) -> None:
    """INSERT n copies of the row ``template_id`` of ``table``, each column its template's value
    except ``overrides`` (SQL expressions of the row number ``g``)."""
    columns = _columns(cursor, table)
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns).replace("%", "%%")
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {select} FROM "{table}" t, '  # noqa: S608
        f"generate_series(1, %s) g WHERE t.id = %s",
        [n, template_id],
    )


def seed(n: int, days: int) -> dict:
    """The store, its products, and ``n`` payments (with their orders and sessions)."""
    from django.db import connection

    from stores import services as store_services
    from tests.factories import MerchantFactory, OrderFactory, ProductFactory

    merchant = MerchantFactory(email="bench-owner@example.com")
    store = store_services.store_create(merchant=merchant, name="Bench Shop")
    products = [
        ProductFactory(store=store, name="E-Book"),
        ProductFactory(store=store, name="Course"),
        ProductFactory(
            store=store, name="Yen Book", prices={"JPY": {"amount": 4500, "taxCategory": "saas"}}
        ),
    ]
    order = OrderFactory(product=products[0], paid=True, buyer_email="template@example.com")
    payment = order.payments.get()
    session_id = order.session_id
    seconds = days * 86400
    when = f"now() - make_interval(secs => (g::bigint * {seconds}) / {n})"
    # Six statuses, mostly succeeded: g % 20 picks one.
    status = (
        "CASE WHEN g % 20 < 14 THEN 'succeeded' WHEN g % 20 < 16 THEN 'failed' "
        "WHEN g % 20 = 16 THEN 'refunded' WHEN g % 20 = 17 THEN 'partially_refunded' "
        "WHEN g % 20 = 18 THEN 'pending' ELSE 'processing' END"
    )
    product = "(ARRAY[{}])[1 + g % 3]::uuid".format(",".join(f"'{p.pk}'" for p in products))
    version = "(ARRAY[{}])[1 + g % 3]::uuid".format(
        ",".join(f"'{p.test_version_id}'" for p in products)
    )
    currency = "CASE WHEN g % 3 = 2 THEN 'JPY' ELSE 'USD' END"
    amount = "(500 + (g::bigint * 7919) % 20000)"
    email = "'buyer' || (g % 200000) || '@example.com'"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _copy_rows(
            cursor,
            "checkout_checkoutsession",
            session_id,
            n,
            {
                "id": "md5('s' || g)::uuid",
                "product_id": product,
                "version_id": version,
                "currency": currency,
                "buyer_email": email,
                "created_at": when,
                "updated_at": when,
            },
        )
        _copy_rows(
            cursor,
            "checkout_order",
            order.pk,
            n,
            {
                "id": "md5('o' || g)::uuid",
                "session_id": "md5('s' || g)::uuid",
                "product_id": product,
                "version_id": version,
                "currency": currency,
                "buyer_email": email,
                "total": amount,
                "subtotal": f"{amount} - {amount} / 11",
                "tax_amount": f"{amount} / 11",
                "order_merchant_external_id": "'shop-' || g",
                "created_at": when,
                "updated_at": when,
                "completed_at": when,
            },
        )
        _copy_rows(
            cursor,
            "billing_payment",
            payment.pk,
            n,
            {
                "id": "md5('p' || g)::uuid",
                "order_id": "md5('o' || g)::uuid",
                "product_id": product,
                "provider_payment_id": "'bench_' || g",
                "status": status,
                "currency": currency,
                "amount": amount,
                "tax_amount": f"{amount} / 11",
                "refunded_amount": (
                    f"CASE WHEN g % 20 = 16 THEN {amount} "
                    f"WHEN g % 20 = 17 THEN {amount} / 2 ELSE 0 END"
                ),
                "fee_amount": f"CASE WHEN g % 2 = 0 THEN {amount} / 20 + 50 END",
                "order_merchant_external_id": "'shop-' || g",
                "created_at": when,
                "updated_at": when,
                "paid_at": when,
            },
        )
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        connection.ensure_connection()
        raw = connection.connection
        raw.autocommit = True
        cursor.execute("VACUUM ANALYZE checkout_checkoutsession")
        cursor.execute("VACUUM ANALYZE checkout_order")
        cursor.execute("VACUUM ANALYZE billing_payment")
    return {
        "load_seconds": round(loaded, 1),
        "vacuum_seconds": round(time.perf_counter() - started - loaded, 1),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, requests: int) -> dict:
    for _ in range(3):
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


def measure(requests: int) -> dict:
    from django.db import connection
    from django.http import JsonResponse
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from billing.models import Payment
    from billing.payments import selectors
    from stores.models import Merchant, Store

    merchant = Merchant.objects.get(email="bench-owner@example.com")
    store = Store.objects.get(name="Bench Shop")
    total = Payment.objects.filter(store=store).count()
    client = Client()
    client.force_login(merchant)
    url = reverse("dashboard:payments", args=[store.pk])
    export = reverse("dashboard:payments-export", args=[store.pk])
    deep = (
        Payment.objects.filter(store=store, environment="test")
        .order_by("-created_at", "-id")
        .values_list("created_at", "id")[int(total * 0.8) : int(total * 0.8) + 1]
        .get()
    )
    product_id = Payment.objects.filter(store=store).values_list("product_id", flat=True).first()
    some_payment = Payment.objects.filter(store=store).values_list("id", flat=True)[12345 % total]
    scenarios = {
        "first page": "",
        "page 800,000 rows down": "?after=" + selectors.encode_cursor(*deep),
        "status=refunded": "?status=refunded",
        "product": f"?product={product_id}",
        "email=buyer4242@": "?email=buyer4242%40",
        "amount 100.00-150.00 USD": "?currency=USD&amount_min=100&amount_max=150",
        "last 7 days, failed": "?status=failed&date_from="
        + time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86400)),
        "search payment id": f"?q={some_payment}",
        "search merchant order id": "?q=shop-4242",
        "search email, rare": "?q=buyer4242%40",
        "search email, every row": "?q=example.com",
    }
    pages = {}
    for name, query in scenarios.items():
        response = client.get(url + query)
        assert response.status_code == 200, (name, response.status_code)
        rows = response.content.decode().count('data-payment="')
        with CaptureQueriesContext(connection) as queries:
            client.get(url + query)
        pages[name] = {
            "rows": rows,
            "sql": len(queries),
            **timed(lambda q=query: client.get(url + q), requests),
        }

    # The yardstick of a page: a bare view, the same 25 rows, values(), JSON.
    def bare(request):
        rows = list(
            Payment.objects.filter(store=store, environment="test")
            .order_by("-created_at", "-id")
            .values("id", "amount", "currency", "status", "created_at", "order__buyer_email")[:25]
        )
        return JsonResponse({"rows": rows})

    factory = RequestFactory()
    yardstick = {"sql": 1, **timed(lambda: bare(factory.get("/")), requests)}

    exports = {}
    for name, query in {"all": "", "status=refunded": "?status=refunded"}.items():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        response = client.get(export + query)
        lines = 0
        size = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            size += len(chunk)
        elapsed = time.perf_counter() - started
        exports[name] = {
            "rows": lines - 1,
            "seconds": round(elapsed, 2),
            "rows_per_s": round((lines - 1) / elapsed),
            "mb": round(size / 1e6, 1),
            "max_rss_growth_mb": round(
                (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, 1
            ),
        }

    # The yardstick of the export: PostgreSQL writes the CSV itself (COPY), psycopg reads it.
    copy_sql = (
        "COPY (SELECT p.id, p.created_at, p.paid_at, p.status, p.currency, p.amount, "
        "p.tax_amount, p.fee_amount, p.refunded_amount, o.buyer_email, v.name, p.order_id, "
        "p.order_merchant_external_id, p.subscription_id, p.billing_detail->>'country', "
        "p.payment_method_details->>'brand', p.payment_method_details->>'last4' "
        "FROM billing_payment p JOIN checkout_order o ON o.id = p.order_id "
        "JOIN products_productversion v ON v.id = o.version_id "
        "WHERE p.store_id = %s AND p.environment = 'test' "
        "ORDER BY p.created_at DESC, p.id DESC) TO STDOUT WITH CSV HEADER"
    )
    connection.ensure_connection()
    started = time.perf_counter()
    copied = 0
    with connection.connection.cursor() as cursor:
        with cursor.copy(copy_sql.replace("%s", f"'{store.pk}'")) as copy:
            for block in copy:
                copied += bytes(block).count(b"\n")
    elapsed = time.perf_counter() - started
    copy_floor = {"rows": copied - 1, "rows_per_s": round((copied - 1) / elapsed)}
    return {
        "payments": total,
        "list_page": pages,
        "yardstick_bare_view": yardstick,
        "csv_export": exports,
        "yardstick_copy_to_stdout": copy_floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    args = parser.parse_args()
    os.environ.update(ENV)
    if not args.reuse:
        setup_database()
    import django
    from django.conf import settings

    django.setup()
    # No collectstatic here: the pages link the static files unhashed (the rest is production's).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    result = {"seed": seed(args.payments, args.days)} if not args.reuse else {}
    result.update(measure(args.requests))
    result["loadavg"] = os.getloadavg()
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
