"""Benchmark subscription renewals on the production stack.

``--count`` subscriptions (default 100,000) fall due at once and are renewed by real Celery
workers, 2 processes (the README's deployment on a two-core machine: two ``celery -A pancake
worker -P threads -c 4``; ``--pool prefork`` runs one ``-P prefork -c 2`` instead, ``--pool solo``
two single-task workers), on Redis and PostgreSQL with the production settings
(``PANCAKE_ENV=production``) and the built-in test processor, the way production renews them:
the beat task (``billing.tasks.renew_subscriptions``) claims due subscriptions by lease, in
batches, and queues each batch (``billing.tasks.run_subscriptions``); a worker commits each
period's charge as a processing payment, calls the provider with its id as the idempotency key,
records the outcome and emits ``subscription.payment_succeeded`` and ``subscription.renewed``;
the outbox relays each commit's events to its consumers (the order emails' and the webhook
fan-out's). The bench sends the beat task as beat does, every ``--tick`` seconds (the beat
schedule's interval by default), until nothing is due.

Seeding (COPY, about a minute for 100,000): one store, one monthly USD plan, and per
subscription its checkout session, its active order, its saved test-processor card, its paid
first payment and its subscription in period 1, whose period ended (and whose renewal fell due)
within the last ``--spread`` seconds. The store has no webhook endpoint unless ``--webhook``
(then every event is also delivered to a local receiver answering 200, and checked).

Prints one JSON object:

- time from the first beat tick to the last renewal (target: under 5 minutes for 100,000), and
  to the last event dispatched by the outbox (and, with ``--webhook``, to the last delivery);
  renewals per second;
- CPU per renewal during the run: the worker processes, and the PostgreSQL backends serving
  them (utime + stime from /proc: steadier than the rates when other work shares the machine);
- SQL statements and transactions per renewal, counted in-process on the same database and code
  path before the workers start: the beat's claim, a worker's batch of ``--batch`` renewals
  (the provider's statements included: the test processor keeps its state in the same
  database) and the outbox consumers for that batch's events, after a warm-up batch;
- checks: every subscription renewed exactly once: in period 2, its period the one after the
  seeded one, one succeeded renewal payment for period 2 charging its total, no payment left
  processing, exactly one charge at the provider per subscription; the events (two per renewal)
  all written and dispatched; with ``--webhook``, every event delivered exactly once.

    python bench/bench_renewals.py [--count 100000] [--smoke] [--pool threads|prefork|solo]
        [--threads 4] [--tick SECONDS] [--batch 200] [--webhook] [--timeout 900]
    python bench/bench_renewals.py --instructions [--batch 200]

``--smoke``: 2,000 subscriptions, for a quick check of the whole path. ``--instructions``: no
workers; instructions per renewal counted by valgrind's callgrind (a worker's task for one
batch, and the outbox consumers for its events, after two warm-up batches, in a database of its
own): the figure to compare variants of the code by, whatever else runs. Needs PostgreSQL on
127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379; uses its own database
(``pancake_bench_renewals``, dropped and recreated) and Redis database 10. Loopback only;
bounded in time; stops its workers itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_webhooks as hooks  # noqa: E402  (workers, their CPU, the receiver)

ROOT = hooks.ROOT
DB = "pancake_bench_renewals"
REDIS_URL = "redis://127.0.0.1:6379/10"
ENV = {
    **hooks.ENV,
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": REDIS_URL,
}
hooks.ENV.update(ENV)  # the workers bench_webhooks starts read its ENV
TARGET_SECONDS = 300
SAMPLE_WARM = 50  # renewed in-process first (then a counted batch and a timed one)
PRICE = 999
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def use_database(name: str) -> None:
    """Point this process (and the workers it starts) at database ``name``."""
    global DB
    DB = name
    ENV["DATABASE_URL"] = hooks.ENV["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"


def setup_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
    )


def django_setup() -> None:
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pancake.settings"
    import django

    django.setup()


# --- seeding -------------------------------------------------------------------------------------


def copy_rows(model, rows) -> int:
    """``COPY`` the rows (dicts by attribute name; each field's default, or now for timestamps
    set automatically, fills what a row leaves out) into ``model``'s table, in the caller's
    transaction. Values go through the fields' own conversion (JSON, decimals)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.generated]  # the database's
    fill = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fill[field.attname] = now
        elif field.has_default() and not callable(field.default):
            fill[field.attname] = field.get_default()
        elif field.has_default() and field.default in (dict, list):
            fill[field.attname] = field.default()
        else:
            fill[field.attname] = None
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    prep = [(f.attname, f.get_db_prep_save) for f in fields]
    done = 0
    with connection.cursor() as cursor, cursor.connection.cursor() as raw, raw.copy(sql) as copy:
        for row in rows:
            copy.write_row([to_db(row.get(name, fill[name]), connection) for name, to_db in prep])
            done += 1
    return done


