"""Checkout writes (SPEC 6.1). ``session_create`` freezes what the buyer is offered."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from checkout import languages
from checkout.models import CheckoutSession
from pancake import money
from pancake.api import prepared
from pancake.api.auth import MERCHANT, STORE_SLUG, Actor
from pancake.api.errors import Forbidden, InvalidInput, NotFound, NotImplementedYet
from pancake.api.prepared import PreparedSelect
from products.models import Product, ProductKind, ProductStatus, TaxCategory
from products.selectors import access_product, product_queryset
from stores.models import Merchant, Role, normalize_email
from stores.selectors import has_role, role_subquery

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
PAYMENT_METHODS = ("card", "applepay", "googlepay", "wechat")
# What the built-in test processor can take; real providers will say what they offer.
OFFERED_METHODS = ("card",)


def bad(message: str) -> InvalidInput:
    return InvalidInput(message, layer="order")


def checkout_url(session: CheckoutSession) -> str:
    path = reverse("checkout:page", args=[session.store.slug, session.pk])
    return settings.BASE_URL + path


def _product_for(actor: Actor, product_id: uuid.UUID) -> Product:
    if actor.kind == MERCHANT:
        return access_product(actor, product_id, min_role=Role.ADMIN)
    product = (
        Product.objects.select_related("store", "test_version", "prod_version")
        .filter(pk=product_id, store=actor.store, store__deleted_at__isnull=True)
        .first()
    )
    if product is None:
        raise NotFound("Product not found", layer="product")
    return product


def _payment_methods(include, exclude, warn) -> list[str]:
    if include and exclude:
        raise bad("Send includePaymentMethods or excludePaymentMethods, not both")
    for field, values in (("includePaymentMethods", include), ("excludePaymentMethods", exclude)):
        for value in values or []:
            if value not in PAYMENT_METHODS:
                raise bad(f"Invalid {field}: {value!r} is not one of {', '.join(PAYMENT_METHODS)}")
    if include:
        offered = [m for m in dict.fromkeys(include) if m in OFFERED_METHODS]
        dropped = [m for m in include if m not in OFFERED_METHODS]
        if dropped:
            warn(f"Payment methods not offered by this server were dropped: {', '.join(dropped)}")
        if not offered:
            raise bad("None of the requested payment methods can be offered")
        return offered
    offered = [m for m in OFFERED_METHODS if m not in (exclude or [])]
    if not offered:
        raise bad("Every payment method this server offers was excluded")
    return offered


def _billing_detail(value) -> dict | None:
    """Shape only; the tax rules (state for US/CA, VAT numbers) apply when the order is made."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("Invalid billingDetail: expected an object")
    country = value.get("country")
    if (
        not isinstance(country, str)
        or len(country) != 2
        or not country.isalpha()
        or not country.isupper()
    ):
        raise bad('Invalid billingDetail.country: expected an ISO 3166-1 alpha-2 code such as "US"')
    is_business = value.get("isBusiness", False)
    if not isinstance(is_business, bool):
        raise bad("Invalid billingDetail.isBusiness: expected true or false")
    detail = {"country": country, "isBusiness": is_business}
    for key in ("postcode", "state", "businessName", "taxId", "city", "address"):
        item = value.get(key)
        if item is None:
            continue
        if not isinstance(item, str) or len(item) > 200 or "\x00" in item:
            raise bad(f"Invalid billingDetail.{key}: expected text of at most 200 characters")
        detail[key] = item.strip()
    return detail


def _product_with_role(product_id, merchant_id):
    """What ``access_product`` reads for a merchant: the product, its store and versions, and the
    caller's role in that store, in one statement."""
    return (
        product_queryset()
        .filter(pk=product_id, store__deleted_at__isnull=True)
        .annotate(caller_role=role_subquery(Merchant(pk=merchant_id), Product))[:1]
    )


# Read on every API-key create-session: compiled once per connection (pancake.api.prepared).
_PRODUCT_WITH_ROLE = PreparedSelect(_product_with_role)


