"""Checkout actions: sessions (create, expire), the tax preview, and orders (create one-time and
subscription orders, cancel a one-time order); docs/products-and-checkout.md."""

from rest_framework import serializers

from billing import services as billing_services
from billing.subscriptions import plan_changes
from checkout import services
from pancake.api.actor import BUYER, MERCHANT, STORE_SLUG
from pancake.api.fields import AmountField, IdField, TimestampField
from pancake.api.registry import Action, action


class SessionResultSerializer(serializers.Serializer):
    sessionId = serializers.CharField(source="pk")
    checkoutUrl = serializers.SerializerMethodField()
    expiresAt = TimestampField(source="expires_at")

    def get_checkoutUrl(self, session) -> str:
        return services.checkout_url(session)


@action("checkout/create-session", auth=(MERCHANT, STORE_SLUG, BUYER), layer="order")
class CreateSession(Action):
    """Create a checkout session: the product version, price and currency are frozen for it.

    New purchases: API key or store slug; `priceSnapshot`, `orderMerchantExternalId` and the
    payment-method lists need an API key.

    Plan change (`originOrderId`, an active, trialing or past-due subscription order; API key
    or the buyer's session token, never a store slug): `productId` is the new plan, `currency`
    the subscription's; `changeTiming` `immediate` or `next_period` (omitted: an upgrade at
    once, anything else at the period's end); an API key may set the amount instead of the
    proration (`changeAmount` or `changeCreditAmount`, tax included) and `priceSnapshot`. The
    `checkoutUrl` is the change's confirmation page."""

    class Input(serializers.Serializer):
        productId = IdField("PROD")
        currency = serializers.CharField(max_length=3)
        storeId = IdField("STO", required=False, allow_null=True)
        productType = serializers.ChoiceField(
            choices=["onetime", "subscription"], required=False, allow_null=True
        )
        originOrderId = IdField("ORD", required=False, allow_null=True)
        withTrial = serializers.BooleanField(required=False, allow_null=True)
        buyerEmail = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
        billingDetail = serializers.JSONField(required=False, allow_null=True)
        successUrl = serializers.URLField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )
        expiresInSeconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        metadata = serializers.JSONField(required=False, allow_null=True)
        darkMode = serializers.BooleanField(required=False, allow_null=True)
        language = serializers.CharField(
            max_length=35, required=False, allow_null=True, allow_blank=True
        )
        priceSnapshot = serializers.JSONField(required=False, allow_null=True)
        orderMerchantExternalId = serializers.CharField(
            max_length=128, required=False, allow_null=True
        )
        includePaymentMethods = serializers.ListField(
            child=serializers.CharField(max_length=20),
            required=False,
            allow_null=True,
            max_length=10,
        )
        excludePaymentMethods = serializers.ListField(
            child=serializers.CharField(max_length=20),
            required=False,
            allow_null=True,
            max_length=10,
        )
        changeTiming = serializers.ChoiceField(
            choices=["immediate", "next_period"], required=False, allow_null=True
        )
        changeAmount = serializers.JSONField(required=False, allow_null=True)
        changeCreditAmount = serializers.JSONField(required=False, allow_null=True)

    Output = SessionResultSerializer
    PLAN_CHANGE_FIELDS = {
        "changeTiming": "change_timing",
        "changeAmount": "change_amount",
        "changeCreditAmount": "change_credit_amount",
    }
    FIELDS = {
        "storeId": "store_id",
        "productType": "product_type",
        "originOrderId": "origin_order_id",
        "withTrial": "with_trial",
        "buyerEmail": "buyer_email",
        "billingDetail": "billing_detail",
        "successUrl": "success_url",
        "expiresInSeconds": "expires_in_seconds",
        "metadata": "metadata",
        "darkMode": "dark_mode",
        "language": "language",
        "priceSnapshot": "price_snapshot",
        "orderMerchantExternalId": "order_merchant_external_id",
        "includePaymentMethods": "include_payment_methods",
        "excludePaymentMethods": "exclude_payment_methods",
    }

    def perform(self, actor, data):
        options = {self.FIELDS[k]: v for k, v in data.items() if k in self.FIELDS}
        if options.pop("origin_order_id", None) is not None:
            change = self.PLAN_CHANGE_FIELDS
            options.update({change[k]: v for k, v in data.items() if k in change})
            return plan_changes.propose(
                actor=actor,
                origin_order_id=data["originOrderId"],
                product_id=data["productId"],
                currency=data["currency"],
                warn=lambda message: self.warn(message),
                **options,
            )
        for name in self.PLAN_CHANGE_FIELDS:
            if data.get(name) is not None:
                self.warn(f"{name} ignored: it belongs to a plan change (originOrderId)")
        return services.session_create(
            actor=actor,
            product_id=data["productId"],
            currency=data["currency"],
            warn=lambda message: self.warn(message),
            **options,
        )


