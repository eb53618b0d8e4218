"""Benchmark invoice PDFs on the production stack.

Real Celery workers, 2 processes, consuming the invoice queue (``documents``,
``settings.INVOICE_QUEUE``) as the deployment runs them (docs/operations.md: ``celery -A pancake
worker -Q documents -P prefork -c 2``; ``--pool solo`` runs two single-process workers instead),
on Redis and PostgreSQL with the production settings (``PANCAKE_ENV=production``). Each
document's PDF is rendered by WeasyPrint from its frozen fields and stored with Django's default
storage (the file system here, under a temporary ``MEDIA_ROOT``), through the real task
(``billing.tasks.render_invoices``, one message per document).

Seeding: ``--count`` paid subscription payments (bench_renewals' seeding, by COPY), then their
invoices issued by the real batch path (``billing.invoices.services.invoices_issue``, 200 to a
transaction, as a renewal batch issues them): the time per invoice issued is reported too. A
quarter of the documents each are in English, German, French and Spanish; one line, one tax
line, a tax note (the buyers are in Oregon: tax exempt).

Prints one JSON object:

- ``pdfs_per_second``: documents rendered and stored per second by the 2 worker processes, from
  the first message queued to the last document marked rendered (after a warm-up of 4 documents
  per worker, not counted: the first render loads WeasyPrint's fonts);
- ``p50_ms`` / ``p95_ms`` per document: ``invoice_render`` timed in this process, one document
  after another (``--sample`` of them, after a warm-up), the work one task does, and its CPU
  time (``p50_cpu_ms``), which barely moves when other work shares the machine;
- CPU per document in the workers (utime + stime from /proc), PDF size, SQL per document;
- ``issue_ms_per_invoice``: issuing (numbering, freezing, one INSERT) in batches of 200;
- checks: every document rendered once, its SHA-256 stored and equal to a second rendering's.

    python bench/bench_invoices.py [--count 2000] [--pool prefork|solo] [--sample 100]
        [--database pancake_bench_invoices] [--redis redis://127.0.0.1:6379/11]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379; its database is
dropped and recreated. Loopback only; bounded in time; stops its workers itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_renewals as renewals  # noqa: E402  (database, seeding)
import bench_webhooks as hooks  # noqa: E402  (workers' CPU)

ROOT = hooks.ROOT
ISSUE_BATCH = 200
LANGUAGES = ("en", "de", "fr", "es")
WARM_PER_WORKER = 4


def configure(database: str, redis_url: str) -> None:
    renewals.use_database(database)
    media = tempfile.mkdtemp(prefix="pancake-bench-invoices-")
    for env in (renewals.ENV, hooks.ENV):
        env.update({"REDIS_URL": redis_url, "MEDIA_ROOT": media})


def issue_all() -> tuple[list, float]:
    """Invoices of every seeded payment, by the renewal batch's path; (ids, ms per invoice)."""
    from django.db import transaction

    from billing.invoices import services
    from billing.models import Invoice, Payment

    payments = list(
        Payment.objects.select_related("subscription__version").order_by("created_at", "pk")
    )
    started = time.perf_counter()
    for first in range(0, len(payments), ISSUE_BATCH):
        chunk = payments[first : first + ISSUE_BATCH]
        with transaction.atomic():
            services.invoices_issue([services.Issue(p, p.subscription) for p in chunk])
    spent = time.perf_counter() - started
    ids = list(Invoice.objects.order_by("sequence").values_list("pk", flat=True))
    for i, language in enumerate(LANGUAGES):
        Invoice.objects.filter(pk__in=ids[i :: len(LANGUAGES)]).update(language=language)
    return ids, round(spent * 1000 / max(len(payments), 1), 3)


