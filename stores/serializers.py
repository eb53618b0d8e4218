"""Output shapes of the stores app, in the SDK's field names."""

from rest_framework import serializers

from pancake.api.fields import IdField, TimestampField


class StoreSerializer(serializers.Serializer):
    id = IdField("STO")
    name = serializers.CharField()
    status = serializers.CharField()
    logo = serializers.CharField(allow_null=True)
    supportEmail = serializers.CharField(source="support_email", allow_null=True)
    website = serializers.CharField(allow_null=True)
    slug = serializers.CharField()
    prodEnabled = serializers.BooleanField(source="prod_enabled")
    notificationSettings = serializers.DictField(
        source="notifications", child=serializers.BooleanField()
    )
    checkoutSettings = serializers.JSONField(source="checkout_settings", allow_null=True)
    deletedAt = TimestampField(source="deleted_at")
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class StoreEnvelope(serializers.Serializer):
    store = StoreSerializer()


class MemberAddedSerializer(serializers.Serializer):
    storeId = IdField("STO", source="store_id")
    merchantId = IdField("MER", source="merchant_id")
    email = serializers.CharField(source="merchant.email")
    role = serializers.CharField()
    status = serializers.CharField()
    addedAt = TimestampField(source="created_at")


class MemberRemovedSerializer(serializers.Serializer):
    message = serializers.CharField()
    removedAt = TimestampField()


class MemberRoleSerializer(serializers.Serializer):
    storeId = IdField("STO", source="store_id")
    merchantId = IdField("MER", source="merchant_id")
    role = serializers.CharField()
    updatedAt = TimestampField(source="updated_at")


class SessionTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiresAt = TimestampField()
