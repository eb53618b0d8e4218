"""Helpers shared by tests in several folders: signing requests like the SDK (``ApiClient``,
``sign_headers``, ``mint_jwt``), a webhook ``Receiver`` on 127.0.0.1, buying through the API and
paying with the test processor (``buy``, ``pay``, ``deliver``, ``emails_to``), and the clean
environment of a production process (``production_env``). Fixtures live in the conftests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.core import mail
from django.test import Client

from billing import services as billing_services
from billing.models import Payment
from billing.providers import test_processor
from pancake.api import ids
from tests.factories import private_pem

ROOT = Path(__file__).resolve().parent.parent

# --- signed calls ---------------------------------------------------------------------------------


class ConfiguredLiveProvider:
    """Stands for a real provider set up for prod (``live_payments`` fixture): only its
    ``is_configured`` is asked, by ``billing.providers.live_payments_available``; a test that
    pays in prod needs the real provider."""

    name = "configured-live"

    @classmethod
    def is_configured(cls) -> bool:
        return True


def sign_headers(
    private_key, merchant_id: str, path: str, body: bytes, timestamp: int | None = None
) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    canonical = f"POST\n{path}\n{ts}\n{digest}".encode()
    signature = base64.b64encode(
        private_key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    return {
        "HTTP_X_MERCHANT_ID": merchant_id,
        "HTTP_X_TIMESTAMP": ts,
        "HTTP_X_SIGNATURE": signature,
    }


def mint_jwt(private_key, merchant_id: str, lifetime: int = 300, **extra) -> str:
    now = int(time.time())
    claims = {"sub": merchant_id, "iat": now, "exp": now + lifetime, **extra}
    return jwt.encode(claims, private_pem(private_key), algorithm="RS256")


class ApiClient:
    """Calls actions the way the SDK does: POST JSON, signed with the merchant's private key."""

    def __init__(self, merchant, private_key, client: Client | None = None):
        self.merchant = merchant
        self.private_key = private_key
        self.client = client or Client()
        self.merchant_id = ids.encode("MER", merchant.pk)

    def raw(
        self,
        path: str,
        body: bytes,
        headers: dict | None = None,
        sign_path: str | None = None,
        **kw,
    ):
        h = sign_headers(
            self.private_key, self.merchant_id, sign_path or path, body, kw.pop("timestamp", None)
        )
        h.update(headers or {})
        return self.client.post(path, data=body, content_type="application/json", **h)

    def post(self, action: str, payload: dict | None = None, headers: dict | None = None, **kw):
        body = json.dumps(payload or {}).encode()
        return self.raw(f"/v1/actions/{action}", body, headers, **kw)

    def call(
        self,
        action: str,
        payload: dict | None = None,
        headers: dict | None = None,
        expect: int = 200,
    ):
        response = self.post(action, payload, headers)
        assert response.status_code == expect, response.content
        return response.json()


# --- buying and paying ----------------------------------------------------------------------------

DE = {"country": "DE", "isBusiness": False}
CARD = "4242424242424242"


def buy(api, product, *, currency="EUR", billing=DE, session=None, subscription=False) -> Payment:
    """Create a session and its order through the API; return the pending payment."""
    body = {"productId": ids.encode("PROD", product.pk), "currency": currency, **(session or {})}
    session_id = api.call("checkout/create-session", body)["data"]["sessionId"]
    path = "subscription-order/create-order" if subscription else "onetime-order/create-order"
    api.call(path, {"checkoutSessionId": session_id, "billingDetail": billing,
                    "buyerEmail": "buyer@example.com"})  # fmt: skip
    return Payment.objects.get(order__session_id=session_id)


def pay(payment, number=CARD):
    """Submit a test card on the test processor's page; return the notification it sends."""
    return test_processor.submit_card(
        provider_payment_id=payment.provider_payment_id,
        number=number,
        exp_month=12,
        exp_year=2040,
        cvc="123",
        name="Ada",
    ).notification


def deliver(notification, capture):
    """The provider's notification, applied as the webhook view applies it, with the commit's
    callbacks (the email task, eager in tests) run. ``capture`` is pytest-django's
    ``django_capture_on_commit_callbacks``."""
    with capture(execute=True):
        billing_services.test_processor_notification_receive(
            headers=dict(notification.headers), body=notification.body
        )


def emails_to(address) -> list:
    return [m for m in mail.outbox if m.to == [address]]


# --- webhooks -------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver: records every POST, answers the queued status codes (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope " * 400)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- a production process -------------------------------------------------------------------------

# Everything settings.py reads from the environment, so the runner's own values (a test
# DATABASE_URL, CELERY_TASK_ALWAYS_EAGER=1, DEBUG…) never leak into the production process.
SETTINGS_VARIABLES = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "BASE_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "BEHIND_PROXY",
    "MEDIA_ROOT",
}


def production_env(**overrides) -> dict:
    """The environment of a production process (PANCAKE_ENV=production): the runner's settings
    variables removed, required ones set; an override of None removes a variable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARIABLES and not k.startswith("PANCAKE_")
    }
    env.update(
        PANCAKE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or "postgres://pancake:secret@127.0.0.1:5432/pancake",
        REDIS_URL=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        BASE_URL="https://pancake.example.com",
        ALLOWED_HOSTS="pancake.example.com",
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
