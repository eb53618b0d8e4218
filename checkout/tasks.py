"""Tasks of the checkout app: ids in, state re-read, safe to run twice."""

from celery import shared_task

from checkout import emails


@shared_task
def send_order_emails(payment_id: str) -> int:
    return emails.order_emails_send(payment_id=payment_id)
