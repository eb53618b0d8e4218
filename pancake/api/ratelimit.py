"""Token-bucket rate limits: per credential, and per client IP for the public store-slug actions.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each request takes
one, and a request that finds less than one is a 429 whose ``Retry-After`` is when the next token
arrives. In Redis (production) a bucket is one hash updated by one Lua script (atomic: two
processes can never spend the same token); without Redis (SQLite first run, in-process tasks) the
cache holds it, per process.

The clock is the application server's (``time.time()``), so servers should keep their clocks in
sync (NTP); a bucket never refills backwards if one is a little behind.

A merchant's own limit (``Merchant.api_rate_limit``, requests a second, set by support in the
admin) replaces the default for their API keys and JWTs; the burst scales with it.
``unlock_merchant`` empties nothing and refills everything: it deletes the merchant's buckets."""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.core.cache import cache

from pancake.api import rediscache
from pancake.api.actor import MERCHANT, STORE_SLUG
from pancake.api.errors import RateLimited

PREFIX = "ratelimit:tb:"
ENVIRONMENTS = ("test", "prod")

# KEYS[1]: the bucket. ARGV: rate (tokens/s), burst, now (s), ttl (ms).
# Returns {allowed (1/0), seconds until a token is available (a string: Lua numbers become
# integers in Redis replies)}.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
elseif now > stamp then
  tokens = tokens + (now - stamp) * rate
  stamp = now
end
tokens = math.min(burst, tokens)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(stamp))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, tostring(wait)}
"""

_script = None
_script_lock = threading.Lock()
_local_lock = threading.Lock()


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


def bucket_of(limit: tuple[int, int, int]) -> tuple[float, int]:
    """A ``(requests, per seconds, burst)`` setting as (tokens a second, burst)."""
    requests, seconds, burst = limit
    return requests / max(1, seconds), max(1, int(burst))


def _ttl_ms(rate: float, burst: int) -> int:
    """An idle bucket is full again after burst / rate seconds: then it may as well not exist."""
    return int(math.ceil(burst / rate * 1000)) + 1000


def _redis_take(redis, key: str, rate: float, burst: int, now: float) -> tuple[bool, float]:
    global _script
    backend, client = redis
    if _script is None:
        with _script_lock:
            if _script is None:
                _script = client.register_script(TOKEN_BUCKET_LUA)
    allowed, wait = _script(
        keys=[backend.make_and_validate_key(key)],
        args=[repr(rate), burst, repr(now), _ttl_ms(rate, burst)],
        client=client,
    )
    return bool(int(allowed)), float(wait)


def _cache_take(key: str, rate: float, burst: int, now: float) -> tuple[bool, float]:
    """The same bucket in the cache (no Redis: the per-process memory cache). Read and write
    under a lock: atomic within the process, which is all this cache is."""
    with _local_lock:
        tokens, stamp = cache.get(key) or (float(burst), now)
        if now > stamp:
            tokens, stamp = tokens + (now - stamp) * rate, now
        tokens = min(burst, tokens)  # a lowered limit applies at once
        allowed, wait = tokens >= 1, 0.0
        if allowed:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        cache.set(key, (tokens, stamp), timeout=_ttl_ms(rate, burst) / 1000)
    return allowed, wait


def hit(bucket: str, rate: float, burst: int) -> None:
    """Take one token from ``bucket`` (``rate`` tokens a second, at most ``burst``), or raise
    RateLimited with the seconds until the next token as Retry-After."""
    key = PREFIX + bucket
    now = time.time()
    redis = rediscache.client()
    if redis is not None:
        allowed, wait = _redis_take(redis, key, rate, burst, now)
    else:
        allowed, wait = _cache_take(key, rate, burst, now)
    if not allowed:
        # Rounded to the millisecond first: 10.000000000000002 s of float error is 10, not 11.
        raise RateLimited(retry_after=math.ceil(round(wait, 3)))


def merchant_limit(merchant) -> tuple[float, int]:
    """(tokens a second, burst) for a merchant's credentials: their own limit when support set
    one, with the default's ratio of burst to rate; else the default."""
    rate, burst = bucket_of(settings.API_RATE_LIMIT)
    own = getattr(merchant, "api_rate_limit", None)
    if not own:
        return rate, burst
    return float(own), max(1, math.ceil(own * burst / rate))


def check(request, actor) -> None:
    if actor.kind == MERCHANT:
        rate, burst = merchant_limit(actor.merchant)
    else:
        rate, burst = bucket_of(settings.API_RATE_LIMIT)
    hit(f"{actor.principal}:{actor.environment}", rate, burst)
    if actor.kind == STORE_SLUG:
        prate, pburst = bucket_of(settings.API_PUBLIC_RATE_LIMIT)
        hit(f"ip:{client_ip(request)}", prate, pburst)


def unlock_merchant(merchant_id) -> None:
    """Delete a merchant's buckets (both environments): their next requests start from a full
    bucket. Support's "Unlock rate limit" in the admin."""
    keys = [f"{PREFIX}mer:{merchant_id}:{environment}" for environment in ENVIRONMENTS]
    redis = rediscache.client()
    if redis is not None:
        backend, client = redis
        client.delete(*(backend.make_and_validate_key(key) for key in keys))
    else:
        cache.delete_many(keys)
