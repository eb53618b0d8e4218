"""Helpers shared by the merchant and API-key commands (not a command: the name starts with _)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management.base import CommandError

from pancake.api import ids
from pancake.api.errors import InvalidInput
from stores.models import Merchant, normalize_email


def read_text(path: str | Path, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CommandError(f"Cannot read {what} file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{what.capitalize()} file {path} is not a text (PEM) file") from exc


def load_rsa_private_key(path: str | Path) -> rsa.RSAPrivateKey:
    """An unencrypted RSA private key in PEM (PKCS#8 or PKCS#1), as the SDK accepts it."""
    pem = read_text(path, "private key")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError as exc:
        raise CommandError(f"{path}: encrypted private keys are not supported") from exc
    except ValueError as exc:
        raise CommandError(f"{path} does not contain a PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CommandError(f"{path}: only RSA private keys can sign Pancake requests")
    return key


def parse_merchant_id(value: str):
    try:
        return ids.parse_id(value, "MER", field="merchant id")
    except InvalidInput as exc:
        raise CommandError(f"{exc} (expected MER_… or a UUID)") from exc


def find_merchant(value: str) -> Merchant:
    """A merchant by email address, short id (MER_…) or UUID."""
    if "@" in value:
        merchant = Merchant.objects.filter(email=normalize_email(value)).first()
    else:
        merchant = Merchant.objects.filter(pk=parse_merchant_id(value)).first()
    if merchant is None:
        raise CommandError(
            f"No merchant {value!r}: create one first with `python manage.py create_merchant EMAIL`"
        )
    return merchant
