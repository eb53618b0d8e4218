"""Catalog writes: products with immutable versions, per-environment status and publish, and
subscription product groups. Services validate, lock the row that owns the invariant, and never
edit a version. Refusals name the API field they are about (``exc.field``) and carry a stable
``exc.code`` (see ``products.validation``)."""

from __future__ import annotations

import secrets
import uuid

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from pancake import text
from pancake.api.actor import Actor
from pancake.api.errors import InvalidInput
from pancake.api.fields import render_id
from pancake.models import Environment
from products import markdown, validation
from products.models import (
    Product,
    ProductGroup,
    ProductGroupMembership,
    ProductKind,
    ProductStatus,
    ProductVersion,
)
from products.selectors import access_group, access_product
from stores.models import Role, Store
from stores.selectors import access_store

UNSET = object()
CONTENT_FIELDS = (
    "name",
    "description",
    "prices",
    "media",
    "success_url",
    "metadata",
    "billing_period",
)


def lock_product(product_id: uuid.UUID) -> Product:
    """The product row alone, locked. No joins: under READ COMMITTED, PostgreSQL re-reads a
    locked row that changed meanwhile, but not the joined rows, which it would see as they were
    at the start (a version written by the transaction we waited for would come back NULL)."""
    return Product.objects.select_for_update().get(pk=product_id)


def lock_group(group_id: uuid.UUID) -> ProductGroup:
    return ProductGroup.objects.select_for_update().get(pk=group_id)


def _unique_product_slug(store: Store, name: str) -> str:
    base = slugify(name)[:60].strip("-") or "product"
    slug = base
    while Product.objects.filter(store=store, slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def _content(version: ProductVersion) -> dict:
    return {field: getattr(version, field) for field in CONTENT_FIELDS}


def _checked_content(*, kind: str, content: dict) -> dict:
    """Validate a whole version's content (the merge of what was and what changes)."""
    metadata = validation.check_metadata(content.get("metadata"))
    return {
        "name": validation.check_name(content.get("name")),
        "description": validation.check_description(content.get("description")),
        "prices": validation.check_prices(content.get("prices"), kind=kind, metadata=metadata),
        "media": validation.check_media(content.get("media")),
        "success_url": validation.check_url(content.get("success_url"), "successUrl"),
        "metadata": metadata,
        "billing_period": (
            validation.check_billing_period(content.get("billing_period"))
            if kind == ProductKind.SUBSCRIPTION
            else None
        ),
    }


def _write_version(product: Product, number: int, content: dict) -> ProductVersion:
    return ProductVersion.objects.create(
        product=product,
        number=number,
        description_html=markdown.render(content["description"]),
        **content,
    )


def product_create(
    *,
    actor: Actor | None = None,
    store: Store | None = None,
    store_id: uuid.UUID | None = None,
    kind: str,
    name,
    prices,
    description=None,
    media=None,
    success_url=None,
    metadata=None,
    billing_period=None,
) -> Product:
    """Create a product and its version 1. New products live in test: active there, inactive in
    prod with no prod version until published. Owners and admins only."""
    if store is None:
        store = access_store(actor, store_id, min_role=Role.ADMIN)
    content = _checked_content(
        kind=kind,
        content={
            "name": name,
            "description": description,
            "prices": prices,
            "media": media,
            "success_url": success_url,
            "metadata": metadata,
            "billing_period": billing_period,
        },
    )
    for _ in range(3):
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    store=store, kind=kind, slug=_unique_product_slug(store, content["name"])
                )
                product.test_version = _write_version(product, 1, content)
                product.save(update_fields=["test_version", "updated_at"])
                return product
        except IntegrityError:
            continue  # a racing create took the slug: pick another
    raise InvalidInput("Could not allocate a product slug, please retry", layer="product")


def product_update(
    *, actor: Actor, product_id: uuid.UUID, kind: str, **changes
) -> tuple[Product, bool]:
    """Apply the fields sent (``UNSET`` keeps a field) to the current test version. A new version
    is written only when the content changed; versions are never edited. Returns the product and
    whether a version was written. Holds the product row lock while numbering the version."""
    with transaction.atomic():
        access_product(actor, product_id, kind=kind, min_role=Role.ADMIN)
        product = lock_product(product_id)
        current = ProductVersion.objects.get(pk=product.test_version_id)
        merged = _content(current)
        for field, value in changes.items():
            if value is not UNSET:
                merged[field] = value
        content = _checked_content(kind=kind, content=merged)
        if content == _content(current):
            return product, False
        latest = product.versions.order_by("-number").values_list("number", flat=True).first() or 0
        product.test_version = _write_version(product, latest + 1, content)
        product.save(update_fields=["test_version", "updated_at"])
    return product, True


def product_publish(*, actor: Actor, product_id: uuid.UUID, kind: str) -> Product:
    """Copy the current test version to prod (again on re-publish: prod follows the newest test
    version). The first publish also makes the product active in prod; later ones keep the prod
    status the merchant chose."""
    with transaction.atomic():
        access_product(actor, product_id, kind=kind, min_role=Role.ADMIN)
        product = lock_product(product_id)
        first = product.prod_version_id is None
        product.prod_version = product.test_version
        if first:
            product.prod_status = ProductStatus.ACTIVE
        product.save(update_fields=["prod_version", "prod_status", "updated_at"])
    return product


