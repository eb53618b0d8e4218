"""Tasks of the billing app: ids in, rows re-read, safe to run twice. Each calls one service."""

from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from billing import disputes, emails, rates
from billing.analytics import rollups
from billing.invoices import services as invoice_services
from billing.refunds import emails as refund_emails
from billing.refunds import services as refund_services
from billing.subscriptions import emails as subscription_emails
from billing.subscriptions import lifecycle, payment_methods, renewals
from billing.webhooks import attempts, sweep
from pancake import outbox
from pancake.models import OutboxEvent


def queue_order_emails(events, *, from_sweep: bool = False) -> None:
    """Outbox consumer (``OUTBOX_CONSUMERS``, before the webhook fan-out): queue the emails of a
    commit's paid orders in one message. Queued before the fan-out marks the events dispatched:
    if queuing fails (the broker is down), the events stay undispatched and the outbox's sweep
    relays them again; the email task sends each email at most once."""
    payment_ids = emails.payment_ids_to_email(events)
    if payment_ids:
        send_order_emails.delay(payment_ids[0] if len(payment_ids) == 1 else payment_ids)


@shared_task
def send_order_emails(payment_id: str | list[str]) -> int:
    """One paid order's emails, or several orders' (the events of one commit share a message).
    A failed send is recorded, never raised: one order's trouble stops none of the others."""
    if isinstance(payment_id, str):
        return emails.order_emails_send(payment_id=payment_id)
    return sum(emails.order_emails_send(payment_id=one) for one in payment_id)


def queue_subscription_emails(events, *, from_sweep: bool = False) -> None:
    """Outbox consumer (``OUTBOX_CONSUMERS``, before the webhook fan-out): queue one task with
    the ids of a commit's subscription events that may send an email (renewal receipts, failed
    payments, reminders, cancellations, plan changes). Like the order emails, queued before the
    events are marked dispatched: a broker outage delays them, the sweep relays them again, and
    each email goes out at most once."""
    event_ids = subscription_emails.event_ids_to_email(events)
    if event_ids:
        send_subscription_emails.delay(event_ids)


@shared_task
def send_subscription_emails(event_ids: list[str]) -> int:
    """The emails of one commit's subscription events (outbox event ids). A failed send is
    recorded, never raised: one event's trouble stops none of the others."""
    return sum(subscription_emails.subscription_emails_send(event_id=one) for one in event_ids)


@shared_task(name="checkout.tasks.send_order_emails")
def send_order_emails_queued_before(payment_id: str | list[str]) -> int:
    """The email task's name before it moved to billing, for messages still queued."""
    return send_order_emails(payment_id)


# Set while a run of ``renew_subscriptions`` queued by another one waits in the queue.
RENEWALS_CONTINUING = "billing:renew_subscriptions:continuing"


@shared_task(ignore_result=True)
def renew_subscriptions(batch: int = 200, limit: int = 5000, continued: bool = False) -> int:
    """Beat: expire the subscription orders whose checkout ran out unpaid; claim the
    subscriptions with a step due (renewals, retries, trial ends, period ends,
    reminders) in batches, and queue each batch for the workers. Claims are leases: a batch
    whose worker dies is claimed again when its lease runs out. Two beats claim disjoint rows.

    A run that claimed ``limit`` (more may be due) queues itself again, behind the batches it
    queued: it claims the next ones once the workers have taken these, so a backlog drains as
    fast as the workers go (not ``limit`` per beat interval), with about ``limit`` claimed
    subscriptions waiting at a time, well inside their lease. Beat's own runs leave the claiming
    to that continuation while it is queued (a cache flag, which expires with a lease should
    the message be lost)."""
    if continued:
        cache.delete(RENEWALS_CONTINUING)
    elif cache.get(RENEWALS_CONTINUING):
        return 0
    lifecycle.expire_unpaid()
    queued = 0
    while queued < limit:
        ids = renewals.claim_due(limit=min(batch, limit - queued))
        if not ids:
            break
        run_subscriptions.delay([str(pk) for pk in ids])
        queued += len(ids)
    lease = int(renewals.LEASE.total_seconds())
    if queued >= limit and cache.add(RENEWALS_CONTINUING, True, timeout=lease):
        renew_subscriptions.delay(batch, limit, continued=True)
    return queued


