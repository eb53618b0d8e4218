"""The dashboard's webhook pages through Django's test client:
endpoints of the header's environment through billing.webhooks.endpoints, the platform's public
key, the delivery log with payloads and attempts, resend and "send test event"; isolation
between stores and read-only members."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing.webhooks import keys
from billing.webhooks.payload import EVENT_TYPES
from stores import services
from stores.models import Role
from tests.billing.helpers import verify
from tests.factories import MembershipFactory, MerchantFactory
from tests.html_checks import alerts, field_errors, unlabelled_controls

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/pancake"


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.pk, *args])


def _endpoint(store, url=HOOK, environment="test", **fields):
    return WebhookEndpoint.objects.create(
        store=store,
        environment=environment,
        channel="http",
        url=url,
        events=fields.pop("events", []),
        api_version=fields.pop("api_version", "2026-09-23"),
        **fields,
    )


def _delivery(endpoint, event_type="order.completed", *, created_at=None, **fields):
    delivery_id = uuid.uuid4()
    body = fields.pop("body", None) or json.dumps(
        {"id": str(delivery_id), "eventType": event_type, "data": {"productName": "E-Book"}}
    )
    delivery = WebhookDelivery.objects.create(
        id=delivery_id,
        endpoint=endpoint,
        store=endpoint.store,
        environment=endpoint.environment,
        event_type=event_type,
        subject_id=uuid.uuid4(),
        aggregate_id=uuid.uuid4(),
        channel=endpoint.channel,
        url=endpoint.url,
        body=body,
        **fields,
    )
    if created_at is not None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
    return delivery


def _add(client, store, **changes):
    data = {
        "channel": "http",
        "url": HOOK,
        "all_events": "on",
        "api_version": "2026-09-23",
        "secret": "",
    }
    data.update(changes)
    return client.post(_url("webhooks", store), {k: v for k, v in data.items() if v is not None})


def _go_live(client):
    client.post(reverse("dashboard:environment"), {"environment": "prod"})


# --- the webhooks page ---------------------------------------------------------------------------


def test_developers_page_links_to_webhooks(owner_client, shop):
    html = owner_client.get(_url("developers", shop)).content.decode()
    assert _url("webhooks", shop) in html
    assert _url("webhook-log", shop) in html


def test_webhooks_page_shows_the_public_key_the_sdk_ways_and_the_add_form(owner_client, shop):
    response = owner_client.get(_url("webhooks", shop))
    assert response.status_code == 200
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    pem = keys.public_pem("test")
    assert pem.strip() in html
    assert 'data-copy="#webhook-public-key"' in html
    assert f"{_url('webhook-public-key', shop)}?env=test" in html
    assert "webhookPublicKey: {" in html
    assert "new WaffoPancake({" in html
    assert 'verifyWebhook(rawBody, req.headers["x-waffo-signature"], { publicKey })' in html
    assert "WAFFO_WEBHOOK_TEST_PUBLIC_KEY" in html and "WAFFO_WEBHOOK_PROD_PUBLIC_KEY" in html
    assert "python manage.py webhook_public_key --env test" in html
    for event in EVENT_TYPES:
        assert f'value="{event}"' in html
    assert len(re.findall(r'name="events"', html)) == 14
    assert "All events" in html
    assert 'value="2026-01-15"' in html  # the API version select
    assert "No endpoints in this environment yet." in html
    assert unlabelled_controls(html) == []
    assert "<script>" not in html  # scripts only from files (CSP)


def test_the_public_key_downloads_as_a_pem_file(owner_client, shop):
    response = owner_client.get(_url("webhook-public-key", shop))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pancake-webhook-test.pem"'
    assert response.content.decode() == keys.public_pem("test")
    prod = owner_client.get(_url("webhook-public-key", shop) + "?env=prod")
    assert prod["Content-Disposition"] == 'attachment; filename="pancake-webhook-prod.pem"'
    assert prod.content.decode() == keys.public_pem("prod") != keys.public_pem("test")
    _go_live(owner_client)
    html = owner_client.get(_url("webhooks", shop)).content.decode()
    assert keys.public_pem("prod").strip() in html
    assert keys.public_pem("test").strip() not in html


def test_owner_adds_an_endpoint_for_all_events_in_the_current_environment(owner_client, shop):
    response = _add(owner_client, shop, secret="s3cret")
    endpoint = WebhookEndpoint.objects.get(store=shop)
    assert response.status_code == 302
    assert response.url == _url("webhooks", shop) + f"#webhook-{endpoint.pk}"
    assert (endpoint.environment, endpoint.channel, endpoint.url) == ("test", "http", HOOK)
    assert endpoint.events == [] and endpoint.secret == "s3cret" and endpoint.enabled
    html = owner_client.get(response.url).content.decode()
    assert f'id="webhook-{endpoint.pk}"' in html
    assert "Webhook endpoint added" in html
    assert "All events" in html

    _go_live(owner_client)
    live = owner_client.get(_url("webhooks", shop)).content.decode()
    assert f'id="webhook-{endpoint.pk}"' not in live  # a test endpoint is not listed in live
    _add(owner_client, shop, url="https://live.example.com/h", all_events=None, events=[])
    assert WebhookEndpoint.objects.count() == 1  # no events chosen: refused
    response = _add(
        owner_client,
        shop,
        url="https://live.example.com/h",
        all_events=None,
        events=["order.completed", "refund.succeeded"],
        api_version="2026-01-15",
    )
    assert response.status_code == 302
    live_endpoint = WebhookEndpoint.objects.get(environment="prod")
    assert live_endpoint.events == ["order.completed", "refund.succeeded"]
    assert live_endpoint.api_version == "2026-01-15"
    html = owner_client.get(_url("webhooks", shop)).content.decode()
    assert "refund.succeeded" in html and "2026-01-15" in html


@pytest.mark.parametrize(
    "live, changes, status, message, field",
    [
        (False, {"url": "ftp://files.example.com/x"}, 400, "only http(s) URLs", "url"),
        (False, {"url": "http://169.254.169.254/latest"}, 400, "link-local", "url"),
        (True, {"url": "http://hooks.example.com/x"}, 400, "production webhooks need https", "url"),
        (True, {"url": "https://127.0.0.1/x"}, 400, "loopback addresses", "url"),
        (False, {"all_events": None}, 400, "Choose at least one event", "events"),
        (False, {"events": ["order.exploded"], "all_events": None}, 400, "not one of", "events"),
        (False, {"channel": "carrier-pigeon"}, 400, "not one of", "channel"),
        (False, {"url": ""}, 400, "This field is required", "url"),
    ],
)
def test_refused_input_shows_beside_its_field_and_adds_nothing(
    owner_client, shop, live, changes, status, message, field
):
    if live:
        _go_live(owner_client)
    response = _add(owner_client, shop, **changes)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html
    # Django ties the error to the input (aria-describedby … _error) inside the field's wrapper.
    assert re.search(rf'id="id_{field}_error"|id="id_{field}_\d+"', html)
    assert 'class="errorlist' in html
    assert not WebhookEndpoint.objects.exists()


def test_a_refused_url_shows_beside_the_url_input_when_adding_and_editing(owner_client, shop):
    _go_live(owner_client)
    refused = "Invalid url: production webhooks need https"
    added = _add(owner_client, shop, url="http://hooks.example.com/x").content.decode()
    assert field_errors(added, "url") == [refused]
    assert alerts(added) == []  # not above the form
    assert re.search(r'<input type="url" name="url"[^>]*aria-invalid="true"', added)

    endpoint = _endpoint(shop, environment="prod")
    edited = owner_client.post(
        _url("webhook-edit", shop, endpoint.pk),
        {"url": "https://10.0.0.8/hook", "all_events": "on", "api_version": "2026-09-23"},
    )
    assert edited.status_code == 400
    html = edited.content.decode()
    assert field_errors(html, "url") == ["Invalid url: private addresses cannot receive webhooks"]
    assert alerts(html) == []
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK


def test_the_twenty_endpoint_limit_shows_on_the_form(owner_client, shop):
    for n in range(20):
        _endpoint(shop, url=f"https://hooks.example.com/{n}")
    response = _add(owner_client, shop)
    assert response.status_code == 409
    assert alerts(response.content.decode()) == ["A store can have at most 20 webhooks"]
    assert WebhookEndpoint.objects.count() == 20


def test_owner_edits_an_endpoint_but_not_its_channel(owner_client, shop):
    endpoint = _endpoint(shop, events=["order.completed"], secret="old")
    page = owner_client.get(_url("webhook-edit", shop, endpoint.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{HOOK}"' in html
    assert re.search(r'<select name="channel"[^>]*disabled', html)
    assert re.search(r'value="order.completed"[^>]*checked', html)
    assert unlabelled_controls(html) == []

    response = owner_client.post(
        _url("webhook-edit", shop, endpoint.pk),
        {
            "channel": "slack",
            "url": "https://hooks.example.com/v2",
            "events": ["subscription.renewed", "subscription.canceled"],
            "api_version": "2026-01-15",
            "secret": "",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.channel == "http"
    assert endpoint.url == "https://hooks.example.com/v2"
    assert endpoint.events == ["subscription.renewed", "subscription.canceled"]
    assert endpoint.api_version == "2026-01-15"
    assert endpoint.secret is None

    refused = owner_client.post(
        _url("webhook-edit", shop, endpoint.pk),
        {"url": "gopher://x", "all_events": "on", "api_version": "2026-01-15"},
    )
    assert refused.status_code == 400
    assert "only http(s) URLs" in refused.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/v2"


def test_disable_and_enable_an_endpoint_releases_what_waited(owner_client, shop):
    endpoint = _endpoint(shop)
    response = owner_client.post(_url("webhook-enabled", shop, endpoint.pk), {"enabled": "0"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Disabled by the merchant"
    html = owner_client.get(_url("webhooks", shop)).content.decode()
    assert "Disabled by the merchant" in html
    assert "webhook-failure" not in html  # the merchant did it: no alarm

    held = _delivery(endpoint, next_attempt_at=None)
    response = owner_client.post(_url("webhook-enabled", shop, endpoint.pk), {"enabled": "1"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    held.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""
    assert held.next_attempt_at is not None  # released


def test_an_endpoint_disabled_after_failures_is_announced_prominently(owner_client, shop):
    reason = "Disabled after 6 failed attempts to deliver order.completed (HTTP 500)"
    endpoint = _endpoint(shop, enabled=False, disabled_at=timezone.now(), disabled_reason=reason)
    html = owner_client.get(_url("webhooks", shop)).content.decode()
    alert = re.search(
        rf'<div class="alert alert--error webhook-failure" role="alert" id="webhook-failure-'
        rf'{endpoint.pk}">(.*?)</div>\s*</div>',
        html,
        re.S,
    )
    assert alert, html
    assert HOOK in alert.group(1) and reason in alert.group(1)
    assert "Enable again" in alert.group(1)
    developers = owner_client.get(_url("developers", shop)).content.decode()
    assert "was disabled after repeated delivery failures" in developers
    assert reason in developers


def test_remove_asks_first_then_keeps_the_delivery_history(owner_client, shop):
    endpoint = _endpoint(shop)
    delivery = _delivery(endpoint)
    confirm = owner_client.get(_url("webhook-remove", shop, endpoint.pk))
    assert confirm.status_code == 200
    assert "Remove this webhook endpoint?" in confirm.content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    response = owner_client.post(_url("webhook-remove", shop, endpoint.pk))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    delivery.refresh_from_db()
    assert delivery.endpoint_id is None
    log = owner_client.get(_url("webhook-log", shop)).content.decode()
    assert str(delivery.pk) in log
    detail = owner_client.get(_url("webhook-delivery", shop, delivery.pk)).content.decode()
    assert "(removed)" in detail


def test_send_test_event_reaches_the_receiver_and_shows_in_the_log(
    owner_client, shop, receiver, django_capture_on_commit_callbacks
):
    assert _add(owner_client, shop, url=receiver.url).status_code == 302
    endpoint = WebhookEndpoint.objects.get(store=shop)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_url("webhook-send-test", shop, endpoint.pk))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert response.status_code == 302
    assert (
        response.url == _url("webhook-deliveries", shop, endpoint.pk) + f"#delivery-{delivery.pk}"
    )
    assert delivery.is_test and delivery.status == "success" and delivery.attempt_count == 1
    [request] = receiver.requests
    assert request["body"] == delivery.body
    verify("test", request["headers"]["X-Waffo-Signature"], request["body"])

    log = owner_client.get(response.url).content.decode()
    assert "A test order.completed event was sent" in log
    row = re.search(rf'<tr id="delivery-{delivery.pk}".*?</tr>', log, re.S).group(0)
    assert "Succeeded" in row and "order.completed" in row and ">200<" in row

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            _url("webhook-send-test", shop, endpoint.pk), {"event_type": "refund.succeeded"}
        )
    assert WebhookDelivery.objects.filter(event_type="refund.succeeded", is_test=True).exists()
    bad = owner_client.post(_url("webhook-send-test", shop, endpoint.pk), {"event_type": "nope"})
    assert bad.status_code == 400


# --- the delivery log ----------------------------------------------------------------------------


def test_the_log_is_newest_first_and_paginated_by_25(owner_client, shop):
    endpoint = _endpoint(shop)
    start = timezone.now() - timedelta(days=1)
    made = [_delivery(endpoint, created_at=start + timedelta(minutes=n)) for n in range(30)]
    first = owner_client.get(_url("webhook-deliveries", shop, endpoint.pk))
    html = first.content.decode()
    shown = re.findall(r'data-delivery="([0-9a-f-]+)"', html)
    assert shown == [str(d.pk) for d in reversed(made)][:25]
    assert "Page 1 of 2" in html and "?page=2" in html
    second = owner_client.get(_url("webhook-deliveries", shop, endpoint.pk) + "?page=2")
    shown = re.findall(r'data-delivery="([0-9a-f-]+)"', second.content.decode())
    assert shown == [str(d.pk) for d in reversed(made)][25:]


def test_the_store_wide_log_filters_by_event_type_and_status(owner_client, shop):
    endpoint = _endpoint(shop)
    other = _endpoint(shop, url="https://other.example.com/h")
    ok = _delivery(endpoint, status="success", attempt_count=1, last_status_code=200)
    failed = _delivery(other, "refund.failed", status="failed", attempt_count=6)
    live = _delivery(_endpoint(shop, url="https://live.example.com/h", environment="prod"))
    html = owner_client.get(_url("webhook-log", shop)).content.decode()
    assert str(ok.pk) in html and str(failed.pk) in html
    assert str(live.pk) not in html  # another environment
    assert unlabelled_controls(html) == []
    only = owner_client.get(_url("webhook-log", shop) + "?event_type=refund.failed").content
    assert str(failed.pk) in only.decode() and str(ok.pk) not in only.decode()
    by_status = owner_client.get(_url("webhook-log", shop) + "?status=success").content.decode()
    assert str(ok.pk) in by_status and str(failed.pk) not in by_status
    ignored = owner_client.get(_url("webhook-log", shop) + "?status=bogus")
    assert ignored.status_code == 200
    # the per-endpoint log shows only that endpoint's deliveries
    per = owner_client.get(_url("webhook-deliveries", shop, endpoint.pk)).content.decode()
    assert str(ok.pk) in per and str(failed.pk) not in per


def test_the_log_pages_cost_the_same_queries_for_1_or_10_deliveries(owner_client, shop):
    endpoint = _endpoint(shop)
    _delivery(endpoint)
    owner_client.get(_url("webhook-log", shop))  # warm up session, key rows, caches

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).status_code == 200
        return len(queries)

    urls = [_url("webhook-log", shop), _url("webhook-deliveries", shop, endpoint.pk)]
    one = [count(url) for url in urls]
    for _ in range(9):
        _delivery(endpoint)
    ten = [count(url) for url in urls]
    assert one == ten

    detail = _delivery(endpoint)
    for n in range(1, 2):
        WebhookAttempt.objects.create(delivery=detail, number=n, status_code=500)
    few = count(_url("webhook-delivery", shop, detail.pk))
    for n in range(2, 11):
        WebhookAttempt.objects.create(delivery=detail, number=n, status_code=500)
    assert count(_url("webhook-delivery", shop, detail.pk)) == few


def test_a_delivery_shows_its_escaped_payload_and_every_attempt(owner_client, shop):
    endpoint = _endpoint(shop)
    body = json.dumps({"id": "x", "data": {"productName": "<script>alert(1)</script>"}})
    delivery = _delivery(
        endpoint, body=body, status="failed", attempt_count=2, last_status_code=503
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, error="Connection failed: ConnectionError", duration_ms=12
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=2,
        status_code=503,
        response_snippet="<b>down</b>",
        duration_ms=87,
    )
    response = owner_client.get(_url("webhook-delivery", shop, delivery.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "  &quot;data&quot;: {\n    &quot;productName&quot;" in html  # pretty-printed
    assert "<b>down</b>" not in html and "&lt;b&gt;down&lt;/b&gt;" in html
    assert "Connection failed: ConnectionError" in html
    assert "87 ms" in html and ">503<" in html
    assert html.index("Connection failed") < html.index("&lt;b&gt;down")  # attempt order
    assert "Resend" in html


def test_resend_sends_the_same_id_and_bytes_again(
    owner_client, shop, receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(shop, url=receiver.url)
    delivery = _delivery(endpoint, status="failed", attempt_count=6, last_status_code=500)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_url("webhook-resend", shop, delivery.pk))
    assert response.status_code == 302
    assert response.url == _url("webhook-delivery", shop, delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "success" and delivery.attempt_count == 7
    assert delivery.retry_base == 6
    [request] = receiver.requests
    assert request["body"] == delivery.body
    html = owner_client.get(response.url).content.decode()
    assert "sent again with the same id" in html
    assert "Succeeded" in html


# --- isolation, roles ----------------------------------------------------------------------------


def _write_requests(endpoint, delivery):
    return [
        ("webhooks", (), _add_data()),
        ("webhook-edit", (endpoint.pk,), {**_add_data(), "url": "https://evil.example.com/"}),
        ("webhook-enabled", (endpoint.pk,), {"enabled": "0"}),
        ("webhook-remove", (endpoint.pk,), {}),
        ("webhook-send-test", (endpoint.pk,), {}),
        ("webhook-resend", (delivery.pk,), {}),
    ]


def _add_data():
    return {
        "channel": "http",
        "url": "https://evil.example.com/",
        "all_events": "on",
        "api_version": "2026-09-23",
    }


def test_another_stores_endpoints_and_deliveries_are_404(client, owner, shop):
    stranger = MerchantFactory()
    theirs = services.store_create(merchant=stranger, name="Other Shop")
    their_endpoint = _endpoint(theirs, url="https://theirs.example.com/h")
    their_delivery = _delivery(their_endpoint)
    client.force_login(owner)
    for name, args in (
        ("webhook-edit", (their_endpoint.pk,)),
        ("webhook-deliveries", (their_endpoint.pk,)),
        ("webhook-remove", (their_endpoint.pk,)),
        ("webhook-delivery", (their_delivery.pk,)),
    ):
        response = client.get(_url(name, shop, *args))
        assert response.status_code == 404, name
    for name, args, data in _write_requests(their_endpoint, their_delivery)[1:]:
        assert client.post(_url(name, shop, *args), data).status_code == 404, name
    # and their own store's pages are not ours to open
    for name in ("webhooks", "webhook-log", "webhook-public-key"):
        response = client.get(_url(name, theirs))
        assert response.status_code == 404, name
        assert "Other Shop" not in response.content.decode()
    assert client.post(_url("webhooks", theirs), _add_data()).status_code == 404
    their_endpoint.refresh_from_db()
    assert their_endpoint.url == "https://theirs.example.com/h" and their_endpoint.enabled
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_members_read_everything_but_change_nothing(
    client, shop, django_capture_on_commit_callbacks
):
    member = MerchantFactory()
    MembershipFactory(store=shop, merchant=member, role=Role.MEMBER)
    endpoint = _endpoint(
        shop,
        enabled=False,
        disabled_reason="Disabled after 6 failed attempts to deliver order.completed (HTTP 500)",
    )
    delivery = _delivery(endpoint, status="failed", attempt_count=6)
    client.force_login(member)

    pages = {
        "webhooks": client.get(_url("webhooks", shop)),
        "edit": client.get(_url("webhook-edit", shop, endpoint.pk)),
        "log": client.get(_url("webhook-log", shop)),
        "deliveries": client.get(_url("webhook-deliveries", shop, endpoint.pk)),
        "delivery": client.get(_url("webhook-delivery", shop, delivery.pk)),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        for button in (
            "Add endpoint",
            "Send test event",
            "Resend",
            "Enable again",
            "Disable",
            "Remove",
            "Save endpoint",
        ):
            assert f">{button}<" not in html, (name, button)
        main = html[html.index("<main") :]
        buttons = re.findall(r'<button type="submit"[^>]*>([^<]*)<', main)
        assert set(buttons) <= {"Filter"}, (name, buttons)  # the log's GET filter only
    assert "you can see its webhooks but not change them" in pages["webhooks"].content.decode()
    assert "was disabled after repeated delivery failures" in pages["webhooks"].content.decode()
    assert re.search(r'<input type="url" name="url"[^>]* disabled', pages["edit"].content.decode())
    assert keys.public_pem("test").strip() in pages["webhooks"].content.decode()
    assert client.get(_url("webhook-public-key", shop)).status_code == 200
    # the confirmation page is not offered either
    assert client.get(_url("webhook-remove", shop, endpoint.pk)).status_code == 302

    for name, args, data in _write_requests(endpoint, delivery):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url(name, shop, *args), data)
        assert response.status_code == 403, name
        assert "Only owners and admins can manage webhooks" in response.content.decode(), name
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.url == HOOK and not endpoint.enabled
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    assert (delivery.status, delivery.attempt_count) == ("failed", 6)


def test_an_admin_manages_webhooks(client, shop):
    admin = MerchantFactory()
    MembershipFactory(store=shop, merchant=admin, role=Role.ADMIN)
    client.force_login(admin)
    assert _add(client, shop).status_code == 302
    endpoint = WebhookEndpoint.objects.get(store=shop)
    assert client.post(_url("webhook-remove", shop, endpoint.pk)).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    for name in ("webhooks", "webhook-log", "webhook-public-key"):
        response = client.get(_url(name, shop))
        assert response.status_code == 302
        assert response.url.startswith(reverse("dashboard:login"))
