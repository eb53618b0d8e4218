"""Webhooks delivered by a REAL Celery worker on Redis, against the test database: a completed
test purchase reaches a receiver on 127.0.0.1 signed as the SDK checks it; a worker killed
(SIGKILL) in the middle of a POST loses nothing (the lease runs out, the sweep sends the same
delivery again: same ``id``, same bytes); and with Redis unreachable at commit time the purchase
still commits and the sweep fans the event out later.

The worker is a subprocess (``celery -A pancake worker -P threads -c 2``) with
``CELERY_TASK_ALWAYS_EAGER=0``, its own Redis database (one per xdist worker) and ``DATABASE_URL``
pointing at the database pytest-django made; the tests are transactional so the rows they write
are committed and visible to it. This process publishes to the same Redis instead of running tasks
eagerly while a test runs. Needs PostgreSQL and Redis: skipped without them, failed when
``PANCAKE_REQUIRE_POSTGRES`` is set (CI).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection
from django.test import Client

from billing.models import Payment, WebhookDelivery
from billing.providers import test_processor
from billing.tasks import sweep_webhooks
from billing.webhooks import sweep
from checkout.models import Order
from pancake import outbox
from pancake.api import ids
from pancake.celery import app as celery_app
from pancake.models import OutboxEvent
from products.services import product_create
from tests.billing.helpers import add_webhook, fire, use_broker, verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_SECONDS = 2  # the worker's WEBHOOK_TIMEOUT_SECONDS: its lease is 2*2+20 = 24 s
LEASE_SECONDS = 2 * WORKER_TIMEOUT_SECONDS + 20
WAIT = 30  # seconds any single expectation may take
US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}

# Starts the worker with its clock moved forward by argv[1] seconds (ticking): a worker that comes
# up after the lease of a dead one ran out, without the test sleeping through the lease.
SHIFTED_CELERY = """
import sys
from datetime import datetime, timedelta, timezone

import time_machine

shift = float(sys.argv[1])
time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=shift), tick=True).start()
from celery.__main__ import main

sys.argv = ["celery", *sys.argv[2:]]
sys.exit(main())
"""


# --- services ------------------------------------------------------------------------------------


def redis_base() -> str:
    """Host and port of the Redis the suite uses (REDIS_URL), else the default local one."""
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def redis_db() -> int:
    """A Redis database of our own per xdist worker (CI's cache is 15): queues never mix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = int(worker[2:]) if worker[2:].isdigit() else 0
    return (10 + n) % 15


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def closed_port() -> int:
    """A local port nobody listens on: what the broker looks like with Redis stopped."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A Celery worker subprocess; its log is kept for failure messages."""

    def __init__(self, env: dict, shift_seconds: float = 0):
        args = [
            "-A", "pancake", "worker", "-P", "threads", "-c", "2", "-l", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"wh-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        if shift_seconds:
            cmd = [sys.executable, "-c", SHIFTED_CELERY, str(shift_seconds), *args]
        else:
            cmd = [sys.executable, "-m", "celery", *args]
        self.log: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("the Celery worker did not start:\n" + self.output())

    def _read(self):
        for line in self.process.stdout:
            self.log.append(line)
            if " ready." in line:
                self.ready.set()

    def output(self) -> str:
        return "".join(self.log[-80:])

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass


@pytest.fixture
def redis_url(require_postgres):
    base = redis_base()
    if not redis_reachable(base):
        if os.environ.get("PANCAKE_REQUIRE_POSTGRES"):
            pytest.fail(f"These tests need Redis at {base} and PANCAKE_REQUIRE_POSTGRES is set")
        pytest.skip(f"needs Redis at {base} for a real Celery worker; CI runs it")
    return f"{base}/{redis_db()}"


@pytest.fixture
def workers(redis_url, settings):
    """Start real workers with ``workers.start()``; this process publishes to their Redis."""
    queue = redis.Redis.from_url(redis_url)
    queue.flushdb()  # nothing left over from an earlier (killed) run
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pancake.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOK_TIMEOUT_SECONDS": str(WORKER_TIMEOUT_SECONDS),
        "SECRET_KEY": settings.SECRET_KEY,  # the signing key is stored encrypted with it
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PANCAKE_ENV", None)
    started: list[Worker] = []

    class Workers:
        url = redis_url

        def start(self, shift_seconds: float = 0) -> Worker:
            worker = Worker(env, shift_seconds)
            started.append(worker)
            return worker

        def logs(self) -> str:
            return "\n---\n".join(w.output() for w in started)

    old_broker, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    use_broker(redis_url)
    try:
        yield Workers()
    finally:
        for worker in started:
            worker.kill()
        celery_app.conf.task_always_eager = old_eager
        use_broker(old_broker)
        queue.flushdb()
        queue.close()


# --- the receiver --------------------------------------------------------------------------------


class Receiver:
    """Records every POST with its arrival time and answers 200; with ``hang_first`` the first
    request is held (no answer) until ``release`` is set."""

    def __init__(self, hang_first: bool = False):
        self.requests: list[dict] = []
        self.arrived = threading.Condition()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver.arrived:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "at": time.time()}
                    )
                    first = len(receiver.requests) == 1
                    receiver.arrived.notify_all()
                if first and hang_first:
                    receiver.release.wait(WAIT)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def wait_until(check, what: str, workers, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker logs:\n{workers.logs()}")


# --- a purchase, as tests/checkout/test_orders.py makes one ---------------------------------------


def place_order(api, store) -> Payment:
    product = product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "saas"}},
    )
    session_id = api.call(
        "checkout/create-session", {"productId": ids.encode("PROD", product.pk), "currency": "USD"}
    )["data"]["sessionId"]
    response = api.post(
        "onetime-order/create-order",
        {"checkoutSessionId": session_id, "billingDetail": US, "buyerEmail": "buyer@example.com"},
    )
    assert response.status_code == 200, response.content
    return Payment.objects.get()


