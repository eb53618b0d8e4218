"""Who is calling: an ``Actor`` from an API-key signature, a merchant Bearer JWT, a buyer session
token or a store slug. Every path ends in an Actor or a PancakeError.

This is request plumbing above the apps: the keys, buyer sessions and stores it checks against
are read and touched through ``stores.selectors`` and ``stores.services``."""

from __future__ import annotations

import re
import time

import jwt
from django.conf import settings
from django.utils import timezone

from pancake.api import buyer_tokens, ids, prepared, signatures
from pancake.api.actor import BUYER, MERCHANT, STORE_SLUG, Actor, merchant_actor
from pancake.api.errors import Forbidden, InvalidInput, Unauthenticated
from pancake.models import Environment
from stores import selectors as store_selectors
from stores import services as store_services

__all__ = [  # the actor's names, for the adapters that authenticate and then read the actor
    "BUYER",
    "MERCHANT",
    "STORE_SLUG",
    "Actor",
    "authenticate",
    "merchant_actor",
    "request_environment",
    "require_kind",
]
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ENVIRONMENTS = {Environment.TEST.value, Environment.PROD.value}


def _header(request, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if value is not None and value.strip() else None


def request_environment(request, *, required: bool) -> str | None:
    env = _header(request, "X-Environment")
    if env is None:
        if required:
            raise InvalidInput("Missing required header: X-Environment", layer="gateway")
        return None
    if env not in ENVIRONMENTS:
        raise InvalidInput("Invalid X-Environment: expected test or prod", layer="gateway")
    return env


def authenticate(request, body: bytes) -> Actor:
    authorization = _header(request, "Authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Missing authentication")
        return _authenticate_bearer(request, token.strip())
    if _header(request, "X-Signature") or _header(request, "X-Merchant-Id"):
        return _authenticate_signature(request, body)
    if _header(request, "X-Store-Slug"):
        return _authenticate_store_slug(request)
    raise Unauthenticated("Missing authentication")


# --- API-key signature --------------------------------------------------------------------------


# Read on every signed request: compiled once per connection (pancake.api.prepared).
_MERCHANT_KEYS = prepared.PreparedSelect(store_selectors.signing_keys_of)


def _merchant_keys(merchant_id_value: str):
    try:
        merchant_id = ids.parse_id(merchant_id_value, "MER", field="X-Merchant-Id")
    except InvalidInput:
        raise Unauthenticated("Invalid API key") from None
    return _MERCHANT_KEYS.fetch(merchant_id)


def _key_actor(key, via: str) -> Actor:
    store_services.api_key_touch(key, timezone.now())
    return Actor(
        kind=MERCHANT,
        environment=key.environment,
        merchant=key.merchant,
        api_key=key,
        api_version=key.api_version,
        via=via,
    )


def _authenticate_signature(request, body: bytes) -> Actor:
    merchant_id = _header(request, "X-Merchant-Id")
    timestamp = _header(request, "X-Timestamp")
    signature = _header(request, "X-Signature")
    if not (merchant_id and timestamp and signature):
        raise Unauthenticated("Missing authentication")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthenticated("Invalid X-Timestamp: expected Unix seconds")
    skew = int(timestamp) - int(time.time())
    if skew < -settings.API_SIGNATURE_MAX_AGE_SECONDS:
        raise Unauthenticated("Request timestamp expired")
    if skew > settings.API_SIGNATURE_MAX_FUTURE_SECONDS:
        raise Unauthenticated("Request timestamp is in the future")
    message = signatures.canonical_string("POST", request.path_info, timestamp, body)
    for key in _merchant_keys(merchant_id):
        if signatures.verify(key.public_key_pem, signature, message):
            return _key_actor(key, via="signature")
    raise Unauthenticated("Invalid API key")


# --- Bearer tokens: merchant JWT (RS256) or buyer session token -------------------------------


def _authenticate_bearer(request, token: str) -> Actor:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("Invalid token") from None
    if claims.get("typ") == buyer_tokens.TOKEN_TYP:
        return _authenticate_buyer(request, token)
    return _authenticate_merchant_jwt(token, header, claims)


def _authenticate_merchant_jwt(token: str, header: dict, claims: dict) -> Actor:
    if header.get("alg") != "RS256":
        raise Unauthenticated("Invalid token: only RS256 is accepted")
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise Unauthenticated("Invalid token: missing sub")
    for key in _merchant_keys(sub):
        try:
            verified = jwt.decode(
                token,
                signatures.load_public_key(key.public_key_pem),
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "sub"]},
                leeway=5,  # clock skew; issue time is checked separately below
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Token has expired") from None
        except jwt.PyJWTError:
            continue
        if not isinstance(verified["iat"], int | float) or not isinstance(
            verified["exp"], int | float
        ):
            raise Unauthenticated("Invalid token")
        if verified["exp"] - verified["iat"] > settings.API_JWT_MAX_LIFETIME_SECONDS:
            raise Unauthenticated("Invalid token: lifetime exceeds 15 minutes")
        if verified["iat"] > time.time() + settings.API_SIGNATURE_MAX_FUTURE_SECONDS:
            raise Unauthenticated("Invalid token: issued in the future")
        return _key_actor(key, via="jwt")
    raise Unauthenticated("Invalid API key")


def _authenticate_buyer(request, token: str) -> Actor:
    session_id = buyer_tokens.session_id(token)
    environment = request_environment(request, required=True)
    now = timezone.now()
    session = store_selectors.live_buyer_session(session_id, now)
    if session is None:
        raise Unauthenticated("Session token has expired")
    if session.environment != environment:
        raise InvalidInput("Environment mismatch between request and session", layer="gateway")
    store_services.buyer_session_extend(session, now)
    return Actor(
        kind=BUYER,
        environment=environment,
        buyer_session=session,
        store=session.store,
        via="session",
    )


# --- Store slug (public checkout) ---------------------------------------------------------------


def _authenticate_store_slug(request) -> Actor:
    slug = _header(request, "X-Store-Slug")
    environment = request_environment(request, required=True)
    if not SLUG_RE.match(slug):
        raise Unauthenticated("Invalid store slug")
    store = store_selectors.store_for_slug(slug)
    if store is None:
        raise Unauthenticated("Invalid store slug")
    return Actor(kind=STORE_SLUG, environment=environment, store=store, via="slug")


def require_kind(actor: Actor, allowed: tuple[str, ...]) -> None:
    if actor.kind not in allowed:
        raise Forbidden("Insufficient permissions")
