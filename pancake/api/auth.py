"""Who is calling: an ``Actor`` from an API-key signature, a merchant Bearer JWT, a buyer session
token or a store slug (SPEC 3.1). Every path ends in an Actor or a PancakeError."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import jwt
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pancake.api import ids, prepared, signatures
from pancake.api.errors import Forbidden, InvalidInput, Unauthenticated
from pancake.models import Environment

MERCHANT = "merchant"
BUYER = "buyer"
STORE_SLUG = "store"

BUYER_TOKEN_TYP = "pancake+buyer"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ENVIRONMENTS = {Environment.TEST.value, Environment.PROD.value}


@dataclass
class Actor:
    kind: str
    environment: str
    merchant: object | None = None  # stores.Merchant
    api_key: object | None = None  # stores.ApiKey
    buyer_session: object | None = None  # stores.BuyerSession
    store: object | None = None  # the store a slug or buyer session is bound to
    api_version: str | None = None  # the credential's default version, if it has one
    via: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def is_merchant(self) -> bool:
        return self.kind == MERCHANT

    @property
    def is_buyer(self) -> bool:
        return self.kind == BUYER

    @property
    def principal(self) -> str:
        """Who owns idempotency keys and rate-limit buckets."""
        if self.kind == MERCHANT:
            return f"mer:{self.merchant.pk}"
        if self.kind == BUYER:
            # The buyer, not the token: a fresh token for the same buyer shares their keys.
            session = self.buyer_session
            digest = hashlib.sha256(
                f"{session.store_id}:{session.buyer_identity}".encode()
            ).hexdigest()
            return f"buy:{digest[:60]}"
        return f"sto:{self.store.pk}"

    @property
    def buyer_identity(self) -> str | None:
        return self.buyer_session.buyer_identity if self.buyer_session else None


def merchant_actor(merchant, environment: str, *, via: str = "dashboard") -> Actor:
    """An actor for a signed-in merchant acting in the dashboard."""
    return Actor(kind=MERCHANT, environment=environment, merchant=merchant, via=via)


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


def _keys_queryset(merchant_id):
    from stores.models import ApiKey

    return ApiKey.objects.select_related("merchant").filter(
        merchant_id=merchant_id, merchant__is_active=True
    )


# Read on every signed request: compiled once per connection (pancake.api.prepared).
_MERCHANT_KEYS = prepared.PreparedSelect(_keys_queryset)


def _merchant_keys(merchant_id_value: str):
    try:
        merchant_id = ids.parse_id(merchant_id_value, "MER", field="X-Merchant-Id")
    except InvalidInput:
        raise Unauthenticated("Invalid API key") from None
    return _MERCHANT_KEYS.fetch(merchant_id)


def _touch_key(key) -> None:
    from stores.models import ApiKey

    now = timezone.now()
    if key.last_used_at is not None and key.last_used_at >= now - timedelta(minutes=1):
        return  # fresh enough: no statement at all
    # At most one write a minute per key, whatever the request rate.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)


def _key_actor(key, via: str) -> Actor:
    _touch_key(key)
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
    if claims.get("typ") == BUYER_TOKEN_TYP:
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


def _buyer_secret() -> bytes:
    from django.utils.crypto import salted_hmac

    return salted_hmac("pancake.buyer-session-token", "v1", algorithm="sha256").digest()


def issue_buyer_token(session) -> str:
    claims = {
        "typ": BUYER_TOKEN_TYP,
        "jti": str(session.id),
        "env": session.environment,
        "sto": str(session.store_id),
        "iat": int(session.issued_at.timestamp()),
        "exp": int(session.max_expires_at.timestamp()),
    }
    return jwt.encode(claims, _buyer_secret(), algorithm="HS256")


def _authenticate_buyer(request, token: str) -> Actor:
    from stores.models import BuyerSession

    try:
        claims = jwt.decode(
            token, _buyer_secret(), algorithms=["HS256"], options={"require": ["jti", "exp"]}
        )
        session_id = uuid.UUID(claims["jti"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Session token has expired") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthenticated("Invalid session token") from None
    environment = request_environment(request, required=True)
    now = timezone.now()
    session = (
        BuyerSession.objects.select_related("store")
        .filter(pk=session_id, expires_at__gt=now, store__deleted_at__isnull=True)
        .first()
    )
    if session is None:
        raise Unauthenticated("Session token has expired")
    if session.environment != environment:
        raise InvalidInput("Environment mismatch between request and session", layer="gateway")
    # Sliding lifetime: each use extends it by the TTL, never past the cap.
    new_expiry = min(
        now + timedelta(seconds=settings.BUYER_SESSION_TTL_SECONDS), session.max_expires_at
    )
    if new_expiry > session.expires_at:
        BuyerSession.objects.filter(pk=session.pk, expires_at__lt=new_expiry).update(
            expires_at=new_expiry
        )
        session.expires_at = new_expiry
    return Actor(
        kind=BUYER,
        environment=environment,
        buyer_session=session,
        store=session.store,
        via="session",
    )


# --- Store slug (public checkout) ---------------------------------------------------------------


def _authenticate_store_slug(request) -> Actor:
    from stores.models import Store

    slug = _header(request, "X-Store-Slug")
    environment = request_environment(request, required=True)
    if not SLUG_RE.match(slug):
        raise Unauthenticated("Invalid store slug")
    store = Store.objects.filter(slug=slug, deleted_at__isnull=True).first()
    if store is None:
        raise Unauthenticated("Invalid store slug")
    return Actor(kind=STORE_SLUG, environment=environment, store=store, via="slug")


def require_kind(actor: Actor, allowed: tuple[str, ...]) -> None:
    if actor.kind not in allowed:
        raise Forbidden("Insufficient permissions")
