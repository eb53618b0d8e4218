"""Fixed-window rate limits in the cache (Redis in production): per credential, and per client IP
for the public store-slug actions (SPEC 3.3)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

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


def hit(bucket: str, limit: int, window: int) -> None:
    now = time.time()
    index = int(now // window)
    key = f"ratelimit:{bucket}:{index}"
    if cache.add(key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=int((index + 1) * window - now) + 1)


def check(request, actor) -> None:
    limit, window = settings.API_RATE_LIMIT
    hit(f"{actor.principal}:{actor.environment}", limit, window)
    if actor.kind == "store":
        plimit, pwindow = settings.API_PUBLIC_RATE_LIMIT
        hit(f"ip:{client_ip(request)}", plimit, pwindow)
