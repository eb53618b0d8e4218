"""Output shapes of the catalog: the SDK's product and group entities plus the per-environment
fields (``testVersionId``, ``testStatus``, ``prodVersionId``, ``prodStatus``). Ids and amounts
render by API version in the field classes."""

from rest_framework import serializers

from pancake.api.fields import IdField, IdListField, TimestampField, _version, render_amount


class PricesField(serializers.Field):
    """``{"USD": {"amount": "29.00"|2900, "taxCategory", "taxIncluded", "trialAmount"?}}``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, prices):
        version = _version(self)
        out = {}
        for currency, price in (prices or {}).items():
            item = {
                "amount": render_amount(price["amount"], currency, version),
                "taxCategory": price["taxCategory"],
                "taxIncluded": price.get("taxIncluded", False),
            }
            if price.get("trialAmount") is not None:
                item["trialAmount"] = render_amount(price["trialAmount"], currency, version)
            out[currency] = item
        return out


class VersionSerializer(serializers.Serializer):
    id = IdField()
    productId = IdField("PROD", source="product_id")
    versionNumber = serializers.IntegerField(source="number")
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    descriptionHtml = serializers.CharField(source="description_html")
    prices = PricesField()
    media = serializers.JSONField()
    successUrl = serializers.CharField(source="success_url", allow_null=True)
    metadata = serializers.JSONField()
    billingPeriod = serializers.CharField(source="billing_period", allow_null=True)
    createdAt = TimestampField(source="created_at")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.billing_period is None:
            data.pop("billingPeriod")
        return data


def render_product(product, environment: str, context: dict, *, version=None) -> dict:
    """The product as the caller's environment sees it: its status there, and the content of
    ``version`` (default: that environment's version, else the test version)."""
    version = version or product.version_for(environment) or product.test_version
    shown = VersionSerializer(version, context=context).data
    data = {
        "id": IdField("PROD").bind_and_render(product.pk, context),
        "storeId": IdField("STO").bind_and_render(product.store_id, context),
        "name": shown["name"],
        "description": shown["description"],
        "descriptionHtml": shown["descriptionHtml"],
        "prices": shown["prices"],
        "media": shown["media"],
        "successUrl": shown["successUrl"],
        "metadata": shown["metadata"],
        "status": product.status_for(environment),
    }
    if product.kind == "subscription":
        data["billingPeriod"] = shown.get("billingPeriod")
    data.update(
        {
            "slug": product.slug,
            "testVersionId": str(product.test_version_id) if product.test_version_id else None,
            "testStatus": product.test_status,
            "prodVersionId": str(product.prod_version_id) if product.prod_version_id else None,
            "prodStatus": product.prod_status,
            "version": shown,
            "createdAt": TimestampField().to_representation(product.created_at),
            "updatedAt": TimestampField().to_representation(product.updated_at),
        }
    )
    return data


class GroupSerializer(serializers.Serializer):
    id = IdField()
    storeId = IdField("STO", source="store_id")
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    rules = serializers.SerializerMethodField()
    productIds = IdListField("PROD", source="listed_product_ids")
    environment = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_rules(self, group) -> dict:
        return {
            "sharedTrial": group.shared_trial,
            "selfServicePlanChange": group.self_service_plan_change,
        }


class GroupEnvelope(serializers.Serializer):
    group = GroupSerializer()