def product_update_status(
    *, actor: Actor, product_id: uuid.UUID, kind: str, status: str
) -> Product:
    """Activate or deactivate in the caller's environment. Inactive hides the product from new
    checkouts and purchase links; existing orders and subscriptions are untouched."""
    if status not in ProductStatus.values:
        raise InvalidInput(
            "Invalid status: expected active or inactive", layer="product", field="status"
        )
    with transaction.atomic():
        access_product(actor, product_id, kind=kind, min_role=Role.ADMIN)
        product = lock_product(product_id)
        if actor.environment == Environment.PROD:
            if status == ProductStatus.ACTIVE and product.prod_version_id is None:
                raise InvalidInput(
                    "Product has not been published to production: publish it first",
                    layer="product",
                    field="status",
                    code="not_published",
                )
            product.prod_status = status
        else:
            product.test_status = status
        product.save(update_fields=["test_status", "prod_status", "updated_at"])
    return product


# --- groups ------------------------------------------------------------------------------------


def _group_name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise validation.missing("name")
    if len(value.strip()) > 100:
        raise validation.bad("name must not exceed 100 characters", "name", "too_long")
    return text.check_no_control(value.strip(), layer="product")


def _group_description(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2000:
        raise validation.bad(
            "Invalid description: expected text of at most 2000 characters", "description"
        )
    return value


def _group_products(store: Store, product_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Subscription products of this store, in the order given, each once."""
    ordered = list(dict.fromkeys(product_ids))
    found = set(
        Product.objects.filter(
            store=store, kind=ProductKind.SUBSCRIPTION, pk__in=ordered
        ).values_list("pk", flat=True)
    )
    missing = [pid for pid in ordered if pid not in found]
    if missing:
        shown = render_id(missing[0], "PROD")
        raise validation.bad(
            f"Invalid productIds: {shown} is not a subscription product of this store",
            "productIds",
        )
    return ordered


def _set_group_products(group: ProductGroup, product_ids: list[uuid.UUID]) -> None:
    group.memberships.all().delete()
    ProductGroupMembership.objects.bulk_create(
        ProductGroupMembership(group=group, product_id=pid, position=i)
        for i, pid in enumerate(product_ids)
    )


def _apply_rules(group: ProductGroup, rules) -> None:
    """Switch by switch: a switch left out keeps its value (off on create)."""
    if rules is None:
        return
    if not isinstance(rules, dict):
        raise validation.bad(
            "Invalid rules: expected {sharedTrial?, selfServicePlanChange?}", "rules"
        )
    for key, attr in (
        ("sharedTrial", "shared_trial"),
        ("selfServicePlanChange", "self_service_plan_change"),
    ):
        if key in rules:
            if not isinstance(rules[key], bool):
                raise validation.bad(f"Invalid rules.{key}: expected true or false", f"rules.{key}")
            setattr(group, attr, rules[key])


def group_create(
    *, actor: Actor, store_id: uuid.UUID, name, description=None, rules=None, product_ids=None
) -> ProductGroup:
    """A group in the caller's environment."""
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.ADMIN)
        group = ProductGroup(
            store=store,
            environment=actor.environment,
            name=_group_name(name),
            description=_group_description(description),
        )
        _apply_rules(group, rules)
        members = _group_products(store, product_ids or [])
        group.save()
        _set_group_products(group, members)
    return access_group(actor, group.pk)


def group_update(
    *,
    actor: Actor,
    group_id: uuid.UUID,
    name=UNSET,
    description=UNSET,
    rules=UNSET,
    product_ids=UNSET,
) -> ProductGroup:
    """Partial update; ``productIds`` replaces the whole list; rules merge switch by switch."""
    with transaction.atomic():
        access_group(actor, group_id, min_role=Role.ADMIN, environment=actor.environment)
        group = lock_group(group_id)
        if name is not UNSET:
            group.name = _group_name(name)
        if description is not UNSET:
            group.description = _group_description(description)
        if rules is not UNSET:
            _apply_rules(group, rules)
        if product_ids is not UNSET:
            _set_group_products(group, _group_products(group.store, product_ids or []))
        group.save()
    return access_group(actor, group_id)


def group_delete(*, actor: Actor, group_id: uuid.UUID) -> ProductGroup:
    """Permanent; the products stay. Returns the group as it was."""
    with transaction.atomic():
        group = access_group(actor, group_id, min_role=Role.ADMIN, environment=actor.environment)
        snapshot = ProductGroup(
            id=group.id,
            store=group.store,
            environment=group.environment,
            name=group.name,
            description=group.description,
            shared_trial=group.shared_trial,
            self_service_plan_change=group.self_service_plan_change,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
        snapshot.snapshot_product_ids = group.product_ids
        lock_group(group_id).delete()
    return snapshot


def group_publish(*, actor: Actor, group_id: uuid.UUID) -> ProductGroup:
    """Upsert the test group's prod copy (repeatable): name, description, rules, products."""
    with transaction.atomic():
        group = access_group(actor, group_id, min_role=Role.ADMIN)
        if group.environment != Environment.TEST:
            raise InvalidInput(
                "Only a test group can be published to production",
                layer="product",
                code="not_a_test_group",
            )
        group = lock_group(group_id)
        copy = ProductGroup.objects.select_for_update().filter(
            source=group
        ).first() or ProductGroup(
            source=group, store_id=group.store_id, environment=Environment.PROD
        )
        copy.name, copy.description = group.name, group.description
        copy.shared_trial, copy.self_service_plan_change = (
            group.shared_trial,
            group.self_service_plan_change,
        )
        copy.save()
        _set_group_products(copy, group.product_ids)
    return access_group(actor, copy.pk)
