"""Subscription actions (docs/subscriptions.md): cancel and reactivate (API key or the buyer's
session token), and the test clock (API key, test mode)."""

from rest_framework import serializers

from billing.subscriptions import clock, lifecycle, testclock
from pancake.api.actor import BUYER, MERCHANT
from pancake.api.fields import IdField, TimestampField
from pancake.api.registry import Action, action


class CancelResultSerializer(serializers.Serializer):
    orderId = IdField("ORD")
    status = serializers.CharField()
    currentPeriodEnd = TimestampField(allow_null=True)


@action("subscription-order/cancel-order", auth=(MERCHANT, BUYER), layer="order")
class CancelSubscription(Action):
    """Cancel a subscription at the end of its period: active or trialing → canceling (then
    canceled when the period ends); past due → canceling with the retries stopped; pending →
    canceled at once."""

    class Input(serializers.Serializer):
        orderId = IdField("ORD")

    Output = CancelResultSerializer

    def perform(self, actor, data):
        order, subscription = lifecycle.cancel(actor=actor, order_id=data["orderId"])
        return {
            "orderId": order.pk,
            "status": order.status,
            "currentPeriodEnd": subscription.current_period_end if subscription else None,
        }


class ReactivateResultSerializer(serializers.Serializer):
    orderId = IdField("ORD")
    status = serializers.CharField()


@action("subscription-order/reactivate-order", auth=(MERCHANT, BUYER), layer="order")
class ReactivateSubscription(Action):
    """Undo a cancel before the period ends: canceling → active. A subscription canceled while
    its payment was failing has an unpaid balance and cannot be reactivated."""

    class Input(serializers.Serializer):
        orderId = IdField("ORD")
        productName = serializers.CharField(max_length=200, required=False, allow_null=True)

    Output = ReactivateResultSerializer

    def perform(self, actor, data):
        order, _subscription = lifecycle.reactivate(
            actor=actor, order_id=data["orderId"], product_name=data.get("productName")
        )
        return {"orderId": order.pk, "status": order.status}


class ClockResultSerializer(serializers.Serializer):
    orderId = IdField("ORD", source="order_id")
    status = serializers.CharField()
    clockTime = serializers.SerializerMethodField()
    currentPeriodStart = TimestampField(source="current_period_start")
    currentPeriodEnd = TimestampField(source="current_period_end")
    periodNumber = serializers.IntegerField(source="period_number")

    def get_clockTime(self, subscription) -> str:
        return TimestampField().to_representation(clock.now(subscription))


@action("subscription-order/advance-test-clock", auth=(MERCHANT,), layer="order")
class AdvanceTestClock(Action):
    """Move a test-mode subscription's clock forward (later than its clock, at most 2 years)
    and run every renewal, retry, trial end, period end and reminder that falls due on the way,
    as the scheduled tasks would."""

    class Input(serializers.Serializer):
        orderId = IdField("ORD")
        advanceTo = serializers.DateTimeField()

    Output = ClockResultSerializer

    def perform(self, actor, data):
        return testclock.advance(
            actor=actor, order_id=data["orderId"], advance_to=data["advanceTo"]
        )
