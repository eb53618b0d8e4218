"""The bare yardstick (bench/yardstick) beside Pancake in a bench: its database on the same
PostgreSQL server, the merchant's public key, its gunicorn, and the SQL of one request.

    python bench/bare.py queries DB  < private_key.pem   # SQL statements of one request (JSON)

The benches import this module; the command above is how they count the yardstick's SQL in a
process of its own (its settings cannot share a process with Pancake's).

Django and the project's modules are imported inside the functions that use them, after the
bench has chosen its settings and database (the environment) and called ``django.setup()``.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench.yardstick.settings"
PATH = "/bench/yardstick"
BODY = b'{"bench":true}'


def database_url(db: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{db}"


def environment(db: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PANCAKE_", "DJANGO_", "DB_"))}
    env.update(DJANGO_SETTINGS_MODULE=SETTINGS, DATABASE_URL=database_url(db))
    return env


def setup(db: str, merchant_id: uuid.UUID, public_key_pem: str) -> None:
    """A fresh database ``db`` with the yardstick's tables and the merchant's key."""
    import psycopg

    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=True)
    migrate = [sys.executable, "-m", "django", "migrate", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=environment(db), check=True)  # contrib apps' too
    with psycopg.connect(database_url(db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO yardstick_merchantkey (id, merchant_id, public_key_pem)"
            " VALUES (%s, %s, %s)",
            (uuid.uuid4(), merchant_id, public_key_pem),
        )


def drop(db: str) -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db], check=False)


def start(
    db: str,
    port: int,
    threads: int = 1,
    workers: int = 2,
    conn_max_age: int = 60,
    stripped: bool = False,
) -> subprocess.Popen:
    """gunicorn serving the yardstick with the same worker and thread counts as Pancake's;
    ``conn_max_age=0``: startproject's default, a new database connection per request;
    ``stripped``: without the contrib apps, middleware and DRF defaults (see its settings)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.yardstick.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={
            **environment(db),
            "BARE_CONN_MAX_AGE": str(conn_max_age),
            "BARE_STRIPPED": "1" if stripped else "0",
        },
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1)
    return server


def queries(db: str, private_key_pem: bytes, merchant_id: str) -> dict:
    """SQL statements of one yardstick request, counted in a process of its own."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "queries", db, merchant_id],
        cwd=ROOT,
        env=environment(db),
        input=private_key_pem,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


def _count_queries(merchant_id: str) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_actions import Signer

    key = serialization.load_pem_private_key(sys.stdin.buffer.read(), password=None)
    signer = Signer(key, merchant_id)
    client = Client(HTTP_HOST="127.0.0.1")

    def call():
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in signer.headers(PATH, BODY).items()
            if k != "Content-Type"
        }
        return client.post(PATH, data=BODY, content_type="application/json", **headers)

    assert call().status_code == 200  # warm
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content
    print(
        json.dumps(
            {
                "bare yardstick": len(ctx.captured_queries),
                "statements": [q["sql"][:160] for q in ctx.captured_queries],
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "queries":
        _count_queries(sys.argv[3])
    else:
        sys.exit(__doc__)
