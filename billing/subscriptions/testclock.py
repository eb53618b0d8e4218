"""Test clocks: move one test-mode subscription's clock forward and run, in time order, every
step that falls due on the way, exactly as the beat task runs them (``renewals.run``), each at
its own simulated time. Two advances of one subscription serialise on its lease."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from billing.models import Subscription
from billing.subscriptions import clock, renewals
from billing.subscriptions.selectors import access_subscription
from pancake.api.actor import Actor
from pancake.api.errors import Conflict, Forbidden, InvalidInput
from pancake.models import Environment

TEST_ONLY = "Test clocks are available in test mode only"
WAIT_SECONDS = 60


def advance(*, actor: Actor, order_id: uuid.UUID, advance_to: datetime) -> Subscription:
    if actor.environment != Environment.TEST:
        raise Forbidden(TEST_ONLY, layer="order", code="test_mode_only")
    order, subscription = access_subscription(actor, order_id)
    if order.environment != Environment.TEST:
        raise Forbidden(TEST_ONLY, layer="order", code="test_mode_only")
    if subscription is None:
        raise InvalidInput(
            "The subscription has not started: its first payment is still pending",
            layer="order",
            code="not_started",
        )
    _take_lease(subscription.pk)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
            current = clock.now(subscription)
            if advance_to <= current:
                raise InvalidInput(
                    "advanceTo must be later than the subscription's clock time",
                    layer="order",
                    field="advanceTo",
                    code="not_later",
                )
            if advance_to - current > clock.MAX_ADVANCE:
                raise InvalidInput(
                    "advanceTo must be at most 2 years after the subscription's clock time",
                    layer="order",
                    field="advanceTo",
                    code="too_far",
                )
            subscription.clock_offset = advance_to - timezone.now()
            subscription.save(update_fields=["clock_offset", "updated_at"])
    except BaseException:
        Subscription.objects.filter(pk=subscription.pk).update(locked_until=None)
        raise
    renewals.run(subscription.pk, until=advance_to)  # releases the lease
    return Subscription.objects.get(pk=subscription.pk)


def _take_lease(subscription_id) -> None:
    """Wait for a run in progress on the subscription (the beat task's, another advance)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not renewals.claim(subscription_id):
        if time.monotonic() > deadline:
            raise Conflict("The subscription is busy, try again", layer="order")
        time.sleep(0.05)
