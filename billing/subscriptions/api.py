"""Subscription actions (docs/subscriptions.md): cancel and reactivate (API key or the buyer's
session token), the test clock (API key, test mode), and the plan-change shortcut (API key)."""

from rest_framework import serializers

from billing.subscriptions import clock, lifecycle, plan_changes, testclock
from pancake.api.actor import BUYER, MERCHANT
from pancake.api.fields import AmountField, IdField, TimestampField
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
            # When it ends: the period's end (past due: when its retries would have ended).
            "currentPeriodEnd": (
                (subscription.cancel_at or subscription.current_period_end)
                if subscription
                else None
            ),
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
    orderId = IdField("ORD")
    status = serializers.CharField()
    clockTime = TimestampField()
    currentPeriodStart = TimestampField()
    currentPeriodEnd = TimestampField()
    periodNumber = serializers.IntegerField()


@action("subscription-order/advance-test-clock", auth=(MERCHANT,), layer="order")
class AdvanceTestClock(Action):
    """Move a test-mode subscription's clock forward (later than its clock, at most 2 years)
    and run every renewal, retry, trial end, period end and reminder that falls due on the way,
    as the scheduled tasks would."""

    class Input(serializers.Serializer):
        orderId = IdField("ORD")
        advanceTo = serializers.DateTimeField()

    Output = ClockResultSerializer
    # Each step commits before and after its charge, as the beat task's runs do.
    atomic = False

    def perform(self, actor, data):
        subscription = testclock.advance(
            actor=actor, order_id=data["orderId"], advance_to=data["advanceTo"]
        )
        return {
            "orderId": subscription.order_id,
            "status": subscription.status,
            "clockTime": clock.now(subscription),
            "currentPeriodStart": subscription.current_period_start,
            "currentPeriodEnd": subscription.current_period_end,
            "periodNumber": subscription.period_number,
        }


class ChangeResultSerializer(serializers.Serializer):
    orderId = IdField("ORD", source="order_id")
    status = serializers.CharField(source="order.status")
    productId = IdField("PROD", source="product_id")
    planChangeStatus = serializers.CharField(source="change.status")
    changeTiming = serializers.CharField(source="change.timing")
    effectiveAt = TimestampField(source="change.effective_at", allow_null=True)
    currency = serializers.CharField()
    chargedAmount = AmountField(source="change.charge_amount")
    creditAmount = AmountField(source="change.credit_amount")
    failureReason = serializers.CharField(source="change.failure_message", allow_blank=True)
    currentPeriodEnd = TimestampField(source="current_period_end")


@action("subscription-order/change-product", auth=(MERCHANT,), layer="order")
class ChangeProduct(Action):
    """Move a subscription to another subscription product of its store at once: a plan-change
    session made and confirmed in one call (`checkout/create-session` with `originOrderId`
    makes one to confirm on its page). `changeTiming`, `changeAmount` and
    `changeCreditAmount` as there. Answers the order's status and the change's:
    `planChangeStatus` `applied`, `scheduled` (at `effectiveAt`) or `failed` (the charge was
    declined: the plan stays, `failureReason` says why)."""

    # The upgrade's charge is committed as processing before the provider is called, and its
    # outcome recorded in a second transaction (plan_changes.confirm).
    atomic = False

    class Input(serializers.Serializer):
        orderId = IdField("ORD")
        targetProductId = IdField("PROD")
        currency = serializers.CharField(max_length=3, required=False, allow_null=True)
        changeTiming = serializers.ChoiceField(
            choices=["immediate", "next_period"], required=False, allow_null=True
        )
        changeAmount = serializers.JSONField(required=False, allow_null=True)
        changeCreditAmount = serializers.JSONField(required=False, allow_null=True)

    Output = ChangeResultSerializer

    def perform(self, actor, data):
        subscription, change = plan_changes.change_product(
            actor=actor,
            order_id=data["orderId"],
            target_product_id=data["targetProductId"],
            currency=data.get("currency"),
            change_timing=data.get("changeTiming"),
            change_amount=data.get("changeAmount"),
            change_credit_amount=data.get("changeCreditAmount"),
            warn=lambda message: self.warn(message),
        )
        subscription.change = change
        return subscription
