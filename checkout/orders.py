"""Orders (SPEC 6.3): made from a checkout session in one transaction with their pending payment
and the provider's hosted payment; a provider failure rolls all of it back (502, retryable)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Payment
from billing.providers import get_provider
from checkout.models import CheckoutSession, Order, OrderKind, OrderStatus, SessionStatus
from checkout.services import _billing_detail, bad, session_tax
from pancake.api import prepared
from pancake.api.auth import BUYER, Actor
from pancake.api.errors import Conflict, Forbidden, NotFound
from pancake.api.prepared import PreparedSelect
from stores import branding
from stores.models import Merchant, Role, normalize_email
from stores.selectors import access_store, has_role, role_subquery

SESSION_INVALID = "Checkout session invalid, please re-enter"


def _session_queryset(session_id, merchant_id=None):
    sessions = (
        CheckoutSession.objects.select_for_update(of=("self",))
        .select_related("store", "version")
        .filter(pk=session_id)
    )
    if merchant_id is not None:
        sessions = sessions.annotate(
            caller_role=role_subquery(Merchant(pk=merchant_id), CheckoutSession)
        )
    # [:1], not first(): the pk is unique, and ORDER BY over this wide select costs CPU.
    return sessions[:1]


# The same statement every time: compiled once per connection (pancake.api.prepared).
_LOCKED_SESSION = PreparedSelect(lambda session_id: _session_queryset(session_id))
_LOCKED_SESSION_WITH_ROLE = PreparedSelect(_session_queryset)
_SESSION_ORDER = PreparedSelect(lambda session_id: Order.objects.filter(session_id=session_id)[:1])


def lock_session(session_id: uuid.UUID, *, merchant=None) -> CheckoutSession | None:
    """The session row, locked, with its store and version (both never change under a session,
    so reading them in the same statement is safe; only the session row is locked). With
    ``merchant``, the same statement also reads that merchant's active role in the session's
    store as ``caller_role`` (None without one)."""
    if merchant is None:
        return _LOCKED_SESSION.first(session_id)
    return _LOCKED_SESSION_WITH_ROLE.first(session_id, merchant.pk)


def _check_owner(actor: Actor | None, session: CheckoutSession) -> None:
    if actor is None:
        return  # the hosted checkout page: holding the session's id is the capability
    if actor.kind == BUYER:
        buyer = actor.buyer_session
        if buyer.store_id != session.store_id:
            raise Forbidden("Session does not belong to this store", layer="order")
        if session.buyer_identity and session.buyer_identity != buyer.buyer_identity:
            raise Forbidden("Session does not belong to this store", layer="order")
        return
    # What access_store(actor, session.store_id) decides, from the role lock_session read.
    role = getattr(session, "caller_role", None) if actor.merchant is not None else None
    if role is None or session.store.deleted_at is not None:
        raise Forbidden("Session does not belong to this store", layer="order")
    if not has_role(role, Role.MEMBER):
        raise Forbidden("Insufficient permissions", layer="store")


def _buyer_email(actor: Actor | None, body_email: str | None, session: CheckoutSession) -> str:
    identity = actor.buyer_identity if actor is not None and actor.kind == BUYER else None
    if identity and "@" in identity:
        return identity  # a token whose identity is an email decides the email
    email = body_email or session.buyer_email
    if not email:
        raise bad("Missing buyerEmail: provide in request body or pre-fill in checkout session")
    return normalize_email(email)


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
) -> tuple[Order, str]:
    """Create the order and its pending payment for an open session, and the provider's hosted
    payment page; returns the order and that page's URL. The session row lock makes concurrent
    calls on one session produce one order (the later ones get the same page back, as long as
    the order is unpaid: a declined payment can be retried there).

    ``actor`` None is the hosted checkout page, which the session's id authorises; ``language``
    (a checkout language) is the one the buyer used there, kept for their emails and the
    provider's page; ``buyer_ip`` and ``buyer_ip_country`` are what that page's request showed
    of the buyer (kept as tax evidence)."""
    # No savepoint of its own: the action's transaction already wraps it.
    with transaction.atomic(savepoint=False):
        merchant = actor.merchant if actor is not None and actor.kind != BUYER else None
        session = lock_session(session_id, merchant=merchant)
        if session is None or session.expires_at <= timezone.now():
            raise Conflict(SESSION_INVALID, layer="order")
        _check_owner(actor, session)
        if actor is not None and session.environment != actor.environment:
            raise bad("Environment mismatch between request and session")
        if session.kind != kind:
            raise bad(f"Session product type mismatch: expected {kind}")
        existing = _SESSION_ORDER.first(session.pk)  # one-to-one
        if existing is not None or session.status != SessionStatus.OPEN:
            payment = existing and retryable_payment(existing)
            if payment is None:
                raise Conflict(SESSION_INVALID, layer="order")
            existing.session = session  # the locked row, with its store and version
            return existing, hosted_url(payment)

        detail = (
            _billing_detail(billing_detail)
            if billing_detail is not None
            else session.billing_detail
        )
        if detail is None:
            raise bad(
                "Missing billingDetail: provide in request body or pre-fill in checkout session"
            )
        email = _buyer_email(actor, buyer_email, session)
        tax = session_tax(session, detail, ip_country=buyer_ip_country)
        trial = bool(kind == OrderKind.SUBSCRIPTION and session.with_trial and session.trial_days)
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
            buyer_identity=session.buyer_identity
            or (actor.buyer_identity if actor is not None and actor.kind == BUYER else None),
            billing_detail=detail,
            buyer_ip=buyer_ip,
            success_url=success_url or session.success_url,
            metadata=session.metadata,
            order_merchant_external_id=session.order_merchant_external_id,
            with_trial=trial,
        )
        prepared.insert(order)  # objects.create, from a statement compiled once
        charge = 0 if trial and session.trial_amount is None else tax.total
        if trial and session.trial_amount is not None:
            charge = session.trial_amount
        provider = get_provider(session.environment)
        payment = Payment(
            id=uuid.uuid4(),
            order=order,
            store_id=session.store_id,
            environment=session.environment,
            amount=charge,
            tax_amount=tax.tax_amount if charge == tax.total else 0,
            currency=session.currency,
            provider=provider.name,
            billing_detail=detail,
            order_merchant_external_id=session.order_merchant_external_id,
        )
        session.buyer_email = email
        session.billing_detail = detail
        fields = ["buyer_email", "billing_detail", "updated_at"]
        if language:
            session.checkout_language = language
            fields.append("checkout_language")
        prepared.update_fields(session, fields)  # save(update_fields=…), compiled once
        order.session = session
        # Last, inside the transaction: a provider failure (502) rolls everything back.
        hosted = _create_hosted(payment, order)
        # The payment row is written after the provider answered (one INSERT, no UPDATE); all in
        # the same transaction, so a failure still leaves nothing.
        payment.provider_payment_id = hosted.provider_payment_id
        prepared.insert(payment)  # save(force_insert=True), compiled once
    return order, hosted.url


def retryable_payment(order: Order) -> Payment | None:
    """The payment a buyer can still pay on an unpaid order: its latest, pending or declined."""
    if order.status != OrderStatus.PENDING:
        return None
    payment = order.payments.order_by("-created_at").first()
    if payment is None or payment.status not in ("pending", "failed"):
        return None
    return payment


def _provider_branding(session: CheckoutSession) -> dict:
    """The store's checkout look for the provider's page, as a provider's branding options take
    it (Stripe Checkout: brand colour, logo, shape): the theme step 1 shows (the session's
    ``darkMode`` over the store's default), its colours and radius in the ``checkoutSettings``
    keys, the logo (the store's own without a theme logo) and the store's name. The provider
    checks every value again before it goes into a page."""
    name, values, logo = branding.store_look(session.store, session.dark_mode)
    return {
        "theme": name,
        **{key: values.get(key) for key in branding.THEME_KEYS if key != "checkoutLogo"},
        "logo": logo,
        "storeName": session.store.name,
    }


def _create_hosted(payment: Payment, order: Order):
    """The provider's hosted page for ``payment`` (the same page again for the same payment:
    its id is the provider's idempotency key)."""
    from checkout import presenters

    session = order.session
    language = session.checkout_language or "en"
    display = presenters.provider_display(order, payment.amount, language)
    display["branding"] = _provider_branding(session)
    return get_provider(payment.environment).create_payment(
        attempt_id=str(payment.pk),
        amount=payment.amount,
        currency=payment.currency,
        description=session.version.name,
        return_url=settings.BASE_URL + f"/store/{session.store.slug}/checkout/{session.pk}",
        save_method=order.kind == OrderKind.SUBSCRIPTION,
        metadata={"orderId": str(order.pk), "paymentId": str(payment.pk)},
        locale=language,
        display=display,
    )


def hosted_url(payment: Payment) -> str:
    return _create_hosted(payment, payment.order).url


def order_cancel(*, actor: Actor, order_id: uuid.UUID) -> Order:
    """Cancel a pending one-time order (API key or the buyer's token); anything else is a 400
    pointing at refunds."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update().filter(pk=order_id, kind=OrderKind.ONETIME).first()
        )
        if order is None:
            raise NotFound("Order not found", layer="order")
        if actor.kind == BUYER:
            buyer = actor.buyer_session
            mine = order.store_id == buyer.store_id and buyer.buyer_identity in {
                order.buyer_identity,
                order.buyer_email,
            }
            if not mine or order.environment != actor.environment:
                raise NotFound("Order not found", layer="order")
        else:
            try:
                access_store(actor, order.store_id, min_role="admin")
            except NotFound:
                raise NotFound("Order not found", layer="order") from None
            if order.environment != actor.environment:
                raise NotFound("Order not found", layer="order")
        if order.status != OrderStatus.PENDING:
            raise bad("Only pending orders can be canceled: request a refund instead")
        order.status = OrderStatus.CANCELED
        order.canceled_at = timezone.now()
        order.save(update_fields=["status", "canceled_at", "updated_at"])
        order.payments.filter(status="pending").update(status="failed", failure_code="canceled")
    return order
