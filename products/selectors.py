"""Catalog reads scoped to the caller. ``access_product`` / ``access_group`` are the only ways
from a caller's id to an object: absent, another store's, deleted store and wrong kind all answer
the same 404."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from pancake.api.actor import STORE_SLUG, Actor
from pancake.api.errors import Forbidden, NotFound
from pancake.api.prepared import PreparedSelect
from products.models import (
    Product,
    ProductGroup,
    ProductGroupMembership,
    ProductKind,
    ProductStatus,
    ProductVersion,
)
from stores.models import MembershipStatus, Merchant, Role, Store
from stores.selectors import has_role, role_subquery

_KIND_NAMES = {"onetime": "One-time product", "subscription": "Subscription product"}


def _role_in(actor: Actor, store_id) -> str | None:
    if actor.merchant is None:
        return None
    # values_list, not .only("role"): a model instance from the related manager would fetch its
    # deferred merchant_id back in a second query.
    return (
        actor.merchant.memberships.filter(
            store_id=store_id, status=MembershipStatus.ACTIVE, store__deleted_at__isnull=True
        )
        .values_list("role", flat=True)
        .first()
    )


def _check_role(role: str, min_role: str) -> None:
    if not has_role(role, min_role):
        raise Forbidden("Insufficient permissions", layer="product")


def product_queryset() -> QuerySet[Product]:
    return Product.objects.select_related("store", "test_version", "prod_version")


def _product_with_role(product_id, merchant_id):
    """A live store's product with the merchant's role in its store (``caller_role``, NULL
    without one): the membership check costs no statement of its own."""
    return (
        product_queryset()
        .filter(pk=product_id, store__deleted_at__isnull=True)
        .annotate(caller_role=role_subquery(Merchant(pk=merchant_id), Product))[:1]
    )


def _product_of_store(product_id, store_id):
    return product_queryset().filter(
        pk=product_id, store_id=store_id, store__deleted_at__isnull=True
    )[:1]


# Read on every create-session: compiled once per connection (pancake.api.prepared).
_PRODUCT_WITH_ROLE = PreparedSelect(_product_with_role)
_PRODUCT_OF_STORE = PreparedSelect(_product_of_store)


def access_product(
    actor: Actor, product_id: uuid.UUID, *, kind: str | None = None, min_role: str = Role.MEMBER
) -> Product:
    """A product the caller may work on, with its store and versions: a merchant's, of a store
    they are a member of with at least ``min_role`` (their role read by the same statement); a
    store-slug caller's, of that store. Anything else is the same 404."""
    role = None
    if actor.kind == STORE_SLUG:
        product = _PRODUCT_OF_STORE.first(product_id, actor.store.pk)
    elif actor.merchant is not None:
        product = _PRODUCT_WITH_ROLE.first(product_id, actor.merchant.pk)
        role = getattr(product, "caller_role", None)
        if role is None:
            product = None
    else:
        product = None
    if product is None or (kind and product.kind != kind):
        raise NotFound(f"{_KIND_NAMES.get(kind or '', 'Product')} not found", layer="product")
    if role is not None:
        _check_role(role, min_role)
    return product


def store_product(store_id, product_id: uuid.UUID, *, kind: str | None = None) -> Product:
    """A product of one store, for a caller whose credential is bound to that store (a buyer's
    session token): a product of another store, a deleted store's or of another kind is the
    same 404. No role is involved: the caller only reads it."""
    product = _PRODUCT_OF_STORE.first(product_id, store_id)
    if product is None or (kind and product.kind != kind):
        raise NotFound(f"{_KIND_NAMES.get(kind or '', 'Product')} not found", layer="product")
    return product


def groups_with(*, environment: str, product_ids) -> list[ProductGroup]:
    """The groups of ``environment`` that hold every one of ``product_ids`` (the plans a
    subscriber may move between), oldest first."""
    product_ids = list(dict.fromkeys(product_ids))
    groups = ProductGroup.objects.filter(environment=environment, store__deleted_at__isnull=True)
    for product_id in product_ids:
        groups = groups.filter(memberships__product_id=product_id)
    return list(groups.distinct().order_by("created_at"))


