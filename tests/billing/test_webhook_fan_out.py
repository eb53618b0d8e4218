"""The fan-out's own first attempt and its ordering: the fan-out task claims the first
delivery in the transaction that makes it and POSTs it once that commits, signed at that moment;
a failure there schedules the retry; a later event of an order fanned out before an earlier one
waits for it. Kicks are held here (no worker reads the broker) so each test drives the fan-outs in
the order it needs, as workers racing each other would."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connections, transaction
from django.utils import timezone

from billing.models import WebhookDelivery
from billing.webhooks import attempts, fanout
from pancake.api.fields import format_timestamp
from pancake.celery import _close_old_connections
from pancake.celery import app as celery_app
from pancake.models import OutboxEvent
from tests.billing.helpers import add_webhook, emit_for, fan_out, fire, verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_fan_out_sends_the_first_attempt_itself_signed_when_it_goes(
    api, store, store_id, receiver, held_kicks
):
    add_webhook(api, store_id, receiver.url)
    receiver.statuses = [500]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        event = fire(store)
        assert not WebhookDelivery.objects.exists()  # its fan-out is queued, not run
        clock.shift(timedelta(seconds=90))  # a busy worker gets to it later
        (delivery_id,) = fan_out(event)
        attempted_at = timezone.now()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    signed_at = verify("test", request["headers"]["X-Waffo-Signature"], request["body"])
    assert signed_at == int(attempted_at.timestamp() * 1000)  # the attempt's time, not the emit's
    payload = json.loads(request["body"])
    assert payload["id"] == str(delivery_id)
    assert payload["timestamp"] == format_timestamp(event.created_at)
    stored = WebhookDelivery.objects.get()
    assert stored.body == request["body"]
    assert (stored.status, stored.attempt_count, stored.locked_until) == ("pending", 1, None)
    assert stored.next_attempt_at == attempted_at + timedelta(minutes=5)  # the retry is scheduled
    attempt = stored.attempts.get()
    assert (attempt.number, attempt.status_code, attempt.signed_at_ms) == (1, 500, signed_at)
    assert OutboxEvent.objects.get().dispatched_at == attempted_at


def test_a_later_event_fanned_out_first_waits_for_the_earlier_one(
    api, store, store_id, receiver, held_kicks
):
    add_webhook(api, store_id, receiver.url)
    order = uuid.uuid4()
    with transaction.atomic():  # one change, two events of one subscription
        first, second = (
            emit_for(store, order, event_type)
            for event_type in ("subscription.activated", "subscription.payment_succeeded")
        )

    # Two workers take the two fan-outs; the later event's happens to run first.
    fan_out(second)
    assert receiver.requests == []
    waiting = WebhookDelivery.objects.get(event=second)
    assert waiting.attempt_count == 0 and waiting.next_attempt_at > timezone.now()

    celery_app.conf.task_always_eager = True  # the kick the earlier one leaves runs right away
    fan_out(first)
    sent = [json.loads(r["body"])["eventType"] for r in receiver.requests]
    assert sent == ["subscription.activated", "subscription.payment_succeeded"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"success"}


def test_a_later_event_waiting_on_a_fan_out_goes_when_that_fan_out_made_nothing_for_it(
    api, store, store_id, receiver, held_kicks
):
    add_webhook(api, store_id, receiver.url, events=["subscription.payment_succeeded"])
    order = uuid.uuid4()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with transaction.atomic():  # one change, two events, a moment apart
            first = emit_for(store, order, "subscription.activated")
            clock.shift(timedelta(milliseconds=1))
            second = emit_for(store, order, "subscription.payment_succeeded")
        fan_out(second)  # the earlier fan-out is still running
        waiting = WebhookDelivery.objects.get()
        assert waiting.next_attempt_at == timezone.now() + fanout.WAIT_FOR_FAN_OUT  # re-check
        assert attempts.deliver(waiting.pk) == "not due" and receiver.requests == []

        assert fan_out(first) == []  # nothing for this endpoint
        clock.shift(fanout.WAIT_FOR_FAN_OUT)
        assert attempts.deliver(waiting.pk) == "success"  # the re-check the fan-out queued
    assert [json.loads(r["body"])["id"] for r in receiver.requests] == [str(waiting.pk)]


def test_a_delivery_claimed_while_an_earlier_event_is_not_fanned_out_waits(
    api, store, store_id, receiver, held_kicks
):
    add_webhook(api, store_id, receiver.url)
    order = uuid.uuid4()
    with transaction.atomic():
        first, second = (
            emit_for(store, order, event_type)
            for event_type in ("subscription.activated", "subscription.payment_succeeded")
        )
    later = timezone.now() + fanout.WAIT_FOR_FAN_OUT
    with time_machine.travel(later, tick=False):
        fan_out(second)
        (waiting,) = WebhookDelivery.objects.all()
    # The earlier event's fan-out was lost (its worker died): the re-check still holds back.
    with time_machine.travel(later + fanout.WAIT_FOR_FAN_OUT, tick=False):
        assert attempts.deliver(waiting.pk) == "waits for an earlier event"
    assert receiver.requests == []
    assert OutboxEvent.objects.get(pk=first.pk).dispatched_at is None


def test_an_answer_that_comes_after_its_lease_ran_out_is_still_recorded(
    api, store, store_id, receiver, held_kicks
):
    add_webhook(api, store_id, receiver.url)
    event = fire(store)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        (delivery_id,) = fan_out(event, from_sweep=True)  # queued, not sent
        claimed, why = attempts._claim(delivery_id)
        assert why == "claimed"
        # The POST hangs past the lease; the sweep hands the row to another worker meanwhile.
        clock.shift(attempts.lease() + timedelta(seconds=1))
        again, why = attempts._claim(delivery_id)
        assert why == "claimed" and again.attempt_count == 2
        assert attempts._attempt(claimed) == "success"  # the first POST's answer arrives

    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.locked_until, stored.attempt_count) == ("success", None, 2)
    assert [(a.number, a.status_code) for a in stored.attempts.all()] == [(1, 200)]
    assert len(receiver.requests) == 1


def test_worker_tasks_keep_a_good_database_connection_and_close_an_old_one(monkeypatch):
    connection = connections["default"]
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(True))
    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    eager_task = SimpleNamespace(request=SimpleNamespace(is_eager=True))
    assert celery_app.conf.get("CELERY_DB_REUSE_MAX")  # Celery's fixup leaves them to us

    connection.ensure_connection()
    connection.close_at = time.monotonic() + 60  # within CONN_MAX_AGE
    _close_old_connections(task=worker_task)
    assert closed == []  # kept for the next task

    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    with transaction.atomic():
        _close_old_connections(task=eager_task)  # an eager task runs inside its caller's work
    assert closed == []
    _close_old_connections(task=worker_task)
    assert closed == [True]
