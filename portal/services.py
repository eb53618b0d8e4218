"""Portal writes: sign-in links for buyers, and portal sessions (open, resume with a sliding
expiry, end). Everything a buyer changes in the portal goes through the service of the same
action in the API, with the buyer as the actor (``buyer_actor``); this module only signs
buyers in and out."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from pancake.api import buyer_tokens
from pancake.api.actor import BUYER, Actor
from pancake.api.errors import InvalidInput, NotFound, Unauthenticated
from pancake.celery import registered
from portal import links, selectors
from portal.models import PortalSession
from stores import auth as store_auth
from stores import selectors as store_selectors
from stores.models import BuyerSession, Store, normalize_email
from stores.selectors import access_store

_HTTP_URL = URLValidator(schemes=["http", "https"])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sign-in links ------------------------------------------------------------------------------


def sign_in_request(
    *, store: Store, environment: str, email: str, ip: str, language: str = "en"
) -> None:
    """Email a sign-in link to ``email`` for ``store``'s portal in ``environment``. The caller
    answers the same whatever happens here: a link is sent only to an address that bought in
    this store and environment, and only within the hourly caps per address and per IP."""
    email = normalize_email(email)
    ip_ok = store_auth.rate_take(f"portal-ip:{ip}", settings.PORTAL_SIGN_IN_RATE_PER_IP)
    email_ok = store_auth.rate_take(
        f"portal-email:{store.pk}:{email}", settings.PORTAL_SIGN_IN_RATE_PER_EMAIL
    )
    if not (ip_ok and email_ok):
        return
    if not selectors.has_orders(store, environment, email):
        return
    token, _link = store_auth.link_issue(
        email=email,
        max_age=settings.MAGIC_LINK_MAX_AGE_SECONDS,
        store=store,
        environment=environment,
    )
    url = links.sign_in_url(store, token, language)
    send = registered("portal.tasks.send_sign_in_link")
    transaction.on_commit(lambda: send.delay(email, url, str(store.pk), language))


def merchant_link_create(
    *, actor: Actor, store_id, buyer_email: str, return_url: str | None = None
) -> tuple[str, datetime]:
    """A single-use, time-limited link that signs ``buyer_email`` in to the store's portal in
    the key's environment (``customer/create-portal-link``): (url, expiry). The merchant (API
    key) hands it to their signed-in customer; ``returnUrl`` is where the portal's "back" link
    leads."""
    store = access_store(actor, store_id)
    email = (buyer_email or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("Invalid buyerEmail", layer="user", field="buyerEmail", code="invalid")
    return_url = (return_url or "").strip()
    if return_url:
        try:
            _HTTP_URL(return_url)
        except Exception:
            raise InvalidInput(
                "Invalid returnUrl: expected an http(s) URL",
                layer="user",
                field="returnUrl",
                code="invalid",
            ) from None
        if len(return_url) > 500:
            raise InvalidInput(
                "Invalid returnUrl: at most 500 characters",
                layer="user",
                field="returnUrl",
                code="invalid",
            )
    token, link = store_auth.link_issue(
        email=email,
        max_age=settings.MAGIC_LINK_MAX_AGE_SECONDS,
        next_url=return_url,
        store=store,
        environment=actor.environment,
    )
    return links.sign_in_url(store, token), link.expires_at


# --- portal sessions ----------------------------------------------------------------------------


def _open(*, store: Store, environment: str, identity: str, return_url: str = "") -> str:
    token = secrets.token_urlsafe(32)
    PortalSession.objects.create(
        token_hash=_hash(token),
        store=store,
        environment=environment,
        buyer_identity=identity,
        return_url=return_url,
        expires_at=timezone.now() + timedelta(seconds=settings.PORTAL_SESSION_IDLE_SECONDS),
    )
    return token


def session_from_link(*, store: Store, token: str) -> str | None:
    """Use an emailed (or merchant's) sign-in link of ``store``: a new portal session's cookie
    token, or None when the link is unknown, used, expired or another store's."""
    with transaction.atomic():
        link = store_auth.link_claim(token, store=store)
        if link is None:
            return None
        return _open(
            store=store,
            environment=link.environment,
            identity=link.email,
            return_url=link.next_url,
        )


def session_from_buyer_token(*, store: Store, token: str) -> str | None:
    """Exchange a buyer session token (``auth/issue-session-token``) of ``store`` for a portal
    session in the token's environment; None when the token is invalid, expired or another
    store's."""
    try:
        session_id = buyer_tokens.session_id(token)
    except Unauthenticated:
        return None
    buyer_session = store_selectors.live_buyer_session(session_id, timezone.now())
    if buyer_session is None or buyer_session.store_id != store.pk:
        return None
    return _open(
        store=store,
        environment=buyer_session.environment,
        identity=buyer_session.buyer_identity,
    )


def session_resume(*, store: Store, token: str | None) -> PortalSession | None:
    """The live portal session of ``store`` a cookie names, its expiry slid to 30 minutes from
    now (one conditional UPDATE, skipped when it moved less than a minute); None otherwise."""
    if not token:
        return None
    now = timezone.now()
    session = (
        PortalSession.objects.select_related("store")
        .filter(
            token_hash=_hash(token),
            store=store,
            ended_at__isnull=True,
            expires_at__gt=now,
        )
        .first()
    )
    if session is None:
        return None
    new_expiry = now + timedelta(seconds=settings.PORTAL_SESSION_IDLE_SECONDS)
    if new_expiry - session.expires_at >= timedelta(minutes=1):
        PortalSession.objects.filter(pk=session.pk).update(expires_at=new_expiry)
        session.expires_at = new_expiry
    return session


def session_environment(*, store: Store, token: str | None) -> str | None:
    """The environment of the session a cookie names, live or not: where to send a buyer
    whose session ran out (the test-mode sign-in page for a test session)."""
    if not token:
        return None
    return (
        PortalSession.objects.filter(token_hash=_hash(token), store=store)
        .values_list("environment", flat=True)
        .first()
    )


def session_end(*, token: str | None) -> None:
    """Sign out: the session stops working at once."""
    if token:
        PortalSession.objects.filter(token_hash=_hash(token), ended_at__isnull=True).update(
            ended_at=timezone.now()
        )


def sessions_purge() -> int:
    """Delete sessions that ended or expired more than a day ago."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = PortalSession.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def buyer_actor(session: PortalSession) -> Actor:
    """The actor every portal write runs as: a buyer of the session's store and environment,
    exactly as a buyer session token would authenticate (the ownership rules are the access
    functions', ``checkout.selectors.buyer_owns_order``). The buyer session is not stored."""
    if session is None:
        raise NotFound("Not signed in", layer="user")
    buyer = BuyerSession(
        store=session.store,
        buyer_identity=session.buyer_identity,
        environment=session.environment,
    )
    return Actor(
        kind=BUYER,
        environment=session.environment,
        buyer_session=buyer,
        store=session.store,
        via="portal",
    )
