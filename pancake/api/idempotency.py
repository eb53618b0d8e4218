"""Durable idempotency keys (``X-Idempotency-Key``).

Scope: (principal, environment, path, key). The row is inserted (committed) as in flight before the
action runs, so a concurrent twin sees it at once; the action's effect and the stored answer commit
together, so a crash can never leave an effect without its answer. Only 2xx answers are kept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pancake.api.errors import Conflict, IdempotencyMismatch, InvalidInput
from pancake.models import IdempotencyKey

HEADER = "X-Idempotency-Key"
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass
class Replay:
    status: int
    body: bytes
    version: str


def parse_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_RE.match(key):
        raise InvalidInput(
            "Invalid X-Idempotency-Key: use 1 to 256 letters, digits, '-' or '_'", layer="gateway"
        )
    return key


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def begin(
    *, principal: str, environment: str, path: str, key: str, body_hash: str
) -> IdempotencyKey | Replay:
    """Claim the key, or explain why not: a Replay of the first answer, 409 while in flight,
    422 for a different body."""
    now = timezone.now()
    scope = {"principal": principal, "environment": environment, "path": path, "key": key}
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    **scope, request_hash=body_hash, created_at=now
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(**scope).first()
        if existing is None:
            continue  # released between our insert and read: try again
        expired = existing.created_at < now - timedelta(
            seconds=settings.API_IDEMPOTENCY_TTL_SECONDS
        )
        stale = (
            existing.state == IdempotencyKey.State.IN_FLIGHT
            and existing.created_at
            < now - timedelta(seconds=settings.API_IDEMPOTENCY_STALE_SECONDS)
        )
        if expired or stale:
            # Take the key over; the conditional delete lets exactly one claimant win.
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_hash != body_hash:
            raise IdempotencyMismatch(
                "This idempotency key was already used with different request parameters"
            )
        if existing.state == IdempotencyKey.State.IN_FLIGHT:
            raise Conflict("Request with this idempotency key is already being processed")
        return Replay(
            status=existing.response_status,
            body=bytes(existing.response_body),
            version=existing.response_version,
        )
    raise Conflict("Request with this idempotency key is already being processed")


def complete(record: IdempotencyKey, *, status: int, body: bytes, version: str) -> None:
    """Store the answer. Call inside the transaction that holds the action's effect."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.DONE,
        response_status=status,
        response_body=body,
        response_version=version,
        completed_at=timezone.now(),
    )


def release(record: IdempotencyKey) -> None:
    """A failed request leaves the key free for a corrected retry."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
