"""A commit's events travel together: ``emit()`` hands the events of one transaction
to the workers in one message once it commits (none for a rollback; a rolled-back savepoint's
event comes to nothing), and the fan-out task makes their deliveries together, in the order the
events happened, POSTing while receivers answer quickly and handing the rest to other workers
when one is slow."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from billing import tasks
from billing.models import WebhookDelivery
from billing.webhooks import attempts, fanout
from pancake import outbox
from pancake.api import ids
from pancake.celery import app as celery_app
from pancake.models import OutboxEvent
from tests.billing.helpers import add_webhook, emit_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def messages(monkeypatch):
    """The fan-out messages sent after each commit."""
    sent = []
    monkeypatch.setattr(outbox.relay_events, "delay", sent.append)
    return sent


def test_a_commit_s_events_go_to_the_workers_in_one_message_in_the_order_they_happened(
    api,
    store,
    store_id,
    receiver,
    messages,
    held_kicks,
):
    add_webhook(api, store_id, receiver.url)
    order, other = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        activated = emit_for(store, order, "subscription.activated")
        elsewhere = emit_for(store, other, "order.completed")
        try:
            with transaction.atomic():  # a savepoint that rolls back, event and all
                lost = emit_for(store, uuid.uuid4(), "order.completed")
                raise RuntimeError
        except RuntimeError:
            pass
        paid = emit_for(store, order, "subscription.payment_succeeded")
        assert messages == []  # nothing before the commit

    (message,) = messages
    assert [event_id for event_id, _, _ in message] == [
        str(e.pk) for e in (activated, elsewhere, lost, paid)
    ]
    assert message[0][1:] == ["subscription.activated", str(activated.subject_id)]
    assert not OutboxEvent.objects.filter(pk=lost.pk).exists()

    receiver.statuses = [500]  # the subscription's first event fails at first
    celery_app.conf.task_always_eager = True  # the kick an earlier delivery leaves runs at once
    made = fanout.consume(message)
    assert len(made) == 3
    first = WebhookDelivery.objects.get(event=activated)
    waiting = WebhookDelivery.objects.get(event=paid)
    assert (first.status, first.attempt_count) == ("pending", 1)  # its retry is scheduled
    # the same order's later event waits behind it: not sent, not even tried
    assert (waiting.attempt_count, waiting.locked_until) == (0, None)
    assert waiting.next_attempt_at > timezone.now()
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert fanout.consume(message) == []  # once: a second run finds them dispatched

    WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    assert attempts.deliver(first.pk) == "success"  # the retry; its completion lets the next go
    sent = [json.loads(r["body"]) for r in receiver.requests]
    assert [(b["eventType"], b["data"]["orderId"]) for b in sent] == [
        ("subscription.activated", ids.encode("ORD", order)),
        ("order.completed", ids.encode("ORD", other)),
        ("subscription.activated", ids.encode("ORD", order)),
        ("subscription.payment_succeeded", ids.encode("ORD", order)),
    ]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"success"}


def test_a_rolled_back_transaction_sends_nothing_and_leaves_no_batch_behind(store, messages):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit_for(store, uuid.uuid4(), "order.completed")
        raise RuntimeError
    assert messages == []
    with transaction.atomic():
        kept = emit_for(store, uuid.uuid4(), "order.completed")
    assert [[event_id for event_id, _, _ in m] for m in messages] == [[str(kept.pk)]]
    with transaction.atomic():
        again = emit_for(store, uuid.uuid4(), "order.completed")
    assert [[event_id for event_id, _, _ in m] for m in messages][1:] == [[str(again.pk)]]


def test_a_slow_receiver_hands_the_rest_of_the_commit_to_other_workers(
    api,
    store,
    store_id,
    receiver,
    messages,
    held_kicks,
    monkeypatch,
):
    add_webhook(api, store_id, receiver.url)
    kicked = []
    monkeypatch.setattr(
        tasks.deliver_webhook, "apply_async", lambda args, **kw: kicked.append(args[0])
    )
    monkeypatch.setattr(attempts, "INLINE_BUDGET", 0.000_001)  # any POST is slow
    with transaction.atomic():
        events = [emit_for(store, uuid.uuid4(), "order.completed") for _ in range(3)]
    (message,) = messages
    made = fanout.consume(message)

    assert len(receiver.requests) == 1  # the first, then the budget was spent
    first = WebhookDelivery.objects.get(event=events[0])
    assert (first.status, first.attempt_count) == ("success", 1)
    rest = WebhookDelivery.objects.filter(event__in=events[1:]).order_by("created_at")
    # given back untouched and queued: no attempt counted, no claim held, due now
    assert [(d.status, d.attempt_count, d.locked_until, d.last_attempted_at) for d in rest] == [
        ("pending", 0, None, None)
    ] * 2
    assert all(d.next_attempt_at <= timezone.now() for d in rest)
    assert sorted(kicked) == sorted(str(d.pk) for d in rest)
    assert {str(d) for d in made} == {str(first.pk), *kicked}
    for delivery_id in kicked:  # other workers take them
        assert attempts.deliver(delivery_id) == "success"
    assert len(receiver.requests) == 3


def test_messages_queued_before_the_outbox_relayed_events_itself_still_run(
    api, store, store_id, receiver, monkeypatch, held_kicks
):
    """Workers upgraded while messages of the former task names wait in the broker: a commit's
    events under ``billing.tasks.fan_out_events``, one event (maybe without its type) under
    ``fan_out_event``: both reach every outbox consumer, the order emails' queue included."""
    add_webhook(api, store_id, receiver.url)
    queued_emails = []
    monkeypatch.setattr(tasks.send_order_emails, "delay", queued_emails.append)
    with transaction.atomic():
        completed = emit_for(store, uuid.uuid4(), "order.completed")
        other = emit_for(store, uuid.uuid4(), "order.completed")
    tasks.fan_out_events.apply(
        args=[[[str(completed.pk), "order.completed", str(completed.subject_id)]]]
    )
    tasks.fan_out_event.apply(args=[str(other.pk)])  # the oldest messages carried only the id
    assert WebhookDelivery.objects.filter(event__in=[completed, other]).count() == 2
    assert queued_emails == [str(completed.subject_id), str(other.subject_id)]
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def _fields(store, order, event_type) -> dict:
    return {
        "store_id": store.pk,
        "environment": "test",
        "event_type": event_type,
        "subject_id": uuid.uuid4(),
        "aggregate_id": order,
        "data": {"orderId": str(order), "currency": "USD"},
    }


