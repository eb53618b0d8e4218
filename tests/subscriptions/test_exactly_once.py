"""Each (subscription, period) is charged at most once, whatever happens: two renewal runs racing
over the same due set, a run re-executed after its lease, a worker SIGKILLed between the
provider's charge and our record of it, a provider that times out and answers later, two test
clock advances at once. The test processor keeps one row per attempt id (our payment's id, the
idempotency key), so counting its rows counts real charges."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from billing.models import (
    Payment,
    PaymentStatus,
    Subscription,
    TestProcessorPayment,
)
from billing.providers import test_processor
from billing.subscriptions import renewals, testclock
from billing.tasks import renew_subscriptions
from pancake.api.actor import merchant_actor
from tests.factories import ProductFactory
from tests.subscriptions.helpers import at, beat, refresh, subscribe, utc

START = utc(2027, 1, 10, 9)
RENEWAL_DUE = utc(2027, 2, 10, 9, 1)


def renewal_charges(subscription, period=2) -> list[Payment]:
    return list(
        Payment.objects.filter(subscription=subscription, purpose="renewal", period_number=period)
    )


def processor_charges(payments) -> int:
    """Real charges the provider made for these payment rows (one per attempt id at most)."""
    return TestProcessorPayment.objects.filter(
        attempt_id__in=[str(p.pk) for p in payments], off_session=True
    ).count()


def assert_charged_once(subscription, period=2):
    rows = renewal_charges(subscription, period)
    paid = [p for p in rows if p.status == PaymentStatus.SUCCEEDED]
    assert len(paid) == 1, [(p.attempt, p.status) for p in rows]
    assert processor_charges(rows) == 1
    assert refresh(subscription).period_number == period


def in_threads(count, target):
    errors = []
    barrier = threading.Barrier(count)

    def body(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_renewal_runs_racing_over_one_due_set_charge_each_period_once(
    api, store, require_postgres, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        subscriptions = [
            subscribe(api, plan, django_capture_on_commit_callbacks)[1] for _ in range(12)
        ]
    ids = [s.pk for s in subscriptions]
    with time_machine.travel(RENEWAL_DUE, tick=True):
        # Two beats claiming (disjoint sets, SKIP LOCKED) and two runs ignoring the leases, as
        # a task re-run after its lease ran out would: four runners over one due set.
        def runner(i):
            if i < 2:
                while renewals.claim_due(limit=3):
                    pass
                renewals.run_claimed(ids)
            else:
                for pk in ids if i == 2 else reversed(ids):
                    renewals.run(pk)

        in_threads(4, runner)
    for subscription in subscriptions:
        assert_charged_once(subscription)
    assert not Payment.objects.filter(status=PaymentStatus.PROCESSING).exists()


@pytest.mark.django_db
def test_the_provider_timing_out_then_answering_charges_once(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        _order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    test_processor.fail_next("charge_saved", kind="timeout")  # charges, then no answer
    with at(RENEWAL_DUE):
        beat(django_capture_on_commit_callbacks)
    (open_charge,) = renewal_charges(subscription)
    assert open_charge.status == PaymentStatus.PROCESSING
    assert processor_charges([open_charge]) == 1  # the provider did charge
    subscription = refresh(subscription)
    assert subscription.period_number == 1
    assert subscription.due_at == RENEWAL_DUE + renewals.RECONCILE_AFTER  # asked again soon
    with at(RENEWAL_DUE + timedelta(seconds=30)):
        beat(django_capture_on_commit_callbacks)  # not yet
    assert refresh(subscription).period_number == 1
    with at(RENEWAL_DUE + timedelta(minutes=2)):
        beat(django_capture_on_commit_callbacks)
    assert_charged_once(subscription)
    open_charge.refresh_from_db()
    assert open_charge.status == PaymentStatus.SUCCEEDED  # the same row, the same key


@pytest.mark.django_db
def test_a_provider_error_before_charging_retries_with_the_same_key(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        _order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    test_processor.fail_next("charge_saved", kind="error")
    with at(RENEWAL_DUE):
        beat(django_capture_on_commit_callbacks)
    (open_charge,) = renewal_charges(subscription)
    assert open_charge.status == PaymentStatus.PROCESSING
    assert processor_charges([open_charge]) == 0
    with at(RENEWAL_DUE + timedelta(minutes=2)):
        beat(django_capture_on_commit_callbacks)
    assert_charged_once(subscription)
    assert renewal_charges(subscription) == [open_charge]


@pytest.mark.django_db
def test_running_again_after_the_record_changes_nothing(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        _order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(RENEWAL_DUE):
        beat(django_capture_on_commit_callbacks)
        assert renewals.run(subscription.pk) == 0  # a duplicate task message
        beat(django_capture_on_commit_callbacks)
    assert_charged_once(subscription)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_test_clock_advances_at_once_serialise(
    api, store, merchant, require_postgres, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    actor = merchant_actor(merchant, "test")
    targets = [utc(2027, 4, 11), utc(2027, 4, 11)]
    outcomes = []

    def advance(i):
        try:
            outcomes.append(
                testclock.advance(actor=actor, order_id=order.pk, advance_to=targets[i])
            )
        except Exception as exc:  # noqa: BLE001 -- the later one may find the clock there already
            outcomes.append(exc)

    with time_machine.travel(START + timedelta(minutes=5), tick=True):
        in_threads(2, advance)
    # One ran every step; the other then found the clock already there (400), or ran after it.
    assert sum(isinstance(o, Subscription) for o in outcomes) >= 1, outcomes
    for period in (2, 3, 4):
        rows = renewal_charges(subscription, period)
        assert [p.status for p in rows] == [PaymentStatus.SUCCEEDED]
        assert processor_charges(rows) == 1
    assert refresh(subscription).period_number == 4


# --- a real worker killed between the provider's charge and our record ---------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_charge_and_record_is_reconciled_by_the_next_run(
    api, store, workers, redis_url, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(START):
        _order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    shift = RENEWAL_DUE.timestamp() - time.time()  # the worker lives at the renewal's time
    # The worker's cache is its Redis: the processor there will charge, then never answer.
    worker_cache = RedisCache(redis_url, {})
    worker_cache.set("billing:test_processor:fault:charge_saved", "hang", None)
    first = workers.start(shift_seconds=shift)
    with time_machine.travel(RENEWAL_DUE, tick=True):
        renew_subscriptions.delay()  # the beat's message; the worker claims and runs the batch
    deadline = time.monotonic() + 30
    while not TestProcessorPayment.objects.filter(off_session=True).exists():
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.1)
    first.kill()  # SIGKILL while the provider's answer is on its way
    (open_charge,) = renewal_charges(subscription)
    assert open_charge.status == PaymentStatus.PROCESSING
    assert processor_charges([open_charge]) == 1
    assert refresh(subscription).period_number == 1

    # After the dead worker's lease ran out, the next beat's run asks the provider again with
    # the same key and records the charge it made.
    workers.start(shift_seconds=shift + renewals.LEASE.total_seconds() + 60)
    with time_machine.travel(RENEWAL_DUE + renewals.LEASE + timedelta(minutes=1), tick=True):
        renew_subscriptions.delay()
    deadline = time.monotonic() + 30
    while refresh(subscription).period_number != 2:
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.1)
    assert_charged_once(subscription)
    open_charge.refresh_from_db()
    assert open_charge.status == PaymentStatus.SUCCEEDED
