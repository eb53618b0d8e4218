"""Buyer session tokens: an HS256 JWT naming one ``stores.BuyerSession`` row (``jti``), signed
with a key derived from SECRET_KEY. The row decides whether the token still works (its sliding
expiry, its store); the token's own ``exp`` is the session's hard cap."""

from __future__ import annotations

import uuid

import jwt
from django.utils.crypto import salted_hmac

from pancake.api.errors import Unauthenticated

TOKEN_TYP = "pancake+buyer"


def _secret() -> bytes:
    return salted_hmac("pancake.buyer-session-token", "v1", algorithm="sha256").digest()


def encode(session) -> str:
    """The token of a buyer session row."""
    claims = {
        "typ": TOKEN_TYP,
        "jti": str(session.id),
        "env": session.environment,
        "sto": str(session.store_id),
        "iat": int(session.issued_at.timestamp()),
        "exp": int(session.max_expires_at.timestamp()),
    }
    return jwt.encode(claims, _secret(), algorithm="HS256")


def session_id(token: str) -> uuid.UUID:
    """The buyer session a token names, if the token is ours and not past its cap (401
    otherwise)."""
    try:
        claims = jwt.decode(
            token, _secret(), algorithms=["HS256"], options={"require": ["jti", "exp"]}
        )
        return uuid.UUID(claims["jti"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Session token has expired") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthenticated("Invalid session token") from None
