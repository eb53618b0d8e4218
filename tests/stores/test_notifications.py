"""The notification center: the outbox consumer (each kind, twice → once, rolled back → none,
the store's settings), the page (filters, keyset pages, mark read / all read, isolation between
stores, members and environments, members vs owners), the new-device sign-in and the bell."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pancake import outbox
from pancake.models import OutboxEvent
from stores import notifications
from stores import services as store_services
from stores.auth import link_issue
from stores.models import KnownDevice, Notification, NotificationRead
from tests.factories import MembershipFactory, public_pem
from tests.helpers import buy, deliver, pay

PAYMENT_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
TICKET_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
ORDER_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")


def emitted(store, event_type, data, environment="test"):
    """Emit one event in a committed-looking transaction; return its relay triple."""
    with transaction.atomic():
        event = outbox.emit(
            store_id=store.pk,
            environment=environment,
            event_type=event_type,
            subject_id=uuid.uuid4(),
            aggregate_id=ORDER_ID,
            data=data,
        )
    return [str(event.pk), event_type, str(event.subject_id)]


def relayed(store, event_type, data, environment="test"):
    triple = emitted(store, event_type, data, environment)
    notifications.consume([triple])
    return Notification.objects.filter(event_id=triple[0]).first()


PAYMENT = {
    "paymentId": str(PAYMENT_ID),
    "orderId": str(ORDER_ID),
    "chargedAmount": 11900,
    "total": 11900,
    "currency": "EUR",
    "productName": "Ebook",
    "buyerEmail": "ada@example.com",
}


@pytest.mark.parametrize(
    "event_type, data, kind, object_id",
    [
        ("order.completed", PAYMENT, "payment", PAYMENT_ID),
        ("subscription.payment_succeeded", PAYMENT, "payment", PAYMENT_ID),
        ("payment.failed", PAYMENT, "payment_failed", PAYMENT_ID),
        ("subscription.payment_failed", PAYMENT, "payment_failed", PAYMENT_ID),
        (
            "refund_ticket.created",
            {
                "ticketId": str(TICKET_ID),
                "paymentId": str(PAYMENT_ID),
                "requestedAmount": 500,
                "currency": "EUR",
                "submitterType": "customer",
                "reason": "Wrong size",
            },
            "refund_request",
            TICKET_ID,
        ),
        ("subscription.activated", PAYMENT, "subscription", ORDER_ID),
        ("subscription.canceled", PAYMENT, "cancellation", ORDER_ID),
        ("subscription.canceling", PAYMENT, "cancellation", ORDER_ID),
    ],
)
def test_each_kind_of_store_event(shop, event_type, data, kind, object_id):
    made = relayed(shop, event_type, data)
    assert made.kind == kind
    assert made.object_id == object_id
    assert made.environment == "test"
    assert made.recipient_id is None and made.managers_only is False


def test_the_details_keep_the_amount_and_names(shop):
    made = relayed(shop, "order.completed", PAYMENT)
    assert made.details == {
        "amount": 11900,
        "currency": "EUR",
        "productName": "Ebook",
        "buyerEmail": "ada@example.com",
    }
    ticket = relayed(
        shop,
        "refund_ticket.created",
        {
            "ticketId": str(TICKET_ID),
            "requestedAmount": 500,
            "currency": "EUR",
            "submitterType": "customer",
            "reason": "Broken",
        },  # fmt: skip
    )
    assert ticket.details["amount"] == 500
    canceling = relayed(shop, "subscription.canceling", PAYMENT)
    assert canceling.details["scheduled"] is True


def test_a_refund_the_merchant_filed_and_other_events_make_none(shop):
    assert relayed(shop, "refund_ticket.created", {"submitterType": "merchant"}) is None
    assert relayed(shop, "refund_ticket.approved", {"submitterType": "customer"}) is None
    assert relayed(shop, "subscription.renewed", PAYMENT) is None
    assert Notification.objects.count() == 0


def test_relayed_twice_it_is_written_once(shop):
    triple = emitted(shop, "order.completed", PAYMENT)
    notifications.consume([triple])
    notifications.consume([triple])
    notifications.consume([triple], from_sweep=True)
    assert Notification.objects.filter(event_id=triple[0]).count() == 1


def test_a_rolled_back_change_leaves_none(shop, django_capture_on_commit_callbacks):
    triples = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            event = outbox.emit(
                store_id=shop.pk,
                environment="test",
                event_type="order.completed",
                subject_id=uuid.uuid4(),
                aggregate_id=ORDER_ID,
                data=PAYMENT,
            )
            triples.append([str(event.pk), "order.completed", str(event.subject_id)])
            raise RuntimeError("the change fails")
    assert callbacks == []
    notifications.consume(triples)  # even if a stale message named it
    assert Notification.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_the_stores_settings_turn_kinds_off(shop):
    shop.notification_settings = {"notifyNewOrders": False, "notifyNewSubscriptions": False}
    shop.save(update_fields=["notification_settings"])
    assert relayed(shop, "order.completed", PAYMENT) is None
    assert relayed(shop, "subscription.activated", PAYMENT) is None
    # Cancellations (their switch still on) and failures (no switch) still come.
    assert relayed(shop, "subscription.canceled", PAYMENT).kind == "cancellation"
    assert relayed(shop, "payment.failed", PAYMENT).kind == "payment_failed"


def test_api_keys_made_and_deleted_tell_each_store_of_the_merchant(owner, shop, key_pool):
    other = store_services.store_create(
        merchant=owner, name="Second Shop", default_currency="EUR", country="DE"
    )
    elsewhere = MembershipFactory().store  # not the merchant's
    with transaction.atomic():
        key = store_services.api_key_create(
            merchant=owner,
            name="CI key",
            environment="prod",
            public_key_pem=public_pem(key_pool[1]),
            api_version="2026-09-23",
        )
    events = OutboxEvent.objects.filter(event_type="api_key.created")
    assert {e.store_id for e in events} == {shop.pk, other.pk}
    notifications.consume([[str(e.pk), e.event_type, str(e.subject_id)] for e in events])
    made = Notification.objects.filter(kind="api_key_created")
    assert {n.store_id for n in made} == {shop.pk, other.pk}
    assert all(n.managers_only and n.environment == "prod" for n in made)
    assert made[0].details == {"keyName": "CI key", "merchantEmail": "owner@example.com"}
    assert not Notification.objects.filter(store=elsewhere).exists()

    store_services.api_key_delete(merchant=owner, key_id=key.pk)
    deleted = OutboxEvent.objects.filter(event_type="api_key.deleted")
    assert deleted.count() == 2
    notifications.consume([[str(e.pk), e.event_type, str(e.subject_id)] for e in deleted])
    assert Notification.objects.filter(kind="api_key_deleted").count() == 2


def test_a_failed_key_creation_emits_nothing(owner, shop):
    with pytest.raises(Exception):  # noqa: B017 (the service's own InvalidInput)
        store_services.api_key_create(
            merchant=owner,
            name="Bad",
            environment="test",
            public_key_pem="not a key",
            api_version="2026-09-23",
        )
    assert not OutboxEvent.objects.filter(event_type="api_key.created").exists()


# --- new devices -----------------------------------------------------------------------------


def test_the_first_sign_in_is_not_a_new_device_the_second_browser_is(owner, shop):
    first = notifications.device_sign_in(owner, None, "Firefox on Linux")
    assert not OutboxEvent.objects.filter(event_type="merchant.new_device_sign_in").exists()
    # The same browser again: the same cookie, no event.
    assert notifications.device_sign_in(owner, first, "Firefox on Linux") == first
    assert not OutboxEvent.objects.filter(event_type="merchant.new_device_sign_in").exists()
    # Another browser (or a forged cookie): a new device.
    second = notifications.device_sign_in(owner, "forged", "Safari on iPhone")
    assert second not in (first, "forged")
    assert KnownDevice.objects.filter(merchant=owner).count() == 2
    event = OutboxEvent.objects.get(event_type="merchant.new_device_sign_in")
    notifications.consume([[str(event.pk), event.event_type, str(event.subject_id)]])
    made = Notification.objects.get(kind="new_device")
    assert made.store_id == shop.pk
    assert made.recipient_id == owner.pk
    assert made.environment == ""  # both environments
    assert made.details == {"userAgent": "Safari on iPhone"}


def test_the_magic_link_sets_the_device_cookie(
    client, owner, shop, django_capture_on_commit_callbacks
):
    KnownDevice.objects.create(merchant=owner, token_hash="0" * 64)  # signed in before
    token, _link = link_issue(email=owner.email, max_age=600)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:magic-link", args=[token]), HTTP_USER_AGENT="Safari on iPhone"
        )
    assert response.status_code == 302
    cookie = response.cookies[notifications.DEVICE_COOKIE]
    assert cookie["httponly"] and len(cookie.value) >= 40
    made = Notification.objects.get(kind="new_device")
    assert made.recipient_id == owner.pk and made.store_id == shop.pk


# --- the page --------------------------------------------------------------------------------


def make(store, kind="payment", environment="test", at=None, **fields):
    return Notification.objects.create(
        event_id=uuid.uuid4(),
        store=store,
        environment=environment,
        kind=kind,
        details={"amount": 11900, "currency": "EUR", "productName": "Ebook"},
        created_at=at or timezone.now(),
        **fields,
    )


def page_ids(response) -> list[str]:
    return re.findall(r'id="notification-([0-9a-f-]{36})"', response.content.decode())


def bell(response) -> str:
    match = re.search(r'id="notification-count">([^<]*)<', response.content.decode())
    return match.group(1)


def url(store, name="dashboard:notifications"):
    return reverse(name, args=[store.pk])


def signed_in(merchant) -> Client:
    client = Client()
    client.force_login(merchant)
    return client


def test_newest_first_with_links_and_the_bell(owner_client, shop):
    old = make(shop, "payment", at=timezone.now() - timedelta(hours=2), object_id=PAYMENT_ID)
    new = make(shop, "refund_request", object_id=TICKET_ID)
    response = owner_client.get(url(shop))
    assert response.status_code == 200
    assert page_ids(response) == [str(new.pk), str(old.pk)]
    body = response.content.decode()
    assert reverse("dashboard:payment", args=[shop.pk, PAYMENT_ID]) in body
    assert reverse("dashboard:refund-ticket", args=[shop.pk, TICKET_ID]) in body
    assert "€119.00" in body
    assert bell(response) == "2"
    assert bell(owner_client.get(reverse("dashboard:store", args=[shop.pk]))) == "2"


def test_filters_by_kind_and_unread(owner, owner_client, shop):
    paid = make(shop, "payment")
    failed = make(shop, "payment_failed")
    NotificationRead.objects.create(notification=paid, merchant=owner)
    assert page_ids(owner_client.get(url(shop), {"kind": "payment_failed"})) == [str(failed.pk)]
    assert page_ids(owner_client.get(url(shop), {"unread": "1"})) == [str(failed.pk)]
    assert page_ids(owner_client.get(url(shop), {"kind": "nonsense"})) == [
        str(failed.pk),
        str(paid.pk),
    ]


def test_keyset_pages(owner_client, shop):
    now = timezone.now()
    made = [make(shop, at=now - timedelta(minutes=i)) for i in range(27)]
    first = owner_client.get(url(shop))
    assert page_ids(first) == [str(n.pk) for n in made[:25]]
    after = re.search(r'href="\?after=([^"]+)" rel="next"', first.content.decode()).group(1)
    second = owner_client.get(url(shop) + "?after=" + after.replace("&amp;", "&"))
    assert page_ids(second) == [str(n.pk) for n in made[25:]]
    assert 'rel="next"' not in second.content.decode()
    assert owner_client.get(url(shop), {"after": "garbage"}).status_code == 404


def test_mark_one_read_is_per_member(owner, owner_client, shop):
    colleague = MembershipFactory(store=shop, role="member").merchant
    one, two = make(shop), make(shop)
    response = owner_client.post(reverse("dashboard:notification-read", args=[shop.pk, one.pk]))
    assert response.status_code == 302
    assert NotificationRead.objects.filter(notification=one, merchant=owner).exists()
    assert bell(owner_client.get(url(shop))) == "1"
    assert bell(signed_in(colleague).get(url(shop))) == "2"  # theirs is still unread
    owner_client.post(reverse("dashboard:notification-read", args=[shop.pk, one.pk]))  # again
    assert NotificationRead.objects.filter(notification=one).count() == 1
    assert two.pk  # untouched


def test_mark_all_read(owner, owner_client, shop):
    for _ in range(3):
        make(shop)
    make(shop, environment="prod")  # the other environment stays unread
    response = owner_client.post(url(shop, "dashboard:notifications-read-all"), follow=True)
    assert bell(response) == "0"
    assert NotificationRead.objects.filter(merchant=owner).count() == 3
    owner_client.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    assert bell(owner_client.get(url(shop))) == "1"


def test_mark_all_read_marks_only_the_filtered_kind(owner, owner_client, shop):
    """With the page filtered to a kind (and "unread only"), "Mark all read" marks what the
    filter shows; the other kinds stay unread."""
    payments = [make(shop, "payment") for _ in range(2)]
    failed = make(shop, "payment_failed")
    refund = make(shop, "refund_request")
    response = owner_client.post(
        url(shop, "dashboard:notifications-read-all"),
        {"kind": "payment", "unread": "1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(shop) + "?kind=payment&unread=1"
    assert "All “New payment” notifications are marked read." in response.content.decode()
    read = set(NotificationRead.objects.filter(merchant=owner).values_list("notification_id"))
    assert read == {(n.pk,) for n in payments}
    assert bell(response) == "2"
    unread = owner_client.get(url(shop), {"unread": "1"})
    assert set(page_ids(unread)) == {str(failed.pk), str(refund.pk)}
    # An unknown kind is no filter, as on the list: everything it shows is marked.
    owner_client.post(url(shop, "dashboard:notifications-read-all"), {"kind": "nonsense"})
    assert NotificationRead.objects.filter(merchant=owner).count() == 4


def test_the_mark_all_form_carries_the_pages_filter(owner_client, shop):
    make(shop, "payment_failed")
    body = owner_client.get(url(shop), {"kind": "payment_failed"}).content.decode()
    form = re.search(r"<form[^>]*read-all.*?</form>", body, re.S).group(0)
    assert 'name="kind" value="payment_failed"' in form


def test_another_stores_notification_is_404_and_unseen(owner_client, shop):
    elsewhere = MembershipFactory().store
    theirs = make(elsewhere)
    assert page_ids(owner_client.get(url(shop))) == []
    response = owner_client.post(reverse("dashboard:notification-read", args=[shop.pk, theirs.pk]))
    assert response.status_code == 404
    assert owner_client.get(url(elsewhere)).status_code == 404
    assert not NotificationRead.objects.exists()


def test_environments_apart_and_sign_ins_in_both(owner, owner_client, shop):
    test = make(shop, environment="test")
    live = make(shop, environment="prod")
    device = make(shop, "new_device", environment="", recipient=owner)
    assert set(page_ids(owner_client.get(url(shop)))) == {str(test.pk), str(device.pk)}
    owner_client.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    assert set(page_ids(owner_client.get(url(shop)))) == {str(live.pk), str(device.pk)}


def test_members_vs_owners_and_recipients(owner, owner_client, shop):
    member = MembershipFactory(store=shop, role="member").merchant
    admin = MembershipFactory(store=shop, role="admin").merchant
    everyone = make(shop)
    key = make(shop, "api_key_created", managers_only=True)
    mine = make(shop, "new_device", environment="", recipient=member)
    assert set(page_ids(owner_client.get(url(shop)))) == {str(everyone.pk), str(key.pk)}
    assert set(page_ids(signed_in(admin).get(url(shop)))) == {str(everyone.pk), str(key.pk)}
    assert set(page_ids(signed_in(member).get(url(shop)))) == {str(everyone.pk), str(mine.pk)}
    # A member cannot mark what they do not see.
    response = signed_in(member).post(
        reverse("dashboard:notification-read", args=[shop.pk, key.pk])
    )
    assert response.status_code == 404


def test_the_count_json_and_its_cap(owner_client, shop):
    for _ in range(3):
        make(shop)
    response = owner_client.get(url(shop, "dashboard:notifications-count"))
    assert response.json() == {"unread": 3, "label": "3"}
    Notification.objects.bulk_create(
        [
            Notification(event_id=uuid.uuid4(), store=shop, environment="test", kind="payment")
            for _ in range(100)
        ]
    )
    response = owner_client.get(url(shop, "dashboard:notifications-count"))
    assert response.json() == {"unread": 100, "label": "99+"}
    assert bell(owner_client.get(url(shop))) == "99+"


def test_mark_read_needs_post(owner_client, shop):
    one = make(shop)
    assert (
        owner_client.get(reverse("dashboard:notification-read", args=[shop.pk, one.pk])).status_code
        == 405
    )
    assert owner_client.get(url(shop, "dashboard:notifications-read-all")).status_code == 405


def test_the_page_needs_sign_in(client, shop):
    response = client.get(url(shop))
    assert response.status_code == 302 and "login" in response["Location"]


# --- end to end through the outbox -----------------------------------------------------------


def test_a_checkout_payment_rings_the_bell(
    api, store, book, merchant, django_capture_on_commit_callbacks
):
    """A buyer pays through checkout; the commit's relay (eager Celery) runs the consumers: the
    owner's bell says 1 and the page links to the payment."""
    payment = buy(api, book)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    made = Notification.objects.get(store=store)
    assert made.kind == "payment"
    assert made.object_id == payment.pk
    assert made.details["amount"] == payment.amount
    client = signed_in(merchant)
    response = client.get(url(store))
    assert bell(response) == "1"
    assert page_ids(response) == [str(made.pk)]
    assert reverse("dashboard:payment", args=[store.pk, payment.pk]) in response.content.decode()


