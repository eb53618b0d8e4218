"""The default cache's redis-py client, one per thread, for the per-request hot paths.

Django's RedisCache builds a new redis-py client object for every operation (about 0.2 ms of
CPU: the client's response-callback table is rebuilt each time). Rate limits and the test
processor's fault check take it once per thread instead; the connection pool is the backend's
own, so connections are shared exactly as before."""

from __future__ import annotations

import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

_local = threading.local()


def client() -> tuple[RedisCache, object] | None:
    """(backend, its redis-py client) for the default cache; None when it is not Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    entry = getattr(_local, "entry", None)
    if entry is None or entry[0] is not backend:
        # The write client: the primary, which is also the only server of a one-URL setup.
        entry = _local.entry = (backend, backend._cache.get_client(None, write=True))
    return entry
