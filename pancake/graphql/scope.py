"""Tenant scoping in one place. Every root starts from the stores the caller may see: a merchant
(API key or JWT) sees the stores where they are an active member; a buyer token sees its store,
and inside it only the orders bound to their identity or email. Another tenant's ids therefore
match nothing: the answer is ``null`` or an empty list, never their data."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from pancake.api.prepared import PreparedSelect
from pancake.graphql.context import GraphQLContext
from stores.models import MembershipStatus, Store


def _member_stores(merchant_id) -> QuerySet[Store]:
    """The stores where the merchant is an active member."""
    return Store.objects.filter(
        deleted_at__isnull=True,
        memberships__merchant_id=merchant_id,
        memberships__status=MembershipStatus.ACTIVE,
    )


# Every merchant request reads its store ids: compiled once per connection.
_MEMBER_STORE_IDS = PreparedSelect(lambda merchant_id: _member_stores(merchant_id).only("pk"))


def visible_stores(ctx: GraphQLContext) -> QuerySet[Store]:
    actor = ctx.actor
    if actor.is_merchant:
        return _member_stores(actor.merchant.pk)
    stores = Store.objects.filter(deleted_at__isnull=True)
    if actor.is_buyer:
        return stores.filter(pk=actor.store.pk)
    return stores.none()


def visible_store_ids(ctx: GraphQLContext) -> list:
    """The caller's store ids, read once per request (one short statement).

    A list rather than a subquery: with the ids spelled out, PostgreSQL plans a newest-first
    list of one store from the (store, environment, created_at) index. Behind a subquery it
    cannot tell a merchant with five orders from one with most of the table, and may walk the
    whole created_at index backwards looking for the five."""
    ids = ctx.cache.get("visible_store_ids")
    if ids is None:
        actor = ctx.actor
        if actor.is_merchant:
            ids = [store.pk for store in _MEMBER_STORE_IDS.fetch(actor.merchant.pk)]
        else:
            ids = list(visible_stores(ctx).values_list("pk", flat=True))
        ctx.cache["visible_store_ids"] = ids
    return ids


def scope_key(ctx: GraphQLContext) -> tuple:
    """Everything about the caller a scoped list depends on (``rows.memoized``): who they are,
    the stores they see, the environment and the API version."""
    actor = ctx.actor
    if actor.is_merchant:
        who = ("merchant", actor.merchant.pk)
    elif actor.is_buyer:
        who = ("buyer", actor.store.pk, actor.buyer_identity)
    else:
        who = (actor.kind, getattr(actor.store, "pk", None))
    return (*who, ctx.environment, ctx.version, tuple(visible_store_ids(ctx)))


def buyer_orders_q(ctx: GraphQLContext, prefix: str = "") -> Q:
    """For a buyer token: the orders that are theirs (bound identity, or buyer email when the
    identity is an email). For a merchant: every order (the store scope does the rest)."""
    actor = ctx.actor
    if not actor.is_buyer:
        return Q()
    identity = actor.buyer_identity
    mine = Q(**{f"{prefix}buyer_identity": identity})
    if "@" in identity:
        mine |= Q(**{f"{prefix}buyer_email": identity})
    return mine


def in_scope(qs: QuerySet, ctx: GraphQLContext, *, store_path: str = "store") -> QuerySet:
    """Rows of the caller's stores and environment (rows with an ``environment`` column)."""
    return qs.filter(
        **{f"{store_path}_id__in": visible_store_ids(ctx), "environment": ctx.environment}
    )


def merchant_only(ctx: GraphQLContext) -> bool:
    """Store configuration (products, groups, webhooks, team) is not a buyer's to read."""
    return ctx.actor.is_merchant
