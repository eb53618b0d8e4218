"""Seed a store for the analytics benches: by default 1,000,000 payments and 50,000
subscriptions over two years, in its own PostgreSQL database (DB below).

Reusable: ``seed_analytics.prepare(reuse=...)`` sets the environment, (re)creates and migrates
the database unless ``reuse``, calls ``django.setup()`` and returns the bench store's id (seeding
it when the database has none). Other benches import it; the CLI prints what it did as JSON:

    python bench/seed_analytics.py [--payments N] [--subscriptions N] [--days 730] [--reuse]

How: one real row of each kind (session, order, payment, refund ticket, refund, subscription) is
made through the project's factories, then copied with ``INSERT … SELECT … FROM generate_series``
(ids from md5 of the row number, as bench/bench_payments_pages.py does), so every column is
filled as the project fills it; then VACUUM ANALYZE. The store is in Asia/Tokyo with USD as its
default currency. Payments: 70 % succeeded, 5 % refunded, 5 % partially refunded (each with its
succeeded refund a few days later), 15 % failed, 5 % processing; three products, USD and JPY,
200,000 distinct buyers. Subscriptions: weekly/monthly/quarterly/yearly; active, past due,
canceled (ended), paused, trialing, and trials that converted or not.

Django and the project's modules are imported inside the functions, after the environment is set.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "pancake_bench_analytics"
STORE_NAME = "Analytics Bench Shop"
ENV = {
    "PANCAKE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/6",
    "BASE_URL": "http://127.0.0.1:8791",
    "ALLOWED_HOSTS": "testserver,127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "pancake.settings",
}


def setup_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
    )


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        # Generated columns are the database's to fill.
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _copy_rows(
    cursor, table: str, template_id, n: int, overrides: dict[str, str], where=""
) -> None:
    """INSERT copies of the row ``template_id`` of ``table`` for g in 1..n (``where``: only
    some g), each column its template's value except ``overrides`` (SQL of the row number)."""
    columns = _columns(cursor, table)
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns).replace("%", "%%")
    names = ", ".join(f'"{c}"' for c in columns)
    extra = f" AND ({where.replace('%', '%%')})" if where else ""
    cursor.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {select} FROM "{table}" t, '  # noqa: S608
        f"generate_series(1, %s) g WHERE t.id = %s{extra}",
        [n, template_id],
    )


