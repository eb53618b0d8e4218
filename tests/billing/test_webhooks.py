"""Webhooks against a real HTTP receiver on 127.0.0.1: endpoints through the
SDK's actions, the outbox fan-out after commit, signatures as the SDK checks them, retries on the
schedule with a controllable clock, disabling and re-enabling, ordering, SSRF refusals. Tasks run
in-process here (eager); tests/billing/test_webhook_worker.py runs a real Celery worker."""

from __future__ import annotations

import json
import socket
import ssl
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.webhooks import attempts, endpoints, keys, sweep, testevent, transport
from pancake.api import ids
from pancake.api.actor import merchant_actor
from pancake.api.errors import InvalidInput
from pancake.models import OutboxEvent
from pancake.outbox import emit
from tests.billing.helpers import add_webhook, fire, verify
from tests.helpers import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_update_remove_in_the_sdk_shape(api, store, store_id):
    hook = add_webhook(
        api,
        store_id,
        "https://hooks.example.com/a",
        events=["order.completed", "subscription.updated"],
    )
    assert hook["storeId"] == store_id and hook["testMode"] is True and hook["channel"] == "http"
    assert hook["events"] == ["order.completed", "subscription.plan_changed"]
    uuid.UUID(hook["id"])  # a UUID, not a short id
    updated = api.call(
        "store/update-webhook", {"id": hook["id"], "url": "https://hooks.example.com/b"}
    )["data"]["webhook"]
    assert updated["url"] == "https://hooks.example.com/b"
    removed = api.call("store/remove-webhook", {"id": hook["id"]})["data"]["webhook"]
    assert removed["url"] == "https://hooks.example.com/b"
    assert not WebhookEndpoint.objects.exists()
    again = api.post("store/remove-webhook", {"id": hook["id"]})
    assert again.status_code == 404


