"""The portal's action (docs/portal.md): ``customer/create-portal-link``, a merchant's
single-use link that signs one buyer in to the store's customer portal."""

from rest_framework import serializers

from pancake.api.actor import MERCHANT
from pancake.api.fields import IdField, TimestampField
from pancake.api.registry import Action, action
from portal import services


class PortalLinkSerializer(serializers.Serializer):
    url = serializers.CharField()
    expiresAt = TimestampField()


@action("customer/create-portal-link", auth=(MERCHANT,), layer="user")
class CreatePortalLink(Action):
    """A link that signs ``buyerEmail`` in to the store's customer portal, in the key's
    environment: it works once, within 15 minutes (the page asks for one click first).
    ``returnUrl`` is where the portal's "back to the store" link leads."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        buyerEmail = serializers.EmailField(max_length=254)
        returnUrl = serializers.CharField(
            max_length=500, required=False, allow_null=True, allow_blank=True
        )

    Output = PortalLinkSerializer

    def perform(self, actor, data):
        url, expires_at = services.merchant_link_create(
            actor=actor,
            store_id=data["storeId"],
            buyer_email=data["buyerEmail"],
            return_url=data.get("returnUrl"),
        )
        return {"url": url, "expiresAt": expires_at}
