"""Checkout writes: sessions (what a buyer is offered, frozen) and orders (what they bought).

Checkout owns the ``CheckoutSession`` and ``Order`` tables; nothing else writes them. Payments
belong to billing: placing an order with its first payment is ``billing.services.order_place``,
which calls ``order_create`` here inside its own transaction, and a paid order is marked by
billing through ``order_mark_paid``. Every service reaches a session or an order through
``checkout.selectors.access_session`` / ``access_order``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_territory_currencies
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from checkout import languages
from checkout.models import (
    CheckoutSession,
    Order,
    OrderKind,
    OrderStatus,
    SessionStatus,
)
from checkout.selectors import (
    NOT_YOURS,
    SESSION_NOT_YOURS,
    access_order,
    access_session,
    buyer_owns_order,
)
from checkout.tax.engine import TaxResult, calculate
from checkout.trials import trial_charge
from pancake import money, text
from pancake.api import prepared
from pancake.api.actor import BUYER, MERCHANT, STORE_SLUG, Actor
from pancake.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from pancake.api.prepared import PreparedSelect
from products.models import Product, ProductKind, ProductStatus, ProductVersion, TaxCategory
from products.selectors import access_product, shared_trial_product_ids
from stores.models import Role, normalize_email

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
PAYMENT_METHODS = ("card", "applepay", "googlepay", "wechat")
# What the built-in test processor can take; real providers will say what they offer.
OFFERED_METHODS = ("card",)
SESSION_INVALID = "Checkout session invalid, please re-enter"
# ``name``: the buyer's own name (optional), printed on their invoices.
BILLING_DETAIL_KEYS = ("postcode", "state", "businessName", "taxId", "city", "address", "name")


def bad(message: str, field: str | None = None, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, layer="order", field=field, code=code)


SHARED_TRIAL_USED = "withTrial ignored: this buyer already had a trial in the product's group"
PLAN_CHANGE_SESSION = "This session changes a plan: confirm it on its page"


def checkout_url(session: CheckoutSession) -> str:
    """The session's page: the hosted checkout, or a plan change's confirmation page."""
    name = "checkout:change" if session.is_plan_change else "checkout:page"
    path = reverse(name, args=[session.store.slug, session.pk])
    return settings.BASE_URL + path


# --- sessions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Price:
    amount: int
    tax_category: str
    tax_included: bool
    trial_amount: int | None
    overridden: bool


def session_create(
    *,
    actor: Actor,
    product_id: uuid.UUID,
    currency: str,
    warn,
    store_id: uuid.UUID | None = None,
    product_type: str | None = None,
    with_trial: bool | None = None,
    buyer_email: str | None = None,
    billing_detail=None,
    success_url: str | None = None,
    expires_in_seconds: int | None = None,
    metadata: dict | None = None,
    dark_mode: bool | None = None,
    language: str | None = None,
    price_snapshot: dict | None = None,
    order_merchant_external_id: str | None = None,
    include_payment_methods: list | None = None,
    exclude_payment_methods: list | None = None,
) -> CheckoutSession:
    """A new-purchase session for the product's version active in the caller's environment, at
    the price of ``currency`` (or the API key's ``priceSnapshot``), open for ``expiresInSeconds``.
    API key (owner or admin of the product's store) or store slug; store-slug callers cannot set
    prices, external ids or payment methods: those are dropped with a warning. A trial the
    buyer (``buyerEmail``) already had in the product's shared-trial group is dropped with a
    warning too. One INSERT."""
    _check_new_purchase_caller(actor)
    if actor.kind == STORE_SLUG:
        _warn_api_key_only(
            warn,
            priceSnapshot=price_snapshot,
            orderMerchantExternalId=order_merchant_external_id,
            includePaymentMethods=include_payment_methods,
            excludePaymentMethods=exclude_payment_methods,
        )
        price_snapshot = order_merchant_external_id = None
        include_payment_methods = exclude_payment_methods = None
    product = access_product(actor, product_id, min_role=Role.ADMIN)
    _check_claims(product, store_id=store_id, product_type=product_type)
    version = _version_on_sale(product, actor.environment)
    currency = money.check_currency(currency if isinstance(currency, str) else None)
    price = _session_price(version, currency, price_snapshot)
    with_trial = _trial_choice(product, version, with_trial, warn)
    buyer_email = normalize_email(buyer_email) if buyer_email else None
    if (
        with_trial
        and buyer_email
        and trial_already_used(
            product_id=product.pk,
            store_id=product.store_id,
            environment=actor.environment,
            email=buyer_email,
        )
    ):
        warn(SHARED_TRIAL_USED)
        with_trial = False
    session = _new_session(
        actor=actor,
        product=product,
        version=version,
        currency=currency,
        price=price,
        expires_in_seconds=expires_in_seconds,
        language=language,
        metadata=metadata,
        success_url=success_url,
        dark_mode=dark_mode,
        warn=warn,
        trial_days=version.trial_days if product.kind == ProductKind.SUBSCRIPTION else None,
        trial_amount=price.trial_amount,
        with_trial=with_trial,
        buyer_email=buyer_email,
        billing_detail=clean_billing_detail(billing_detail),
        payment_methods=_payment_methods(include_payment_methods, exclude_payment_methods, warn),
        order_merchant_external_id=order_merchant_external_id,
        created_via="api_key" if actor.kind == MERCHANT else "store_slug",
    )
    # One INSERT, in the action's transaction when there is one (no savepoint of its own).
    with transaction.atomic(savepoint=False):
        prepared.insert(session)  # objects.create, from a statement compiled once
    session.store = product.store
    return session


def _new_session(
    *,
    actor: Actor,
    product: Product,
    version: ProductVersion,
    currency: str,
    price: _Price,
    expires_in_seconds: int | None,
    language: str | None,
    metadata: dict | None,
    success_url: str | None,
    dark_mode: bool | None,
    warn,
    **fields,
) -> CheckoutSession:
    """A session row (not saved) with what every kind of session freezes: the product's version
    on sale, its price in ``currency``, the page's language and look, the metadata and the
    lifetime (each checked here); ``fields`` are the kind's own (buyer, trial, plan change)."""
    ttl = _ttl(expires_in_seconds)
    checkout_language = _checkout_language(language, warn)
    _check_metadata(metadata)
    return CheckoutSession(
        store=product.store,
        environment=actor.environment,
        product=product,
        version=version,
        kind=product.kind,
        currency=currency,
        amount=price.amount,
        tax_category=price.tax_category,
        tax_included=price.tax_included,
        price_overridden=price.overridden,
        success_url=success_url or None,
        metadata=metadata or {},
        dark_mode=dark_mode,
        language=language or "",
        checkout_language=checkout_language or "",
        expires_at=timezone.now() + timedelta(seconds=ttl),
        **fields,
    )


def _check_new_purchase_caller(actor: Actor) -> None:
    if actor.kind not in (MERCHANT, STORE_SLUG):
        raise Forbidden("A buyer session token can only create plan-change sessions", layer="order")


def trial_already_used(
    *, product_id, store_id, environment: str, email: str | None, identity: str | None = None
) -> bool:
    """Whether this buyer (their email, or the identity a merchant gave them) already started a
    trial of a product that shares trials with ``product_id`` (a group whose ``sharedTrial``
    rule is on). A trial counts once its order was paid (the card saved)."""
    products = shared_trial_product_ids(product_id=product_id, environment=environment)
    if not products:
        return False
    emails = {e for e in (email, identity) if e and "@" in e}
    who = Q(buyer_email__in=emails) if emails else Q(pk__in=[])
    if identity:
        who |= Q(buyer_identity=identity)
    return Order.objects.filter(
        who,
        store_id=store_id,
        environment=environment,
        kind=OrderKind.SUBSCRIPTION,
        product_id__in=products,
        with_trial=True,
        completed_at__isnull=False,
    ).exists()


def plan_change_session_create(
    *,
    actor: Actor,
    origin_order: Order,
    product: Product,
    currency: str,
    warn,
    change_timing: str = "",
    change_amount: int | None = None,
    change_credit_amount: int | None = None,
    price_snapshot: dict | None = None,
    success_url: str | None = None,
    expires_in_seconds: int | None = None,
    metadata: dict | None = None,
    dark_mode: bool | None = None,
    language: str | None = None,
) -> CheckoutSession:
    """A plan-change session: ``origin_order``'s subscription is offered ``product``, the version
    on sale in the caller's environment at its price in ``currency`` (or the API key's
    ``priceSnapshot``), with the change's timing and the merchant's override of the prorated
    amount. Billing checks the caller, the subscription and the target first
    (``billing.subscriptions.plan_changes.propose``) and records the change beside it. The
    buyer's email and billing detail come from the order. One INSERT, in the caller's
    transaction."""
    version = _version_on_sale(product, actor.environment)
    price = _session_price(version, currency, price_snapshot)
    session = _new_session(
        actor=actor,
        product=product,
        version=version,
        currency=currency,
        price=price,
        expires_in_seconds=expires_in_seconds,
        language=language,
        metadata=metadata,
        success_url=success_url,
        dark_mode=dark_mode,
        warn=warn,
        buyer_email=origin_order.buyer_email,
        billing_detail=origin_order.billing_detail,
        payment_methods=[],
        order_merchant_external_id=origin_order.order_merchant_external_id,
        created_via="api_key" if actor.kind == MERCHANT else "buyer_token",
        origin_order=origin_order,
        change_timing=change_timing or "",
        change_amount=change_amount,
        change_credit_amount=change_credit_amount,
    )
    with transaction.atomic(savepoint=False):
        session.save(force_insert=True)
    return session


def plan_change_session_use(*, session_id: uuid.UUID, at: datetime) -> CheckoutSession:
    """Mark an open plan-change session used (its change is being confirmed): expired or used
    already is 409. Locks the session; runs in the caller's transaction, which holds the
    subscription's and the order's locks first."""
    session = access_session(None, session_id, lock=True)
    if not session.is_plan_change:
        raise NotFound("Checkout session not found", layer="order")
    if session.status != SessionStatus.OPEN or session.expires_at <= timezone.now():
        raise Conflict(SESSION_INVALID, layer="order")
    session.status = SessionStatus.COMPLETED
    session.completed_at = at
    session.save(update_fields=["status", "completed_at", "updated_at"])
    return session


def _warn_api_key_only(warn, **options) -> None:
    """Store-slug callers: a warning for each option only an API key may set (then dropped)."""
    for name, value in options.items():
        if value is not None:
            warn(f"{name} ignored: it needs API key authentication")


def _check_claims(product: Product, *, store_id, product_type) -> None:
    """``storeId`` and ``productType`` are derived from the product; checked when sent."""
    if store_id is not None and store_id != product.store_id:
        raise Forbidden("Product does not belong to this store", layer="order")
    if product_type is not None and product_type != product.kind:
        raise bad(f"Invalid productType: the product is a {product.kind} product", "productType")


def _version_on_sale(product: Product, environment: str) -> ProductVersion:
    version = product.version_for(environment)
    if version is None or product.status_for(environment) != ProductStatus.ACTIVE:
        raise bad(f"Product is not available for purchase in {environment}", "productId")
    return version


def _session_price(version: ProductVersion, currency: str, snapshot: dict | None) -> _Price:
    """The version's price in ``currency``, or the API key's ``priceSnapshot`` override (which
    has no trial price)."""
    if snapshot is None:
        price = (version.prices or {}).get(currency)
        if price is None:
            offered = ", ".join(sorted(version.prices or {}))
            raise bad(f"Invalid currency: this product is priced in {offered}", "currency")
        return _Price(
            amount=price["amount"],
            tax_category=price["taxCategory"],
            tax_included=bool(price.get("taxIncluded", False)),
            trial_amount=price.get("trialAmount"),
            overridden=False,
        )
    if not isinstance(snapshot, dict) or snapshot.get("amount") is None:
        raise bad(
            "Invalid priceSnapshot: expected {amount, taxCategory, taxIncluded?}", "priceSnapshot"
        )
    category = snapshot.get("taxCategory")
    if category not in TaxCategory.values:
        choices = ", ".join(TaxCategory.values)
        raise bad(
            f"Invalid priceSnapshot.taxCategory: expected one of {choices}",
            "priceSnapshot.taxCategory",
        )
    included = snapshot.get("taxIncluded", False)
    if not isinstance(included, bool):
        raise bad(
            "Invalid priceSnapshot.taxIncluded: expected true or false", "priceSnapshot.taxIncluded"
        )
    try:
        amount = money.to_minor(snapshot["amount"], currency, field="priceSnapshot.amount")
    except InvalidInput as exc:
        raise bad(str(exc), "priceSnapshot.amount") from None
    return _Price(
        amount=amount,
        tax_category=category,
        tax_included=included,
        trial_amount=None,
        overridden=True,
    )


def _trial_choice(product: Product, version: ProductVersion, with_trial, warn) -> bool | None:
    """``withTrial`` as sent, for subscriptions only; asking for a trial the product has not is
    ignored with a warning."""
    trial_days = version.trial_days if product.kind == ProductKind.SUBSCRIPTION else None
    if with_trial and not trial_days:
        warn("withTrial ignored: this product has no trial")
    return with_trial if product.kind == ProductKind.SUBSCRIPTION else None


def _ttl(expires_in_seconds: int | None) -> int:
    ttl = DEFAULT_TTL_SECONDS if expires_in_seconds is None else expires_in_seconds
    if not 60 <= ttl <= MAX_TTL_SECONDS:
        raise bad(
            f"Invalid expiresInSeconds: expected 60 to {MAX_TTL_SECONDS} seconds",
            "expiresInSeconds",
        )
    return ttl


def _checkout_language(language: str | None, warn) -> str | None:
    """The nearest of the checkout's languages to the SDK's BCP 47 tag; unknown: the browser's."""
    checkout_language = languages.nearest(language)
    if language and checkout_language is None:
        warn(f"language {language!r} is not offered here: the buyer's browser language is used")
    return checkout_language


def _check_metadata(metadata) -> None:
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise bad("Invalid metadata: expected an object of string values", "metadata")


def _payment_methods(include, exclude, warn) -> list[str]:
    if include and exclude:
        raise bad(
            "Send includePaymentMethods or excludePaymentMethods, not both", "includePaymentMethods"
        )
    for field, values in (("includePaymentMethods", include), ("excludePaymentMethods", exclude)):
        for value in values or []:
            if value not in PAYMENT_METHODS:
                raise bad(
                    f"Invalid {field}: {value!r} is not one of {', '.join(PAYMENT_METHODS)}", field
                )
    if include:
        offered = [m for m in dict.fromkeys(include) if m in OFFERED_METHODS]
        dropped = [m for m in include if m not in OFFERED_METHODS]
        if dropped:
            warn(f"Payment methods not offered by this server were dropped: {', '.join(dropped)}")
        if not offered:
            raise bad(
                "None of the requested payment methods can be offered", "includePaymentMethods"
            )
        return offered
    offered = [m for m in OFFERED_METHODS if m not in (exclude or [])]
    if not offered:
        raise bad("Every payment method this server offers was excluded", "excludePaymentMethods")
    return offered


def clean_billing_detail(value) -> dict | None:
    """The SDK's ``billingDetail``, shape only (the tax rules — state for US/CA, VAT numbers —
    apply when the tax is computed). None stays None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("Invalid billingDetail: expected an object", "billingDetail")
    country = value.get("country")
    if (
        not isinstance(country, str)
        or len(country) != 2
        or not country.isalpha()
        or not country.isupper()
    ):
        raise bad(
            'Invalid billingDetail.country: expected an ISO 3166-1 alpha-2 code such as "US"',
            "billingDetail.country",
        )
    is_business = value.get("isBusiness", False)
    if not isinstance(is_business, bool):
        raise bad(
            "Invalid billingDetail.isBusiness: expected true or false", "billingDetail.isBusiness"
        )
    detail = {"country": country, "isBusiness": is_business}
    for key in BILLING_DETAIL_KEYS:
        item = value.get(key)
        if item is None:
            continue
        if not isinstance(item, str) or len(item) > 200 or "\x00" in item:
            raise bad(
                f"Invalid billingDetail.{key}: expected text of at most 200 characters",
                f"billingDetail.{key}",
            )
        if key in ("businessName", "name"):  # names, printed on invoices and receipts
            text.check_no_control(item, field=f"billingDetail.{key}", layer="order")
        detail[key] = item.strip()
    return detail


def session_bind_buyer(*, session_id: uuid.UUID, store_slug: str, actor: Actor) -> CheckoutSession:
    """Bind the buyer identity of a session token (an SDK authenticated link's ``#token=``) to a
    session of the same store, environment and, when the token names one, product. The binding
    outlives the token. A session already bound to someone else stays theirs (409). Locks the
    session row."""
    buyer = actor.buyer_session
    with transaction.atomic():
        try:
            # As the hosted page: the token's own claims are checked below.
            session = access_session(None, session_id, lock=True)
        except NotFound:
            session = None
        if session is None or session.store.slug != store_slug:
            raise NotFound("Checkout session not found", layer="order")
        if session.store_id != buyer.store_id:
            raise NotFound("Checkout session not found", layer="order")
        if session.environment != buyer.environment:
            raise bad("Environment mismatch between request and session")
        if buyer.product_id is not None and buyer.product_id != session.product_id:
            raise Forbidden("Session does not belong to this credential", layer="order")
        if session.status != SessionStatus.OPEN or session.expires_at <= timezone.now():
            raise Conflict(SESSION_INVALID, layer="order")
        if session.is_plan_change and not buyer_owns_order(actor, session.origin_order):
            raise Forbidden("Subscription order does not belong to this credential", layer="order")
        if session.buyer_identity and session.buyer_identity != buyer.buyer_identity:
            raise Conflict("This checkout belongs to another buyer", layer="order")
        session.buyer_identity = buyer.buyer_identity
        if "@" in buyer.buyer_identity and not session.buyer_email:
            session.buyer_email = buyer.buyer_identity
        session.save(update_fields=["buyer_identity", "buyer_email", "updated_at"])
    return session


def session_expire(*, actor: Actor, session_id: uuid.UUID) -> CheckoutSession:
    """Expire an open session early (API key, owner or admin of its store), like Stripe's
    ``checkout.sessions.expire``. A session with an order in progress stays as it is (409):
    cancel the order first. Expiring an expired session changes nothing. Locks the session."""
    with transaction.atomic():
        try:
            session = access_session(actor, session_id, lock=True, min_role=Role.ADMIN)
        except Forbidden as exc:
            if exc.code != NOT_YOURS:
                raise
            raise NotFound("Checkout session not found", layer="order") from None
        if session.environment != actor.environment:
            raise NotFound("Checkout session not found", layer="order")
        if session.status == SessionStatus.COMPLETED or session.order_exists():
            raise Conflict("Checkout session has an order: cancel the order instead", layer="order")
        if session.status == SessionStatus.OPEN:
            session.status = SessionStatus.EXPIRED
            session.expires_at = min(session.expires_at, timezone.now())
            session.save(update_fields=["status", "expires_at", "updated_at"])
    return session


def session_expire_by_staff(*, session_id: uuid.UUID) -> CheckoutSession:
    """Platform staff expire an open session (the admin's action), with the rules of
    ``session_expire`` but no store access check: a session with an order is left (409)."""
    with transaction.atomic():
        session = CheckoutSession.objects.select_for_update().get(pk=session_id)
        if session.status == SessionStatus.COMPLETED or session.order_exists():
            raise Conflict("Checkout session has an order: cancel the order instead", layer="order")
        if session.status == SessionStatus.OPEN:
            session.status = SessionStatus.EXPIRED
            session.expires_at = min(session.expires_at, timezone.now())
            session.save(update_fields=["status", "expires_at", "updated_at"])
    return session


def session_tax(session: CheckoutSession, detail: dict, ip_country: str | None = None) -> TaxResult:
    """Tax of the session's frozen price for one billing detail: the preview, the hosted page's
    summary and the order all ask it the same way. ``ip_country`` is the buyer's country by IP
    address when the hosted checkout knows it (evidence; sanctions apply)."""
    return calculate(
        amount=session.amount,
        currency=session.currency,
        tax_included=session.tax_included,
        tax_category=session.tax_category,
        country=detail["country"],
        state=detail.get("state"),
        postcode=detail.get("postcode"),
        is_business=detail.get("isBusiness", False),
        tax_id=detail.get("taxId"),
        business_name=detail.get("businessName"),
        seller_country=session.store.country or None,
        ip_country=ip_country,
    )


def _session_in_progress(actor: Actor, session_id: uuid.UUID, *, lock: bool = False):
    """An open, unexpired session of the caller's, for a step of the buyer's checkout. Missing
    or expired is 409 (as the create-order errors say); another store's is 403."""
    try:
        session = access_session(actor, session_id, lock=lock)
    except NotFound:
        raise Conflict(SESSION_INVALID, layer="order") from None
    if session.expires_at <= timezone.now():
        raise Conflict(SESSION_INVALID, layer="order")
    if session.environment != actor.environment:
        raise bad("Environment mismatch between request and session")
    return session


def tax_preview(*, actor: Actor, session_id: uuid.UUID, billing_detail) -> tuple:
    """Tax for an open session's frozen price and this billing detail."""
    session = _session_in_progress(actor, session_id)
    if session.status != SessionStatus.OPEN:
        raise Conflict(SESSION_INVALID, layer="order")
    detail = clean_billing_detail(billing_detail)
    if detail is None:
        raise bad("Missing required field: billingDetail", "billingDetail", "required")
    return session, session_tax(session, detail)


def currency_for_buyer(offered: list[str], accept_language: str, fallback: str = "") -> str:
    """The purchase link's currency: the first currency of the buyer's locale (Accept-Language,
    its region or the language's likely one: 'de-AT' -> EUR, 'ja' -> JPY) that the product is
    priced in; else ``fallback`` (the store's default currency) when the product has it; else
    its first price. (PostgreSQL's jsonb does not keep the order prices were entered in, so
    "first" is only a last resort.)"""
    for tag in languages.accepted_tags(accept_language):
        try:
            locale = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        territory = locale.territory
        if not territory:  # 'ja' -> 'ja_Jpan_JP': the language's likely region
            likely = get_global("likely_subtags").get(locale.language, "")
            territory = likely.rsplit("_", 1)[-1] if likely.count("_") >= 1 else None
        if not territory or not territory.isalpha():
            continue
        for currency in get_territory_currencies(territory, tender=True):
            if currency in offered:
                return currency
    return fallback if fallback in offered else offered[0]


def session_open_from_link(*, product: Product, environment: str, accept_language: str):
    """A fresh session for the permanent purchase link ``/{store}/{product}``, as the store's
    public (store-slug) caller: the version active in ``environment``, in the buyer's currency."""
    version = product.version_for(environment)
    offered = list((version.prices or {}).keys())
    actor = Actor(kind=STORE_SLUG, environment=environment, store=product.store, via="link")
    return session_create(
        actor=actor,
        product_id=product.pk,
        currency=currency_for_buyer(offered, accept_language, product.store.default_currency),
        with_trial=True if version.trial_days else None,  # the product's trial is on offer
        warn=lambda message: None,
    )


# --- orders --------------------------------------------------------------------------------------

_SESSION_ORDER = PreparedSelect(lambda session_id: Order.objects.filter(session_id=session_id)[:1])


def lock_order(order_id: uuid.UUID) -> Order:
    """The order row, locked, with its session and version (which never change under it). Lock
    order: an order before its payments."""
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("session", "version")
        .get(pk=order_id)
    )


def lock_orders(order_ids, *, fields: tuple[str, ...] = ()) -> dict[uuid.UUID, Order]:
    """Several orders' rows (the rows alone), locked in id order, by id: for a batch of
    subscriptions the caller has locked already (an order after its subscription, before its
    payments). ``fields``: only these columns are read (the others load when first used)."""
    orders = Order.objects.select_for_update().filter(pk__in=list(order_ids)).order_by("pk")
    return {order.pk: order for order in (orders.only(*fields) if fields else orders)}


def order_create(
    *,
    actor: Actor | None,
    kind: str,
    session_id: uuid.UUID,
    billing_detail=None,
    buyer_email: str | None = None,
    buyer_ip: str | None = None,
    buyer_ip_country: str | None = None,
    success_url: str | None = None,
    language: str | None = None,
) -> tuple[Order, bool]:
    """The order of an open session, made once: ``(order, created)``. Concurrent calls on one
    session queue on the session's row lock and see one order; a later call gets the existing
    order back (``created`` False) for the caller to decide whether it can still be paid. The
    new order is ``pending``, priced from the session and taxed for the billing detail; the
    buyer's email, billing detail and checkout language are written back to the session.

    Runs in the caller's transaction (``billing.services.order_place`` makes the order's first
    payment in the same one). ``actor`` None is the hosted checkout page, which the session's id
    authorises; ``language`` (a checkout language) is the one the buyer used there, kept for
    their emails and the provider's page; ``buyer_ip`` and ``buyer_ip_country`` are what that
    page's request showed of the buyer (tax evidence)."""
    session = _session_to_order(actor, session_id, kind)
    existing = _SESSION_ORDER.first(session.pk)  # one-to-one
    if existing is not None:
        existing.session = session  # the locked row, with its store and version
        return existing, False
    if session.status != SessionStatus.OPEN:
        raise Conflict(SESSION_INVALID, layer="order")
    detail = _order_billing_detail(session, billing_detail)
    email = _buyer_email(actor, buyer_email, session)
    identity = session.buyer_identity or _token_identity(actor)
    trial_refused = trial_charge(session) is not None and trial_already_used(
        product_id=session.product_id,
        store_id=session.store_id,
        environment=session.environment,
        email=email,
        identity=identity,
    )
    if trial_refused:
        session.with_trial = False  # written back with the buyer's details below
    tax = session_tax(session, detail, ip_country=buyer_ip_country)
    order = Order(
        store_id=session.store_id,
        environment=session.environment,
        session=session,
        product_id=session.product_id,
        version_id=session.version_id,
        kind=kind,
        currency=session.currency,
        subtotal=tax.subtotal,
        tax_amount=tax.tax_amount,
        total=tax.total,
        tax_rate=Decimal(tax.rate),
        tax_name=tax.tax_name,
        reverse_charge=tax.reverse_charge,
        tax_evidence={**tax.evidence, "ip": buyer_ip} if buyer_ip else tax.evidence,
        buyer_email=email,
        buyer_identity=identity,
        billing_detail=detail,
        buyer_ip=buyer_ip,
        success_url=success_url or session.success_url,
        metadata=session.metadata,
        order_merchant_external_id=session.order_merchant_external_id,
        with_trial=trial_charge(session) is not None,
    )
    prepared.insert(order)  # objects.create, from a statement compiled once
    _remember_buyer(session, email, detail, language, trial_refused)
    order.session = session
    order.trial_refused = trial_refused  # for the caller's warning (not a column)
    return order, True


def _session_to_order(actor: Actor | None, session_id: uuid.UUID, kind: str) -> CheckoutSession:
    """The session, locked, checked for making an order: the caller's (403 otherwise), unexpired
    (409), in the caller's environment and of the order's kind (400)."""
    try:
        session = access_session(actor, session_id, lock=True)
    except NotFound:
        raise Conflict(SESSION_INVALID, layer="order") from None
    if session.expires_at <= timezone.now():
        raise Conflict(SESSION_INVALID, layer="order")
    if actor is not None and session.environment != actor.environment:
        raise bad("Environment mismatch between request and session")
    if session.kind != kind:
        raise bad(f"Session product type mismatch: expected {kind}")
    if session.is_plan_change:
        raise bad(PLAN_CHANGE_SESSION, "checkoutSessionId", "plan_change_session")
    return session


def _order_billing_detail(session: CheckoutSession, billing_detail) -> dict:
    detail = session.billing_detail
    if billing_detail is not None:
        detail = clean_billing_detail(billing_detail)
    if detail is None:
        raise bad(
            "Missing billingDetail: provide in request body or pre-fill in checkout session",
            "billingDetail",
            "required",
        )
    return detail


def _token_identity(actor: Actor | None) -> str | None:
    return actor.buyer_identity if actor is not None and actor.kind == BUYER else None


def _buyer_email(actor: Actor | None, body_email: str | None, session: CheckoutSession) -> str:
    identity = _token_identity(actor)
    if identity and "@" in identity:
        return identity  # a token whose identity is an email decides the email
    email = body_email or session.buyer_email
    if not email:
        raise bad(
            "Missing buyerEmail: provide in request body or pre-fill in checkout session",
            "buyerEmail",
            "required",
        )
    return normalize_email(email)


def _remember_buyer(
    session: CheckoutSession, email: str, detail: dict, language, trial_refused: bool = False
) -> None:
    session.buyer_email = email
    session.billing_detail = detail
    fields = ["buyer_email", "billing_detail", "updated_at"]
    if trial_refused:
        fields.append("with_trial")
    if language:
        session.checkout_language = language
        fields.append("checkout_language")
    prepared.update_fields(session, fields)  # save(update_fields=…), compiled once


# The billing details a buyer may change after the order; the country, state and business
# status stay, since they decide the tax.
EDITABLE_BILLING_KEYS = ("name", "businessName", "taxId", "address", "city", "postcode")


def order_billing_detail_update(*, actor: Actor, order_id: uuid.UUID, changes: dict) -> Order:
    """Change a subscription order's billing details for its next invoices (the buyer, from the
    customer portal; or the merchant): name, business name, tax ID and address. The country, state
    and business status stay. The details are checked as at checkout (a business in the EU needs
    a valid VAT number, ``field`` ``taxId``); a change that would change the tax of the next
    charge (its rate or a reverse charge) is refused, code ``tax_changes``: the subscription's
    price was taxed as it was bought. Locks the order."""
    with transaction.atomic():
        order = access_order(
            actor, order_id, kind=OrderKind.SUBSCRIPTION, lock=True, min_role=Role.ADMIN
        )
        current = order.billing_detail or {}
        merged = {"country": current.get("country"), "isBusiness": current.get("isBusiness", False)}
        if current.get("state"):
            merged["state"] = current["state"]
        for key in EDITABLE_BILLING_KEYS:
            value = changes.get(key, current.get(key))
            if isinstance(value, str) and value.strip():
                merged[key] = value.strip()
        if not merged["isBusiness"]:
            merged.pop("businessName", None)
            merged.pop("taxId", None)
        detail = clean_billing_detail(merged)
        result = session_tax(order.session, detail)
        if result.rate != order.tax_rate or result.reverse_charge != order.reverse_charge:
            raise bad(
                "These billing details would change the tax of the subscription: "
                "contact the store to change them",
                "billingDetail.taxId",
                "tax_changes",
            )
        order.billing_detail = detail
        order.save(update_fields=["billing_detail", "updated_at"])
    return order


def order_mark_paid(*, order: Order, paid_at: datetime) -> Order:
    """The first payment of a pending order succeeded: a one-time order is ``completed``; a
    subscription order ``trialing`` when placed with a trial, else ``active``; its session is
    ``completed``. An order no longer pending (canceled meanwhile) is left as it is. The caller
    holds the order's row lock (``lock_order``)."""
    if order.status != OrderStatus.PENDING:
        return order
    if order.kind == OrderKind.ONETIME:
        order.status = OrderStatus.COMPLETED
    else:
        order.status = OrderStatus.TRIALING if order.with_trial else OrderStatus.ACTIVE
    order.completed_at = paid_at
    order.save(update_fields=["status", "completed_at", "updated_at"])
    CheckoutSession.objects.filter(pk=order.session_id).update(
        status=SessionStatus.COMPLETED, completed_at=paid_at
    )
    return order


def order_set_subscription_status(
    *, order: Order, status: str, at: datetime, canceled_at: datetime | None = None
) -> Order:
    """A subscription order takes its subscription's status (billing's lifecycle decides it and
    calls this in the same transaction; the caller holds the order's row lock). Unchanged is no
    write."""
    if order.kind != OrderKind.SUBSCRIPTION:
        raise ValueError("only a subscription order carries a subscription's status")
    status = OrderStatus(status)
    if order.status == status and order.canceled_at == canceled_at:
        return order
    order.status = status
    order.canceled_at = canceled_at
    order.save(update_fields=["status", "canceled_at", "updated_at"])
    if status == OrderStatus.CANCELED and not order.completed_at:
        CheckoutSession.objects.filter(pk=order.session_id, status=SessionStatus.OPEN).update(
            status=SessionStatus.EXPIRED, expires_at=at
        )
    return order


def orders_expire_unpaid(*, now: datetime, limit: int = 500) -> list[uuid.UUID]:
    """Subscription orders never paid whose checkout has expired become ``expired`` (a status
    of the subscription's eight); returns their ids for billing to void their open payments.
    Locks the rows it changes, skipping any another transaction holds."""
    with transaction.atomic():
        ids = list(
            Order.objects.select_for_update(skip_locked=True)
            .filter(
                kind=OrderKind.SUBSCRIPTION,
                status=OrderStatus.PENDING,
                session__expires_at__lt=now,
            )
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Order.objects.filter(pk__in=ids).update(status=OrderStatus.EXPIRED, updated_at=now)
            CheckoutSession.objects.filter(order__pk__in=ids, status=SessionStatus.OPEN).update(
                status=SessionStatus.EXPIRED, updated_at=now
            )
    return ids


def order_cancel(*, actor: Actor, order_id: uuid.UUID) -> Order:
    """Cancel a pending one-time order (API key, owner or admin; or the buyer's token for their
    own order); anything else is a 400 pointing at refunds. Locks the order; runs in the
    caller's transaction (billing voids the order's pending payment in the same one)."""
    order = access_order(actor, order_id, kind=OrderKind.ONETIME, lock=True, min_role=Role.ADMIN)
    if order.status != OrderStatus.PENDING:
        raise bad(
            "Only pending orders can be canceled: request a refund instead", code="not_pending"
        )
    order.status = OrderStatus.CANCELED
    order.canceled_at = timezone.now()
    order.save(update_fields=["status", "canceled_at", "updated_at"])
    return order


__all__ = [
    "SESSION_INVALID",
    "SESSION_NOT_YOURS",
    "checkout_url",
    "clean_billing_detail",
    "currency_for_buyer",
    "lock_order",
    "lock_orders",
    "order_billing_detail_update",
    "order_cancel",
    "order_create",
    "order_mark_paid",
    "order_set_subscription_status",
    "orders_expire_unpaid",
    "plan_change_session_create",
    "plan_change_session_use",
    "session_bind_buyer",
    "session_create",
    "session_expire",
    "session_open_from_link",
    "session_tax",
    "tax_preview",
    "trial_already_used",
]