@shared_task(ignore_result=True, acks_late=True)
def run_subscriptions(subscription_ids: list[str]) -> int:
    """Run what is due on each claimed subscription; one's failure stops none of the others
    (its lease runs out and the beat claims it again)."""
    return renewals.run_claimed(subscription_ids)


@shared_task(ignore_result=True, acks_late=True)
def retry_subscription(subscription_id: str) -> int:
    """A past-due subscription's retry, at once: a new payment method was just saved."""
    return payment_methods.retry_now(subscription_id)


@shared_task(ignore_result=True, acks_late=True)
def render_invoices(invoice_ids: list[str]) -> int:
    """Render and store the PDFs of documents issued in one commit (queued after it). A
    rendered one is skipped, so a redelivered message does nothing twice."""
    for invoice_id in invoice_ids:
        invoice_services.invoice_render(invoice_id)
    return len(invoice_ids)


# How long a document may wait for its task before the sweep renders it.
RENDER_SWEEP_AFTER = timedelta(minutes=2)


@shared_task(ignore_result=True)
def render_unrendered_invoices(limit: int = 200) -> int:
    """Beat: documents whose PDF task was lost (a broker outage, a crashed worker), rendered
    here, oldest first."""
    ids = invoice_services.unrendered_ids(
        limit=limit, older_than=timezone.now() - RENDER_SWEEP_AFTER
    )
    for invoice_id in ids:
        invoice_services.invoice_render(invoice_id)
    return len(ids)


@shared_task(ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    return attempts.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> dict:
    return sweep.sweep()


# Messages queued before the outbox relayed events itself (one per commit, or one per event).


@shared_task(ignore_result=True)
def fan_out_events(events: list[list[str]]) -> None:
    outbox.relay(events)


@shared_task(ignore_result=True)
def fan_out_event(event_id: str, event_type: str | None = None, subject_id: str | None = None):
    if event_type is None:
        event_type, subject_id = OutboxEvent.objects.filter(pk=event_id).values_list(
            "event_type", "subject_id"
        ).first() or (None, None)
    if event_type is not None:
        outbox.relay([[event_id, event_type, str(subject_id)]])


@shared_task(ignore_result=True)
def execute_refund(refund_id: str) -> str | None:
    """Send one approved refund to the provider and record its answer (safe to run twice: the
    refund's id is the provider's idempotency key)."""
    refund = refund_services.refund_execute(refund_id=refund_id)
    return refund.status if refund is not None else None


@shared_task(ignore_result=True)
def sweep_refunds() -> int:
    """Beat: run again the refunds left pending or processing (a lost message, a crashed
    worker, a provider that did not answer), each with its own idempotency key."""
    ids = refund_services.unfinished_refund_ids()
    for refund_id in ids:
        execute_refund.delay(str(refund_id))
    return len(ids)


def queue_refund_emails(events, *, from_sweep: bool = False) -> None:
    """Outbox consumer (``OUTBOX_CONSUMERS``, before the webhook fan-out): queue one task with
    the ids of a commit's refund events that send an email, like the other emails."""
    event_ids = refund_emails.event_ids_to_email(events)
    if event_ids:
        send_refund_emails.delay(event_ids)


@shared_task
def send_refund_emails(event_ids: list[str]) -> int:
    """The emails of one commit's refund events; a failed send is recorded, never raised."""
    return sum(refund_emails.refund_emails_send(event_id=one) for one in event_ids)


def queue_dispute_emails(events, *, from_sweep: bool = False) -> None:
    """Outbox consumer (``OUTBOX_CONSUMERS``, before the webhook fan-out): queue one task with
    the ids of a commit's chargeback events (``billing.disputes``), like the other emails."""
    event_ids = disputes.event_ids_to_email(events)
    if event_ids:
        send_dispute_emails.delay(event_ids)


@shared_task
def send_dispute_emails(event_ids: list[str]) -> int:
    """The merchant's chargeback emails of one commit's dispute events."""
    return sum(disputes.dispute_emails_send(event_id=one) for one in event_ids)


@shared_task
def refresh_exchange_rates() -> int:
    """Daily (beat): the euro reference rates from ``EXCHANGE_RATES_URL``; a failure keeps the
    old rates and logs (billing/rates.py)."""
    return rates.refresh()


@shared_task
def roll_up_analytics() -> int:
    """Beat: seal the complete store-local days of every store's figures and redo the days
    later writes touched (billing/analytics/rollups.py); safe to run twice or concurrently."""
    return rollups.roll_up_all()
