"""Writes for merchants, stores, team, API keys and buyer session tokens.

Services raise PancakeErrors with the API's documented messages and own their transactions.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from pancake import text
from pancake.api import buyer_tokens, signatures
from pancake.api.actor import Actor
from pancake.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from pancake.api.versions import ApiVersion
from pancake.celery import registered
from pancake.models import Environment
from stores import branding, notifications
from stores.models import (
    MERCHANT_WRITABLE_NOTIFICATION_KEYS,
    NOTIFICATION_KEYS,
    ApiKey,
    BuyerSession,
    MembershipStatus,
    Merchant,
    Role,
    Store,
    StoreMembership,
    StoreStatus,
    normalize_email,
)
from stores.selectors import INVITE_SALT, access_store, invited_membership_id

# --- merchants -------------------------------------------------------------------------------


def merchant_get_or_create(*, email: str) -> tuple[Merchant, bool]:
    email = normalize_email(email)
    try:
        with transaction.atomic():
            return Merchant.objects.get_or_create(email=email)
    except IntegrityError:
        return Merchant.objects.get(email=email), False


def lock_merchant(merchant_id: uuid.UUID) -> Merchant:
    return Merchant.objects.select_for_update().get(pk=merchant_id)


# Dashboard preferences a merchant may keep, with the values each accepts.
PREFERENCE_CHOICES = {
    "analyticsGranularity": ("day", "week", "month"),
}


def merchant_preference_set(*, merchant: Merchant, key: str, value) -> Merchant:
    """Remember one dashboard choice for the merchant (``PREFERENCE_CHOICES``); an unknown key
    or value is refused."""
    allowed = PREFERENCE_CHOICES.get(key)
    if allowed is None or value not in allowed:
        raise InvalidInput(f"Invalid {key}: expected one of {', '.join(allowed or ())}", field=key)
    with transaction.atomic():
        locked = lock_merchant(merchant.pk)
        if locked.preferences.get(key) != value:
            locked.preferences = {**locked.preferences, key: value}
            locked.save(update_fields=["preferences", "updated_at"])
    merchant.preferences = locked.preferences
    return locked


def merchant_checklist_dismiss(*, merchant: Merchant, store_id: uuid.UUID) -> Merchant:
    """Hide a store's getting-started checklist for this merchant."""
    with transaction.atomic():
        locked = lock_merchant(merchant.pk)
        dismissed = list(locked.preferences.get("checklistDismissed") or [])
        if str(store_id) not in dismissed:
            dismissed.append(str(store_id))
            locked.preferences = {**locked.preferences, "checklistDismissed": dismissed}
            locked.save(update_fields=["preferences", "updated_at"])
    merchant.preferences = locked.preferences
    return locked


def lock_store(store_id: uuid.UUID) -> Store:
    return Store.objects.select_for_update().get(pk=store_id)


# --- stores ------------------------------------------------------------------------------------


def _check_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise InvalidInput(
            "Store name must be between 1 and 100 characters", layer="store", field="name"
        )
    return text.check_no_control(name.strip(), layer="store")


# The seller address's keys, their fields on the store and their longest values.
ADDRESS_FIELDS = {
    "line1": ("address_line1", 200),
    "line2": ("address_line2", 200),
    "city": ("address_city", 100),
    "postcode": ("address_postcode", 20),
    "state": ("address_state", 100),
    "country": ("address_country", 2),
}


