"""What the audit trail records of this app's tables (``pancake.audit``; loaded by
``pancake.apps``): stores (settings, status, deletion), team roles and ownership, API keys
(created, changed, deleted) and the payout setup (where the store's money is paid), whoever
changes them."""

from pancake import audit
from stores.models import ApiKey, PayoutSetup, Store, StoreMembership

audit.register(
    Store, owner=lambda store: {"store_id": str(store.pk)}, exclude_fields=["updated_at"]
)
audit.register(StoreMembership, exclude_fields=["updated_at"])
# A key belongs to its merchant, and acts in every store the merchant is a member of.
audit.register(
    ApiKey,
    owner=lambda key: {"merchant_id": str(key.merchant_id)},
    exclude_fields=["updated_at", "last_used_at", "public_key_pem"],
)
# The contact email and payout account; not the verification code's hash, tries and times.
audit.register(
    PayoutSetup,
    exclude_fields=["updated_at", "code_hash", "code_expires_at", "code_sent_at", "code_attempts"],
)
