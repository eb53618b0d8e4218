"""GraphQL: stores, merchants, team and API keys."""

from __future__ import annotations

from datetime import timedelta

import graphene
from django.db.models import Q
from django.utils import timezone

from billing.models import WebhookEndpoint
from pancake.graphql import filters as f
from pancake.graphql.rows import memoized_list
from pancake.graphql.scope import merchant_only, visible_store_ids
from pancake.graphql.selection import Rel, optimized, prefetched
from pancake.graphql.types import id_field, ts_field
from products.models import Product
from stores.models import ApiKey, MembershipStatus, Merchant, Store, StoreMembership

RECENT_USE = timedelta(days=30)


def _products(kind: str):
    def queryset(ctx):
        return Product.objects.filter(kind=kind).order_by("created_at", "id")

    return queryset


def _webhooks(ctx):
    endpoints = WebhookEndpoint.objects.filter(environment=ctx.environment)
    if not merchant_only(ctx):
        endpoints = endpoints.none()
    return endpoints.order_by("created_at", "id")


class StoreType(graphene.ObjectType):
    """A store: the unit that sells, with its own catalog, orders and settings."""

    class Meta:
        name = "Store"

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "name": ("name",),
        "slug": ("slug",),
        "status": ("status",),
        "logo": ("logo",),
        "description": ("description",),
        "supportEmail": ("support_email",),
        "website": ("website",),
        "defaultCurrency": ("default_currency",),
        "country": ("country",),
        "prodEnabled": ("prod_enabled",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "onetimeProducts": Rel(
            "products",
            "products.schema.OnetimeProduct",
            many=True,
            queryset=_products("onetime"),
            to_attr="gql_onetime_products",
        ),
        "subscriptionProducts": Rel(
            "products",
            "products.schema.SubscriptionProduct",
            many=True,
            queryset=_products("subscription"),
            to_attr="gql_subscription_products",
        ),
        "storeWebhooks": Rel(
            "webhooks",
            "billing.schema.StoreWebhook",
            many=True,
            queryset=_webhooks,
            to_attr="gql_webhooks",
        ),
    }

    id = id_field("pk", "STO", "Store id.", required=True)
    name = graphene.String(required=True, description="Display name.")
    slug = graphene.String(required=True, description="URL slug (hosted checkout, links).")
    status = graphene.String(required=True, description="active, inactive or suspended.")
    logo = graphene.String(description="Logo URL.")
    description = graphene.String(description="Store description.")
    support_email = graphene.String(description="Support email shown to buyers.")
    website = graphene.String(description="Store website.")
    default_currency = graphene.String(description="Default ISO 4217 currency.")
    country = graphene.String(description="Seller country (ISO 3166-1 alpha-2).")
    prod_enabled = graphene.Boolean(description="Whether production is enabled.")
    created_at = ts_field("created_at", "When the store was created.")
    updated_at = ts_field("updated_at", "When the store last changed.")
    onetime_products = graphene.List(
        graphene.NonNull("products.schema.OnetimeProduct"),
        description="The store's one-time products.",
    )
    subscription_products = graphene.List(
        graphene.NonNull("products.schema.SubscriptionProduct"),
        description="The store's subscription products.",
    )
    store_webhooks = graphene.List(
        graphene.NonNull("billing.schema.StoreWebhook"),
        description="Webhook endpoints of the request's environment (merchants only).",
    )

    def resolve_onetime_products(store, info):
        return prefetched(
            store, "gql_onetime_products", lambda: _products("onetime")(None).filter(store=store)
        )

    def resolve_subscription_products(store, info):
        return prefetched(
            store,
            "gql_subscription_products",
            lambda: _products("subscription")(None).filter(store=store),
        )

    def resolve_store_webhooks(store, info):
        return prefetched(
            store, "gql_webhooks", lambda: _webhooks(info.context).filter(store=store)
        )


