"""Tasks of the core: ids in, rows re-read, safe to run twice. (The outbox's relay task lives in
``pancake.outbox``, beside the events it relays.)"""

from celery import shared_task

from pancake import outbox
from pancake.api import idempotency


@shared_task
def purge_expired_idempotency_keys() -> int:
    return idempotency.purge_expired()


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Relay the events a lost message or a crashed worker left undispatched."""
    return outbox.sweep()
