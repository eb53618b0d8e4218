"""Who is calling, once authenticated (``pancake.api.auth``): an ``Actor``, which every service
takes. A merchant (API key, JWT or the signed-in dashboard), a buyer (session token) or the
public checkout of one store (store slug), always in one environment."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MERCHANT = "merchant"
BUYER = "buyer"
STORE_SLUG = "store"


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