class ApiKeyType(graphene.ObjectType):
    """A merchant's API key (its public half). Listed only for the caller themself."""

    class Meta:
        name = "ApiKey"

    # What each field reads (pancake/graphql/selection.py).
    columns = {
        "id": ("id",),
        "nickname": ("name",),
        "name": ("name",),
        "environment": ("environment",),
        "apiVersion": ("api_version",),
        "fingerprint": ("fingerprint",),
        "recentlyUsed": ("last_used_at",),
        "lastUsedAt": ("last_used_at",),
        "createdAt": ("created_at",),
    }

    id = id_field("pk", None, "API key id (UUID).", required=True)
    nickname = graphene.String(required=True, description="The key's name.", source="name")
    name = graphene.String(required=True, description="The key's name.")
    environment = graphene.String(required=True, description="test or prod.")
    api_version = graphene.String(required=True, description="The key's API version.")
    fingerprint = graphene.String(description="SHA-256 fingerprint of the public key.")
    recently_used = graphene.Boolean(required=True, description="Used in the last 30 days.")
    last_used_at = ts_field("last_used_at", "When the key last signed a request.")
    created_at = ts_field("created_at", "When the key was added.")

    def resolve_recently_used(key, info):
        return key.last_used_at is not None and key.last_used_at >= timezone.now() - RECENT_USE


def _merchant_type():
    return MerchantType


