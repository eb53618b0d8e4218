"""GraphQL: the catalog as the request's environment sees it: each product's status
and version in that environment, its versions, and subscription product groups."""

from __future__ import annotations

import graphene

from pancake.graphql import filters as f
from pancake.graphql.context import display
from pancake.graphql.rows import memoized_list
from pancake.graphql.scope import in_scope, merchant_only, visible_store_ids
from pancake.graphql.selection import Rel, optimized, prefetched
from pancake.graphql.types import JSON, id_field, ts_field
from pancake.models import Environment
from products.models import Product, ProductGroup, ProductGroupMembership, ProductVersion


def _prices_leaf(prices: dict | None, ctx) -> dict:
    """``{"USD": {"amount", "taxCategory", "taxIncluded", "trialAmount"?}}``, amounts by API
    version (integers for 2026-01-15, display strings for 2026-09-23)."""
    out = {}
    for currency, price in (prices or {}).items():
        item = {
            "amount": ctx.amount(price["amount"], currency),
            "taxCategory": price["taxCategory"],
            "taxIncluded": price.get("taxIncluded", False),
        }
        if price.get("trialAmount") is not None:
            item["trialAmount"] = ctx.amount(price["trialAmount"], currency)
        out[currency] = item
    return out


class PriceInfo(graphene.ObjectType):
    """One currency's price; amounts are display strings (``"29.00"``)."""

    amount = graphene.String(required=True, description='The price, e.g. "29.00".')
    tax_category = graphene.String(required=True, description="Tax category.")
    tax_included = graphene.Boolean(required=True, description="Whether tax is included.")
    trial_amount = graphene.String(description="Subscription trial price, if any.")


class Price(graphene.ObjectType):
    """A currency and its price. Selected as ``prices { currency priceInfo { … } }``."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    price_info = graphene.Field(PriceInfo, required=True, description="The price.")


def _price_list(prices: dict | None) -> list[Price]:
    out = []
    for currency, price in (prices or {}).items():
        trial = price.get("trialAmount")
        out.append(
            Price(
                currency=currency,
                price_info=PriceInfo(
                    amount=display(price["amount"], currency),
                    tax_category=price["taxCategory"],
                    tax_included=price.get("taxIncluded", False),
                    trial_amount=display(trial, currency) if trial is not None else None,
                ),
            )
        )
    return out


class Media(graphene.ObjectType):
    """An image or video shown with the product."""

    type = graphene.String(description="image or video.")
    url = graphene.String(description="Where it is.")
    alt = graphene.String(description="Alternative text.")
    thumbnail = graphene.String(description="Thumbnail URL.")


def _shown(product, ctx):
    """The version the environment sees (prod's in prod; test's otherwise or before publish)."""
    return product.version_for(ctx.environment) or product.test_version


class ProductVersionType(graphene.ObjectType):
    """An immutable version of a product's content."""

    class Meta:
        name = "ProductVersion"

    # What each field reads (pancake/graphql/selection.py).
    columns = {
        "id": ("id",),
        "productId": ("product_id",),
        "versionNumber": ("number",),
        "name": ("name",),
        "description": ("description",),
        "descriptionHtml": ("description_html",),
        "billingPeriod": ("billing_period",),
        "prices": ("prices",),
        "priceList": ("prices",),
        "media": ("media",),
        "successUrl": ("success_url",),
        "metadata": ("metadata",),
        "isTestVersion": ("product__test_version",),
        "isProdVersion": ("product__prod_version",),
        "createdAt": ("created_at",),
    }

    id = id_field("pk", None, "Version id (UUID).", required=True)
    product_id = id_field("product_id", "PROD", "The product.", required=True)
    version_number = graphene.Int(required=True, description="1, 2, 3, …", source="number")
    name = graphene.String(required=True, description="Product name in this version.")
    description = graphene.String(description="Description (Markdown).")
    description_html = graphene.String(description="Description rendered to safe HTML.")
    billing_period = graphene.String(description="Subscriptions: weekly, monthly, …")
    prices = graphene.Field(JSON, description="Prices by currency; amounts by API version.")
    price_list = graphene.List(
        graphene.NonNull(Price),
        description="Prices as a list (what `prices { currency priceInfo {…} }` selects).",
    )
    media = graphene.List(graphene.NonNull(Media), description="Images and videos.")
    success_url = graphene.String(description="Where the buyer goes after paying.")
    metadata = graphene.Field(JSON, description="Merchant metadata.")
    is_test_version = graphene.Boolean(
        required=True, description="The version the test environment sells."
    )
    is_prod_version = graphene.Boolean(required=True, description="The version production sells.")
    created_at = ts_field("created_at", "When the version was written.")

    def resolve_prices(version, info):
        return _prices_leaf(version.prices, info.context)

    def resolve_price_list(version, info):
        return _price_list(version.prices)

    def resolve_media(version, info):
        return [
            Media(
                type=m.get("type"), url=m.get("url"), alt=m.get("alt"), thumbnail=m.get("thumbnail")
            )
            for m in version.media or []
            if isinstance(m, dict)
        ]

    def resolve_is_test_version(version, info):
        return version.product.test_version_id == version.pk

    def resolve_is_prod_version(version, info):
        return version.product.prod_version_id == version.pk


