"""Reads scoped to the caller. ``access_store`` is the only way from a caller's store id to a
store: absent, deleted and not-yours all answer the same 404."""

from __future__ import annotations

import uuid

from auditlog.models import LogEntry
from django.core import signing
from django.db import connection
from django.db.models import CharField, Q, QuerySet
from django.db.models.expressions import RawSQL

from pancake.api.actor import Actor
from pancake.api.errors import Forbidden, NotFound
from stores.models import (
    ROLE_RANK,
    ApiKey,
    BuyerSession,
    MembershipStatus,
    Role,
    Store,
    StoreMembership,
)

INVITE_SALT = "pancake.team-invite"
INVITE_MAX_AGE = 7 * 24 * 3600


def active_stores_for(merchant) -> QuerySet[Store]:
    return Store.objects.filter(
        deleted_at__isnull=True,
        memberships__merchant=merchant,
        memberships__status=MembershipStatus.ACTIVE,
    ).order_by("created_at")


def membership_for(merchant, store_id: uuid.UUID) -> StoreMembership | None:
    return (
        StoreMembership.objects.select_related("store")
        .filter(
            merchant=merchant,
            store_id=store_id,
            status=MembershipStatus.ACTIVE,
            store__deleted_at__isnull=True,
        )
        .first()
    )


def role_subquery(merchant, outer_model) -> RawSQL:
    """The merchant's active role in the store that ``outer_model``'s ``store`` column names, or
    NULL: annotated onto the row that names the store, the membership check costs no statement
    of its own. The outer query must exclude deleted stores itself.

    The same correlated subquery the ORM would write for ``Subquery(StoreMembership.objects
    .filter(merchant=..., store_id=OuterRef("store_id"), status="active").values("role")[:1])``,
    as text built from the models' metadata: a Subquery is compiled again on every request
    (about 1 ms of CPU, as much as the statement it saves)."""
    # Only quoted table and column names from the models go into the text; values are params.
    qn = connection.ops.quote_name
    membership = StoreMembership._meta
    merchant_field = membership.get_field("merchant")
    role, merchant_col, store_col, status_col = (
        qn(membership.get_field(name).column) for name in ("role", "merchant", "store", "status")
    )
    outer = f"{qn(outer_model._meta.db_table)}.{qn(outer_model._meta.get_field('store').column)}"
    where = f"U0.{merchant_col} = %s AND U0.{store_col} = {outer} AND U0.{status_col} = %s"
    sql = f"SELECT U0.{role} FROM {qn(membership.db_table)} U0 WHERE {where} LIMIT 1"  # noqa: S608
    merchant_id = merchant_field.target_field.get_db_prep_value(merchant.pk, connection)
    params = (merchant_id, MembershipStatus.ACTIVE.value)
    return RawSQL(sql, params, output_field=CharField())  # noqa: S611 - see above


def has_role(role: str, min_role: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]


def check_role(role: str, min_role: str, *, layer: str = "store") -> None:
    """The role rule of every store-scoped access function: a member whose role ranks below
    ``min_role`` gets 403 (whoever is not a member at all gets the caller's own 404)."""
    if not has_role(role, min_role):
        raise Forbidden("Insufficient permissions", layer=layer)


def access_store(actor: Actor, store_id: uuid.UUID, *, min_role: str = Role.MEMBER) -> Store:
    """The store if the caller may see it; 404 otherwise; 403 if their role is too low."""
    if actor.merchant is None:
        raise NotFound("Store not found", layer="store")
    membership = membership_for(actor.merchant, store_id)
    if membership is None:
        raise NotFound("Store not found", layer="store")
    check_role(membership.role, min_role)
    store = membership.store
    store.caller_role = membership.role
    return store


def store_members(store: Store) -> QuerySet[StoreMembership]:
    return store.memberships.select_related("merchant").order_by("created_at")


def store_alert_recipients(store: Store) -> list[str]:
    """Who hears of a store's business by email (new orders, new subscriptions): the addresses of
    its active owner and admins."""
    return list(
        StoreMembership.objects.filter(
            store=store,
            status=MembershipStatus.ACTIVE,
            role__in=[Role.OWNER, Role.ADMIN],
            merchant__is_active=True,
        )
        .order_by("merchant__email")
        .values_list("merchant__email", flat=True)
    )


def signing_keys_of(merchant_id) -> QuerySet[ApiKey]:
    """The keys a request signed as ``merchant_id`` may have been signed with (an active
    merchant's), with their merchant."""
    return ApiKey.objects.select_related("merchant").filter(
        merchant_id=merchant_id, merchant__is_active=True
    )


def live_buyer_session(session_id, now) -> BuyerSession | None:
    """A buyer session not expired at ``now``, of a store not deleted, with its store."""
    return (
        BuyerSession.objects.select_related("store")
        .filter(pk=session_id, expires_at__gt=now, store__deleted_at__isnull=True)
        .first()
    )


def store_for_slug(slug: str) -> Store | None:
    """The live store a public (store-slug) caller names."""
    return Store.objects.filter(slug=slug, deleted_at__isnull=True).first()


def api_keys_for(merchant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(merchant=merchant).order_by("-created_at")


# --- dashboard pages (stores/views.py) ----------------------------------------------------------


def invited_membership_id(token: str) -> uuid.UUID | None:
    """The membership an invitation link names, if the link is ours and not expired (7 days)."""
    try:
        payload = signing.loads(token, salt=INVITE_SALT, max_age=INVITE_MAX_AGE)
        return uuid.UUID(str(payload["m"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def invitation_for_token(token: str) -> StoreMembership | None:
    """The membership an invitation link points at, without accepting it; None when the link is
    invalid, expired, or its store is gone. Accepting stays with ``services.member_accept``."""
    membership_id = invited_membership_id(token)
    if membership_id is None:
        return None
    return (
        StoreMembership.objects.select_related("store", "merchant", "invited_by")
        .filter(pk=membership_id, store__deleted_at__isnull=True)
        .first()
    )


# --- the Security log ----------------------------------------------------------------------------


def security_log(store: Store) -> QuerySet[LogEntry]:
    """The audit trail's entries of ``store`` (``pancake.audit``), newest first: changes to the
    store and its team, webhook endpoints and refund tickets, made by its team, the API or staff;
    and the API keys created, changed or deleted by its members (a key acts on every store of
    its merchant). Only the store's owners and admins see it."""
    members = [
        str(merchant_id)
        for merchant_id in StoreMembership.objects.filter(store=store).values_list(
            "merchant_id", flat=True
        )
    ]
    return (
        LogEntry.objects.filter(
            Q(additional_data__store_id=str(store.pk))
            | Q(content_type__app_label="stores", content_type__model="apikey")
            & Q(additional_data__merchant_id__in=members)
        )
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )
