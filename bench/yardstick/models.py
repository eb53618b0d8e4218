"""The merchant's public key (read once per request) and the row each request writes."""

import uuid

from django.db import models
from django.utils import timezone


class MerchantKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    merchant_id = models.UUIDField(db_index=True)
    public_key_pem = models.TextField()

    def __str__(self) -> str:
        return str(self.merchant_id)


class SignedWrite(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    merchant_id = models.UUIDField()
    path = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.pk)
