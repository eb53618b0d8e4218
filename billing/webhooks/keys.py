"""The platform's webhook signing keys: one RSA-2048 pair per environment, made on
first use and kept in the database with the private half encrypted by a key derived from
SECRET_KEY; or read from ``WEBHOOK_PRIVATE_KEY_FILE_TEST`` / ``_PROD`` when the operator manages
the key files. Receivers verify with the public key (``webhook_public_key`` command, Developers
page) the way the official SDK's ``verifyWebhook`` does."""

from __future__ import annotations

import base64
import hashlib
import time
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.db import IntegrityError, transaction

from billing.models import WebhookSigningKey

SIGNATURE_HEADER = "X-Waffo-Signature"


def _password() -> bytes:
    return hashlib.sha256(b"pancake webhook signing key\0" + settings.SECRET_KEY.encode()).digest()


def _key_file(environment: str) -> str:
    return getattr(settings, f"WEBHOOK_PRIVATE_KEY_FILE_{environment.upper()}", "") or ""


def _create(environment: str) -> WebhookSigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_password()),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        with transaction.atomic():
            return WebhookSigningKey.objects.create(
                environment=environment,
                public_pem=public.decode(),
                private_encrypted=encrypted,
            )
    except IntegrityError:  # another process made it first: theirs is the key
        return WebhookSigningKey.objects.get(environment=environment)


@lru_cache(maxsize=4)
def _loaded(environment: str, fingerprint: str) -> rsa.RSAPrivateKey:
    path = _key_file(environment)
    if path:
        with open(path, "rb") as handle:
            return serialization.load_pem_private_key(handle.read(), password=None)
    row = WebhookSigningKey.objects.get(environment=environment)
    return serialization.load_pem_private_key(row.private_encrypted.encode(), password=_password())


def _row(environment: str) -> WebhookSigningKey:
    row = WebhookSigningKey.objects.filter(environment=environment).first()
    return row or _create(environment)


# environment -> fingerprint of the stored key this process loaded (a key row never changes once
# made, so each attempt signs without reading it again; replacing a key means restarting the
# workers, or calling forget_cached_keys()).
_fingerprints: dict[str, str] = {}


def forget_cached_keys() -> None:
    _fingerprints.clear()
    _loaded.cache_clear()


def private_key(environment: str) -> rsa.RSAPrivateKey:
    if _key_file(environment):
        return _loaded(environment, "file")
    fingerprint = _fingerprints.get(environment)
    if fingerprint is None:
        row = _row(environment)
        fingerprint = hashlib.sha256(row.public_pem.encode()).hexdigest()
        _fingerprints[environment] = fingerprint
    return _loaded(environment, fingerprint)


def public_pem(environment: str) -> str:
    """The SPKI PEM receivers verify this environment's deliveries with."""
    if _key_file(environment):
        key = private_key(environment).public_key()
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    return _row(environment).public_pem


def signature_header(environment: str, body: str, at_ms: int | None = None) -> tuple[str, int]:
    """``t=<unix ms>,v1=<base64 RSASSA-PKCS1-v1_5/SHA-256 over "t.body">`` and its ``t``."""
    t = int(time.time() * 1000) if at_ms is None else at_ms
    signature = private_key(environment).sign(
        f"{t}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"t={t},v1={base64.b64encode(signature).decode()}", t
