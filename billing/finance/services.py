"""Finance writes: payouts, which support staff record in the admin (no money moves here)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from billing.models import Payout, PayoutStatus


def payout_mark_paid(*, payout_id: uuid.UUID) -> bool:
    """A pending payout marked paid now; False when it was paid already (left as it is).
    Locks the payout's row, so two staff marking it at once mark it once."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != PayoutStatus.PENDING:
            return False
        payout.status = PayoutStatus.PAID
        payout.paid_at = timezone.now()
        payout.save(update_fields=["status", "paid_at", "updated_at"])
    return True
