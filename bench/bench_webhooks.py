"""Benchmark webhook delivery on the production stack.

Real Celery workers, 2 processes (the README's deployment on a two-core machine: two
``celery -A pancake worker -P threads -c 4``; ``--pool prefork`` runs one ``celery -A pancake
worker -P prefork -c 2`` instead, ``--pool solo`` two single-task workers) on Redis and PostgreSQL
deliver outbox events to a local receiver (a threaded HTTP server answering 200) through the real
path: ``emit()`` in a transaction, one fan-out task per commit, one delivery per event, claimed,
signed (RSA-2048) and POSTed, and the order emails' task the commit's ``order.completed`` events
queue. One store, one http endpoint in the test environment, every event for another order.

- throughput: N events emitted back to back from this process (``--batch`` of them a
  transaction; ``--batch 1``: every event its own commit, fan-out task and email task);
  deliveries per second from the first commit to the last arrival at the receiver;
- idle latency: one event at a time, waiting for it to arrive before the next;
- latency = arrival at the receiver minus the event's ``created_at`` (stamped inside the
  transaction, before commit: a slight overestimate of commit → first attempt), p50/p99;
- CPU per delivery during the burst: all worker processes, and this process (emitter and
  receiver), from /proc: steadier than the rates when other work shares the machine;
- SQL queries of one fan-out and of one delivery attempt as the sweep runs them, of one fan-out
  task with its own first attempt, and of one fan-out task for a commit of ``--batch`` events
  with their first attempts (in-process, same code path, signing key loaded).

Checks that every event arrived exactly once and every delivery row is ``success``. Targets
(bench/RESULTS.md): at least 200 deliveries/s, p99 under 2 s while idle. Prints one JSON object.

    python bench/bench_webhooks.py [--events 2000] [--idle 100] [--batch 20]
        [--pool threads|prefork|solo]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379. Loopback only;
bounded in time; stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "pancake_bench_webhooks"
REDIS_URL = "redis://127.0.0.1:6379/13"
ENV = {
    "PANCAKE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),  # shared: the signing key is stored encrypted with it
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": REDIS_URL,
    "BASE_URL": "http://127.0.0.1:8766",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "LOG_LEVEL": "WARNING",
}
TARGET_RPS = 200
BATCH = 20  # events per transaction under load (--batch)
TARGET_IDLE_P99_MS = 2000


def setup_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
    )


class Receiver:
    """Answers 200 to every POST; keeps the arrival time of each delivery id (first one) and
    counts duplicates."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as most receivers
            disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls per answer
            wbufsize = -1  # status, headers and body in one write (flushed per request)

            def do_POST(self):  # noqa: N802
                at = time.time()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery_id = self.headers.get("X-Pancake-Delivery", "")
                with receiver.changed:
                    if delivery_id in receiver.arrivals:
                        receiver.duplicates += 1
                    else:
                        receiver.arrivals[delivery_id] = at
                    receiver.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128

            def process_request(self, request, client_address):
                receiver.connections += 1  # one TCP connection (keep-alive: many requests)
                super().process_request(request, client_address)

        self.connections = 0
        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def seed(receiver_url: str):
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pancake.settings"
    import django

    django.setup()
    from billing.models import WebhookEndpoint
    from billing.webhooks import keys
    from stores import services

    merchant, _ = services.merchant_get_or_create(email="bench@example.com")
    store = services.store_create(merchant=merchant, name="Bench Webhook Store")
    WebhookEndpoint.objects.create(
        store=store,
        environment="test",
        channel="http",
        url=receiver_url,
        events=[],
        api_version="2026-09-23",
    )
    keys.public_pem("test")  # the key pair exists before the workers start
    return store


def emit_one(store):
    from django.db import transaction

    with transaction.atomic():
        return _emit(store)


def emit_batch(store, count: int) -> list:
    """``count`` events committed together (each fans out on its own after the commit)."""
    from django.db import transaction

    with transaction.atomic():
        return [_emit(store) for _ in range(count)]