def pay(payment: Payment):
    """Pay on the test processor's card page, then deliver its notification to us."""
    outcome = test_processor.submit_card(
        provider_payment_id=payment.provider_payment_id,
        number="4242424242424242",
        exp_month=12,
        exp_year=2040,
        cvc="123",
        name="Ada",
    )
    notification = outcome.notification
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in notification.headers.items()}
    response = Client().post(
        "/providers/test/notifications",
        data=notification.body,
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.content


# --- the scenarios -------------------------------------------------------------------------------


def test_a_completed_purchase_reaches_the_receiver_through_a_real_worker(
    api, store, workers, receiver
):
    workers.start()
    add_webhook(api, ids.encode("STO", store.pk), receiver.url, events=["order.completed"])
    payment = place_order(api, store)
    pay(payment)
    order = Order.objects.get()
    assert order.status == "completed"

    arrived = receiver.wait_for(1)
    assert len(arrived) == 1, workers.logs()
    request = arrived[0]
    verify("test", request["headers"]["X-Waffo-Signature"], request["body"])
    payload = json.loads(request["body"])
    assert payload["eventType"] == "order.completed" and payload["mode"] == "test"
    assert payload["data"]["orderId"] == ids.encode("ORD", order.pk)
    assert payload["eventId"] == ids.encode("PAY", payment.pk)

    stored = wait_until(
        lambda: WebhookDelivery.objects.filter(status="success").first(), "success", workers
    )
    assert payload["id"] == str(stored.pk) and stored.body == request["body"]
    assert stored.attempt_count == 1 and stored.attempts.get().status_code == 200
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_killing_the_worker_mid_delivery_loses_nothing(api, store, workers):
    receiver = Receiver(hang_first=True)
    try:
        first_worker = workers.start()
        add_webhook(api, ids.encode("STO", store.pk), receiver.url)
        fire(store)
        hung = receiver.wait_for(1)
        assert len(hung) == 1, workers.logs()  # the worker is inside the POST now
        first_worker.kill()  # SIGKILL: no answer recorded, the message never acked
        receiver.release.set()

        stuck = WebhookDelivery.objects.get()
        assert (stuck.status, stuck.attempt_count) == ("pending", 1)
        assert stuck.locked_until is not None and not stuck.attempts.exists()
        assert sweep.sweep()["deliveries"] == 0  # still leased to the dead worker

        # A new worker whose clock is past the lease; the periodic sweep runs on it.
        workers.start(shift_seconds=LEASE_SECONDS + 5)
        sweep_webhooks.delay()
        again = receiver.wait_for(2)
        assert len(again) == 2, workers.logs()
        assert again[1]["body"] == hung[0]["body"] == stuck.body  # same bytes
        assert json.loads(again[1]["body"])["id"] == str(stuck.pk)  # same id
        verify("test", again[1]["headers"]["X-Waffo-Signature"], again[1]["body"])

        done = wait_until(
            lambda: WebhookDelivery.objects.filter(pk=stuck.pk, status="success").first(),
            "the redelivery to be recorded",
            workers,
        )
        assert done.attempt_count == 2 and done.locked_until is None
        assert [a.status_code for a in done.attempts.all()] == [200]
        assert WebhookDelivery.objects.count() == 1  # no duplicate delivery row
    finally:
        receiver.close()


def test_redis_down_at_commit_the_purchase_commits_and_the_sweep_delivers(
    api, store, workers, receiver, settings, caplog
):
    workers.start()
    add_webhook(api, ids.encode("STO", store.pk), receiver.url, events=["order.completed"])
    payment = place_order(api, store)

    use_broker(f"redis://127.0.0.1:{closed_port()}/0")  # Redis is down at commit time
    try:
        pay(payment)
    finally:
        use_broker(workers.url)
    assert Order.objects.get().status == "completed"  # the purchase committed anyway
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None and not WebhookDelivery.objects.exists()
    assert receiver.requests == []

    # Too fresh for the sweep (a kick may still be on its way) ...
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 3600
    assert outbox.sweep() == 0
    # ... then old enough: the sweep fans it out and the worker delivers it.
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    assert outbox.sweep() == 1
    arrived = receiver.wait_for(1)
    assert len(arrived) == 1, workers.logs()
    verify("test", arrived[0]["headers"]["X-Waffo-Signature"], arrived[0]["body"])
    payload = json.loads(arrived[0]["body"])
    assert payload["eventType"] == "order.completed"
    assert payload["eventId"] == ids.encode("PAY", payment.pk)
    stored = wait_until(
        lambda: WebhookDelivery.objects.filter(status="success").first(), "success", workers
    )
    assert payload["id"] == str(stored.pk)
    event.refresh_from_db()
    assert event.dispatched_at is not None
