"""The one view: a signed write done the plain way (DRF view, ORM read, ORM insert)."""

import base64
import binascii
import hashlib
import time
import uuid
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.yardstick.models import MerchantKey, SignedWrite

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_SKEW_SECONDS = 300


def merchant_uuid(value: str) -> uuid.UUID | None:
    """``MER_`` + 22 base62 digits (the SDK's short id), or a UUID."""
    if value.startswith("MER_") and len(value) == 26:
        n = 0
        for char in value[4:]:
            digit = ALPHABET.find(char)
            if digit < 0:
                return None
            n = n * 62 + digit
        return uuid.UUID(int=n) if n < 1 << 128 else None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def public_key(pem: str):
    return serialization.load_pem_public_key(pem.encode())


class SignedWriteView(APIView):
    def post(self, request):
        body = request.body
        headers = request.headers
        timestamp = headers.get("X-Timestamp", "")
        merchant_id = merchant_uuid(headers.get("X-Merchant-Id", ""))
        if (
            merchant_id is None
            or not timestamp.isdigit()
            or abs(int(timestamp) - time.time()) > MAX_SKEW_SECONDS
        ):
            return Response({"message": "Missing authentication"}, status=401)
        pem = (
            MerchantKey.objects.filter(merchant_id=merchant_id)
            .values_list("public_key_pem", flat=True)
            .first()
        )
        digest = hashlib.sha256(body).digest()
        message = f"POST\n{request.path_info}\n{timestamp}\n{base64.b64encode(digest).decode()}"
        try:
            signature = base64.b64decode(headers.get("X-Signature", ""), validate=True)
            if pem is None:
                raise InvalidSignature
            public_key(pem).verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError, binascii.Error):
            return Response({"message": "Invalid API key"}, status=401)
        row = SignedWrite.objects.create(
            merchant_id=merchant_id, path=request.path_info, body_sha256=digest.hex()
        )
        return Response({"data": {"id": str(row.pk)}})
