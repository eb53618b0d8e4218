"""What the rate limiter adds to a request: p50 with the limiter and without it, side by side.

    python bench/bench_ratelimit.py [--requests 2000]

In one process, on the production settings with PostgreSQL and Redis: a signed action
(``store/update-store``) through Django's full request path, alternately with the token-bucket
limiter (``pancake.api.ratelimit.check``: one EVALSHA round trip to Redis) and with ``check``
replaced by a no-op, so both see the same database, cache and machine load; then the limiter's
call alone, in Redis and in the memory cache (the no-Redis fallback). The limit is set high
enough that nothing is refused: this measures the cost of asking, not of being refused.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres; database ``pancake_bench_ratelimit`` is
dropped and created) and Redis on 127.0.0.1:6379 (db 14). Loopback only; bounded; stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "pancake_bench_ratelimit"
ENV = {
    "PANCAKE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "BASE_URL": "https://127.0.0.1",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    # 1M a second, bursts of 2M: never refused, every request still takes a token.
    "API_RATE_LIMIT": "1000000",
    "API_RATE_BURST": "2000000",
    "LOG_LEVEL": "WARNING",
}


def setup_database() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
    )


def start_django():
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pancake.settings"
    import django

    django.setup()


def seed(key):
    from pancake.api import ids
    from stores import services
    from tests.factories import make_api_key

    merchant, _ = services.merchant_get_or_create(email="bench@example.com")
    make_api_key(merchant, key)
    store = services.store_create(merchant=merchant, name="Bench Store")
    return merchant, ids.encode("MER", merchant.pk), ids.encode("STO", store.pk)


def signed(key, merchant_id: str, path: str, body: bytes) -> dict:
    ts = str(int(time.time()))
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    canonical = f"POST\n{path}\n{ts}\n{digest}".encode()
    signature = base64.b64encode(key.sign(canonical, padding.PKCS1v15(), hashes.SHA256()))
    return {
        "HTTP_X_MERCHANT_ID": merchant_id,
        "HTTP_X_TIMESTAMP": ts,
        "HTTP_X_SIGNATURE": signature.decode(),
    }


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def requests_side_by_side(key, merchant_id: str, store_id: str, n: int) -> dict:
    from django.test import Client

    from pancake.api import ratelimit

    client = Client(HTTP_HOST="127.0.0.1", **{"wsgi.url_scheme": "https"})
    path = "/v1/actions/store/update-store"
    body = json.dumps({"id": store_id, "name": "Bench"}).encode()
    real_check = ratelimit.check
    timings = {"limiter": [], "no limiter": []}
    headers, signed_at = None, 0.0
    for i in range(n + 100):
        if time.time() - signed_at > 30:  # one signature per 30 s, as a busy client would
            headers, signed_at = signed(key, merchant_id, path, body), time.time()
        order = ["limiter", "no limiter"]
        random.shuffle(order)  # neither side always runs second (warm caches)
        for side in order:
            ratelimit.check = real_check if side == "limiter" else (lambda request, actor: None)
            try:
                start = time.perf_counter()
                response = client.post(path, data=body, content_type="application/json", **headers)
                elapsed = time.perf_counter() - start
            finally:
                ratelimit.check = real_check
            assert response.status_code == 200, response.content
            if i >= 100:  # the first 100 warm up connections and compiled statements
                timings[side].append(elapsed)
    on, off = timings["limiter"], timings["no limiter"]
    return {
        "request": "store/update-store, signed, in-process",
        "requests_each": n,
        "p50_ms_limiter": ms(statistics.median(on)),
        "p50_ms_no_limiter": ms(statistics.median(off)),
        "p50_ms_added": ms(statistics.median(on) - statistics.median(off)),
        # The same, request by request: each pair ran back to back, so load that comes and goes
        # (a shared machine) mostly cancels out.
        "paired_median_ms_added": ms(
            statistics.median(a - b for a, b in zip(on, off, strict=True))
        ),
        "p95_ms_limiter": ms(p(on, 0.95)),
        "p95_ms_no_limiter": ms(p(off, 0.95)),
    }


def limiter_alone(merchant, n: int) -> dict:
    from django.core.cache import caches
    from django.test import override_settings

    from pancake.api import ratelimit, rediscache
    from pancake.api.actor import merchant_actor

    actor = merchant_actor(merchant, "test", via="signature")
    result = {}
    memory = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for name, caches_setting in (("redis", None), ("memory cache", memory)):
        context = override_settings(CACHES=caches_setting) if caches_setting else None
        if context:
            context.__enter__()
        try:
            assert (rediscache.client() is not None) == (name == "redis"), caches["default"]
            times = []
            for i in range(n + 100):
                start = time.perf_counter()
                ratelimit.check(None, actor)
                if i >= 100:
                    times.append(time.perf_counter() - start)
            result[f"check_p50_ms_{name}"] = ms(statistics.median(times))
            result[f"check_p95_ms_{name}"] = ms(p(times, 0.95))
        finally:
            if context:
                context.__exit__(None, None, None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    setup_database()
    start_django()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    merchant, merchant_id, store_id = seed(key)
    report = {
        **requests_side_by_side(key, merchant_id, store_id, args.requests),
        **limiter_alone(merchant, args.requests * 5),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
