"""The customer portal's one table: a buyer's signed-in portal session."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from pancake.models import Environment


class PortalSession(models.Model):
    """A buyer signed in to one store's portal in one environment, by an emailed link, a
    merchant's portal link or a buyer session token. The cookie carries a random token; only
    its hash is kept. It ends 30 minutes after its last request (``expires_at`` slides), or at
    sign-out (``ended_at``)."""

    id = models.BigAutoField(primary_key=True)
    token_hash = models.CharField(max_length=64, unique=True)
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    buyer_identity = models.CharField(max_length=320)
    return_url = models.CharField(max_length=2000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="portal_session_expiry_idx")]

    def __str__(self) -> str:
        return f"portal session of {self.buyer_identity} ({self.environment})"