def in_process(ids: list, sample: int) -> dict:
    """``invoice_render`` one document after another in this process: p50/p95 per document,
    SQL per document, the PDF's size, and the same bytes when rendered again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.invoices.services import invoice_render

    for invoice_id in ids[:3]:  # warm-up: fonts, templates, translations
        invoice_render(invoice_id, again=True)
    times, cpu = [], []
    for invoice_id in ids[:sample]:
        started, started_cpu = time.perf_counter(), time.process_time()
        invoice_render(invoice_id, again=True)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        first = invoice_render(ids[0], again=True)
    again = invoice_render(ids[0], again=True)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        # This process's CPU per document: steadier than the times when the machine is shared.
        "p50_cpu_ms": round(statistics.median(cpu), 1),
        "sql_per_document": len(ctx.captured_queries),
        "pdf_bytes": first.pdf.size,
        "same_bytes_when_rendered_again": first.pdf_sha256 == again.pdf_sha256,
    }


def start_worker(pool: str) -> subprocess.Popen:
    from django.conf import settings

    concurrency = {"solo": ["-P", "solo"], "prefork": ["-P", "prefork", "-c", "2"]}[pool]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pancake",
            "worker",
            "-Q",
            settings.INVOICE_QUEUE,
            *concurrency,
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-docs-{uuid.uuid4().hex[:6]}@%h",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **renewals.ENV, "PYTHONUNBUFFERED": "1"},
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


def wait_rendered(ids: list, timeout: float) -> float:
    """Wait until every document of ``ids`` is rendered; the time it was done."""
    from billing.models import Invoice

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = Invoice.objects.filter(pk__in=ids, pdf_rendered_at__isnull=True).count()
        if not left:
            return time.perf_counter()
        time.sleep(0.05)
    sys.exit(f"{left} documents not rendered after {timeout} s")


def by_workers(ids: list, pool: str, timeout: float) -> dict:
    from billing.models import Invoice
    from billing.tasks import render_invoices

    Invoice.objects.update(pdf=None, pdf_sha256="", pdf_rendered_at=None)
    processes = [start_worker(pool)] if pool == "prefork" else [start_worker(pool) for _ in "ab"]
    try:
        warm, measured = ids[: 2 * WARM_PER_WORKER], ids[2 * WARM_PER_WORKER :]
        for invoice_id in warm:
            render_invoices.delay([str(invoice_id)])
        wait_rendered(warm, timeout)
        cpu_before = hooks.workers_cpu_seconds(processes)
        started = time.perf_counter()
        for invoice_id in measured:
            render_invoices.delay([str(invoice_id)])
        done = wait_rendered(measured, timeout)
        cpu = hooks.workers_cpu_seconds(processes) - cpu_before
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    seconds = done - started
    rendered = Invoice.objects.filter(pk__in=measured, pdf_rendered_at__isnull=False)
    return {
        "workers": "celery -Q documents -P prefork -c 2"
        if pool == "prefork"
        else "2 celery workers -Q documents -P solo",
        "documents": len(measured),
        "seconds": round(seconds, 2),
        "pdfs_per_second": round(len(measured) / seconds, 1),
        "worker_cpu_ms_per_document": round(cpu * 1000 / len(measured), 1),
        "all_rendered_with_sha256": rendered.exclude(pdf_sha256="").count() == len(measured),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--pool", choices=("prefork", "solo"), default="prefork")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--database", default="pancake_bench_invoices")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    import redis

    configure(args.database, args.redis)
    renewals.setup_database()
    queue = redis.Redis.from_url(args.redis)
    queue.flushdb()
    renewals.django_setup()
    _store, _ends, seed_seconds = renewals.seed(args.count, 3600, 0)
    ids, issue_ms = issue_all()
    queue.flushdb()  # the render messages the issuing queued after its commits
    result = {
        "documents": len(ids),
        "seed_seconds": seed_seconds,
        "issue_ms_per_invoice": issue_ms,
        "in_process": in_process(ids, args.sample),
        "two_workers": by_workers(ids, args.pool, args.timeout),
    }
    queue.flushdb()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
