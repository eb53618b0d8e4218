"""Who may reach a webhook endpoint or delivery, through the services themselves (not only through
the pages): ``access_webhook_endpoint`` and ``access_webhook_delivery`` answer the same 404 for
an absent row, another store's row and a row outside the store or environment the caller names,
and 403 for a role too low; ``resend``, ``send_test``, ``endpoint_update`` and
``endpoint_remove`` change nothing for such a caller."""

from __future__ import annotations

import uuid

import pytest

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.webhooks import attempts, endpoints, testevent
from billing.webhooks.selectors import access_webhook_delivery, access_webhook_endpoint
from pancake.api.actor import merchant_actor
from pancake.api.errors import Forbidden, InvalidInput, NotFound
from stores import services as store_services
from stores.models import Role
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def _actor(merchant):
    return merchant_actor(merchant, "test")


@pytest.fixture
def endpoint(owner, shop):
    return endpoints.endpoint_add(
        actor=_actor(owner),
        store_id=shop.pk,
        channel="http",
        url="https://hooks.example.com/pancake",
        test_mode=True,
    )


@pytest.fixture
def failed_delivery(shop, endpoint):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        store=shop,
        environment=endpoint.environment,
        event_type="order.completed",
        subject_id=uuid.uuid4(),
        aggregate_id=uuid.uuid4(),
        channel=endpoint.channel,
        url=endpoint.url,
        body='{"id": "x"}',
        status=WebhookDelivery.Status.FAILED,
        attempt_count=6,
    )


@pytest.fixture
def stranger(db):
    """An owner of another store: a merchant with every right, but not in this store."""
    merchant = MerchantFactory(email="stranger@example.com")
    store_services.store_create(merchant=merchant, name="Other Shop")
    return merchant


@pytest.fixture
def member(shop, member_of):
    merchant = MerchantFactory(email="member@example.com")
    member_of(shop, merchant, Role.MEMBER)
    return merchant


def _unchanged(endpoint, delivery):
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.retry_base) == ("failed", 6, 0)
    assert delivery.next_attempt_at is None
    assert WebhookDelivery.objects.count() == 1  # no test delivery either
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (stored.url, stored.enabled) == (endpoint.url, True)


def _writes(endpoint, delivery):
    return {
        "resend": lambda actor: attempts.resend(actor=actor, delivery_id=delivery.pk),
        "send_test": lambda actor: testevent.send_test(actor=actor, endpoint_id=endpoint.pk),
        "disable": lambda actor: endpoints.endpoint_update(
            actor=actor, endpoint_id=endpoint.pk, enabled=False
        ),
        "edit": lambda actor: endpoints.endpoint_update(
            actor=actor, endpoint_id=endpoint.pk, url="https://evil.example.com/"
        ),
        "remove": lambda actor: endpoints.endpoint_remove(actor=actor, endpoint_id=endpoint.pk),
    }


def test_a_member_of_another_store_can_neither_resend_nor_send_a_test_nor_change_the_endpoint(
    endpoint, failed_delivery, stranger, django_capture_on_commit_callbacks
):
    for name, write in _writes(endpoint, failed_delivery).items():
        with django_capture_on_commit_callbacks() as queued, pytest.raises(NotFound) as refused:
            write(_actor(stranger))
        assert refused.value.status == 404, name
        assert queued == [], name  # nothing was queued for the worker
    _unchanged(endpoint, failed_delivery)


def test_a_member_with_too_low_a_role_can_neither_resend_nor_send_a_test_nor_change_the_endpoint(
    endpoint, failed_delivery, member, django_capture_on_commit_callbacks
):
    for name, write in _writes(endpoint, failed_delivery).items():
        with django_capture_on_commit_callbacks() as queued, pytest.raises(Forbidden) as refused:
            write(_actor(member))
        assert (refused.value.status, refused.value.code) == (403, "forbidden"), name
        assert queued == [], name
    _unchanged(endpoint, failed_delivery)


def test_an_owner_resends_and_sends_a_test_through_the_service(
    owner, endpoint, failed_delivery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        resent = attempts.resend(actor=_actor(owner), delivery_id=failed_delivery.pk)
        sample = testevent.send_test(
            actor=_actor(owner), endpoint_id=endpoint.pk, event_type="subscription.renewed"
        )
    assert (resent.status, resent.retry_base) == ("pending", 6)
    assert sample.is_test and sample.event_type == "subscription.renewed"
    assert len(queued) == 2


def test_send_test_refuses_an_unknown_event_type_naming_the_field(owner, endpoint):
    with pytest.raises(InvalidInput) as refused:
        testevent.send_test(actor=_actor(owner), endpoint_id=endpoint.pk, event_type="nope")
    assert (refused.value.status, refused.value.field) == (400, "eventType")
    assert not WebhookDelivery.objects.exists()


def test_absent_and_not_yours_are_the_same_404(owner, endpoint, failed_delivery, stranger):
    answers = []
    for actor, endpoint_id, delivery_id in (
        (_actor(owner), uuid.uuid4(), uuid.uuid4()),
        (_actor(stranger), endpoint.pk, failed_delivery.pk),
    ):
        with pytest.raises(NotFound) as no_endpoint:
            access_webhook_endpoint(actor, endpoint_id)
        with pytest.raises(NotFound) as no_delivery:
            access_webhook_delivery(actor, delivery_id)
        answers.append((str(no_endpoint.value), str(no_delivery.value)))
    assert answers[0] == answers[1] == ("Webhook not found", "Delivery not found")


def test_an_admin_of_two_stores_reaches_a_row_only_through_its_own_store_and_environment(
    owner, shop, endpoint, failed_delivery
):
    other = store_services.store_create(merchant=owner, name="Second Shop")
    actor = _actor(owner)
    assert access_webhook_endpoint(actor, endpoint.pk, store_id=shop.pk) == endpoint
    assert access_webhook_delivery(actor, failed_delivery.pk, environment="test").pk == (
        failed_delivery.pk
    )
    for scope in ({"store_id": other.pk}, {"environment": "prod"}):
        with pytest.raises(NotFound):
            access_webhook_endpoint(actor, endpoint.pk, **scope)
        with pytest.raises(NotFound):
            access_webhook_delivery(actor, failed_delivery.pk, **scope)


def test_a_deleted_store_s_rows_are_not_found(owner, shop, endpoint, failed_delivery):
    store_services.store_delete(actor=_actor(owner), store_id=shop.pk)
    with pytest.raises(NotFound):
        access_webhook_endpoint(_actor(owner), endpoint.pk)
    with pytest.raises(NotFound):
        attempts.resend(actor=_actor(owner), delivery_id=failed_delivery.pk)
