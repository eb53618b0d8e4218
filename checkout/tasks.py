"""Tasks of the checkout app: ids in, state re-read, safe to run twice."""

from celery import shared_task

from checkout import emails


@shared_task
def send_order_emails(payment_id: str | list[str]) -> int:
    """One paid order's emails, or several orders' (the events of one commit share a message).
    A failed send is recorded, never raised: one order's trouble stops none of the others."""
    if isinstance(payment_id, str):
        return emails.order_emails_send(payment_id=payment_id)
    return sum(emails.order_emails_send(payment_id=one) for one in payment_id)