class TaxPreviewSerializer(serializers.Serializer):
    subtotal = AmountField()
    taxAmount = AmountField(source="tax_amount")
    total = AmountField()
    taxRate = serializers.FloatField(source="tax_rate")
    taxName = serializers.CharField(source="tax_name")
    reverseCharge = serializers.BooleanField(source="reverse_charge")
    currency = serializers.CharField()


@action("checkout/preview-tax", auth=(MERCHANT, STORE_SLUG), layer="order")
class PreviewTax(Action):
    """Preview the tax of a session's price for a billing detail (the live order summary)."""

    class Input(serializers.Serializer):
        checkoutSessionId = IdField()
        billingDetail = serializers.JSONField()

    Output = TaxPreviewSerializer

    def perform(self, actor, data):
        session, result = services.tax_preview(
            actor=actor, session_id=data["checkoutSessionId"], billing_detail=data["billingDetail"]
        )
        return {
            "subtotal": result.subtotal,
            "tax_amount": result.tax_amount,
            "total": result.total,
            "tax_rate": float(result.rate),
            "tax_name": result.tax_name,
            "reverse_charge": result.reverse_charge,
            "currency": session.currency,
        }


class _CreateOrder(Action):
    """Create an order from a checkout session; answers the provider's payment page."""

    kind = ""

    class Input(serializers.Serializer):
        checkoutSessionId = IdField()
        billingDetail = serializers.JSONField(required=False, allow_null=True)
        buyerEmail = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
        buyerIp = serializers.IPAddressField(required=False, allow_null=True)
        successUrl = serializers.URLField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )

    def perform(self, actor, data):
        order, url = billing_services.order_place(
            actor=actor,
            kind=self.kind,
            session_id=data["checkoutSessionId"],
            billing_detail=data.get("billingDetail"),
            buyer_email=data.get("buyerEmail") or None,
            buyer_ip=data.get("buyerIp"),
            success_url=data.get("successUrl") or None,
        )
        if getattr(order, "trial_refused", False):
            self.warn("No trial: this buyer already had a trial in the product's group")
        return {"checkoutUrl": url}


for _kind, _path in (
    ("onetime", "onetime-order/create-order"),
    ("subscription", "subscription-order/create-order"),
):
    action(_path, auth=(MERCHANT, BUYER), layer="order")(
        type(
            f"Create{_kind.title()}Order",
            (_CreateOrder,),
            {
                "kind": _kind,
                "__doc__": _CreateOrder.__doc__,
                "Input": type("Input", (_CreateOrder.Input,), {}),
            },
        )
    )


class OrderStatusSerializer(serializers.Serializer):
    orderId = IdField("ORD", source="pk")
    status = serializers.CharField()


@action("onetime-order/cancel-order", auth=(MERCHANT, BUYER), layer="order")
class CancelOnetimeOrder(Action):
    """Cancel a pending one-time order (API key or the buyer's session token)."""

    class Input(serializers.Serializer):
        orderId = IdField("ORD")

    Output = OrderStatusSerializer

    def perform(self, actor, data):
        return billing_services.order_cancel(actor=actor, order_id=data["orderId"])


class ExpiredSessionSerializer(serializers.Serializer):
    sessionId = serializers.CharField(source="pk")
    status = serializers.CharField()
    expiresAt = TimestampField(source="expires_at")


@action("checkout/expire-session", auth=(MERCHANT,), layer="order")
class ExpireSession(Action):
    """Expire an open checkout session early (its page then offers a new checkout). A session
    with an order is refused (409): cancel the order instead."""

    class Input(serializers.Serializer):
        checkoutSessionId = IdField()

    Output = ExpiredSessionSerializer

    def perform(self, actor, data):
        return services.session_expire(actor=actor, session_id=data["checkoutSessionId"])