def seed(count: int, spread: float, sample: int):
    """The store, the plan and ``count`` due subscriptions, plus ``sample`` for the in-process
    measurements, due an hour before the others (the beat's claims take them first). Returns
    the store, each subscription's seeded period end and the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.models import Payment, Subscription, TestProcessorCard
    from checkout.models import CheckoutSession, Order
    from products.periods import add_periods
    from products.services import product_create
    from stores import services

    merchant, _ = services.merchant_get_or_create(email="bench@example.com")
    store = services.store_create(merchant=merchant, name="Bench Renewal Store")
    plan = product_create(
        store=store,
        kind="subscription",
        name="Bench Pro Plan",
        prices={"USD": {"amount": PRICE, "taxCategory": "saas"}},
        billing_period="monthly",
    )
    version = plan.test_version
    now = timezone.now()
    billing = {"country": "US", "isBusiness": False, "state": "OR"}  # Oregon: no sales tax
    method = {"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030}
    total = count + sample
    ends = {}

    def rows():
        for i in range(total):
            back = 3600 + i if i < sample else 60 + spread * i / total
            end = now - timedelta(seconds=back)
            anchor = add_periods(end, "monthly", -1)
            end = add_periods(anchor, "monthly", 1)  # what the engine computes from the anchor
            sub_id, order_id, session_id, card_id = (uuid.uuid4() for _ in range(4))
            ends[sub_id] = end
            email = f"buyer{i}@example.com"
            token = f"tpcard_{card_id}"
            common = {"store_id": store.pk, "environment": "test", "created_at": anchor}
            yield {
                "card": {
                    "id": card_id,
                    "brand": "visa",
                    "last4": "4242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "created_at": anchor,
                },  # fmt: skip
                "session": {
                    **common,
                    "id": session_id,
                    "product_id": plan.pk,
                    "version_id": version.pk,
                    "kind": "subscription",
                    "currency": "USD",
                    "amount": PRICE,
                    "tax_category": "saas",
                    "buyer_email": email,
                    "billing_detail": billing,
                    "payment_methods": ["card"],
                    "created_via": "api_key",
                    "status": "completed",
                    "expires_at": anchor + timedelta(hours=1),
                    "completed_at": anchor,
                },  # fmt: skip
                "order": {
                    **common,
                    "id": order_id,
                    "session_id": session_id,
                    "product_id": plan.pk,
                    "version_id": version.pk,
                    "kind": "subscription",
                    "status": "active",
                    "currency": "USD",
                    "subtotal": PRICE,
                    "tax_amount": 0,
                    "total": PRICE,
                    "tax_rate": Decimal(0),
                    "buyer_email": email,
                    "billing_detail": billing,
                    "completed_at": anchor,
                },  # fmt: skip
                "subscription": {
                    **common,
                    "id": sub_id,
                    "order_id": order_id,
                    "product_id": plan.pk,
                    "version_id": version.pk,
                    "billing_period": "monthly",
                    "currency": "USD",
                    "price_amount": PRICE,
                    "tax_category": "saas",
                    "subtotal": PRICE,
                    "tax_amount": 0,
                    "total": PRICE,
                    "tax_rate": Decimal(0),
                    "status": "active",
                    "anchor_at": anchor,
                    "period_number": 1,
                    "current_period_start": anchor,
                    "current_period_end": end,
                    "provider": "test",
                    "method_token": token,
                    "payment_method": "card",
                    "payment_method_details": method,
                    "reminded_period": 1,  # the upcoming-charge email went out 3 days before
                    "due_at": end,
                },  # fmt: skip
                "payment": {
                    **common,
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "amount": PRICE,
                    "tax_amount": 0,
                    "currency": "USD",
                    "status": "succeeded",
                    "provider": "test",
                    "provider_payment_id": f"tp_{uuid.uuid4()}",
                    "payment_method": "card",
                    "payment_method_details": method,
                    "method_token": token,
                    "billing_detail": billing,
                    "paid_at": anchor,
                    "subscription_id": sub_id,
                    "period_number": 1,
                    "attempt": 0,
                    "purpose": "first",
                },  # fmt: skip
            }

    started = time.perf_counter()
    batch = list(rows())
    with transaction.atomic():
        copy_rows(TestProcessorCard, (r["card"] for r in batch))
        copy_rows(CheckoutSession, (r["session"] for r in batch))
        copy_rows(Order, (r["order"] for r in batch))
        copy_rows(Subscription, (r["subscription"] for r in batch))
        copy_rows(Payment, (r["payment"] for r in batch))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return store, ends, round(time.perf_counter() - started, 1)


def add_webhook(store, url: str) -> None:
    from billing.models import WebhookEndpoint
    from billing.webhooks import keys

    WebhookEndpoint.objects.create(
        store=store,
        environment="test",
        channel="http",
        url=url,
        events=[],  # every public event
        api_version="2026-09-23",
    )
    keys.public_pem("test")  # the key pair exists before the workers start


# --- SQL per renewal, in-process -----------------------------------------------------------------


class Counter:
    """Statements (``CaptureQueriesContext``) and commits (the connection's ``commit``, which
    every outermost ``atomic`` calls) of a block of code."""

    def __init__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.connection = connection
        self.capture = CaptureQueriesContext(connection)
        self.commits = 0

    def __enter__(self):
        commit = self.connection.commit

        def counted():
            self.commits += 1
            return commit()

        self.connection.commit = counted  # this connection object only, for the block
        self.capture.__enter__()
        return self

    def __exit__(self, *exc):
        self.capture.__exit__(*exc)
        del self.connection.commit

    @property
    def statements(self) -> int:
        return sum(1 for q in self.capture.captured_queries if not q["sql"].startswith(CONTROL))

    @property
    def savepoints(self) -> int:
        return sum(1 for q in self.capture.captured_queries if q["sql"].startswith("SAVEPOINT"))

    def texts(self) -> list[str]:
        return [q["sql"][:160] for q in self.capture.captured_queries]


def sql_per_renewal(batch: int) -> dict:
    """A worker's path, run in this process for the sample's subscriptions (due before the
    others, so the beat's claim takes them first): a warm-up batch, a batch of ``batch`` whose
    statements are counted (the claim, the task and the outbox consumers apart), then one more
    whose CPU is timed (not under the statement log, which costs CPU of its own)."""
    from billing import tasks
    from billing.subscriptions import renewals
    from pancake import outbox
    from pancake.models import OutboxEvent

    def relay_all():
        events = [
            [str(pk), kind, str(subject)]
            for pk, kind, subject in OutboxEvent.objects.filter(dispatched_at__isnull=True)
            .order_by("created_at", "pk")
            .values_list("pk", "event_type", "subject_id")
        ]
        outbox.relay(events)
        return len(events)

    warm = renewals.claim_due(limit=SAMPLE_WARM)
    tasks.run_subscriptions([str(pk) for pk in warm])
    relay_all()
    with Counter() as claim:
        ids = renewals.claim_due(limit=batch)
    assert len(ids) == batch, len(ids)
    with Counter() as run:
        renewed = tasks.run_subscriptions([str(pk) for pk in ids])
    with Counter() as relay:
        events = relay_all()
    cpu = time.process_time()
    ids = renewals.claim_due(limit=batch)
    claimed = time.process_time()
    assert tasks.run_subscriptions([str(pk) for pk in ids]) == batch
    ran = time.process_time()
    relay_all()
    relayed = time.process_time()
    return {
        "batch": batch,
        "steps_run": renewed,
        "claim_statements": claim.statements,
        "task_statements": run.statements,
        "task_transactions": run.commits,
        "task_savepoints": run.savepoints,
        "events": events,
        "relay_statements": relay.statements,
        "relay_transactions": relay.commits,
        "per_renewal": {
            "statements": round((claim.statements + run.statements + relay.statements) / batch, 2),
            "transactions": round((claim.commits + run.commits + relay.commits) / batch, 3),
            "cpu_ms_in_process": {
                "claim": round((claimed - cpu) * 1000 / batch, 3),
                "task": round((ran - claimed) * 1000 / batch, 2),
                "outbox_consumers": round((relayed - ran) * 1000 / batch, 2),
            },
        },
        "task_statement_texts": run.texts(),
    }


# --- instructions per renewal, under callgrind ---------------------------------------------------


def _callgrind_child(part: str, batch: int) -> None:
    """In a process under valgrind: two warm-up batches, then one batch of ``batch`` renewals
    whose task (``part`` "task") or outbox consumers ("consumers") are counted."""
    import callgrind

    helper = callgrind._helper()
    django_setup()
    from billing import tasks
    from billing.subscriptions import renewals
    from pancake import outbox
    from pancake.models import OutboxEvent

    def relay_all() -> None:
        outbox.relay(
            [
                [str(pk), kind, str(subject)]
                for pk, kind, subject in OutboxEvent.objects.filter(dispatched_at__isnull=True)
                .order_by("created_at", "pk")
                .values_list("pk", "event_type", "subject_id")
            ]
        )

    for _ in range(2):
        tasks.run_subscriptions([str(pk) for pk in renewals.claim_due(limit=SAMPLE_WARM)])
        relay_all()
    ids = [str(pk) for pk in renewals.claim_due(limit=batch)]
    helper.pancake_cg_start()
    helper.pancake_cg_toggle()  # counting from here
    if part == "task":
        done = tasks.run_subscriptions(ids)
    else:
        helper.pancake_cg_toggle()
        done = tasks.run_subscriptions(ids)
        helper.pancake_cg_toggle()
        relay_all()
    helper.pancake_cg_toggle()
    print(json.dumps({"renewed": done}))


def instructions(batch: int) -> dict:
    """Instructions per renewal counted by valgrind's callgrind (bench/callgrind.py's client
    requests), each part in a process of its own: a worker's task for one batch, and the outbox
    consumers for that batch's events. A figure that does not move with the machine's other
    load, to compare variants of the code. Its own database, seeded here."""
    import callgrind

    use_database(f"{DB}_callgrind")
    setup_database()
    django_setup()
    seed(0, 3600, 2 * (2 * SAMPLE_WARM + batch))
    callgrind._helper()  # compiled once, before the children need it
    out = {}
    for part in ("task", "consumers"):
        trace = Path(tempfile.gettempdir()) / f"callgrind.pancake.renewals.{part}.{os.getpid()}"
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--collect-atstart=no",
                f"--callgrind-out-file={trace}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--callgrind-child",
                part,
                "--batch",
                str(batch),
            ],  # fmt: skip
            cwd=ROOT,
            env={**os.environ, **ENV, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            sys.exit(f"{part}: the child failed:\n{result.stderr[-4000:]}")
        renewed = json.loads(result.stdout.strip().splitlines()[-1])["renewed"]
        assert renewed == batch, renewed
        text = trace.read_text(errors="replace")
        trace.unlink()
        total = int(re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE).group(1))
        out[part] = round(total / batch / 1e6, 2)
    return {"batch": batch, "M_instructions_per_renewal": out}


# --- the run -------------------------------------------------------------------------------------


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to the bench's database (except this
    process's own), read from /proc. Read often: a backend that ends (a worker's connection past
    CONN_MAX_AGE) keeps the last figure read for it."""

    def __init__(self):
        from django.db import connection

        self.connection = connection
        self.seen: dict[int, float] = {}
        self.start: dict[int, float] = {}

    def read(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.seen[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def begin(self) -> None:
        self.read()
        self.start = dict(self.seen)

    def spent(self) -> float:
        self.read()
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


def run(args, workers, receiver, expected_events: int) -> dict:
    """Beat ticks every ``args.tick`` seconds from now until nothing is due; returns the times
    (from the first tick) at which the last renewal was recorded, the outbox was drained and the
    last delivery arrived, and the CPU spent meanwhile."""
    from django.db import connection
    from django.utils import timezone

    from billing import tasks
    from billing.models import Subscription
    from pancake.models import OutboxEvent

    backends = BackendCpu()
    backends.begin()
    cpu_workers = hooks.workers_cpu_seconds(workers)
    started = time.time()
    cutoff = timezone.now()
    next_tick = started
    ticks = 0
    renewed_at = drained_at = delivered_at = None
    while time.time() - started < args.timeout:
        now = time.time()
        if renewed_at is None and now >= next_tick:
            tasks.renew_subscriptions.delay()  # as beat sends it
            ticks += 1
            next_tick += args.tick
        if renewed_at is None and not Subscription.objects.filter(due_at__lte=cutoff).exists():
            renewed_at = time.time() - started
        if renewed_at is not None and drained_at is None:
            if not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists():
                drained_at = time.time() - started
        if receiver is not None and delivered_at is None:
            if len(receiver.arrivals) >= expected_events:
                delivered_at = max(receiver.arrivals.values()) - started
        if drained_at is not None and (receiver is None or delivered_at is not None):
            break
        backends.read()
        time.sleep(0.5)
    cpu = {
        "workers": hooks.workers_cpu_seconds(workers) - cpu_workers,
        "postgres": backends.spent(),
    }
    connection.close()
    return {
        "ticks": ticks,
        "renewed_s": renewed_at,
        "outbox_drained_s": drained_at,
        "delivered_s": delivered_at,
        "cpu_s": cpu,
    }


def verify(ends: dict, events_expected: int, receiver) -> dict:
    """Every subscription renewed exactly once, and its events written and dispatched."""
    from django.db.models import Count, Q

    from billing.models import Payment, Subscription, TestProcessorPayment, WebhookDelivery
    from pancake.models import OutboxEvent
    from products.periods import add_periods

    wrong_period = 0
    statuses: dict[str, int] = {}
    for pk, number, start, end, anchor, status, locked in Subscription.objects.values_list(
        "pk", "period_number", "current_period_start", "current_period_end", "anchor_at",
        "status", "locked_until",
    ).iterator(chunk_size=5000):  # fmt: skip
        statuses[status] = statuses.get(status, 0) + 1
        if (number, start, end) != (2, ends[pk], add_periods(anchor, "monthly", 2)) or locked:
            wrong_period += 1
    renewals = Payment.objects.filter(purpose="renewal")
    per_subscription = (
        renewals.values("subscription_id")
        .annotate(
            paid=Count("pk", filter=Q(status="succeeded", period_number=2, amount=PRICE)),
            tries=Count("pk"),
        )
        .order_by()
    )
    paid_once = per_subscription.filter(paid=1, tries=1).count()
    events = dict(
        OutboxEvent.objects.filter(event_type__startswith="subscription.")
        .values_list("event_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    checks = {
        "subscriptions": len(ends),
        "statuses": statuses,
        "wrong_period_or_still_leased": wrong_period,
        "with_one_succeeded_renewal_payment_for_period_2": paid_once,
        "renewal_payments": renewals.count(),
        "payments_left_processing": Payment.objects.filter(status="processing").count(),
        "charges_at_provider": TestProcessorPayment.objects.filter(off_session=True).count(),
        "events": events,
        "events_undispatched": OutboxEvent.objects.filter(dispatched_at__isnull=True).count(),
    }
    ok = (
        wrong_period == 0
        and statuses == {"active": len(ends)}
        and paid_once == len(ends)
        and checks["renewal_payments"] == len(ends)
        and checks["payments_left_processing"] == 0
        and checks["charges_at_provider"] == len(ends)
        and events
        == {"subscription.payment_succeeded": len(ends), "subscription.renewed": len(ends)}
        and checks["events_undispatched"] == 0
    )
    if receiver is not None:
        deliveries = dict(
            WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        checks["webhook_deliveries"] = deliveries
        checks["arrived_at_receiver"] = len(receiver.arrivals)
        checks["duplicates_at_receiver"] = receiver.duplicates
        ok = (
            ok
            and deliveries == {"success": 2 * len(ends)}  # the sample's were sent in-process
            and len(receiver.arrivals) == events_expected
            and receiver.duplicates == 0
        )
    checks["all_ok"] = ok
    return checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 subscriptions")
    parser.add_argument("--pool", choices=("threads", "solo", "prefork"), default="threads")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--tick", type=float, help="beat interval (default: the schedule's)")
    parser.add_argument("--batch", type=int, default=200, help="the beat's batch (SQL count)")
    parser.add_argument("--spread", type=float, default=6 * 3600, help="due within (seconds)")
    parser.add_argument("--webhook", action="store_true", help="deliver to a local receiver")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--worker-log", help="write the workers' log to this file")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only count instructions per renewal under callgrind (no workers)",
    )
    parser.add_argument("--callgrind-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind_child:
        use_database(f"{DB}_callgrind")
        _callgrind_child(args.callgrind_child, args.batch)
        return
    if args.instructions:
        print(json.dumps(instructions(args.batch)))
        return
    if args.smoke:
        args.count = 2000

    import redis

    setup_database()
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    django_setup()
    from django.conf import settings

    if args.tick is None:
        args.tick = float(settings.CELERY_BEAT_SCHEDULE["renew-subscriptions"]["schedule"])
    sample = SAMPLE_WARM + 2 * args.batch
    store, ends, seed_seconds = seed(args.count, args.spread, sample)
    receiver = None
    if args.webhook:
        receiver = hooks.Receiver()
        add_webhook(store, receiver.url)
    sql = sql_per_renewal(args.batch)
    remaining = len(ends) - sample
    queue.flushdb()  # the sample's relay messages: its events were relayed in-process
    if receiver is not None:
        receiver.arrivals.clear()
    expected_events = 2 * remaining
    workers = hooks.start_workers(args.pool, args.threads)
    try:
        timings = run(args, workers, receiver, expected_events)
    finally:
        hooks.stop_workers(workers)
        if receiver is not None:
            receiver.close()
        queue.flushdb()
        if args.worker_log:
            Path(args.worker_log).write_text("\n---\n".join("".join(w.log) for w in workers))
    # only the renewals the workers ran count for the rates (the sample ran in-process)
    checks = verify(ends, expected_events, receiver)
    seconds = timings["renewed_s"]
    rate = remaining / seconds if seconds else 0.0
    cpu = timings["cpu_s"]
    result = {
        "bench": "renewals",
        "stack": {
            "threads": f"2 celery workers -P threads -c {args.threads}",
            "solo": "2 celery workers -P solo",
            "prefork": "celery worker -P prefork -c 2",
        }[args.pool]
        + " + Redis + PostgreSQL, production settings, test processor",
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "subscriptions": len(ends),
        "renewed_by_workers": remaining,
        "seed_seconds": seed_seconds,
        "beat_tick_s": args.tick,
        "beat_ticks": timings["ticks"],
        "seconds_to_last_renewal": seconds and round(seconds, 1),
        "seconds_to_outbox_drained": timings["outbox_drained_s"]
        and round(timings["outbox_drained_s"], 1),
        "seconds_to_last_delivery": timings["delivered_s"] and round(timings["delivered_s"], 1),
        "renewals_per_s": round(rate, 1),
        "cpu_ms_per_renewal": {
            "workers": round(cpu["workers"] * 1000 / max(remaining, 1), 2),
            "postgres": round(cpu["postgres"] * 1000 / max(remaining, 1), 2),
        },
        "sql": sql,
        "checks": checks,
        "target": {
            "seconds": TARGET_SECONDS * args.count / 100_000,
            "met": bool(seconds)
            and seconds < TARGET_SECONDS * args.count / 100_000
            and checks["all_ok"],
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
