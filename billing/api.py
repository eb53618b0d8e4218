"""Webhook endpoint actions (docs/webhooks.md): the SDK's ``webhooks.add``,
``webhooks.update`` and ``webhooks.remove``, answering ``{webhook: StoreWebhook}``."""

from rest_framework import serializers

from billing.webhooks import endpoints
from pancake.api.actor import MERCHANT
from pancake.api.fields import IdField, TimestampField
from pancake.api.registry import Action, action


class StoreWebhookSerializer(serializers.Serializer):
    id = serializers.UUIDField()  # "Webhook UUID (not Short ID)", whatever the version
    storeId = IdField("STO", source="store_id")
    channel = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    testMode = serializers.SerializerMethodField()
    secret = serializers.CharField(allow_null=True)
    apiVersion = serializers.CharField(source="api_version")
    enabled = serializers.BooleanField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_testMode(self, endpoint) -> bool:
        return endpoint.environment == "test"


class WebhookEnvelope(serializers.Serializer):
    webhook = StoreWebhookSerializer()


class EventsField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=64), max_length=50, **kwargs)


@action("store/add-webhook", auth=(MERCHANT,), layer="store")
class AddWebhook(Action):
    """Add a webhook endpoint to a store (owner or admin; at most 20 per store)."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        channel = serializers.CharField(max_length=16)
        url = serializers.CharField(max_length=2000)
        events = EventsField(required=False, allow_null=True)
        testMode = serializers.BooleanField(required=False, default=False)
        secret = serializers.CharField(
            max_length=200, required=False, allow_null=True, allow_blank=True
        )
        apiVersion = serializers.CharField(max_length=10, required=False)

    Output = WebhookEnvelope

    def perform(self, actor, data):
        webhook = endpoints.endpoint_add(
            actor=actor,
            store_id=data["storeId"],
            channel=data["channel"],
            url=data["url"],
            events=data.get("events"),
            test_mode=data["testMode"],
            secret=data.get("secret"),
            api_version=data.get("apiVersion"),
        )
        return {"webhook": webhook}


@action("store/update-webhook", auth=(MERCHANT,), layer="store")
class UpdateWebhook(Action):
    """Change a webhook's URL, events, secret or API version (not its channel or mode)."""

    class Input(serializers.Serializer):
        id = IdField()
        url = serializers.CharField(max_length=2000, required=False)
        events = EventsField(required=False, allow_null=True)
        secret = serializers.CharField(
            max_length=200, required=False, allow_null=True, allow_blank=True
        )
        apiVersion = serializers.CharField(max_length=10, required=False)
        enabled = serializers.BooleanField(required=False)
        channel = serializers.CharField(required=False)  # immutable: warned about
        testMode = serializers.BooleanField(required=False)  # immutable: warned about

    Output = WebhookEnvelope

    def perform(self, actor, data):
        changes = {
            name: data[key]
            for key, name in (
                ("url", "url"),
                ("events", "events"),
                ("secret", "secret"),
                ("apiVersion", "api_version"),
                ("enabled", "enabled"),
            )
            if key in data
        }
        for ignored in ("channel", "testMode"):
            if ignored in data:
                self.warn(f"{ignored} cannot change: remove the webhook and add another", "store")
        webhook = endpoints.endpoint_update(actor=actor, endpoint_id=data["id"], **changes)
        return {"webhook": webhook}


@action("store/remove-webhook", auth=(MERCHANT,), layer="store")
class RemoveWebhook(Action):
    """Delete a webhook; its delivery history stays. Answers the webhook as it was."""

    class Input(serializers.Serializer):
        id = IdField()

    Output = WebhookEnvelope

    def perform(self, actor, data):
        return {"webhook": endpoints.endpoint_remove(actor=actor, endpoint_id=data["id"])}


# The subscription and refund actions live in their packages (registered by importing them).
from billing.refunds import api as refund_api  # noqa: E402,F401
from billing.subscriptions import api as subscription_api  # noqa: E402,F401
