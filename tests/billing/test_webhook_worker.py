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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from billing.models import Payment, WebhookDelivery
from billing.providers import test_processor
from billing.tasks import sweep_webhooks
from billing.webhooks import sweep
from checkout.models import Order
from pancake import outbox
from pancake.api import ids
from pancake.models import OutboxEvent
from products.services import product_create
from tests.billing.helpers import add_webhook, fire, use_broker, verify
from tests.workers import WORKER_TIMEOUT_SECONDS, closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 2 * WORKER_TIMEOUT_SECONDS + 20
WAIT = 30  # seconds any single expectation may take
US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}

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
