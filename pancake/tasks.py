from celery import shared_task

from pancake.api import idempotency


@shared_task
def purge_expired_idempotency_keys() -> int:
    return idempotency.purge_expired()
