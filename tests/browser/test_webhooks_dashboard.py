"""The webhooks pages in a real browser, at phone size: add an endpoint that points at a small
HTTP receiver on 127.0.0.1, send it a test event from the page, find the delivery in the log as
Succeeded and open it; copy the platform's public key."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.webhooks import keys
from stores import services
from stores.models import Merchant
from tests.billing.helpers import verify
from tests.browser.helpers import sign_in


@pytest.mark.browser
def test_add_an_endpoint_send_a_test_event_and_read_its_delivery(pages, live, receiver):
    page = pages.new()  # phone size
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    sign_in(page, live, "hooks@example.com")
    merchant = Merchant.objects.get(email="hooks@example.com")
    store = services.store_create(merchant=merchant, name="Hook Shop")

    page.goto(f"/dashboard/{store.pk}/developers/")
    page.get_by_role("link", name="Manage webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_text("No endpoints in this environment yet.")).to_be_visible()

    # The public key of the current (test) environment, copied with one click.
    public_key = page.get_by_label("Webhook public key (test)")
    expect(public_key).to_have_value(keys.public_pem("test"))
    page.get_by_role("button", name="Copy public key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == keys.public_pem("test")
    expect(page.locator("#snippet-config")).to_contain_text("webhookPublicKey")
    expect(page.locator("#snippet-env")).to_contain_text("WAFFO_WEBHOOK_TEST_PUBLIC_KEY")

    # Add an endpoint for two event types, pointing at the receiver.
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("All events").uncheck()
    page.get_by_label("order.completed").check()
    page.get_by_label("subscription.renewed").check()
    expect(page.get_by_label("API version")).to_have_value("2026-09-23")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text(f"Webhook endpoint added: {receiver.url}")).to_be_visible()
    endpoint = WebhookEndpoint.objects.get(store=store)
    assert (endpoint.environment, endpoint.url) == ("test", receiver.url)
    assert endpoint.events == ["order.completed", "subscription.renewed"]
    row = page.locator(f"#webhook-{endpoint.pk}")
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("subscription.renewed")

    # Send a test event from the page: the log shows it delivered.
    row.get_by_role("button", name=re.compile("^Send test event")).click()
    expect(page.get_by_role("heading", name="Webhook deliveries")).to_be_visible()
    expect(page.get_by_text("A test order.completed event was sent")).to_be_visible()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    log_row = page.locator(f"#delivery-{delivery.pk}")
    expect(log_row).to_contain_text("order.completed")
    expect(log_row).to_contain_text("Succeeded")
    expect(log_row).to_contain_text("200")
    [request] = receiver.requests
    verify("test", request["headers"]["X-Waffo-Signature"], request["body"])

    # Its detail: status, the attempt, the payload as sent.
    log_row.get_by_role("link", name=str(delivery.pk)).click()
    expect(page.locator("#delivery-status")).to_have_text("Succeeded")
    expect(page.locator(".attempts-table tbody tr")).to_have_count(1)
    expect(page.locator(".attempts-table")).to_contain_text("200")
    expect(page.locator("#delivery-payload")).to_contain_text(f'"id": "{delivery.pk}"')
    expect(page.locator("#delivery-payload")).to_contain_text('"eventType": "order.completed"')

    # Resend: same id and bytes, a second attempt.
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("The event was sent again with the same id and body.")).to_be_visible()
    expect(page.locator(".attempts-table tbody tr")).to_have_count(2)
    assert [r["body"] for r in receiver.requests] == [delivery.body, delivery.body]
