"""Store, team and session-token actions: the SDK's ``stores.*``, ``storeMerchants.*`` and
``auth.issueSessionToken``, and ``contentSafety.scanPrompt`` (which answers 501)."""

from django.utils import timezone
from rest_framework import serializers

from billing.webhooks.endpoints import default_endpoints_set
from pancake.api.actor import MERCHANT
from pancake.api.errors import NotImplementedYet
from pancake.api.fields import IdField
from pancake.api.registry import Action, action
from products import selectors as product_selectors
from stores import services
from stores.models import StoreStatus
from stores.serializers import (
    MemberAddedSerializer,
    MemberRemovedSerializer,
    MemberRoleSerializer,
    SessionTokenSerializer,
    StoreEnvelope,
)


class StoreNameField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("trim_whitespace", True)
        kwargs.setdefault(
            "error_messages",
            {
                "blank": "Store name must be between 1 and 100 characters",
                "max_length": "Store name must be between 1 and 100 characters",
            },
        )
        super().__init__(**kwargs)


@action("store/create-store", auth=(MERCHANT,), layer="store")
class CreateStore(Action):
    """Create a store; the caller becomes its owner (at most 20 stores per merchant)."""

    class Input(serializers.Serializer):
        name = StoreNameField()

    Output = StoreEnvelope

    def perform(self, actor, data):
        return {"store": services.store_create(merchant=actor.merchant, name=data["name"])}


@action("store/update-store", auth=(MERCHANT,), layer="store")
class UpdateStore(Action):
    """Update a store (owner or admin); only the fields sent change."""

    class Input(serializers.Serializer):
        id = IdField("STO")
        name = StoreNameField(required=False)
        status = serializers.ChoiceField(choices=StoreStatus.choices, required=False)
        logo = serializers.URLField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )
        supportEmail = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
        website = serializers.URLField(
            max_length=500, required=False, allow_null=True, allow_blank=True
        )
        notificationSettings = serializers.JSONField(required=False, allow_null=True)
        checkoutSettings = serializers.JSONField(required=False, allow_null=True)
        webhookSettings = serializers.JSONField(required=False, allow_null=True)

    Output = StoreEnvelope
    FIELDS = {
        "name": "name",
        "status": "status",
        "logo": "logo",
        "supportEmail": "support_email",
        "website": "website",
        "notificationSettings": "notification_settings",
        "checkoutSettings": "checkout_settings",
    }

    def perform(self, actor, data):
        changes = {self.FIELDS[k]: v for k, v in data.items() if k in self.FIELDS}
        if "logo" in changes and changes["logo"] == "":
            changes["logo"] = None
        store, dropped = services.store_update(actor=actor, store_id=data["id"], **changes)
        if data.get("webhookSettings") is not None:
            ignored = default_endpoints_set(
                actor=actor, store_id=store.pk, settings=data["webhookSettings"]
            )
            if ignored:
                self.warn("webhookSettings keys ignored: " + ", ".join(ignored), "store")
        if dropped:
            self.warn(
                "notificationSettings keys not writable by merchants were dropped: "
                + ", ".join(sorted(dropped)),
                "store",
            )
        return {"store": store}


@action("store/delete-store", auth=(MERCHANT,), layer="store")
class DeleteStore(Action):
    """Soft-delete a store (owner only); its data is kept."""

    class Input(serializers.Serializer):
        id = IdField("STO")

    Output = StoreEnvelope

    def perform(self, actor, data):
        return {"store": services.store_delete(actor=actor, store_id=data["id"])}


class RoleField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=["admin", "member"],
            error_messages={"invalid_choice": "Invalid role: expected admin or member"},
            **kwargs,
        )


@action("store-merchant/add-merchant", auth=(MERCHANT,), layer="store")
class AddMerchant(Action):
    """Invite a merchant to a store by email with the admin or member role (owner or admin)."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        email = serializers.EmailField(max_length=254)
        role = RoleField()

    Output = MemberAddedSerializer

    def perform(self, actor, data):
        return services.member_add(
            actor=actor, store_id=data["storeId"], email=data["email"], role=data["role"]
        )


@action("store-merchant/remove-merchant", auth=(MERCHANT,), layer="store")
class RemoveMerchant(Action):
    """Remove a member from a store (owner or admin; the owner cannot be removed)."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        merchantId = IdField("MER")

    Output = MemberRemovedSerializer

    def perform(self, actor, data):
        services.member_remove(
            actor=actor, store_id=data["storeId"], merchant_id=data["merchantId"]
        )
        return {"message": "Merchant removed from store", "removedAt": timezone.now()}


@action("store-merchant/update-role", auth=(MERCHANT,), layer="store")
class UpdateRole(Action):
    """Change a member's role between admin and member (the owner's role cannot change here)."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        merchantId = IdField("MER")
        role = RoleField()

    Output = MemberRoleSerializer

    def perform(self, actor, data):
        return services.member_update_role(
            actor=actor, store_id=data["storeId"], merchant_id=data["merchantId"], role=data["role"]
        )


@action("auth/issue-session-token", auth=(MERCHANT,), layer="user")
class IssueSessionToken(Action):
    """Issue a buyer session token for a store or product (5 minutes, sliding, 60 at most)."""

    class Input(serializers.Serializer):
        storeId = IdField("STO", required=False, allow_null=True)
        productId = IdField("PROD", required=False, allow_null=True)
        buyerIdentity = serializers.CharField(max_length=320)

        def validate(self, attrs):
            if not attrs.get("storeId") and not attrs.get("productId"):
                raise serializers.ValidationError("Missing required field: storeId or productId")
            return attrs

    Output = SessionTokenSerializer

    def perform(self, actor, data):
        product_id = data.get("productId")
        token, session = services.buyer_session_issue(
            actor=actor,
            buyer_identity=data["buyerIdentity"],
            store_id=data.get("storeId"),
            product_id=product_id,
            product_store_id=product_selectors.store_of_product(product_id) if product_id else None,
        )
        return {"token": token, "expiresAt": session.expires_at}


@action("verification/scan-prompt", auth=(MERCHANT,), layer="gateway")
class ScanPrompt(Action):
    """Content safety prompt scanning: not offered by Pancake (501)."""

    def perform(self, actor, data):
        raise NotImplementedYet("Content safety scanning is not available on this server")