def session_create(
    *,
    actor: Actor,
    product_id: uuid.UUID,
    currency: str,
    warn,
    store_id: uuid.UUID | None = None,
    product_type: str | None = None,
    origin_order_id=None,
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
    the price of ``currency`` (or the API key's ``priceSnapshot``). Store-slug callers cannot set
    prices, external ids or payment methods: those are dropped with a warning."""
    if origin_order_id is not None:
        if actor.kind == STORE_SLUG:
            raise Forbidden(
                "Plan changes need an API key or the buyer's session token", layer="order"
            )
        raise NotImplementedYet(
            "Plan-change checkout sessions are not available yet", layer="order"
        )
    if actor.kind not in (MERCHANT, STORE_SLUG):
        raise Forbidden("A buyer session token can only create plan-change sessions", layer="order")
    if actor.kind == STORE_SLUG:
        for name, value in (
            ("priceSnapshot", price_snapshot),
            ("orderMerchantExternalId", order_merchant_external_id),
            ("includePaymentMethods", include_payment_methods),
            ("excludePaymentMethods", exclude_payment_methods),
        ):
            if value is not None:
                warn(f"{name} ignored: it needs API key authentication")
        price_snapshot = order_merchant_external_id = None
        include_payment_methods = exclude_payment_methods = None

    if actor.kind == MERCHANT and actor.merchant is not None:
        # access_product(actor, product_id, min_role=ADMIN), from a statement compiled once.
        product = _PRODUCT_WITH_ROLE.first(product_id, actor.merchant.pk)
        role = getattr(product, "caller_role", None) if product else None
        if product is None or role is None:
            raise NotFound("Product not found", layer="product")
        if not has_role(role, Role.ADMIN):
            raise Forbidden("Insufficient permissions", layer="product")
    else:
        product = _product_for(actor, product_id)
    if store_id is not None and store_id != product.store_id:
        raise Forbidden("Product does not belong to this store", layer="order")
    if product_type is not None and product_type != product.kind:
        raise bad(f"Invalid productType: the product is a {product.kind} product")
    version = product.version_for(actor.environment)
    if version is None or product.status_for(actor.environment) != ProductStatus.ACTIVE:
        raise bad(f"Product is not available for purchase in {actor.environment}")

    currency = (
        money.check_currency(currency) if isinstance(currency, str) else money.check_currency(None)
    )
    if price_snapshot is not None:
        if not isinstance(price_snapshot, dict) or price_snapshot.get("amount") is None:
            raise bad("Invalid priceSnapshot: expected {amount, taxCategory, taxIncluded?}")
        category = price_snapshot.get("taxCategory")
        if category not in TaxCategory.values:
            choices = ", ".join(TaxCategory.values)
            raise bad(f"Invalid priceSnapshot.taxCategory: expected one of {choices}")
        included = price_snapshot.get("taxIncluded", False)
        if not isinstance(included, bool):
            raise bad("Invalid priceSnapshot.taxIncluded: expected true or false")
        try:
            amount = money.to_minor(
                price_snapshot["amount"], currency, field="priceSnapshot.amount"
            )
        except InvalidInput as exc:
            raise bad(str(exc)) from None
        price = {"amount": amount, "taxCategory": category, "taxIncluded": included}
    else:
        price = (version.prices or {}).get(currency)
        if price is None:
            offered = ", ".join(sorted(version.prices or {}))
            raise bad(f"Invalid currency: this product is priced in {offered}")

    trial_days = version.trial_days if product.kind == ProductKind.SUBSCRIPTION else None
    if with_trial and not trial_days:
        warn("withTrial ignored: this product has no trial")
    if product.kind != ProductKind.SUBSCRIPTION and with_trial is not None:
        with_trial = None

    ttl = DEFAULT_TTL_SECONDS if expires_in_seconds is None else expires_in_seconds
    if not 60 <= ttl <= MAX_TTL_SECONDS:
        raise bad(f"Invalid expiresInSeconds: expected 60 to {MAX_TTL_SECONDS} seconds")
    checkout_language = languages.nearest(language)
    if language and checkout_language is None:
        warn(f"language {language!r} is not offered here: the buyer's browser language is used")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise bad("Invalid metadata: expected an object of string values")

    # No savepoint of its own: one INSERT, and the action's transaction already wraps it.
    # One INSERT from a statement compiled once (pancake.api.prepared.insert: what
    # objects.create does, without compiling the 30-column INSERT again).
    with transaction.atomic(savepoint=False):
        session = CheckoutSession(
            store=product.store,
            environment=actor.environment,
            product=product,
            version=version,
            kind=product.kind,
            currency=currency,
            amount=price["amount"],
            tax_category=price["taxCategory"],
            tax_included=bool(price.get("taxIncluded", False)),
            price_overridden=price_snapshot is not None,
            trial_days=trial_days,
            trial_amount=price.get("trialAmount") if price_snapshot is None else None,
            with_trial=with_trial,
            buyer_email=normalize_email(buyer_email) if buyer_email else None,
            billing_detail=_billing_detail(billing_detail),
            success_url=success_url or None,
            metadata=metadata or {},
            dark_mode=dark_mode,
            language=language or "",
            checkout_language=checkout_language or "",
            payment_methods=_payment_methods(
                include_payment_methods, exclude_payment_methods, warn
            ),
            order_merchant_external_id=order_merchant_external_id,
            created_via="api_key" if actor.kind == MERCHANT else "store_slug",
            expires_at=timezone.now() + timedelta(seconds=ttl),
        )
        prepared.insert(session)
    session.store = product.store
    return session


def session_bind_buyer(*, session_id: uuid.UUID, store_slug: str, actor: Actor) -> CheckoutSession:
    """Bind the buyer identity of a session token (an SDK authenticated link's ``#token=``) to a
    session of the same store, environment and, when the token names one, product. The binding
    outlives the token. A session already bound to someone else stays theirs (409)."""
    from pancake.api.errors import Conflict

    buyer = actor.buyer_session
    with transaction.atomic():
        session = (
            CheckoutSession.objects.select_for_update()
            .filter(pk=session_id, store__slug=store_slug)
            .first()
        )
        if session is None or session.store_id != buyer.store_id:
            raise NotFound("Checkout session not found", layer="order")
        if session.environment != buyer.environment:
            raise bad("Environment mismatch between request and session")
        if buyer.product_id is not None and buyer.product_id != session.product_id:
            raise Forbidden("Session does not belong to this credential", layer="order")
        if session.status != "open" or session.expires_at <= timezone.now():
            raise Conflict("Checkout session invalid, please re-enter", layer="order")
        if session.buyer_identity and session.buyer_identity != buyer.buyer_identity:
            raise Conflict("This checkout belongs to another buyer", layer="order")
        session.buyer_identity = buyer.buyer_identity
        if "@" in buyer.buyer_identity and not session.buyer_email:
            session.buyer_email = buyer.buyer_identity
        session.save(update_fields=["buyer_identity", "buyer_email", "updated_at"])
    return session


def session_for_buyer_step(*, actor: Actor, session_id: uuid.UUID) -> CheckoutSession:
    """An open session the caller may work on: its store's (store slug) or one of the caller's
    stores (API key), in the caller's environment. Missing or expired: 409 as seed 000 says."""
    from pancake.api.errors import Conflict
    from stores.selectors import access_store

    session = (
        CheckoutSession.objects.select_related("store")
        .filter(pk=session_id, store__deleted_at__isnull=True)
        .first()
    )
    if session is None or session.status != "open" or session.expires_at <= timezone.now():
        raise Conflict("Checkout session invalid, please re-enter", layer="order")
    if actor.kind == STORE_SLUG:
        if session.store_id != actor.store.pk:
            raise Forbidden("Session does not belong to this store", layer="order")
    else:
        try:
            access_store(actor, session.store_id)
        except NotFound:
            raise Forbidden("Session does not belong to this store", layer="order") from None
    if session.environment != actor.environment:
        raise bad("Environment mismatch between request and session")
    return session


def session_tax(session: CheckoutSession, detail: dict, ip_country: str | None = None):
    """Tax of the session's frozen price for one billing detail (SPEC 6.2): the preview, the
    hosted page's summary and the order all ask it the same way. ``ip_country`` is the buyer's
    country by IP address when the hosted checkout knows it (evidence; sanctions apply)."""
    from checkout.tax.engine import calculate

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


def tax_preview(*, actor: Actor, session_id: uuid.UUID, billing_detail) -> tuple:
    """Tax for the session's frozen price and this billing detail (SPEC 6.2)."""
    session = session_for_buyer_step(actor=actor, session_id=session_id)
    detail = _billing_detail(billing_detail)
    if detail is None:
        raise bad("Missing required field: billingDetail")
    return session, session_tax(session, detail)


def currency_for_buyer(offered: list[str], accept_language: str, fallback: str = "") -> str:
    """The purchase link's currency: the first currency of the buyer's locale (Accept-Language,
    its region or the language's likely one: 'de-AT' -> EUR, 'ja' -> JPY) that the product is
    priced in; else ``fallback`` (the store's default currency) when the product has it; else
    its first price. (PostgreSQL's jsonb does not keep the order prices were entered in, so
    "first" is only a last resort.)"""
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global
    from babel.numbers import get_territory_currencies
    from django.utils.translation.trans_real import parse_accept_lang_header

    for tag, _q in parse_accept_lang_header(accept_language or ""):
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


def session_expire(*, actor: Actor, session_id: uuid.UUID) -> CheckoutSession:
    """Expire an open session early (API key, owner or admin of its store), like Stripe's
    ``checkout.sessions.expire``. A session with an order in progress stays as it is (409):
    cancel the order first. Expiring an expired session changes nothing."""
    from pancake.api.errors import Conflict
    from stores.selectors import access_store

    with transaction.atomic():
        session = (
            CheckoutSession.objects.select_for_update()
            .filter(pk=session_id, store__deleted_at__isnull=True)
            .first()
        )
        if session is None:
            raise NotFound("Checkout session not found", layer="order")
        try:
            access_store(actor, session.store_id, min_role=Role.ADMIN)
        except NotFound:
            raise NotFound("Checkout session not found", layer="order") from None
        if session.environment != actor.environment:
            raise NotFound("Checkout session not found", layer="order")
        if session.status == "completed" or session.order_exists():
            raise Conflict("Checkout session has an order: cancel the order instead", layer="order")
        if session.status == "open":
            now = timezone.now()
            session.status = "expired"
            session.expires_at = min(session.expires_at, now)
            session.save(update_fields=["status", "expires_at", "updated_at"])
    return session