@pytest.mark.parametrize(
    "url, test_mode, message",
    [
        ("ftp://hooks.example.com/x", True, "only http(s) URLs can receive webhooks"),
        ("http://hooks.example.com/x", False, "production webhooks need https"),
        ("https://127.0.0.1/x", False, "loopback addresses cannot receive webhooks"),
        ("https://10.1.2.3/x", False, "private addresses cannot receive webhooks"),
        ("https://192.168.0.10/x", True, "private addresses cannot receive webhooks"),
        ("http://169.254.169.254/latest", True, "link-local addresses cannot receive webhooks"),
        ("https://[::1]/x", False, "loopback addresses cannot receive webhooks"),
        ("https://user:pw@hooks.example.com/x", False, "credentials in the URL are not allowed"),
    ],
)
def test_unsafe_urls_are_refused_when_saved(api, store_id, url, test_mode, message):
    response = api.post(
        "store/add-webhook",
        {"storeId": store_id, "channel": "http", "url": url, "testMode": test_mode},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == f"Invalid url: {message}"


def test_unknown_channels_and_events_are_400(api, store_id):
    bad = api.post(
        "store/add-webhook",
        {"storeId": store_id, "channel": "pager", "url": "https://x.example.com", "testMode": True},
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["message"] == "Unsupported channel"
    bad = api.post(
        "store/add-webhook",
        {
            "storeId": store_id,
            "channel": "http",
            "url": "https://x.example.com",
            "events": ["order.exploded"],
        },
    )
    assert bad.status_code == 400
    assert "unknown event type 'order.exploded'" in bad.json()["errors"][0]["message"]


def test_refusals_name_the_input_they_are_about_and_the_envelope_stays_the_same(
    api, store, store_id
):
    actor = merchant_actor(api.merchant, "test")
    cases = [
        (dict(channel="pager", url="https://x.example.com"), "channel", "unsupported"),
        (dict(channel="http", url="ftp://x.example.com"), "url", "invalid"),
        (dict(channel="http", url="https://x.example.com", events=["nope"]), "events", "invalid"),
        (dict(channel="http", url="https://x.example.com", secret="s" * 201), "secret", "invalid"),
        (
            dict(channel="http", url="https://x.example.com", api_version="1999"),
            "apiVersion",
            "invalid",
        ),
    ]
    for changes, field, code in cases:
        with pytest.raises(InvalidInput) as refused:
            endpoints.endpoint_add(actor=actor, store_id=store.pk, test_mode=True, **changes)
        assert (refused.value.field, refused.value.code) == (field, code), changes
    with pytest.raises(InvalidInput) as refused:
        endpoints.default_endpoints_set(
            actor=actor, store_id=store.pk, settings={"prodWebhookUrl": "http://x.example.com"}
        )
    assert refused.value.field == "webhookSettings.prodWebhookUrl"
    # On the wire nothing changed: the envelope is still message and layer.
    response = api.post(
        "store/add-webhook",
        {"storeId": store_id, "channel": "http", "url": "ftp://x.example.com", "testMode": True},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": "Invalid url: only http(s) URLs can receive webhooks", "layer": "store"}
    ]


def test_at_most_20_webhooks_per_store(api, store_id):
    for n in range(20):
        add_webhook(api, store_id, f"https://hooks.example.com/{n}")
    response = api.post(
        "store/add-webhook",
        {"storeId": store_id, "channel": "http", "url": "https://hooks.example.com/21"},
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == "A store can have at most 20 webhooks"


def test_an_event_reaches_the_receiver_signed_as_the_sdk_checks(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url, events=["order.completed"])
    event = fire(store)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = request["body"]
    verify("test", request["headers"]["X-Waffo-Signature"], body)
    assert request["headers"]["X-Environment"] == "test"
    payload = json.loads(body)
    stored = WebhookDelivery.objects.get()
    assert payload["id"] == str(stored.pk) and stored.body == body
    assert payload["event"] == payload["eventType"] == "order.completed"
    assert payload["storeId"] == store_id and payload["mode"] == "test"
    assert payload["eventId"].startswith("PAY_")
    data = payload["data"]
    assert data["orderId"] == ids.encode("ORD", event.aggregate_id)
    assert (data["total"], data["chargedAmount"], data["taxRate"]) == ("119.00", "119.00", 0.19)
    assert stored.status == "success" and stored.attempts.get().status_code == 200
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_the_docs_api_version_gets_uuids_and_integers(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url, apiVersion="2026-01-15")
    event = fire(store)
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["storeId"] == str(store.pk)
    assert payload["data"]["orderId"] == str(event.aggregate_id)
    assert payload["data"]["total"] == 11900


def test_events_not_subscribed_and_other_environments_are_not_sent(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url, events=["refund.succeeded"])
    fire(store)
    fire(store, environment="prod")
    assert receiver.requests == []
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_a_rolled_back_change_emits_nothing(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(
            store_id=store.pk,
            environment="test",
            event_type="order.completed",
            subject_id=uuid.uuid4(),
            aggregate_id=uuid.uuid4(),
            data={"orderId": str(uuid.uuid4()), "currency": "USD"},
        )
        raise RuntimeError("the change failed")
    assert not OutboxEvent.objects.exists() and receiver.requests == []


def test_retries_on_schedule_freshly_signed_then_disable_and_release(
    api, store, store_id, receiver
):
    hook = add_webhook(api, store_id, receiver.url)
    receiver.statuses = [500] * 6
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fire(store)
        stored = WebhookDelivery.objects.get()
        assert stored.status == "pending" and stored.attempt_count == 1
        for minutes in (5, 30, 120, 480):
            assert stored.next_attempt_at == timezone.now() + timedelta(minutes=minutes)
            clock.shift(timedelta(minutes=minutes) - timedelta(seconds=1))
            sweep.sweep()
            assert len(receiver.requests) == WebhookDelivery.objects.get().attempt_count
            clock.shift(timedelta(seconds=1))
            sweep.sweep()
            stored = WebhookDelivery.objects.get()
        clock.shift(timedelta(hours=24))
        sweep.sweep()
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempt_count, len(receiver.requests)) == ("failed", 6, 6)
    bodies = {r["body"] for r in receiver.requests}
    assert bodies == {stored.body}  # the same bytes every time
    stamps = [
        verify("test", r["headers"]["X-Waffo-Signature"], r["body"]) for r in receiver.requests
    ]
    assert len(set(stamps)) == 6  # signed afresh at each attempt
    assert [a.number for a in stored.attempts.order_by("number")] == [1, 2, 3, 4, 5, 6]
    assert len(stored.attempts.first().response_snippet) <= 1000

    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.enabled and "after 6 failed attempts" in endpoint.disabled_reason

    fire(store)  # while disabled: held, nothing sent
    held = WebhookDelivery.objects.filter(status="pending").get()
    assert held.next_attempt_at is None and len(receiver.requests) == 6
    api.call("store/update-webhook", {"id": hook["id"], "enabled": True})
    assert WebhookDelivery.objects.get(pk=held.pk).status == "success"
    assert json.loads(receiver.requests[-1]["body"])["id"] == str(held.pk)


def test_deliveries_of_one_order_go_out_in_order(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url)
    order = uuid.uuid4()
    receiver.statuses = [503]
    first = fire(store, "subscription.activated", aggregate=order)
    second = fire(store, "subscription.payment_succeeded", aggregate=order)
    assert len(receiver.requests) == 1  # the second waits for the first
    waiting = WebhookDelivery.objects.get(event=second)
    assert waiting.attempt_count == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1), tick=False):
        sweep.sweep()
    sent = [json.loads(r["body"])["eventType"] for r in receiver.requests]
    assert sent == [
        "subscription.activated",
        "subscription.activated",
        "subscription.payment_succeeded",
    ]
    assert WebhookDelivery.objects.get(event=first).status == "success"
    assert WebhookDelivery.objects.get(event=second).status == "success"


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    api, store, store_id, monkeypatch, settings
):
    add_webhook(api, store_id, "https://hooks.example.com/x", testMode=False)
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    fire(store, environment="prod")
    stored = WebhookDelivery.objects.get()
    attempt = stored.attempts.get()
    assert attempt.status_code is None
    assert attempt.error == "Refused destination: private addresses cannot receive webhooks"