class StoreMerchantType(graphene.ObjectType):
    """A merchant's place in a store's team."""

    class Meta:
        name = "StoreMerchant"

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "storeId": ("store_id",),
        "merchantId": ("merchant_id",),
        "role": ("role",),
        "status": ("status",),
        "createdAt": ("created_at",),
    }
    relations = {
        "store": Rel("store", lambda: StoreType),
        "merchant": Rel("merchant", _merchant_type),
    }

    id = id_field("pk", None, "Membership id (UUID).", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    merchant_id = id_field("merchant_id", "MER", "The merchant.", required=True)
    role = graphene.String(required=True, description="owner, admin or member.")
    status = graphene.String(required=True, description="active or invited.")
    store = graphene.Field(lambda: StoreType, description="The store.")
    merchant = graphene.Field(_merchant_type, description="The merchant.")
    created_at = ts_field("created_at", "When the membership was made.")


def _memberships(ctx):
    return StoreMembership.objects.filter(
        status=MembershipStatus.ACTIVE, store_id__in=visible_store_ids(ctx)
    ).order_by("created_at", "id")


def _keys(ctx):
    merchant = ctx.actor.merchant
    return ApiKey.objects.filter(merchant=merchant).order_by("-created_at", "id")


class MerchantType(graphene.ObjectType):
    """A person who sells: the caller, or a teammate in one of the caller's stores."""

    class Meta:
        name = "Merchant"

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "email": ("email",),
        "name": ("name",),
        "status": ("is_active",),
        "createdAt": ("date_joined",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "storeMerchants": Rel(
            "memberships",
            lambda: StoreMerchantType,
            many=True,
            queryset=_memberships,
            to_attr="gql_memberships",
        ),
        "apiKeys": Rel(
            "api_keys", lambda: ApiKeyType, many=True, queryset=_keys, to_attr="gql_api_keys"
        ),
    }

    id = id_field("pk", "MER", "Merchant id.", required=True)
    email = graphene.String(required=True, description="Sign-in email.")
    name = graphene.String(description="Display name.")
    status = graphene.String(required=True, description="active or inactive.")
    created_at = ts_field("date_joined", "When the merchant signed up.")
    updated_at = ts_field("updated_at", "When the merchant last changed.")
    store_merchants = graphene.List(
        graphene.NonNull(StoreMerchantType),
        description="Memberships in the stores the caller can see.",
    )
    api_keys = graphene.List(
        graphene.NonNull(ApiKeyType), description="API keys (only the caller's own)."
    )

    def resolve_status(merchant, info):
        return "active" if merchant.is_active else "inactive"

    def resolve_store_merchants(merchant, info):
        return prefetched(
            merchant,
            "gql_memberships",
            lambda: _memberships(info.context).filter(merchant=merchant),
        )

    def resolve_api_keys(merchant, info):
        keys = prefetched(merchant, "gql_api_keys", lambda: _keys(info.context))
        # Only the caller's own keys, ever.
        return [k for k in keys if k.merchant_id == info.context.actor.merchant.pk]


# --- roots ----------------------------------------------------------------------------------

STORE_COLUMNS = {
    "id": f.Column("pk", f.ID, "STO"),
    "name": f.Column("name"),
    "slug": f.Column("slug"),
    "status": f.Column("status"),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
}
MERCHANT_COLUMNS = {
    "id": f.Column("pk", f.ID, "MER"),
    "email": f.Column("email"),
    "name": f.Column("name"),
    "createdAt": f.Column("date_joined", f.DATETIME),
}
StoreFilter = f.filter_input("StoreFilter", STORE_COLUMNS, "Filters for stores.")
MerchantFilter = f.filter_input("MerchantFilter", MERCHANT_COLUMNS, "Filters for merchants.")


def _stores(ctx):
    if not merchant_only(ctx):
        return Store.objects.none()
    return Store.objects.filter(pk__in=visible_store_ids(ctx)).order_by("created_at", "id")


def _merchants(ctx):
    if not merchant_only(ctx):
        return Merchant.objects.none()
    me = ctx.actor.merchant
    teammates = StoreMembership.objects.filter(
        store_id__in=visible_store_ids(ctx), status=MembershipStatus.ACTIVE
    ).values("merchant_id")
    return Merchant.objects.filter(Q(pk=me.pk) | Q(pk__in=teammates)).order_by("date_joined", "id")


class StoreQueries(graphene.ObjectType):
    stores = graphene.List(
        graphene.NonNull(StoreType),
        description="The stores the caller is an active member of.",
        **f.list_args(StoreFilter),
    )
    stores_count = graphene.Int(
        required=True,
        description="How many stores `stores` would list.",
        **f.count_args(StoreFilter),
    )
    store = graphene.Field(
        StoreType,
        id=graphene.Argument(graphene.ID, required=True, description="Store id."),
        description="One store, or null if it is not one of the caller's.",
    )
    merchants = graphene.List(
        graphene.NonNull(MerchantType),
        description="The caller and their teammates.",
        **f.list_args(MerchantFilter),
    )
    merchants_count = graphene.Int(
        required=True,
        description="How many merchants the list would return.",
        **f.count_args(MerchantFilter),
    )
    merchant = graphene.Field(
        MerchantType,
        id=graphene.Argument(graphene.ID, required=True, description="Merchant id."),
        description="The caller or a teammate; null otherwise.",
    )
    store_merchants_count = graphene.Int(
        required=True, description="Active memberships across the caller's stores."
    )
    api_keys_count = graphene.Int(required=True, description="The caller's API keys.")

    def resolve_stores(root, info, filter=None, limit=None, offset=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(_stores(ctx), filter, STORE_COLUMNS, ctx)
            return f.paginate(optimized(qs, StoreType, info), limit, offset)

        return memoized_list(info, ("stores", f.frozen(filter), limit, offset), build)

    def resolve_stores_count(root, info, filter=None):
        ctx = info.context
        return f.apply_filter(_stores(ctx), filter, STORE_COLUMNS, ctx).count()

    def resolve_store(root, info, id):
        pk = f.parse_arg_id(id, "STO", "id")
        return optimized(_stores(info.context).filter(pk=pk), StoreType, info).first()

    def resolve_merchants(root, info, filter=None, limit=None, offset=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(_merchants(ctx), filter, MERCHANT_COLUMNS, ctx)
            return f.paginate(optimized(qs, MerchantType, info), limit, offset)

        return memoized_list(info, ("merchants", f.frozen(filter), limit, offset), build)

    def resolve_merchants_count(root, info, filter=None):
        ctx = info.context
        return f.apply_filter(_merchants(ctx), filter, MERCHANT_COLUMNS, ctx).count()

    def resolve_merchant(root, info, id):
        pk = f.parse_arg_id(id, "MER", "id")
        return optimized(_merchants(info.context).filter(pk=pk), MerchantType, info).first()

    def resolve_store_merchants_count(root, info):
        ctx = info.context
        return _memberships(ctx).count() if merchant_only(ctx) else 0

    def resolve_api_keys_count(root, info):
        ctx = info.context
        return _keys(ctx).count() if merchant_only(ctx) else 0
