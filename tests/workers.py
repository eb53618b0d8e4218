"""Real Celery workers for the tests that are about tasks: a worker is a subprocess
(``celery -A pancake worker -P threads -c 2``) with ``CELERY_TASK_ALWAYS_EAGER=0``, its own Redis
database (one per xdist worker) and ``DATABASE_URL`` pointing at the database pytest-django made;
the tests using them are transactional, so the rows they write are committed and visible to it.
While the ``workers`` fixture is active this process publishes to the same Redis instead of
running tasks eagerly. Needs PostgreSQL and Redis: skipped without them, failed when
``PANCAKE_REQUIRE_POSTGRES`` is set (CI). Import the fixtures into a test module by name."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.db import connection

from pancake.celery import app as celery_app
from tests.billing.helpers import use_broker

ROOT = Path(__file__).resolve().parents[1]
WORKER_TIMEOUT_SECONDS = 2  # the worker's WEBHOOK_TIMEOUT_SECONDS: its lease is 2*2+20 = 24 s

# Starts the worker with its clock moved forward by argv[1] seconds (ticking): a worker that comes
# up after the lease of a dead one ran out, without the test sleeping through the lease.
SHIFTED_CELERY = """
import sys
from datetime import datetime, timedelta, timezone

import time_machine

shift = float(sys.argv[1])
time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=shift), tick=True).start()
from celery.__main__ import main

sys.argv = ["celery", *sys.argv[2:]]
sys.exit(main())
"""


# --- services ------------------------------------------------------------------------------------


def redis_base() -> str:
    """Host and port of the Redis the suite uses (REDIS_URL), else the default local one."""
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def redis_db() -> int:
    """A Redis database of our own per xdist worker (CI's cache is 15): queues never mix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = int(worker[2:]) if worker[2:].isdigit() else 0
    return (12 + n) % 15  # not 10: bench/bench_renewals.py's


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def closed_port() -> int:
    """A local port nobody listens on: what the broker looks like with Redis stopped."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A Celery worker subprocess; its log is kept for failure messages."""

    def __init__(self, env: dict, shift_seconds: float = 0):
        args = [
            "-A", "pancake", "worker", "-P", "threads", "-c", "2", "-l", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"wh-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        if shift_seconds:
            cmd = [sys.executable, "-c", SHIFTED_CELERY, str(shift_seconds), *args]
        else:
            cmd = [sys.executable, "-m", "celery", *args]
        self.log: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("the Celery worker did not start:\n" + self.output())

    def _read(self):
        for line in self.process.stdout:
            self.log.append(line)
            if " ready." in line:
                self.ready.set()

    def output(self) -> str:
        return "".join(self.log[-80:])

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass


@pytest.fixture
def redis_url(require_postgres):
    base = redis_base()
    if not redis_reachable(base):
        if os.environ.get("PANCAKE_REQUIRE_POSTGRES"):
            pytest.fail(f"These tests need Redis at {base} and PANCAKE_REQUIRE_POSTGRES is set")
        pytest.skip(f"needs Redis at {base} for a real Celery worker; CI runs it")
    return f"{base}/{redis_db()}"


@pytest.fixture
def workers(redis_url, settings):
    """Start real workers with ``workers.start()``; this process publishes to their Redis."""
    queue = redis.Redis.from_url(redis_url)
    queue.flushdb()  # nothing left over from an earlier (killed) run
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pancake.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOK_TIMEOUT_SECONDS": str(WORKER_TIMEOUT_SECONDS),
        "SECRET_KEY": settings.SECRET_KEY,  # the signing key is stored encrypted with it
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PANCAKE_ENV", None)
    started: list[Worker] = []

    class Workers:
        url = redis_url

        def start(self, shift_seconds: float = 0) -> Worker:
            worker = Worker(env, shift_seconds)
            started.append(worker)
            return worker

        def logs(self) -> str:
            return "\n---\n".join(w.output() for w in started)

    old_broker, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    use_broker(redis_url)
    try:
        yield Workers()
    finally:
        for worker in started:
            worker.kill()
        celery_app.conf.task_always_eager = old_eager
        use_broker(old_broker)
        queue.flushdb()
        queue.close()
