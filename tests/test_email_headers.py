"""Stored text never breaks an email header. Names are checked on the way in now, but rows
written before that check (or by other means) may hold line breaks and control characters: the
emails built from them still send, with the text made one clean line (``pancake.text``)."""

import pytest

from checkout.models import Order
from pancake.api import ids
from pancake.models import EmailDelivery
from pancake.text import header_text
from products.models import ProductVersion
from stores.models import Store
from stores.tasks import send_team_invite
from tests.factories import ProductFactory
from tests.helpers import buy, deliver, emails_to, pay

HOSTILE = "Ac\x16me\r\nBcc: victim@example.com\n\u2028Shop\u202e"


@pytest.mark.parametrize(
    ("stored", "header"),
    [
        ("Acme\nShop", "Acme Shop"),
        ("Acme\x16Shop", "AcmeShop"),
        ("Acme\r\n\tShop ", "Acme Shop"),
        ("Acme\u2028\u2029Shop", "Acme Shop"),
        ("Acme\x85Shop", "Acme Shop"),
        ("\u202eAcme\u2066Shop\u2069", "AcmeShop"),
        (HOSTILE, "Acme Bcc: victim@example.com Shop"),
        ("Café 👩\u200d💻 \u05e9\u200f", "Café 👩\u200d💻 \u05e9\u200f"),  # text stays as it is
    ],
)
def test_header_text_is_one_line_without_control_characters(stored, header):
    assert header_text(stored) == header


def _store_named(store, name: str) -> Store:
    Store.objects.filter(pk=store.pk).update(name=name)  # as an old row could hold it
    store.refresh_from_db()
    return store


def _invite(api, store):
    return api.post(
        "store-merchant/add-merchant",
        {"storeId": ids.encode("STO", store.pk), "email": "new@example.com", "role": "member"},
    )


def test_an_invite_for_a_store_named_with_control_characters_is_sent_in_process(
    api, store, django_capture_on_commit_callbacks, mailoutbox
):
    """The first-run configuration runs the task in the request: it answered 500 before."""
    _store_named(store, HOSTILE)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(api, store)
    assert response.status_code == 200, response.content
    (invite,) = mailoutbox
    assert invite.to == ["new@example.com"]
    assert invite.subject == "You're invited to Acme Bcc: victim@example.com Shop on Pancake"
    assert invite.message()["Bcc"] is None
    assert invite.bcc == []


def test_an_invite_for_a_store_named_with_control_characters_is_sent_by_the_worker(
    api, store, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    """In production the task runs in a worker after the commit: it failed there and the invite
    was never sent."""
    _store_named(store, "Acme\n\x16Shop")
    queued = []  # what the commit hands to the queue; the worker below runs it
    monkeypatch.setattr(send_team_invite, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(api, store)
    assert response.status_code == 200, response.content
    assert len(queued) == 1 and mailoutbox == []

    send_team_invite.apply(args=queued).get()

    (invite,) = mailoutbox
    assert invite.subject == "You're invited to Acme Shop on Pancake"
    assert "\n" not in invite.message()["Subject"]


def test_order_emails_for_names_with_control_characters_are_sent(
    api, store, django_capture_on_commit_callbacks
):
    _store_named(store, "My\nStore\x16")
    product = _product(store)
    ProductVersion.objects.filter(pk=product.test_version_id).update(name="E-\u2028Book\r\n")
    payment = buy(api, product)
    deliver(pay(payment), django_capture_on_commit_callbacks)

    number = ids.encode("ORD", Order.objects.get().pk)
    (receipt,) = emails_to("buyer@example.com")
    assert receipt.subject == f"[Test] Your My Store order {number}"
    (notice,) = emails_to("owner@example.com")
    assert notice.subject == "[Test] New order: E- Book (€119.00) — My Store"
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


def _product(store):
    return ProductFactory(store=store, prices={"EUR": {"amount": 10000, "taxCategory": "saas"}})