def _emit(store):
    from pancake.outbox import emit

    order = uuid.uuid4()
    return emit(
        store_id=store.pk,
        environment="test",
        event_type="order.completed",
        subject_id=uuid.uuid4(),
        aggregate_id=order,
        data={
            "orderId": str(order),
            "orderStatus": "completed",
            "buyerEmail": "buyer@example.com",
            "currency": "USD",
            "amount": 2900,
            "taxAmount": 0,
            "subtotal": 2900,
            "total": 2900,
            "chargedAmount": 2900,
            "productName": "Bench E-Book",
            "paymentId": str(uuid.uuid4()),
            "paymentStatus": "succeeded",
            "paymentMethod": "card",
            "paymentLast4": "4242",
        },
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(round(len(ordered) * p)) - 1, 0)]


def latencies_ms(events, receiver: Receiver) -> list[float]:
    from billing.models import WebhookDelivery

    created = {e.pk: e.created_at.timestamp() for e in events}
    out = []
    for delivery_id, event_id in WebhookDelivery.objects.filter(
        event_id__in=list(created)
    ).values_list("pk", "event_id"):
        at = receiver.arrivals.get(str(delivery_id))
        if at is not None:
            out.append((at - created[event_id]) * 1000)
    return out


def summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1),
    }


def _message(event) -> list[str]:
    """An event as the outbox's relay hands it to its consumers."""
    return [str(event.pk), event.event_type, str(event.subject_id)]


def queries_per_step(store, receiver: Receiver, batch: int) -> dict:
    """SQL of one fan-out and one attempt as the sweep runs them (the kick it queues is a no-op
    for the worker later: the delivery is done), and of one fan-out task with its first attempt
    (the common path), run in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.webhooks import attempts, fanout, keys

    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")

    def count(ctx):
        return sum(1 for q in ctx.captured_queries if not q["sql"].startswith(control))

    keys.private_key("test")  # loaded once per process, as a worker's first attempt does
    event = emit_one(store)
    with CaptureQueriesContext(connection) as fan:
        (delivery_id,) = fanout.consume([_message(event)], from_sweep=True)
    with CaptureQueriesContext(connection) as attempt:
        outcome = attempts.deliver(delivery_id)
    assert outcome == "success", outcome
    # the fan-out task's way: the first attempt made by the fan-out itself
    event = emit_one(store)
    with CaptureQueriesContext(connection) as task:
        fanout.consume([_message(event)])
    # a commit of --batch events, as the load's fan-out tasks run them
    events = emit_batch(store, batch)
    with CaptureQueriesContext(connection) as commit:
        made = fanout.consume([_message(e) for e in events])
    assert len(made) == batch, made
    return {
        "fan_out": count(fan),
        "deliver": count(attempt),
        "fan_out_task_with_first_attempt": count(task),
        f"fan_out_task_of_{batch}_events_with_their_first_attempts": count(commit),
    }


def start_worker(pool: str, threads: int) -> subprocess.Popen:
    """``prefork``: one ``celery worker -P prefork -c 2`` (a parent and 2 worker processes);
    ``threads``: one ``celery worker -P threads -c <threads>`` (one process)."""
    concurrency = {
        "threads": ["-P", "threads", "-c", str(threads)],
        "solo": ["-P", "solo"],
        "prefork": ["-P", "prefork", "-c", "2"],
    }[pool]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pancake",
            "worker",
            *concurrency,
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **ENV, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()
    log: list[str] = []

    def read():
        for line in process.stdout:
            log.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        os.killpg(process.pid, signal.SIGKILL)
        sys.exit("the Celery worker did not start:\n" + "".join(log[-40:]))
    process.log = log  # type: ignore[attr-defined]
    return process


def start_workers(pool: str, threads: int) -> list[subprocess.Popen]:
    """Two worker processes either way: prefork's two children, or two thread-pool workers."""
    if pool != "prefork":
        return [start_worker(pool, threads) for _ in range(2)]
    return [start_worker(pool, threads)]