def _seller_text(value, field: str, longest: int) -> str:
    """One line of the seller's details: text of at most ``longest`` characters, no control
    characters (it is printed on invoices); None is empty."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > longest:
        raise InvalidInput(
            f"Invalid {field}: expected text of at most {longest} characters",
            layer="store",
            field=field,
            code="invalid",
        )
    return text.check_no_control(value.strip(), field=field, layer="store")


def _set_address(store: Store, address: dict) -> None:
    if not isinstance(address, dict):
        raise InvalidInput("Invalid address: expected an object", layer="store", field="address")
    for key, (attribute, longest) in ADDRESS_FIELDS.items():
        value = _seller_text(address.get(key), f"address.{key}", longest)
        if key == "country":
            value = value.upper()
            if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
                raise InvalidInput(
                    "Invalid address.country: expected an ISO 3166-1 alpha-2 code",
                    layer="store",
                    field="address.country",
                    code="invalid",
                )
        setattr(store, attribute, value)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60].strip("-") or "store"
    while True:
        slug = f"{base}-{secrets.token_hex(3)}"
        if not Store.objects.filter(slug=slug).exists():
            return slug


def store_create(
    *, merchant: Merchant, name: str, default_currency: str = "USD", country: str = "", **fields
) -> Store:
    """Create a store owned by ``merchant``. At most MAX_STORES_PER_MERCHANT live stores owned;
    racing creates queue on the merchant row so the limit holds."""
    name = _check_name(name)
    with transaction.atomic():
        lock_merchant(merchant.pk)
        owned = StoreMembership.objects.filter(
            merchant=merchant, role=Role.OWNER, store__deleted_at__isnull=True
        ).count()
        if owned >= settings.MAX_STORES_PER_MERCHANT:
            limit = settings.MAX_STORES_PER_MERCHANT
            raise Forbidden(
                f"Store limit reached: a merchant can own at most {limit} stores",
                layer="store",
                code="limit_reached",
            )
        store = Store.objects.create(
            name=name,
            slug=_unique_slug(name),
            default_currency=default_currency,
            country=country,
            created_by=merchant,
            **fields,
        )
        StoreMembership.objects.create(
            store=store,
            merchant=merchant,
            role=Role.OWNER,
            status=MembershipStatus.ACTIVE,
            accepted_at=timezone.now(),
        )
    return store


def notification_settings_merge(current: dict, patch: dict | None) -> tuple[dict, list[str]]:
    """Returns the new settings and the keys that were dropped (not merchant-writable)."""
    if patch is None:
        return {}, []
    if not isinstance(patch, dict):
        raise InvalidInput(
            "Invalid notificationSettings: expected an object or null",
            layer="store",
            field="notificationSettings",
        )
    result = dict(current or {})
    dropped = []
    for key, value in patch.items():
        if key not in MERCHANT_WRITABLE_NOTIFICATION_KEYS:
            dropped.append(key)
            continue
        if not isinstance(value, bool):
            raise InvalidInput(
                f"Invalid notificationSettings.{key}: expected a boolean",
                layer="store",
                field=f"notificationSettings.{key}",
            )
        result[key] = value
    return {k: v for k, v in result.items() if k in NOTIFICATION_KEYS}, dropped


UNSET = object()


def store_update(
    *,
    actor: Actor,
    store_id: uuid.UUID,
    name=UNSET,
    status=UNSET,
    logo=UNSET,
    support_email=UNSET,
    website=UNSET,
    description=UNSET,
    default_currency=UNSET,
    timezone_name=UNSET,
    notification_settings=UNSET,
    checkout_settings=UNSET,
    legal_name=UNSET,
    address=UNSET,
    tax_id=UNSET,
) -> tuple[Store, list[str]]:
    """Partial update by an owner or admin. Returns the store and the notification keys dropped
    because the merchant may not write them. ``suspended`` is set by staff only.

    The seller details invoices carry: ``legal_name`` (empty: the store's name), ``address`` (a
    dict of ``line1``, ``line2``, ``city``, ``postcode``, ``state``, ``country``; missing keys are
    emptied) and ``tax_id``. Issued invoices keep the details they were issued with."""
    with transaction.atomic():
        access_store(actor, store_id, min_role=Role.ADMIN)
        store = lock_store(store_id)
        dropped: list[str] = []
        if name is not UNSET:
            store.name = _check_name(name)
        if status is not UNSET:
            if status == "suspended" and store.status != "suspended":
                raise Forbidden(
                    "Only platform staff can suspend a store", layer="store", field="status"
                )
            if store.status == "suspended" and status != "suspended":
                raise Forbidden(
                    "A suspended store can only be reinstated by platform staff",
                    layer="store",
                    field="status",
                )
            store.status = status
        if logo is not UNSET:
            store.logo = logo
        if support_email is not UNSET:
            store.support_email = normalize_email(support_email) if support_email else None
        if website is not UNSET:
            store.website = website or None
        if description is not UNSET:
            store.description = description or ""
        if default_currency is not UNSET:
            store.default_currency = default_currency
        if timezone_name is not UNSET:
            store.timezone = timezone_name
        if notification_settings is not UNSET:
            store.notification_settings, dropped = notification_settings_merge(
                store.notification_settings, notification_settings
            )
        if checkout_settings is not UNSET:
            store.checkout_settings = branding.merge(store.checkout_settings, checkout_settings)
        if legal_name is not UNSET:
            store.legal_name = _seller_text(legal_name, "legalName", 200)
        if address is not UNSET:
            _set_address(store, address or {})
        if tax_id is not UNSET:
            store.tax_id = _seller_text(tax_id, "taxId", 40)
        store.save()
    return store, dropped


def store_delete(*, actor: Actor, store_id: uuid.UUID) -> Store:
    """Soft delete (owner only): the store leaves every API and page; its data stays."""
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.MEMBER)
        if store.caller_role != Role.OWNER:
            raise Forbidden("Only store owner can delete store", layer="store")
        store = lock_store(store_id)
        store.deleted_at = timezone.now()
        store.save(update_fields=["deleted_at", "updated_at"])
    return store


def store_suspend(*, store_id: uuid.UUID) -> Store:
    """Platform staff suspend a store (the admin's action): it stays suspended, whatever its
    team tries, until staff reactivate it. Suspending a suspended store changes nothing."""
    with transaction.atomic():
        store = lock_store(store_id)
        if store.status != StoreStatus.SUSPENDED:
            store.status = StoreStatus.SUSPENDED
            store.save(update_fields=["status", "updated_at"])
    return store


def store_reactivate(*, store_id: uuid.UUID) -> Store:
    """Platform staff lift a suspension: the store is active again. A store that is not
    suspended is left as it is (409), so an inactive store is never switched on by staff."""
    with transaction.atomic():
        store = lock_store(store_id)
        if store.status != StoreStatus.SUSPENDED:
            raise Conflict("This store is not suspended", layer="store", code="not_suspended")
        store.status = StoreStatus.ACTIVE
        store.save(update_fields=["status", "updated_at"])
    return store


# --- team --------------------------------------------------------------------------------------


def _check_assignable_role(role: str) -> None:
    if role not in (Role.ADMIN, Role.MEMBER):
        raise InvalidInput("Invalid role: expected admin or member", layer="store", field="role")


def invite_token(membership: StoreMembership) -> str:
    return signing.dumps({"m": str(membership.pk)}, salt=INVITE_SALT)


def member_add(*, actor: Actor, store_id: uuid.UUID, email: str, role: str) -> StoreMembership:
    """Invite someone by email (owner or admin). A new address gets a merchant account that
    becomes usable when they sign in; the membership is ``invited`` until they accept."""
    _check_assignable_role(role)
    email = normalize_email(email)
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.ADMIN)
        if store.caller_role == Role.ADMIN and role == Role.ADMIN:
            # As in member_update_role: else an admin promotes anyone by remove + add.
            raise Forbidden(
                "Only the store owner can grant or change the admin role",
                layer="store",
                field="role",
            )
        lock_store(store.pk)
        merchant, _ = merchant_get_or_create(email=email)
        if StoreMembership.objects.filter(store=store, merchant=merchant).exists():
            raise Conflict(
                "This merchant is already a member of the store",
                layer="store",
                field="email",
                code="duplicate",
            )
        membership = StoreMembership.objects.create(
            store=store,
            merchant=merchant,
            role=role,
            status=MembershipStatus.INVITED,
            invited_by=actor.merchant,
        )
        transaction.on_commit(lambda: _send_invite(membership.pk))
    return membership


def _send_invite(membership_id) -> None:
    registered("stores.tasks.send_team_invite").delay(str(membership_id))


def member_accept(*, merchant: Merchant, token: str) -> StoreMembership:
    membership_id = invited_membership_id(token)
    if membership_id is None:
        raise InvalidInput("This invitation link is invalid or has expired", layer="store")
    with transaction.atomic():
        membership = (
            StoreMembership.objects.select_for_update()
            .select_related("store", "merchant")
            .filter(pk=membership_id, store__deleted_at__isnull=True)
            .first()
        )
        if membership is None:
            raise NotFound("This invitation no longer exists", layer="store")
        if membership.merchant_id != merchant.pk:
            raise Forbidden(
                f"This invitation was sent to {membership.merchant.email}", layer="store"
            )
        if membership.status != MembershipStatus.ACTIVE:
            membership.status = MembershipStatus.ACTIVE
            membership.accepted_at = timezone.now()
            membership.save(update_fields=["status", "accepted_at", "updated_at"])
    return membership


def _target_membership(store: Store, merchant_id: uuid.UUID) -> StoreMembership:
    membership = (
        StoreMembership.objects.select_for_update()
        .filter(store=store, merchant_id=merchant_id)
        .first()
    )
    if membership is None:
        raise NotFound("Merchant is not a member of this store", layer="store", field="merchantId")
    return membership


def member_remove(*, actor: Actor, store_id: uuid.UUID, merchant_id: uuid.UUID) -> StoreMembership:
    """Owner or admin removes a member; the owner cannot be removed, an admin cannot remove
    another admin. Anyone may leave a store they do not own."""
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.MEMBER)
        lock_store(store.pk)
        target = _target_membership(store, merchant_id)
        if target.role == Role.OWNER:
            raise Forbidden("The store owner cannot be removed", layer="store")
        leaving = target.merchant_id == actor.merchant.pk
        if not leaving:
            if store.caller_role == Role.MEMBER:
                raise Forbidden("Insufficient permissions", layer="store")
            if store.caller_role == Role.ADMIN and target.role == Role.ADMIN:
                raise Forbidden("Only the store owner can remove an admin", layer="store")
        target.delete()
    return target


def member_update_role(
    *, actor: Actor, store_id: uuid.UUID, merchant_id: uuid.UUID, role: str
) -> StoreMembership:
    _check_assignable_role(role)
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.ADMIN)
        lock_store(store.pk)
        target = _target_membership(store, merchant_id)
        if target.role == Role.OWNER:
            raise Forbidden(
                "The store owner's role cannot be changed; transfer ownership instead",
                layer="store",
            )
        if store.caller_role == Role.ADMIN and (target.role == Role.ADMIN or role == Role.ADMIN):
            if target.merchant_id != actor.merchant.pk or role == Role.ADMIN:
                raise Forbidden(
                    "Only the store owner can grant or change the admin role",
                    layer="store",
                    field="role",
                )
        target.role = role
        target.save(update_fields=["role", "updated_at"])
    return target


def ownership_transfer(
    *, actor: Actor, store_id: uuid.UUID, merchant_id: uuid.UUID
) -> StoreMembership:
    """The owner hands the store to an active member, and stays on as admin."""
    with transaction.atomic():
        store = access_store(actor, store_id, min_role=Role.OWNER)
        lock_store(store.pk)
        target = _target_membership(store, merchant_id)
        if target.status != MembershipStatus.ACTIVE:
            raise InvalidInput(
                "Ownership can only go to a member who has accepted the invitation",
                layer="store",
                field="merchantId",
            )
        if target.role == Role.OWNER:
            return target
        current = _target_membership(store, actor.merchant.pk)
        current.role = Role.ADMIN
        current.save(update_fields=["role", "updated_at"])
        target.role = Role.OWNER
        target.save(update_fields=["role", "updated_at"])
    return target


# --- API keys ------------------------------------------------------------------------------------


def api_key_create(
    *, merchant: Merchant, name: str, environment: str, public_key_pem: str, api_version: str
) -> ApiKey:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(
            "API key name must be between 1 and 100 characters", layer="user", field="name"
        )
    text.check_no_control(name, layer="user")
    _check_key_settings(environment=environment, api_version=api_version)
    try:
        pem, fingerprint = signatures.parse_public_key(public_key_pem)
    except InvalidInput as exc:  # the key check knows no input names: this one is publicKey
        raise InvalidInput(exc.message, layer=exc.layer, field="publicKey") from None
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                merchant=merchant,
                name=name,
                environment=environment,
                api_version=api_version,
                public_key_pem=pem,
                fingerprint=fingerprint,
            )
            notifications.emit_api_key_event(key, "api_key.created")
            return key
    except IntegrityError:
        raise Conflict(
            "This public key is already registered",
            layer="user",
            field="publicKey",
            code="duplicate",
        ) from None


def _check_key_settings(*, environment: str | None = None, api_version: str | None = None) -> None:
    if environment is not None and environment not in Environment.values:
        raise InvalidInput(
            "Invalid environment: expected test or prod", layer="user", field="environment"
        )
    if api_version is not None and api_version not in ApiVersion.values:
        raise InvalidInput(
            f"Invalid API version: expected one of {', '.join(ApiVersion.values)}",
            layer="user",
            field="apiVersion",
        )


def api_key_update_version(*, merchant: Merchant, key_id: uuid.UUID, api_version: str) -> ApiKey:
    _check_key_settings(api_version=api_version)
    key = ApiKey.objects.filter(merchant=merchant, pk=key_id).first()
    if key is None:
        raise NotFound("API key not found", layer="user")
    key.api_version = api_version
    key.save(update_fields=["api_version", "updated_at"])
    return key


def api_key_delete(*, merchant: Merchant, key_id: uuid.UUID) -> None:
    """Immediate: the next request signed with it fails with 401."""
    with transaction.atomic():
        key = ApiKey.objects.filter(merchant=merchant, pk=key_id).select_for_update().first()
        if key is None:
            raise NotFound("API key not found", layer="user")
        notifications.emit_api_key_event(key, "api_key.deleted")
        key.delete()


# --- buyer session tokens ---------------------------------------------------------------------


def buyer_session_issue(
    *,
    actor: Actor,
    buyer_identity: str,
    store_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
    product_store_id: uuid.UUID | None = None,
) -> tuple[str, BuyerSession]:
    """A token for one buyer in one store and environment: 5 minutes, extended at each use up to
    60 minutes from issue. An email identity is normalized. A token for a product
    (``product_id``) is limited to it and belongs to its store, ``product_store_id``, which the
    caller looks up (None: no such product)."""
    identity = (buyer_identity or "").strip()
    if not identity or len(identity) > 320:
        raise InvalidInput(
            "Invalid buyerIdentity: expected 1 to 320 characters",
            layer="user",
            field="buyerIdentity",
        )
    if "@" in identity:
        identity = normalize_email(identity)
    if product_id is not None:
        if product_store_id is None or (store_id is not None and product_store_id != store_id):
            raise NotFound("Product not found", layer="product")
        store_id = product_store_id
    if store_id is None:
        raise InvalidInput(
            "Missing required field: storeId or productId",
            layer="user",
            field="storeId",
            code="required",
        )
    try:
        store = access_store(actor, store_id)
    except NotFound:
        # Another merchant's product is as absent as a product that does not exist.
        raise NotFound(
            "Product not found" if product_id else "Store not found",
            layer="product" if product_id else "store",
        ) from None
    now = timezone.now()
    session = BuyerSession.objects.create(
        issued_by=actor.merchant,
        store=store,
        product_id=product_id,
        buyer_identity=identity,
        environment=actor.environment,
        issued_at=now,
        expires_at=now + timedelta(seconds=settings.BUYER_SESSION_TTL_SECONDS),
        max_expires_at=now + timedelta(seconds=settings.BUYER_SESSION_MAX_SECONDS),
    )
    return buyer_tokens.encode(session), session


def buyer_session_extend(session: BuyerSession, now) -> None:
    """Sliding lifetime: each use of a buyer session extends it by the TTL, never past its cap
    (one conditional UPDATE, only when the expiry moves)."""
    new_expiry = min(
        now + timedelta(seconds=settings.BUYER_SESSION_TTL_SECONDS), session.max_expires_at
    )
    if new_expiry > session.expires_at:
        BuyerSession.objects.filter(pk=session.pk, expires_at__lt=new_expiry).update(
            expires_at=new_expiry
        )
        session.expires_at = new_expiry


def api_key_touch(key: ApiKey, now) -> None:
    """Record that a key was used: at most one write a minute per key, whatever the request
    rate (a key used within the last minute costs no statement at all)."""
    if key.last_used_at is not None and key.last_used_at >= now - timedelta(minutes=1):
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)


def buyer_sessions_purge() -> int:
    deleted, _ = BuyerSession.objects.filter(max_expires_at__lt=timezone.now()).delete()
    return deleted