def test_a_declined_card_notifies_a_failed_payment(
    api, store, book, django_capture_on_commit_callbacks
):
    payment = buy(api, book)
    deliver(pay(payment, number="4000000000000002"), django_capture_on_commit_callbacks)
    assert list(Notification.objects.filter(store=store).values_list("kind", flat=True)) == [
        "payment_failed"
    ]


def test_an_api_key_made_on_the_developers_page_reaches_the_admins_through_the_outbox(
    owner_client, owner, shop, key_pool, django_capture_on_commit_callbacks
):
    """The page's commit relays the internal event to every consumer (the webhook fan-out
    included, which skips internal types and marks it dispatched)."""
    member = MembershipFactory(store=shop, role="member").merchant
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("dashboard:developers", args=[shop.pk]),
            {
                "name": "Deploy key",
                "environment": "test",
                "api_version": "2026-09-23",
                "public_key": public_pem(key_pool[2]),
            },
        )
    assert response.status_code == 302
    made = Notification.objects.get(store=shop)
    assert (made.kind, made.details["keyName"]) == ("api_key_created", "Deploy key")
    assert OutboxEvent.objects.get(event_type="api_key.created").dispatched_at is not None
    assert bell(owner_client.get(url(shop))) == "1"
    assert bell(signed_in(member).get(url(shop))) == "0"  # members don't see key changes