def workers_cpu_seconds(workers: list[subprocess.Popen]) -> float:
    """CPU time (user + system) used so far by every process of the workers' process groups
    (Linux /proc; 0 elsewhere). Unlike wall-clock rates, it barely moves when other work shares
    the machine."""
    groups = {w.pid for w in workers}
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=100)
    parser.add_argument("--batch", type=int, default=BATCH, help="events per transaction (load)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--worker-log", help="write the worker's log to this file")
    parser.add_argument("--pool", choices=("threads", "solo", "prefork"), default="threads")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    args = parser.parse_args()

    import redis

    setup_database()
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    receiver = Receiver()
    store = seed(receiver.url)
    queries = queries_per_step(store, receiver, args.batch)
    queue.flushdb()
    receiver.arrivals.clear()

    from django.db import connection
    from django.db.models import Count

    from billing.models import WebhookDelivery

    workers = start_workers(args.pool, args.threads)
    try:
        # warm-up: both processes have their connections, keys and code paths loaded
        for _ in range(20):
            emit_one(store)
        if not receiver.wait_for(20, args.timeout):
            raise SystemExit("warm-up deliveries did not arrive")
        done = len(receiver.arrivals)

        # idle: one event at a time
        idle_events = []
        for n in range(args.idle):
            idle_events.append(emit_one(store))
            if not receiver.wait_for(done + n + 1, 30):
                raise SystemExit(f"idle event {n} did not arrive")
            time.sleep(0.02)
        idle = latencies_ms(idle_events, receiver)
        done = len(receiver.arrivals)

        # throughput: N events back to back
        started = time.time()
        cpu_before = workers_cpu_seconds(workers), time.process_time()
        burst = []
        while len(burst) < args.events:
            burst += emit_batch(store, min(args.batch, args.events - len(burst)))
        emitted = time.time() - started
        complete = receiver.wait_for(done + args.events, args.timeout)
        burst_ids = {
            str(pk)
            for pk in WebhookDelivery.objects.filter(event__in=burst).values_list("pk", flat=True)
        }
        arrived = [receiver.arrivals[i] for i in burst_ids if i in receiver.arrivals]
        cpu_workers = workers_cpu_seconds(workers) - cpu_before[0]
        cpu_bench = time.process_time() - cpu_before[1]
        last = max(arrived) if arrived else time.time()
        elapsed = last - started
        load = latencies_ms(burst, receiver)
        # the receiver sees a POST before the worker records its answer: let it finish
        deadline = time.time() + 15
        while time.time() < deadline:
            statuses = dict(
                WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by()
            )
            if not statuses.get("pending"):
                break
            time.sleep(0.2)
    finally:
        stop_workers(workers)
        receiver.close()
        connection.close()
        queue.flushdb()
        if args.worker_log:
            Path(args.worker_log).write_text("\n---\n".join("".join(w.log) for w in workers))

    rps = len(arrived) / elapsed if elapsed > 0 else 0.0
    idle_summary = summary(idle)
    result = {
        "bench": "webhooks",
        "stack": {
            "threads": f"2 celery workers -P threads -c {args.threads}",
            "solo": "2 celery workers -P solo",
            "prefork": "celery worker -P prefork -c 2",
        }[args.pool]
        + " + Redis + PostgreSQL, receiver on 127.0.0.1",
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "throughput": {
            "events": args.events,
            "delivered": len(arrived),
            "all_delivered": complete and len(arrived) == args.events,
            "emit_seconds": round(emitted, 2),
            "seconds_first_commit_to_last_arrival": round(elapsed, 2),
            "deliveries_per_s": round(rps, 1),
            "latency_under_load": summary(load),
            # CPU per delivery of the burst: the workers (all their processes), and this process
            # (emitting the events and the receiver answering them)
            "cpu_ms_per_delivery": {
                "workers": round(cpu_workers * 1000 / max(len(arrived), 1), 2),
                "bench_process": round(cpu_bench * 1000 / max(len(arrived), 1), 2),
            },
        },
        "idle_latency_commit_to_first_attempt": idle_summary,
        "duplicates_at_receiver": receiver.duplicates,
        "tcp_connections_at_receiver": receiver.connections,
        "delivery_statuses": statuses,
        "sql_queries": queries,
        "targets": {
            "deliveries_per_s": TARGET_RPS,
            "idle_p99_ms": TARGET_IDLE_P99_MS,
            "met": rps >= TARGET_RPS
            and idle_summary.get("p99_ms", 1e9) < TARGET_IDLE_P99_MS
            and complete
            and receiver.duplicates == 0
            and set(statuses) == {"success"},
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
