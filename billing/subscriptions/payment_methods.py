"""Replacing a subscription's saved payment method (the customer portal's "Replace card").

1. ``method_update_start`` (the buyer, or the merchant): a ``PaymentMethodUpdate`` row and a
   zero-amount payment on the provider's hosted page that saves the method
   (``create_payment(amount=0, save_method=True)``, as a trial saves its card), the row's id
   the provider's idempotency key and, with the order's id, the payment's metadata. The page's
   URL is returned; the buyer types the card there, never here.
2. The provider's notification (``billing.services.notification_receive``, exactly once by its
   ``ProviderEvent``) finds no ``Payment`` with its payment id, then finds the update by it:
   ``method_update_apply``. Succeeded: the subscription's token, method and its details
   (brand, last 4, expiry) are replaced in the same transaction, and a past-due subscription's
   retry is made due now; after the commit it runs (``retry_now``: the renewal engine's own
   run, under its lease, as the beat or a test clock runs it), so the unpaid period is charged
   on the new card at once and the subscription recovers (``subscription.recovered``) or stays
   past due with its next retry as before. Failed: the row says so; the hosted page lets the
   buyer try another card, whose success is a new event.

Lock order: the subscription (then its order, in the engine), then the update.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import PaymentMethodUpdate, Subscription, SubscriptionStatus
from billing.providers import Notification, get_provider
from billing.subscriptions import clock, lifecycle, renewals, steps
from billing.subscriptions.selectors import access_subscription
from checkout import languages, presenters
from pancake.api.actor import Actor
from pancake.api.errors import InvalidInput
from pancake.celery import registered
from stores import branding
from stores.models import Role

logger = logging.getLogger(__name__)

S = SubscriptionStatus
Status = PaymentMethodUpdate.Status
# A subscription that will be charged again (or may be, once resumed or reactivated).
UPDATABLE = (S.ACTIVE, S.TRIALING, S.PAST_DUE, S.CANCELING, S.PAUSED)
RETRY_TASK = "billing.tasks.retry_subscription"


def method_update_start(
    *, actor: Actor, order_id: uuid.UUID, return_url: str, language: str = "en"
) -> str:
    """The provider's hosted page where the buyer saves a new method for the subscription of
    ``order_id`` (no charge). Another buyer's order is a 404; a subscription that has ended
    (or not started) is a 400 ``not_updatable``. A provider failure (502) leaves nothing."""
    order, subscription = access_subscription(actor, order_id, min_role=Role.ADMIN)
    if subscription is None or subscription.status not in UPDATABLE:
        raise InvalidInput(
            "Only a subscription that is still running can change its payment method",
            layer="order",
            field="orderId",
            code="not_updatable",
        )
    provider = get_provider(subscription.environment)
    update = PaymentMethodUpdate(
        id=uuid.uuid4(),
        subscription=subscription,
        environment=subscription.environment,
        provider=provider.name,
    )
    hosted = provider.create_payment(
        attempt_id=str(update.pk),
        amount=0,
        currency=subscription.currency,
        description=subscription.version.name,
        return_url=return_url,
        save_method=True,
        metadata={"orderId": str(order.pk), "methodUpdateId": str(update.pk)},
        locale=language,
        display=_display(subscription, order, language),
    )
    update.provider_payment_id = hosted.provider_payment_id
    update.save(force_insert=True)
    return hosted.url


def _display(subscription: Subscription, order, language: str) -> dict:
    """What the provider's page shows beside its card form, in the buyer's language, with the
    store's checkout look."""
    store = order.store
    name, values, logo = branding.store_look(store)
    with translation.override(languages.to_django(language)):
        price = presenters.per_period(
            presenters.money(subscription.total, subscription.currency),
            subscription.billing_period,
        )
        display = {
            "lines": [
                [subscription.version.name, price],
                [_("Due today"), presenters.money(0, subscription.currency)],
            ],
            "button": _("Save card"),
            "title": store.name,
        }
    display["branding"] = {
        "theme": name,
        **{key: values.get(key) for key in branding.THEME_KEYS if key != "checkoutLogo"},
        "logo": logo,
        "storeName": store.name,
    }
    return display


def update_for_notification(provider: str, provider_payment_id: str) -> uuid.UUID | None:
    """The id of the method update a provider's payment id belongs to (None: not one)."""
    return (
        PaymentMethodUpdate.objects.filter(
            provider=provider, provider_payment_id=provider_payment_id
        )
        .values_list("pk", flat=True)
        .first()
    )


def method_update_apply(update_id: uuid.UUID, notification: Notification) -> PaymentMethodUpdate:
    """The provider's outcome of a method update, in the caller's transaction (the one that
    records the notification's ``ProviderEvent``). Succeeded: the subscription's saved method
    replaced, and a past-due subscription's retry due now (run after the commit). A succeeded
    update is never applied again."""
    subscription_id = (
        PaymentMethodUpdate.objects.filter(pk=update_id)
        .values_list("subscription_id", flat=True)
        .get()
    )
    subscription = lifecycle.lock(subscription_id)
    update = PaymentMethodUpdate.objects.select_for_update().get(pk=update_id)
    if update.status == Status.SUCCEEDED:
        return update
    if notification.method is not None:
        update.payment_method = notification.method.type
        update.payment_method_details = notification.method.as_dict()
    if notification.status != "succeeded" or not notification.method_token:
        update.status = Status.FAILED
        update.failure_code = (notification.failure_code or "no_method_token")[:64]
        update.save()
        return update
    update.status = Status.SUCCEEDED
    update.failure_code = ""
    update.applied_at = timezone.now()
    update.save()
    subscription.method_token = notification.method_token
    subscription.payment_method = update.payment_method or subscription.payment_method
    subscription.payment_method_details = update.payment_method_details
    retry = subscription.status == S.PAST_DUE and subscription.next_retry_at is not None
    if retry:
        # The next dunning retry, now: the engine charges the new method and records it.
        subscription.next_retry_at = min(subscription.next_retry_at, clock.now(subscription))
    steps.schedule(subscription)
    subscription.save()
    if retry:
        pk = str(subscription.pk)
        transaction.on_commit(lambda: registered(RETRY_TASK).delay(pk), robust=True)
    return update


def retry_now(subscription_id) -> int:
    """Run what is due on one subscription now (its retry after a new method was saved), under
    the engine's lease; when another run holds the lease, that run (or the beat, the retry
    being due) charges it. Returns the steps run."""
    if not renewals.claim(subscription_id):
        logger.info("subscription %s: a run holds its lease; the beat retries it", subscription_id)
        return 0
    return renewals.run(subscription_id)
