"""Fixed-window rate limits in the cache (Redis in production): per credential, and per client IP
for the public store-slug actions."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from pancake.api import rediscache
from pancake.api.errors import RateLimited


def client_ip(request) -> str:
    forwarded = (
        request.META.get("HTTP_X_FORWARDED_FOR")
        if getattr(settings, "BEHIND_PROXY_IPS", 0)
        else None
    )
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def client_country(request) -> str | None:
    """The client's country (ISO 3166-1 alpha-2) as the proxy in front of Pancake resolved it from
    the IP address, in the header named by ``IP_COUNTRY_HEADER``; None when no header is
    configured or it holds no country (Cloudflare's ``XX`` unknown, ``T1`` Tor)."""
    header = getattr(settings, "IP_COUNTRY_HEADER", "")
    if not header:
        return None
    value = (request.headers.get(header) or "").strip().upper()
    if len(value) != 2 or not value.isalpha() or value in ("XX", "T1"):
        return None
    return value


def _count(key: str, window: int) -> int:
    """Count one hit in the window's bucket and return the count so far."""
    redis = rediscache.client()
    if redis is not None:
        # One round trip: create the bucket with its expiry if it is new, then count, inside
        # MULTI/EXEC so the bucket cannot expire between the two.
        backend, client = redis
        full_key = backend.make_and_validate_key(key)
        pipe = client.pipeline(transaction=True)
        pipe.set(full_key, 0, ex=window + 1, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return 1


def hit(bucket: str, limit: int, window: int) -> None:
    now = time.time()
    index = int(now // window)
    if _count(f"ratelimit:{bucket}:{index}", window) > limit:
        raise RateLimited(retry_after=int((index + 1) * window - now) + 1)


def check(request, actor) -> None:
    limit, window = settings.API_RATE_LIMIT
    hit(f"{actor.principal}:{actor.environment}", limit, window)
    if actor.kind == "store":
        plimit, pwindow = settings.API_PUBLIC_RATE_LIMIT
        hit(f"ip:{client_ip(request)}", plimit, pwindow)
