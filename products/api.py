"""Catalog actions. Product actions answer the product under
``data.product`` and, as the hosted service's documented subscription example does, the same
fields directly under ``data``; group actions answer ``data.group``."""

from rest_framework import serializers

from pancake.api import versions
from pancake.api.actor import MERCHANT
from pancake.api.fields import IdField, IdListField
from pancake.api.registry import Action, action
from products import services
from products.models import ProductKind
from products.serializers import GroupEnvelope, render_product

CONTENT_FIELDS = {
    "name": "name",
    "description": "description",
    "prices": "prices",
    "media": "media",
    "successUrl": "success_url",
    "metadata": "metadata",
    "billingPeriod": "billing_period",
}


class ProductAction(Action):
    kind: str = ""
    layer = "product"

    def answer(self, product, *, version=None) -> dict:
        context = {"api_version": self.request_version}
        data = render_product(product, self.actor.environment, context, version=version)
        return {"product": data, **data}

    @property
    def request_version(self):
        return versions.current()


def _content_fields(*, subscription: bool, create: bool) -> dict:
    """Content fields arrive as raw JSON; the service validates them as a whole version."""
    fields = {
        "name": serializers.JSONField(required=create),
        "description": serializers.JSONField(required=False, allow_null=True),
        "prices": serializers.JSONField(required=create),
        "media": serializers.JSONField(required=False, allow_null=True),
        "successUrl": serializers.JSONField(required=False, allow_null=True),
        "metadata": serializers.JSONField(required=False, allow_null=True),
    }
    if subscription:
        fields["billingPeriod"] = serializers.JSONField(required=create)
    return fields


def _input(name: str, *, subscription: bool, create: bool) -> type[serializers.Serializer]:
    fields = _content_fields(subscription=subscription, create=create)
    fields["storeId" if create else "id"] = IdField("STO" if create else "PROD")
    return type(name, (serializers.Serializer,), fields)


class _Create(ProductAction):
    """Create a product (version 1, live in test)."""

    def perform(self, actor, data):
        changes = {CONTENT_FIELDS[k]: v for k, v in data.items() if k in CONTENT_FIELDS}
        product = services.product_create(
            actor=actor, store_id=data["storeId"], kind=self.kind, **changes
        )
        return self.answer(product, version=product.test_version)


class _Update(ProductAction):
    """Update a product; a new immutable version only when the content changed."""

    def perform(self, actor, data):
        changes = {CONTENT_FIELDS[k]: v for k, v in data.items() if k in CONTENT_FIELDS}
        product, _ = services.product_update(
            actor=actor, product_id=data["id"], kind=self.kind, **changes
        )
        return self.answer(product, version=product.test_version)


class _Publish(ProductAction):
    """Publish the current test version to production (repeatable: promotes newer versions)."""

    class Input(serializers.Serializer):
        id = IdField("PROD")

    def perform(self, actor, data):
        product = services.product_publish(actor=actor, product_id=data["id"], kind=self.kind)
        return self.answer(product, version=product.prod_version)


class _UpdateStatus(ProductAction):
    """Set active/inactive in the caller's environment."""

    class Input(serializers.Serializer):
        id = IdField("PROD")
        status = serializers.ChoiceField(
            choices=["active", "inactive"],
            error_messages={"invalid_choice": "Invalid status: expected active or inactive"},
        )

    def perform(self, actor, data):
        product = services.product_update_status(
            actor=actor, product_id=data["id"], kind=self.kind, status=data["status"]
        )
        return self.answer(product)


for _kind, _prefix in (
    (ProductKind.ONETIME, "onetime-product"),
    (ProductKind.SUBSCRIPTION, "subscription-product"),
):
    _sub = _kind == ProductKind.SUBSCRIPTION
    _label = "subscription" if _sub else "one-time"
    for _base, _verb, _extra in (
        (_Create, "create-product", {"Input": _input("Input", subscription=_sub, create=True)}),
        (_Update, "update-product", {"Input": _input("Input", subscription=_sub, create=False)}),
        (_Publish, "publish-product", {"Input": type("Input", (_Publish.Input,), {})}),
        (_UpdateStatus, "update-status", {"Input": type("Input", (_UpdateStatus.Input,), {})}),
    ):
        _doc = (_base.__doc__ or "").replace("a product", f"a {_label} product")
        action(f"{_prefix}/{_verb}", auth=(MERCHANT,), layer="product")(
            type(
                f"{_base.__name__.strip('_')}{_kind.title()}Product",
                (_base,),
                {"kind": _kind, "__doc__": _doc, **_extra},
            )
        )


# --- groups -------------------------------------------------------------------------------------


class StrictBooleanField(serializers.BooleanField):
    """true or false only: "yes", 1 and "true" are not switches."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class RulesSerializer(serializers.Serializer):
    sharedTrial = StrictBooleanField(required=False)
    selfServicePlanChange = StrictBooleanField(required=False)


@action("subscription-product-group/create-group", auth=(MERCHANT,), layer="product")
class CreateGroup(Action):
    """Create a subscription product group in the caller's environment."""

    class Input(serializers.Serializer):
        storeId = IdField("STO")
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )
        rules = RulesSerializer(required=False, allow_null=True)
        productIds = IdListField("PROD", required=False, allow_null=True, max_length=100)

    Output = GroupEnvelope

    def perform(self, actor, data):
        group = services.group_create(
            actor=actor,
            store_id=data["storeId"],
            name=data["name"],
            description=data.get("description"),
            rules=data.get("rules"),
            product_ids=data.get("productIds"),
        )
        return {"group": group}


@action("subscription-product-group/update-group", auth=(MERCHANT,), layer="product")
class UpdateGroup(Action):
    """Update a group: rules merge switch by switch; productIds replaces the whole list."""

    class Input(serializers.Serializer):
        id = IdField()
        name = serializers.CharField(max_length=100, required=False)
        description = serializers.CharField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )
        rules = RulesSerializer(required=False, allow_null=True)
        productIds = IdListField("PROD", required=False, allow_null=True, max_length=100)

    Output = GroupEnvelope
    FIELDS = {
        "name": "name",
        "description": "description",
        "rules": "rules",
        "productIds": "product_ids",
    }

    def perform(self, actor, data):
        changes = {self.FIELDS[k]: v for k, v in data.items() if k in self.FIELDS}
        return {"group": services.group_update(actor=actor, group_id=data["id"], **changes)}


@action("subscription-product-group/delete-group", auth=(MERCHANT,), layer="product")
class DeleteGroup(Action):
    """Delete a group permanently; its products stay."""

    class Input(serializers.Serializer):
        id = IdField()

    Output = GroupEnvelope

    def perform(self, actor, data):
        return {"group": services.group_delete(actor=actor, group_id=data["id"])}


@action("subscription-product-group/publish-group", auth=(MERCHANT,), layer="product")
class PublishGroup(Action):
    """Publish a test group to production (a repeatable upsert); answers the prod group."""

    class Input(serializers.Serializer):
        id = IdField()

    Output = GroupEnvelope

    def perform(self, actor, data):
        return {"group": services.group_publish(actor=actor, group_id=data["id"])}
