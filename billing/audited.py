"""What the audit trail records of this app's tables (``pancake.audit``; loaded by
``pancake.apps``): webhook endpoints (their secret masked) and refund tickets (approval,
rejection and their outcome), whoever changes them."""

from billing.models import RefundTicket, WebhookEndpoint
from pancake import audit

audit.register(
    WebhookEndpoint,
    exclude_fields=["updated_at"],
    mask_fields=["secret"],
    mask_callable="pancake.audit.mask",
)
audit.register(RefundTicket, exclude_fields=["updated_at"])