def test_the_post_goes_to_the_address_that_was_checked(api, store, store_id, receiver, monkeypatch):
    """DNS rebinding: a name that resolves to an allowed address for the check and elsewhere a
    moment later still gets the POST at the checked address, with its own name in Host; the
    name is resolved once per attempt."""
    port = receiver.server.server_port
    add_webhook(api, store_id, f"http://rebind.example.test:{port}/hooks?x=1")
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "192.0.2.1", "192.0.2.1"])  # then an unroutable address
    asked = []

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example.test":
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fire(store)
    assert WebhookDelivery.objects.get().status == "success"
    assert asked == ["rebind.example.test"]
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"rebind.example.test:{port}"
    assert request["path"] == "/hooks?x=1"


def _tls_receiver(tmp_path, name: str):
    """An HTTPS receiver on 127.0.0.1 with a certificate for ``name`` from a CA of its own;
    returns (server, port, CA file)."""
    now = datetime.now(UTC)

    def cert(subject, issuer, public, signer, *, ca, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = cert("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = cert(name, "Test CA", key.public_key(), ca_key, ca=False, san=name)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    receiver = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    return receiver, receiver.server.server_port, str(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("certificate_name", "status", "error"),
    [("hooks.example.test", "success", ""), ("someone-else.test", "pending", "SSLError")],
)
def test_https_to_the_checked_address_verifies_the_name(
    api, store, store_id, monkeypatch, tmp_path, certificate_name, status, error
):
    """Connecting to the checked address still verifies the receiver's certificate against the
    URL's name (sent as SNI): a certificate for another name is refused."""
    receiver, port, ca_file = _tls_receiver(tmp_path, certificate_name)
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        transport._local.__dict__.pop("pools", None)  # this thread's pools: the new CA
        add_webhook(api, store_id, f"https://hooks.example.test:{port}/hooks")
        real = socket.getaddrinfo

        def resolve(host, *args, **kwargs):
            if host == "hooks.example.test":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        fire(store)
        stored = WebhookDelivery.objects.get()
        assert stored.status == status
        attempt = stored.attempts.get()
        if error:
            assert attempt.status_code is None and error in attempt.error
            assert receiver.requests == []
        else:
            assert attempt.status_code == 200
            assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.test:{port}"
    finally:
        transport._local.__dict__.pop("pools", None)
        receiver.close()


def test_resend_keeps_the_id_and_bytes(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url)
    fire(store)
    stored = WebhookDelivery.objects.get()
    attempts.resend(actor=merchant_actor(api.merchant, "test"), delivery_id=stored.pk)
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"] == stored.body


def test_send_test_event_reaches_the_receiver(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    sent = testevent.send_test(actor=merchant_actor(api.merchant, "test"), endpoint_id=endpoint.pk)
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["id"] == str(sent.pk) and payload["eventType"] == "order.completed"
    verify("test", receiver.requests[0]["headers"]["X-Waffo-Signature"], sent.body)
    assert WebhookDelivery.objects.get().is_test


def test_store_webhook_settings_set_the_default_endpoints(api, store, store_id):
    api.call(
        "store/update-store",
        {
            "id": store_id,
            "webhookSettings": {
                "testWebhookUrl": "https://hooks.example.com/test",
                "testEvents": ["order.completed"],
                "prodWebhookUrl": "https://hooks.example.com/prod",
            },
        },
    )
    defaults = {e.environment: e for e in WebhookEndpoint.objects.filter(is_default=True)}
    assert defaults["test"].url == "https://hooks.example.com/test"
    assert defaults["test"].events == ["order.completed"]
    assert defaults["prod"].url == "https://hooks.example.com/prod"
    api.call("store/update-store", {"id": store_id, "webhookSettings": {"prodWebhookUrl": ""}})
    assert list(WebhookEndpoint.objects.values_list("environment", flat=True)) == ["test"]


def test_the_public_key_command_prints_the_verifying_key(capsys, db):
    call_command("webhook_public_key", "--env", "prod")
    printed = capsys.readouterr().out
    assert printed.startswith("-----BEGIN PUBLIC KEY-----")
    assert printed.strip() == keys.public_pem("prod").strip()
    assert keys.public_pem("prod") != keys.public_pem("test")


def test_an_endpoint_taking_every_event_gets_only_the_public_ones(api, store, store_id, receiver):
    add_webhook(api, store_id, receiver.url)  # no list: every event
    fire(store, "payment.failed")  # internal: it feeds the other consumers only
    fire(store, "order.completed")
    assert [json.loads(r["body"])["eventType"] for r in receiver.requests] == ["order.completed"]
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["order.completed"]
