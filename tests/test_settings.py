"""The production configuration (PANCAKE_ENV=production) as README documents it: it loads,
passes `check --deploy`, refuses to start without SECRET_KEY, and its processes (gunicorn, a
Celery worker, Celery beat) start and answer. Each runs in a subprocess with a clean
environment, the way an operator would start it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, production_env

BIN = Path(sys.executable).parent


def manage(*args, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_production_configuration_passes_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "BROKER": settings.CELERY_BROKER_URL,
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "HSTS": settings.SECURE_HSTS_SECONDS,
    "SECURE_COOKIES": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "WHITENOISE": "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "PROVIDERS": sorted(settings.SOCIALACCOUNT_PROVIDERS),
}))
"""


def test_production_configuration_uses_postgres_redis_celery_and_smtp():
    env = production_env(
        DATABASE_URL="postgres://pancake:secret@db.internal:5432/pancake",
        REDIS_URL="redis://redis.internal:6379/0",
        EMAIL_HOST="smtp.example.com",
        GITHUB_CLIENT_ID="gh-id",
        GITHUB_CLIENT_SECRET="gh-secret",
        GOOGLE_CLIENT_ID=None,
    )
    env["DJANGO_SETTINGS_MODULE"] = "pancake.settings"
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "DEBUG": False,
        "ENGINE": "django.db.backends.postgresql",
        "CACHE": "django.core.cache.backends.redis.RedisCache",
        "BROKER": "redis://redis.internal:6379/0",
        "EAGER": False,
        "ALLOWED_HOSTS": ["pancake.example.com"],
        "SSL_REDIRECT": True,
        "HSTS": 31536000,
        "SECURE_COOKIES": [True, True],
        "WHITENOISE": True,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "PROVIDERS": ["github"],
    }


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when PANCAKE_ENV=production" in result.stderr


def test_check_deploy_fails_on_a_weak_secret_key():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="short")
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# --- the production processes ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def http(url: str, *, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_for(check, *, timeout: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode}:\n{log.read_text()}")
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout}s:\n{log.read_text()}")


def test_gunicorn_serves_the_production_configuration(tmp_path):
    port = free_port()
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}", REDIS_URL=None)
    log = tmp_path / "gunicorn.log"
    args = [str(BIN / "gunicorn"), "pancake.wsgi:application"]
    args += ["--bind", f"127.0.0.1:{port}", "--workers", "2"]
    process = start(args, env, log)
    base = f"http://127.0.0.1:{port}"
    host = {"Host": "pancake.example.com"}
    try:
        status, _, body = wait_for(
            lambda: http(f"{base}/healthz", headers=host), timeout=30, process=process, log=log
        )
        assert (status, body) == (200, b"ok")

        # plain HTTP is sent to HTTPS; the proxy's X-Forwarded-Proto marks a request secure
        status, headers, _ = http(f"{base}/login/", headers=host)
        assert status == 301 and headers["Location"] == "https://pancake.example.com/login/"

        secure = {**host, "X-Forwarded-Proto": "https", "Content-Type": "application/json"}
        status, headers, body = http(
            f"{base}/v1/actions/store/create-store", method="POST", headers=secure, body=b"{}"
        )
        assert status == 401
        assert json.loads(body) == {
            "data": None,
            "errors": [{"message": "Missing authentication", "layer": "user"}],
        }
        assert "Strict-Transport-Security" in headers

        status, _, _ = http(f"{base}/healthz", headers={"Host": "evil.example.com"})
        assert status == 400
    finally:
        stop(process)


def redis_url_or_skip() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (CI sets it)")
    return url


def test_celery_worker_starts_and_answers_a_ping(tmp_path):
    redis_url = redis_url_or_skip()
    name = f"smoke-{secrets.token_hex(4)}@localhost"
    env = production_env(REDIS_URL=redis_url)
    log = tmp_path / "worker.log"
    # Its own queue: the smoke worker must not take tasks meant for anyone else.
    args = [str(BIN / "celery"), "-A", "pancake", "worker", "-l", "info", "--pool", "solo"]
    args += ["-Q", f"q-{name.split('@')[0]}", "-n", name]
    process = start(args, env, log)
    celery = [str(BIN / "celery"), "-A", "pancake", "inspect", "ping", "-d", name, "-t", "3"]

    def ping():
        result = subprocess.run(
            celery, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        return result.returncode == 0 and "pong" in result.stdout

    try:
        assert wait_for(ping, timeout=60, process=process, log=log)
        assert "pancake.tasks.purge_expired_idempotency_keys" in log.read_text()
    finally:
        stop(process)


def test_celery_beat_starts_with_the_schedule(tmp_path):
    redis_url = redis_url_or_skip()
    env = production_env(REDIS_URL=redis_url)
    log = tmp_path / "beat.log"
    args = [str(BIN / "celery"), "-A", "pancake", "beat", "-l", "info"]
    args += ["-s", str(tmp_path / "celerybeat-schedule")]
    process = start(args, env, log)
    try:
        wait_for(lambda: "beat: Starting" in log.read_text(), timeout=30, process=process, log=log)
        time.sleep(1)
        assert process.poll() is None, log.read_text()
    finally:
        stop(process)
