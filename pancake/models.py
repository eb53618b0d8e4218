"""Project-wide models: the base every model extends, and durable idempotency keys."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Environment(models.TextChoices):
    TEST = "test", _("Test")
    PROD = "prod", _("Live")


class IdempotencyKey(models.Model):
    """One row per (principal, environment, path, key). In flight until the first answer is
    written in the same transaction as the action's effect; only 2xx answers are kept."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    principal = models.CharField(max_length=80)
    environment = models.CharField(max_length=8, choices=Environment.choices)
    path = models.CharField(max_length=200)
    key = models.CharField(max_length=256)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_version = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "environment", "path", "key"],
                name="idempotency_key_unique_per_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.key} ({self.state})"


class OutboxEvent(models.Model):
    """A business event written in the transaction of its change (see pancake.outbox)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    event_type = models.CharField(max_length=64)
    subject_id = models.UUIDField()
    aggregate_id = models.UUIDField()
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When it happened, if not when it was written: a test clock's simulated time.
    occurred_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["aggregate_id", "created_at"], name="outbox_aggregate_idx"),
            models.Index(
                fields=["created_at"],
                name="outbox_undispatched_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject_id}"


class EmailDelivery(BaseModel):
    """One transactional email to one address (GraphQL ``emailDeliveries``). The row is written
    before the email is sent: (event type, event id, recipient type, address) is unique, so a
    retried or duplicated task finds it and sends nothing twice."""

    class RecipientType(models.TextChoices):
        BUYER = "buyer"
        MERCHANT = "merchant"

    class Status(models.TextChoices):
        PENDING = "pending"  # claimed, being sent
        SENT = "sent"
        FAILED = "failed"

    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="email_deliveries"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    event_type = models.CharField(max_length=64)
    # What the email is about: the payment for order emails (as webhooks' eventId); the outbox
    # event for subscription emails (one order has many events of a type, each its own email).
    event_id = models.CharField(max_length=100)
    recipient_type = models.CharField(max_length=16, choices=RecipientType.choices)
    to_address = models.EmailField()
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error_message = models.TextField(blank=True, default="")
    attempt_count = models.PositiveSmallIntegerField(default=0)
    last_attempted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "event_id", "recipient_type", "to_address"],
                name="email_delivery_once_per_recipient",
            )
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "created_at"], name="email_delivery_store_env_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.to_address} ({self.status})"

    @property
    def test_mode(self) -> bool:
        return self.environment == Environment.TEST