class ProductFields(graphene.ObjectType):
    class Meta:
        abstract = True

    # What each field reads (pancake/graphql/selection.py): the environment's version is the
    # test or the prod one, so both are read.
    columns = {
        "id": ("id",),
        "storeId": ("store_id",),
        "slug": ("slug",),
        "name": ("test_version__name", "prod_version__name"),
        "description": ("test_version__description", "prod_version__description"),
        "prices": ("test_version__prices", "prod_version__prices"),
        "priceList": ("test_version__prices", "prod_version__prices"),
        "media": ("test_version__media", "prod_version__media"),
        "metadata": ("test_version__metadata", "prod_version__metadata"),
        "successUrl": ("test_version__success_url", "prod_version__success_url"),
        "status": ("test_status", "prod_status"),
        "version": ("test_version__number", "prod_version__number"),
        "testStatus": ("test_status",),
        "prodStatus": ("prod_status",),
        "hasTestVersion": ("test_version",),
        "hasProdVersion": ("prod_version",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "store": Rel("store", "stores.schema.StoreType"),
        "currentVersion": Rel("test_version", lambda: ProductVersionType, also=("prod_version",)),
    }

    id = id_field("pk", "PROD", "Product id.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    slug = graphene.String(required=True, description="URL slug in the store.")
    name = graphene.String(description="Name (of the environment's version).")
    description = graphene.String(description="Description (Markdown).")
    prices = graphene.Field(JSON, description="Prices by currency; amounts by API version.")
    price_list = graphene.List(
        graphene.NonNull(Price),
        description="Prices as a list (what `prices { currency priceInfo {…} }` selects).",
    )
    media = graphene.Field(JSON, description="Images and videos.")
    metadata = graphene.Field(JSON, description="Merchant metadata.")
    success_url = graphene.String(description="Where the buyer goes after paying.")
    status = graphene.String(
        required=True, description="active or inactive in the request's environment."
    )
    version = graphene.Int(
        description="The version number the request's environment sells (null in prod before "
        "the first publish)."
    )
    current_version = graphene.Field(
        ProductVersionType, description="The version the request's environment sees."
    )
    test_status = graphene.String(required=True, description="Status in test.")
    prod_status = graphene.String(required=True, description="Status in production.")
    has_test_version = graphene.Boolean(required=True, description="Has a test version.")
    has_prod_version = graphene.Boolean(required=True, description="Published to production.")
    store = graphene.Field("stores.schema.StoreType", description="The store.")
    created_at = ts_field("created_at", "When the product was created.")
    updated_at = ts_field("updated_at", "When the product last changed.")

    def resolve_name(product, info):
        shown = _shown(product, info.context)
        return shown.name if shown else None

    def resolve_description(product, info):
        shown = _shown(product, info.context)
        return shown.description if shown else None

    def resolve_prices(product, info):
        shown = _shown(product, info.context)
        return _prices_leaf(shown.prices if shown else {}, info.context)

    def resolve_price_list(product, info):
        shown = _shown(product, info.context)
        return _price_list(shown.prices if shown else {})

    def resolve_media(product, info):
        shown = _shown(product, info.context)
        return shown.media if shown else []

    def resolve_metadata(product, info):
        shown = _shown(product, info.context)
        return shown.metadata if shown else {}

    def resolve_success_url(product, info):
        shown = _shown(product, info.context)
        return shown.success_url if shown else None

    def resolve_status(product, info):
        return product.status_for(info.context.environment)

    def resolve_version(product, info):
        version = product.version_for(info.context.environment)
        return version.number if version else None

    def resolve_current_version(product, info):
        return _shown(product, info.context)

    def resolve_has_test_version(product, info):
        return product.test_version_id is not None

    def resolve_has_prod_version(product, info):
        return product.prod_version_id is not None


class OnetimeProduct(ProductFields):
    """A product sold once."""


class SubscriptionProduct(ProductFields):
    """A product billed every period."""

    columns = {
        **ProductFields.columns,
        "billingPeriod": ("test_version__billing_period", "prod_version__billing_period"),
    }

    billing_period = graphene.String(description="weekly, monthly, quarterly or yearly.")

    def resolve_billing_period(product, info):
        shown = _shown(product, info.context)
        return shown.billing_period if shown else None


class GroupRules(graphene.ObjectType):
    """How the group's plans behave together."""

    shared_trial = graphene.Boolean(required=True, description="One trial across the group.")
    self_service_plan_change = graphene.Boolean(
        required=True, description="Buyers may switch plans themselves."
    )


class _MemberRow:
    """The group → product hop (a membership row with its product joined)."""

    select_always = ("product", "product__test_version", "product__prod_version")


class SubscriptionProductGroup(graphene.ObjectType):
    """Plans a subscriber can switch between, in one environment."""

    # What each field reads (pancake/graphql/selection.py); relations below: the group's
    # memberships, in order, each the way to its product.
    columns = {
        "id": ("id",),
        "storeId": ("store_id",),
        "name": ("name",),
        "description": ("description",),
        "environment": ("environment",),
        "rules": ("shared_trial", "self_service_plan_change"),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "products": Rel(
            "memberships",
            lambda: SubscriptionProduct,
            many=True,
            queryset=lambda ctx: ProductGroupMembership.objects.order_by("position"),
            to_attr="gql_members",
            via="product",
        ),
        "productIds": Rel(
            "memberships",
            lambda: SubscriptionProduct,
            many=True,
            queryset=lambda ctx: ProductGroupMembership.objects.order_by("position"),
            to_attr="gql_members",
            via="product",
        ),
    }

    id = id_field("pk", None, "Group id (UUID).", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    name = graphene.String(required=True, description="Group name.")
    description = graphene.String(description="Group description.")
    environment = graphene.String(required=True, description="test or prod.")
    rules = graphene.Field(GroupRules, required=True, description="Group rules.")
    product_ids = graphene.List(
        graphene.NonNull(graphene.ID), description="Member product ids, in order."
    )
    products = graphene.List(
        graphene.NonNull(SubscriptionProduct), description="Member products, in order."
    )
    created_at = ts_field("created_at", "When the group was created.")
    updated_at = ts_field("updated_at", "When the group last changed.")

    def resolve_rules(group, info):
        return GroupRules(
            shared_trial=group.shared_trial,
            self_service_plan_change=group.self_service_plan_change,
        )

    def _members(group):
        return prefetched(
            group,
            "gql_members",
            lambda: group.memberships.select_related(*_MemberRow.select_always).order_by(
                "position"
            ),
        )

    def resolve_products(group, info):
        return [m.product for m in SubscriptionProductGroup._members(group)]

    def resolve_product_ids(group, info):
        return [
            info.context.id(m.product_id, "PROD") for m in SubscriptionProductGroup._members(group)
        ]


# --- roots ----------------------------------------------------------------------------------


def _status_path(ctx) -> str:
    return "prod_status" if ctx.environment == Environment.PROD else "test_status"


def _name_path(ctx) -> str:
    return "prod_version__name" if ctx.environment == Environment.PROD else "test_version__name"


PRODUCT_COLUMNS = {
    "id": f.Column("pk", f.ID, "PROD"),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "name": f.Column(_name_path, description="Name in the request's environment."),
    "slug": f.Column("slug"),
    "status": f.Column(_status_path, description="Status in the request's environment."),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
}
GROUP_COLUMNS = {
    "id": f.Column("pk", f.ID),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "name": f.Column("name"),
    "createdAt": f.Column("created_at", f.DATETIME),
}
VERSION_COLUMNS = {
    "id": f.Column("pk", f.ID),
    "name": f.Column("name"),
    "versionNumber": f.Column("number", f.INT),
    "createdAt": f.Column("created_at", f.DATETIME),
}
OnetimeProductFilter = f.filter_input(
    "OnetimeProductFilter", PRODUCT_COLUMNS, "Filters for one-time products."
)
SubscriptionProductFilter = f.filter_input(
    "SubscriptionProductFilter", PRODUCT_COLUMNS, "Filters for subscription products."
)
GroupFilter = f.filter_input(
    "SubscriptionProductGroupFilter", GROUP_COLUMNS, "Filters for product groups."
)
VersionFilter = f.filter_input("ProductVersionFilter", VERSION_COLUMNS, "Filters for versions.")


def _products(ctx, kind: str, store_id=None):
    if not merchant_only(ctx):
        return Product.objects.none()
    qs = Product.objects.filter(kind=kind, store_id__in=visible_store_ids(ctx))
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("created_at", "id")


def _groups(ctx, store_id=None):
    if not merchant_only(ctx):
        return ProductGroup.objects.none()
    qs = in_scope(ProductGroup.objects.all(), ctx)
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("created_at", "id")


def _versions(ctx, kind: str, product_id):
    pk = f.parse_arg_id(product_id, "PROD", "productId")
    if not merchant_only(ctx):
        return ProductVersion.objects.none()
    return ProductVersion.objects.filter(
        product_id=pk, product__kind=kind, product__store_id__in=visible_store_ids(ctx)
    ).order_by("number")


def _product_roots(kind: str, gtype, filter_type, label: str) -> dict:
    """``<kind>Products``, ``<kind>ProductsCount``, ``<kind>Product(id)`` and
    ``<kind>ProductVersions(productId)`` for one kind."""

    def resolve_list(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(_products(ctx, kind, store_id), filter, PRODUCT_COLUMNS, ctx)
            return f.paginate(optimized(qs, gtype, info), limit, offset)

        parts = ("products", kind, f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_count(root, info, filter=None, store_id=None):
        ctx = info.context
        return f.apply_filter(_products(ctx, kind, store_id), filter, PRODUCT_COLUMNS, ctx).count()

    def resolve_one(root, info, id):
        pk = f.parse_arg_id(id, "PROD", "id")
        return optimized(_products(info.context, kind).filter(pk=pk), gtype, info).first()

    def resolve_versions(root, info, product_id, filter=None, limit=None, offset=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(_versions(ctx, kind, product_id), filter, VERSION_COLUMNS, ctx)
            return f.paginate(optimized(qs, ProductVersionType, info), limit, offset)

        parts = ("product versions", kind, product_id, f.frozen(filter), limit, offset)
        return memoized_list(info, parts, build)

    return {
        "list": graphene.List(
            graphene.NonNull(gtype),
            description=f"The caller's {label}s, as the request's environment sees them.",
            resolver=resolve_list,
            **f.list_args(filter_type, store_id=f.store_id_arg()),
        ),
        "count": graphene.Int(
            required=True,
            description=f"How many {label}s the list would return.",
            resolver=resolve_count,
            **f.count_args(filter_type, store_id=f.store_id_arg()),
        ),
        "one": graphene.Field(
            gtype,
            id=graphene.Argument(graphene.ID, required=True, description="Product id."),
            description=f"One {label}; null if it is not the caller's.",
            resolver=resolve_one,
        ),
        "versions": graphene.List(
            graphene.NonNull(ProductVersionType),
            description=f"Every version of one {label}, oldest first.",
            resolver=resolve_versions,
            **f.list_args(
                VersionFilter,
                product_id=graphene.Argument(
                    graphene.ID, required=True, name="productId", description="Product id."
                ),
            ),
        ),
    }


_ONETIME = _product_roots("onetime", OnetimeProduct, OnetimeProductFilter, "one-time product")
_SUBSCRIPTION = _product_roots(
    "subscription", SubscriptionProduct, SubscriptionProductFilter, "subscription product"
)


class ProductQueries(graphene.ObjectType):
    onetime_products = _ONETIME["list"]
    onetime_products_count = _ONETIME["count"]
    onetime_product = _ONETIME["one"]
    onetime_product_versions = _ONETIME["versions"]
    subscription_products = _SUBSCRIPTION["list"]
    subscription_products_count = _SUBSCRIPTION["count"]
    subscription_product = _SUBSCRIPTION["one"]
    subscription_product_versions = _SUBSCRIPTION["versions"]
    subscription_product_groups = graphene.List(
        graphene.NonNull(SubscriptionProductGroup),
        description="Product groups of the request's environment.",
        **f.list_args(GroupFilter, store_id=f.store_id_arg()),
    )
    subscription_product_groups_count = graphene.Int(
        required=True,
        description="How many groups the list would return.",
        **f.count_args(GroupFilter, store_id=f.store_id_arg()),
    )
    subscription_product_group = graphene.Field(
        SubscriptionProductGroup,
        id=graphene.Argument(graphene.ID, required=True, description="Group id (UUID)."),
        description="One product group of the request's environment.",
    )

    def resolve_subscription_product_groups(
        root, info, filter=None, limit=None, offset=None, store_id=None
    ):
        ctx = info.context

        def build():
            qs = f.apply_filter(_groups(ctx, store_id), filter, GROUP_COLUMNS, ctx)
            return f.paginate(optimized(qs, SubscriptionProductGroup, info), limit, offset)

        parts = ("groups", f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_subscription_product_groups_count(root, info, filter=None, store_id=None):
        ctx = info.context
        return f.apply_filter(_groups(ctx, store_id), filter, GROUP_COLUMNS, ctx).count()

    def resolve_subscription_product_group(root, info, id):
        pk = f.parse_arg_id(id, None, "id")
        qs = _groups(info.context).filter(pk=pk)
        return optimized(qs, SubscriptionProductGroup, info).first()