def test_events_recorded_together_keep_each_order_s_sequence(
    api, store, store_id, receiver, messages, held_kicks
):
    """``emit_all`` (a batch of renewals): one message, and each order's events strictly later
    than the one before, so its webhooks go out one after the other."""
    add_webhook(api, store_id, receiver.url)
    a, b = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        made = outbox.emit_all(
            [
                _fields(store, a, "subscription.payment_succeeded"),
                _fields(store, b, "subscription.payment_succeeded"),
                _fields(store, a, "subscription.renewed"),
                _fields(store, b, "subscription.renewed"),
            ]
        )
    (message,) = messages
    assert [event_id for event_id, _, _ in message] == [str(e.pk) for e in made]
    created = dict(OutboxEvent.objects.values_list("pk", "created_at"))
    assert created[made[0].pk] < created[made[2].pk]
    assert created[made[1].pk] < created[made[3].pk]

    receiver.statuses = [500]  # the first POST fails
    assert len(fanout.consume(message)) == 4
    deliveries = {d.event_id: d for d in WebhookDelivery.objects.all()}
    firsts, seconds = [deliveries[e.pk] for e in made[:2]], [deliveries[e.pk] for e in made[2:]]
    assert sorted(first.status for first in firsts) == ["pending", "success"]
    for first, second in zip(firsts, seconds, strict=True):
        if first.status == "pending":  # failed: its order's second event waits behind it
            assert (second.attempt_count, second.locked_until) == (0, None)
            assert second.next_attempt_at > timezone.now()
        else:  # delivered: its order's second event was let go after it
            assert second.next_attempt_at >= first.completed_at


def test_events_are_recorded_together_only_inside_the_change_s_transaction(store):
    with pytest.raises(RuntimeError):
        outbox.emit_all([_fields(store, uuid.uuid4(), "order.completed")])
    assert not OutboxEvent.objects.exists()
