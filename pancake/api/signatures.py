"""RSA request signatures exactly as @waffo/pancake-ts signs them.

canonical = "POST\\n" + path_info + "\\n" + timestamp + "\\n" + base64(sha256(raw body))
signature = base64(RSASSA-PKCS1-v1_5 / SHA-256 over the canonical string)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pancake.api.errors import InvalidInput

MIN_RSA_BITS = 2048


def canonical_string(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()


@lru_cache(maxsize=1024)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def parse_public_key(pem: str) -> tuple[str, str]:
    """Validate an uploaded public key: RSA, at least 2048 bits. Returns (normalized PEM,
    SHA-256 fingerprint of its DER form)."""
    try:
        key = serialization.load_pem_public_key((pem or "").strip().encode())
    except (ValueError, TypeError):
        raise InvalidInput("Invalid public key: expected an RSA public key in PEM format") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("Invalid public key: only RSA keys are accepted")
    if key.key_size < MIN_RSA_BITS:
        raise InvalidInput(f"Invalid public key: RSA keys must have at least {MIN_RSA_BITS} bits")
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    normalized = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return normalized, hashlib.sha256(der).hexdigest()


def verify(pem: str, signature_b64: str, message: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        load_public_key(pem).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
