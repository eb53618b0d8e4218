"""Benchmark the signed action API on the production configuration.

gunicorn (2 workers x 4 threads) + PostgreSQL + Redis, the way the README deploys it. Measures
requests/s and p50/p99 latency for a signed write (store/update-store), an idempotent replay
(store/create-store with a reused X-Idempotency-Key) and a refused request (bad signature, 401);
SQL queries per request (in-process, same code path); and the RSS of the gunicorn processes.

    python bench/bench_actions.py [--seconds 10] [--concurrency 8]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379. Loopback only;
bounded in time; stops by itself.

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "pancake_bench"
PORT = 8765
ENV = {
    "PANCAKE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "BASE_URL": f"http://127.0.0.1:{PORT}",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "API_RATE_LIMIT": "100000000",
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


def seed():
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pancake.settings"
    import django

    django.setup()

    from pancake.api import ids
    from stores import services
    from tests.factories import make_api_key

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    merchant, _ = services.merchant_get_or_create(email="bench@example.com")
    make_api_key(merchant, key)
    stores = [services.store_create(merchant=merchant, name=f"Bench Store {i}") for i in range(16)]
    from products.services import product_create

    prices = {
        "USD": {"amount": 2900, "taxCategory": "ebook"},
        "JPY": {"amount": 4500, "taxCategory": "ebook"},
    }
    products = [
        product_create(store=s, kind="onetime", name="Bench E-Book", prices=prices) for s in stores
    ]
    return (
        key,
        ids.encode("MER", merchant.pk),
        [ids.encode("STO", s.pk) for s in stores],
        [ids.encode("PROD", p.pk) for p in products],
    )


class Signer:
    """Signs like the SDK; one RSA signature per (body, second), as a busy client would."""

    def __init__(self, key, merchant_id: str):
        self.key, self.merchant_id, self.cache = key, merchant_id, {}

    def headers(self, path: str, body: bytes, bad: bool = False) -> dict:

        ts = str(int(time.time()))
        cache_key = (path, body, ts)
        if cache_key not in self.cache:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            canonical = f"POST\n{path}\n{ts}\n{digest}".encode()
            self.cache = {
                cache_key: base64.b64encode(
                    self.key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
                ).decode()
            }
        signature = self.cache[cache_key]
        if bad:
            signature = ("B" if signature[0] == "A" else "A") + signature[1:]
        return {
            "Content-Type": "application/json",
            "X-Merchant-Id": self.merchant_id,
            "X-Timestamp": ts,
            "X-Signature": signature,
        }


def load(
    name: str,
    signer_factory,
    path: str,
    body,
    seconds: float,
    concurrency: int,
    expect: int,
    extra=None,
    bad=False,
):
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int):
        nonlocal errors
        signer = signer_factory()
        payload = body(index) if callable(body) else body
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        local, local_errors = [], 0
        while time.perf_counter() < deadline:
            headers = {**signer.headers(path, payload, bad=bad), **(extra or {})}
            start = time.perf_counter()
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            local.append(time.perf_counter() - start)
            if response.status != expect:
                local_errors += 1
        conn.close()
        with lock:
            latencies.extend(local)
            errors += local_errors

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "endpoint": name,
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "unexpected_status": errors,
    }


def queries_per_request(key, merchant_id: str, store_id: str, product_id: str) -> dict:
    """SQL statements per request, counted in-process on the same database and code path."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", **{"wsgi.url_scheme": "https"})
    signer = Signer(key, merchant_id)
    counts = {}
    for name, path, body, extra in [
        (
            "store/update-store",
            "/v1/actions/store/update-store",
            json.dumps({"id": store_id, "name": "Bench"}).encode(),
            {},
        ),
        (
            "store/create-store (replay)",
            "/v1/actions/store/create-store",
            b'{"name":"Replay"}',
            {"HTTP_X_IDEMPOTENCY_KEY": "bench-replay"},
        ),
        (
            "onetime-product/update-product (unchanged)",
            "/v1/actions/onetime-product/update-product",
            json.dumps({"id": product_id, "name": "Bench E-Book"}).encode(),
            {},
        ),
    ]:
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in signer.headers(path, body).items()
            if k != "Content-Type"
        }
        client.post(path, data=body, content_type="application/json", **headers, **extra)  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                path, data=body, content_type="application/json", **headers, **extra
            )
        assert response.status_code == 200, response.content
        counts[name] = len(ctx.captured_queries)
    return counts


def rss_mb(pid: int) -> float:
    total = 0
    for p in [
        pid,
        *map(
            int,
            subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True
            ).stdout.split(),
        ),
    ]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    setup_database()
    key, merchant_id, store_ids, product_ids = seed()
    store_id = store_ids[0]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "pancake.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        warm = Signer(key, merchant_id)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        conn.request(
            "POST",
            "/v1/actions/store/create-store",
            body=b'{"name":"Replay"}',
            headers={
                **warm.headers("/v1/actions/store/create-store", b'{"name":"Replay"}'),
                "X-Idempotency-Key": "bench-replay",
            },
        )
        assert conn.getresponse().status == 200
        results = [
            # One store per client thread: concurrent writers to one store queue on its row lock.
            load(
                "store/update-store (signed write)",
                lambda: Signer(key, merchant_id),
                "/v1/actions/store/update-store",
                lambda i: json.dumps(
                    {"id": store_ids[i % len(store_ids)], "name": "Bench"}
                ).encode(),
                args.seconds,
                args.concurrency,
                200,
            ),
            load(
                "onetime-product/update-product (unchanged: no new version)",
                lambda: Signer(key, merchant_id),
                "/v1/actions/onetime-product/update-product",
                lambda i: json.dumps(
                    {"id": product_ids[i % len(product_ids)], "name": "Bench E-Book"}
                ).encode(),
                args.seconds,
                args.concurrency,
                200,
            ),
            load(
                "store/create-store (idempotent replay)",
                lambda: Signer(key, merchant_id),
                "/v1/actions/store/create-store",
                b'{"name":"Replay"}',
                args.seconds,
                args.concurrency,
                200,
                extra={"X-Idempotency-Key": "bench-replay"},
            ),
            load(
                "bad signature (401)",
                lambda: Signer(key, merchant_id),
                "/v1/actions/store/update-store",
                b'{"id":"x"}',
                args.seconds,
                args.concurrency,
                401,
                bad=True,
            ),
        ]
        memory = rss_mb(server.pid)
        queries = queries_per_request(key, merchant_id, store_id, product_ids[0])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    print(
        json.dumps(
            {
                "results": results,
                "sql_queries_per_request": queries,
                "gunicorn_rss_mb": memory,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