def seed(payments: int, subscriptions: int, days: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from billing.models import SubscriptionStatus
    from stores import services as store_services
    from tests.analytics.builders import pay, refund, subscribe
    from tests.factories import MerchantFactory, ProductFactory

    merchant = MerchantFactory(email="bench-analytics@example.com")
    store = store_services.store_create(merchant=merchant, name=STORE_NAME)
    store.timezone, store.default_currency = "Asia/Tokyo", "USD"
    store.save(update_fields=["timezone", "default_currency"])
    products = [
        ProductFactory(store=store, name="E-Book"),
        ProductFactory(store=store, name="Course"),
        ProductFactory(
            store=store, name="Yen Book", prices={"JPY": {"amount": 4500, "taxCategory": "saas"}}
        ),
    ]
    plan = ProductFactory(store=store, subscription=True)
    now = timezone.now()
    template = pay(products[0], "template@example.com", 1100, 100, now, fee=105)
    template_refund = refund(template, 1100, now)
    template_sub = subscribe(
        plan, "sub-template@example.com", period="monthly", pretax=999, tax=99, created_at=now
    )
    seconds = days * 86400
    products_sql = "(ARRAY[{}])[1 + g % 3]::uuid".format(",".join(f"'{p.pk}'" for p in products))
    versions_sql = "(ARRAY[{}])[1 + g % 3]::uuid".format(
        ",".join(f"'{p.test_version_id}'" for p in products)
    )
    when = f"now() - make_interval(secs => (g::bigint * {seconds}) / {payments})"
    status = (
        "CASE WHEN g % 20 < 14 THEN 'succeeded' WHEN g % 20 < 17 THEN 'failed' "
        "WHEN g % 20 = 17 THEN 'refunded' WHEN g % 20 = 18 THEN 'partially_refunded' "
        "ELSE 'processing' END"
    )
    currency = "CASE WHEN g % 3 = 2 THEN 'JPY' ELSE 'USD' END"
    amount = "(500 + (g::bigint * 7919) % 20000)"
    email = "'buyer' || (g % 200000) || '@example.com'"
    country = "(ARRAY['US','JP','DE','FR','GB','CA','AU','BR'])[1 + (g / 7) % 8]"
    refunded = f"CASE WHEN g % 20 = 17 THEN {amount} WHEN g % 20 = 18 THEN {amount} / 2 ELSE 0 END"
    refunded_rows = "g % 20 IN (17, 18)"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _copy_rows(
            cursor,
            "checkout_checkoutsession",
            template.order.session_id,
            payments,
            {
                "id": "md5('s' || g)::uuid",
                "product_id": products_sql,
                "version_id": versions_sql,
                "currency": currency,
                "buyer_email": email,
                "created_at": when,
                "updated_at": when,
            },
        )
        _copy_rows(
            cursor,
            "checkout_order",
            template.order_id,
            payments,
            {
                "id": "md5('o' || g)::uuid",
                "session_id": "md5('s' || g)::uuid",
                "product_id": products_sql,
                "version_id": versions_sql,
                "currency": currency,
                "buyer_email": email,
                "total": amount,
                "tax_amount": f"{amount} / 11",
                "subtotal": f"{amount} - {amount} / 11",
                "created_at": when,
                "updated_at": when,
                "completed_at": when,
                "order_merchant_external_id": "'shop-' || g",
            },
        )
        _copy_rows(
            cursor,
            "billing_payment",
            template.pk,
            payments,
            {
                "id": "md5('p' || g)::uuid",
                "order_id": "md5('o' || g)::uuid",
                "product_id": products_sql,
                "provider_payment_id": "'bench_' || g",
                "status": status,
                "currency": currency,
                "amount": amount,
                "tax_amount": f"{amount} / 11",
                "refunded_amount": refunded,
                "fee_amount": f"{amount} / 20 + 50",
                "billing_detail": f"jsonb_build_object('country', {country}, 'isBusiness', false)",
                "created_at": when,
                "updated_at": when,
                "paid_at": f"CASE WHEN g % 20 < 14 OR g % 20 IN (17, 18) THEN {when} END",
            },
        )
        executed = f"{when} + make_interval(days => 1 + g % 5)"
        _copy_rows(
            cursor,
            "billing_refundticket",
            template_refund.ticket_id,
            payments,
            {
                "id": "md5('t' || g)::uuid",
                "payment_id": "md5('p' || g)::uuid",
                "order_id": "md5('o' || g)::uuid",
                "requested_amount": refunded,
                "approved_amount": refunded,
                "currency": currency,
                "created_at": when,
                "updated_at": when,
                "refund_ticket_merchant_external_id": "NULL",
            },
            where=refunded_rows,
        )
        _copy_rows(
            cursor,
            "billing_refund",
            template_refund.pk,
            payments,
            {
                "id": "md5('r' || g)::uuid",
                "ticket_id": "md5('t' || g)::uuid",
                "payment_id": "md5('p' || g)::uuid",
                "amount": refunded,
                "currency": currency,
                "provider_refund_id": "'bench_r' || g",
                "executed_at": f"LEAST({executed}, now())",
                "created_at": when,
                "updated_at": when,
            },
            where=refunded_rows,
        )
        # Subscriptions: each with its own session and order.
        n = subscriptions
        swhen = f"now() - make_interval(secs => (g::bigint * {seconds}) / {n})"
        _copy_rows(
            cursor,
            "checkout_checkoutsession",
            template_sub.order.session_id,
            n,
            {
                "id": "md5('ss' || g)::uuid",
                "buyer_email": "'sub' || g || '@example.com'",
                "created_at": swhen,
                "updated_at": swhen,
            },
        )
        _copy_rows(
            cursor,
            "checkout_order",
            template_sub.order_id,
            n,
            {
                "id": "md5('so' || g)::uuid",
                "session_id": "md5('ss' || g)::uuid",
                "buyer_email": "'sub' || g || '@example.com'",
                "created_at": swhen,
                "updated_at": swhen,
                "order_merchant_external_id": "NULL",
            },
        )
        # g % 20: 0-10 active, 11 past due, 12-14 canceled, 15 paused, 16 trialing,
        # 17-18 trial converted (active), 19 trial not converted (canceled at its end).
        sub_status = (
            f"CASE WHEN g % 20 <= 10 THEN '{SubscriptionStatus.ACTIVE}' "
            f"WHEN g % 20 = 11 THEN '{SubscriptionStatus.PAST_DUE}' "
            f"WHEN g % 20 <= 14 THEN '{SubscriptionStatus.CANCELED}' "
            f"WHEN g % 20 = 15 THEN '{SubscriptionStatus.PAUSED}' "
            f"WHEN g % 20 = 16 THEN '{SubscriptionStatus.TRIALING}' "
            f"WHEN g % 20 <= 18 THEN '{SubscriptionStatus.ACTIVE}' "
            f"ELSE '{SubscriptionStatus.CANCELED}' END"
        )
        trial_end = (
            f"CASE WHEN g % 20 = 16 THEN now() + make_interval(days => 1 + g % 7) "
            f"WHEN g % 20 >= 17 THEN {swhen} + make_interval(days => 7) END"
        )
        pretax = "(500 + (g::bigint * 104729) % 5000)"
        _copy_rows(
            cursor,
            "billing_subscription",
            template_sub.pk,
            n,
            {
                "id": "md5('sub' || g)::uuid",
                "order_id": "md5('so' || g)::uuid",
                "billing_period": "(ARRAY['monthly','monthly','yearly','weekly','quarterly'])"
                "[1 + g % 5]",
                "currency": "CASE WHEN g % 4 = 3 THEN 'JPY' ELSE 'USD' END",
                "price_amount": pretax,
                "subtotal": pretax,
                "tax_amount": f"{pretax} / 10",
                "total": f"{pretax} + {pretax} / 10",
                "status": sub_status,
                "trial_end_at": trial_end,
                "ended_at": (
                    f"CASE WHEN g % 20 BETWEEN 12 AND 14 THEN LEAST(now(), {swhen} + "
                    f"make_interval(days => 30 + g % 300)) "
                    f"WHEN g % 20 = 19 THEN {swhen} + make_interval(days => 7) END"
                ),
                "paused_at": f"CASE WHEN g % 20 = 15 THEN LEAST(now(), {swhen} + "
                "make_interval(days => 40)) END",
                "created_at": swhen,
                "updated_at": swhen,
            },
        )
    loaded = time.perf_counter() - started
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        for table in (
            "checkout_checkoutsession",
            "checkout_order",
            "billing_payment",
            "billing_refund",
            "billing_refundticket",
            "billing_subscription",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "store_id": str(store.pk),
        "payments": payments,
        "subscriptions": subscriptions,
        "days": days,
        "load_seconds": round(loaded, 1),
        "vacuum_seconds": round(time.perf_counter() - started - loaded, 1),
    }


def prepare(
    *, reuse: bool, payments: int = 1_000_000, subscriptions: int = 50_000, days: int = 730
) -> dict:
    """The bench database ready with its store: ``{"store_id": ..., ...}``."""
    os.environ.update(ENV)
    if not reuse:
        setup_database()
    else:  # a database seeded by an older checkout gets the newer migrations
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env={**os.environ, **ENV},
            check=True,
        )
    import django

    django.setup()
    from stores.models import Store

    existing = Store.objects.filter(name=STORE_NAME).first()
    if existing is not None:
        return {"store_id": str(existing.pk), "reused": True}
    return seed(payments, subscriptions, days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    args = parser.parse_args()
    result = prepare(
        reuse=args.reuse, payments=args.payments, subscriptions=args.subscriptions, days=args.days
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
