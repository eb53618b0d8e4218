"""Refund actions (docs/refunds.md): tickets filed and resubmitted (API key, or the buyer's session
token for their own payment), reviewed (API key), and the merchant's refund of a payment.

Every answer is ``{ticket}`` in the SDK's ``RefundTicket`` shape, with the documentation pages'
flat ``ticketId``, ``status`` and ``requestedAmount`` beside it. Amounts come in either as the
SDK's ``requestedAmount: {amount: "29.00", currency}`` or as the pages' ``amount`` (minor units
as a number, or a display string); omitting both asks for everything that is left."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.refunds import services
from pancake.api.actor import BUYER, MERCHANT
from pancake.api.errors import InvalidInput
from pancake.api.fields import AmountField, IdField, TimestampField, render_amount, render_id
from pancake.api.registry import Action, action


class _VersionData(serializers.Serializer):
    reason = serializers.CharField()
    requestedAmount = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
        }
    )
    def get_requestedAmount(self, ticket) -> dict:
        version = self.context.get("api_version")
        return {
            "amount": render_amount(ticket.requested_amount, ticket.currency, version),
            "currency": ticket.currency,
        }


class TicketSerializer(serializers.Serializer):
    """The SDK's ``RefundTicket``, plus the documentation pages' ticket fields."""

    id = IdField("TKT")
    type = serializers.SerializerMethodField()
    status = serializers.CharField()
    subjectId = IdField("PAY", source="payment_id")
    paymentId = IdField("PAY", source="payment_id")
    storeId = IdField("STO", source="store_id")
    orderId = IdField("ORD", source="order_id")
    submitterId = serializers.SerializerMethodField()
    submitterType = serializers.CharField(source="submitter_type")
    currentVersionId = serializers.SerializerMethodField()
    reviewerId = serializers.SerializerMethodField()
    reviewedAt = TimestampField(source="reviewed_at")
    reviewNote = serializers.SerializerMethodField()
    rejectReason = serializers.SerializerMethodField()
    executedAt = TimestampField(source="executed_at")
    resolvedAt = TimestampField(source="resolved_at")
    metadata = serializers.JSONField()
    refundTicketMerchantExternalId = serializers.CharField(
        source="refund_ticket_merchant_external_id", allow_null=True
    )
    versionNumber = serializers.IntegerField(source="version_number")
    versionData = _VersionData(source="*")
    reason = serializers.CharField()
    requestedAmount = AmountField(source="requested_amount")
    approvedAmount = AmountField(source="approved_amount")
    currency = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_type(self, ticket) -> str:
        return "refund"

    def get_submitterId(self, ticket) -> str | None:
        if ticket.submitter_type == "merchant":
            return render_id(ticket.submitter_id, "MER", self.context.get("api_version"))
        return ticket.submitter_id

    def get_reviewerId(self, ticket) -> str | None:
        return render_id(ticket.reviewer_id, "MER", self.context.get("api_version"))

    def get_currentVersionId(self, ticket) -> str | None:
        version = ticket.versions.order_by("-number").values_list("pk", flat=True).first()
        return str(version) if version else None

    def get_reviewNote(self, ticket) -> str | None:
        return ticket.review_note or None

    def get_rejectReason(self, ticket) -> str | None:
        return ticket.reject_reason or None


class TicketEnvelope(serializers.Serializer):
    ticket = TicketSerializer(source="*")
    ticketId = IdField("TKT", source="id")
    status = serializers.CharField()
    requestedAmount = AmountField(source="requested_amount")


class _AmountInput(serializers.Serializer):
    """Accepts ``requestedAmount: {amount, currency}`` (the SDK's) and ``amount`` (the pages')."""

    requestedAmount = serializers.JSONField(required=False, allow_null=True)
    amount = serializers.JSONField(required=False, allow_null=True)


def requested(data: dict, name: str) -> dict:
    """``{amount, currency, amount_field}`` from ``name: {amount, currency}`` or a bare
    ``amount``; both None when neither was sent."""
    sent = data.get(name)
    if sent is not None:
        if not isinstance(sent, dict) or "amount" not in sent:
            raise InvalidInput(
                f'Invalid {name}: expected {{"amount": "29.00", "currency": "USD"}}',
                field=name,
                layer="ticket",
            )
        currency = sent.get("currency")
        if currency is not None and not isinstance(currency, str):
            raise InvalidInput(f"Invalid {name}.currency", field=f"{name}.currency", layer="ticket")
        return {"amount": sent["amount"], "currency": currency, "amount_field": f"{name}.amount"}
    return {"amount": data.get("amount"), "currency": None, "amount_field": "amount"}


@action("refund-ticket/create-ticket", auth=(MERCHANT, BUYER), layer="ticket")
class CreateTicket(Action):
    """Ask for all or part of a payment back: a `pending` ticket for the merchant to review.
    Buyers ask for their own payments, one-time ones within 7 days of paying. The amount may not
    exceed what is left (the payment less what was refunded and what other open tickets hold)."""

    class Input(_AmountInput):
        paymentId = IdField("PAY")
        reason = serializers.CharField(max_length=1000)
        metadata = serializers.DictField(required=False, allow_null=True)
        refundTicketMerchantExternalId = serializers.CharField(
            max_length=128, required=False, allow_null=True
        )

    Output = TicketEnvelope

    def perform(self, actor, data):
        data = {**data, **requested(data, "requestedAmount")}
        return services.ticket_create(
            actor=actor,
            payment_id=data["paymentId"],
            reason=data["reason"],
            amount=data["amount"],
            currency=data["currency"],
            amount_field=data["amount_field"],
            metadata=data.get("metadata"),
            external_id=data.get("refundTicketMerchantExternalId"),
        )


@action("refund-ticket/resubmit-ticket", auth=(MERCHANT, BUYER), layer="ticket")
class ResubmitTicket(Action):
    """Send a rejected ticket back for review as its next version (`versionNumber` + 1),
    keeping its external id."""

    class Input(_AmountInput):
        ticketId = IdField("TKT")
        paymentId = IdField("PAY")
        reason = serializers.CharField(max_length=1000)

    Output = TicketEnvelope

    def perform(self, actor, data):
        data = {**data, **requested(data, "requestedAmount")}
        return services.ticket_resubmit(
            actor=actor,
            ticket_id=data["ticketId"],
            payment_id=data["paymentId"],
            reason=data["reason"],
            amount=data["amount"],
            currency=data["currency"],
            amount_field=data["amount_field"],
        )


@action("refund-ticket/approve-ticket", auth=(MERCHANT,), layer="ticket")
class ApproveTicket(Action):
    """Approve a pending ticket, optionally for a smaller `approvedAmount`: the refund is sent
    to the payment provider (`processing`, then `succeeded` or `failed`)."""

    class Input(serializers.Serializer):
        ticketId = IdField("TKT")
        approvedAmount = serializers.JSONField(required=False, allow_null=True)
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    Output = TicketEnvelope

    def perform(self, actor, data):
        approved = data.get("approvedAmount")
        if isinstance(approved, dict):  # {amount, currency} like requestedAmount
            approved = requested({"approvedAmount": approved}, "approvedAmount")["amount"]
        return services.ticket_approve(
            actor=actor,
            ticket_id=data["ticketId"],
            approved_amount=approved,
            note=data.get("note") or "",
        )


@action("refund-ticket/reject-ticket", auth=(MERCHANT,), layer="ticket")
class RejectTicket(Action):
    """Reject a pending ticket with a reason the buyer sees; they may resubmit it."""

    class Input(serializers.Serializer):
        ticketId = IdField("TKT")
        reason = serializers.CharField(max_length=1000)

    Output = TicketEnvelope

    def perform(self, actor, data):
        return services.ticket_reject(
            actor=actor, ticket_id=data["ticketId"], reason=data["reason"]
        )


@action("payment/refund-payment", auth=(MERCHANT,), layer="ticket")
class RefundPayment(Action):
    """Refund a payment (any payment of the store, subscription charges too): all that is left,
    or `amount` `{amount, currency}`; with `cancelSubscription`, its subscription ends now.
    Answers the approved merchant ticket."""

    class Input(serializers.Serializer):
        paymentId = IdField("PAY")
        amount = serializers.JSONField(required=False, allow_null=True)
        reason = serializers.CharField(max_length=1000)
        cancelSubscription = serializers.BooleanField(required=False, default=False)

    Output = TicketEnvelope

    def perform(self, actor, data):
        sent = data.get("amount")
        if isinstance(sent, dict):
            parsed = requested({"amount": sent}, "amount")
        else:
            parsed = {"amount": sent, "currency": None, "amount_field": "amount"}
        return services.payment_refund(
            actor=actor,
            payment_id=data["paymentId"],
            reason=data["reason"],
            amount=parsed["amount"],
            currency=parsed["currency"],
            amount_field=parsed["amount_field"],
            cancel_subscription=data["cancelSubscription"],
        )