def self_service_plans(*, environment: str, product_id: uuid.UUID) -> list[Product]:
    """The other subscription products of the self-service groups of ``environment`` that hold
    ``product_id`` (the plans its subscriber may move to on their own), in the groups' order
    (oldest group first, then the merchant's order), each once, with both versions read."""
    memberships = (
        ProductGroupMembership.objects.filter(
            group__environment=environment,
            group__self_service_plan_change=True,
            group__store__deleted_at__isnull=True,
            group__memberships__product_id=product_id,
            product__kind=ProductKind.SUBSCRIPTION,
        )
        .exclude(product_id=product_id)
        .select_related("product", "product__test_version", "product__prod_version")
        .order_by("group__created_at", "position")
    )
    plans: dict = {}
    for membership in memberships:
        plans.setdefault(membership.product_id, membership.product)
    return list(plans.values())


def shared_trial_product_ids(*, product_id: uuid.UUID, environment: str) -> set:
    """Every product that shares a trial with ``product_id`` in ``environment``: the members of
    its groups whose ``sharedTrial`` rule is on (itself included); empty when none is."""
    return set(
        ProductGroupMembership.objects.filter(
            group__environment=environment,
            group__shared_trial=True,
            group__memberships__product_id=product_id,
        ).values_list("product_id", flat=True)
    )


def store_of_product(product_id: uuid.UUID) -> uuid.UUID | None:
    """The store a product belongs to, whoever asks (None: no such product). Not an access
    check: callers check the store."""
    return Product.objects.filter(pk=product_id).values_list("store_id", flat=True).first()


def group_queryset() -> QuerySet[ProductGroup]:
    return ProductGroup.objects.select_related("store").prefetch_related(
        Prefetch("memberships", queryset=ProductGroupMembership.objects.order_by("position"))
    )


def access_group(
    actor: Actor,
    group_id: uuid.UUID,
    *,
    min_role: str = Role.MEMBER,
    environment: str | None = None,
) -> ProductGroup:
    """A group of the caller's stores; with ``environment``, only a group of that environment."""
    group = group_queryset().filter(pk=group_id, store__deleted_at__isnull=True).first()
    role = _role_in(actor, group.store_id) if group else None
    if group is None or role is None or (environment and group.environment != environment):
        raise NotFound("Product group not found", layer="product")
    _check_role(role, min_role)
    return group


def product_list(*, store: Store, environment: str, kind: str | None = None) -> QuerySet[Product]:
    products = product_queryset().filter(store=store).order_by("-created_at")
    return products.filter(kind=kind) if kind else products


def group_list(*, store: Store, environment: str) -> QuerySet[ProductGroup]:
    return group_queryset().filter(store=store, environment=environment).order_by("created_at")


def purchasable_product(*, store_slug: str, product_slug: str, environment: str) -> Product | None:
    """The product behind a permanent purchase link, if it can be bought in ``environment``:
    active there, with a version there, in a live store."""
    product = (
        product_queryset()
        .filter(
            store__slug=store_slug,
            slug=product_slug,
            store__deleted_at__isnull=True,
            store__status="active",
        )
        .first()
    )
    if product is None:
        return None
    if (
        product.status_for(environment) != ProductStatus.ACTIVE
        or product.version_for(environment) is None
    ):
        return None
    return product


# --- dashboard pages (products/views.py) --------------------------------------------------------
# Reads added for the dashboard's product pages; the functions above are unchanged.


def product_versions(*, product: Product):
    """A product's version history, newest first, with only the columns the history shows."""
    return (
        ProductVersion.objects.filter(product=product)
        .only("id", "product_id", "number", "name", "created_at")
        .order_by("-number")
    )


# Subscriber counts per product (the list page's "subscribers" column) belong here once
# subscriptions exist (app ``billing``): one aggregate query for the whole list page, never one
# per row.
