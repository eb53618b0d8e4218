"""The official, unmodified @waffo/pancake-ts 0.25.0 and our webhooks:
`client.webhooks.add|update|remove` against a live server, then `verifyWebhook` on deliveries a
receiver in this test captured: accepted with `{ publicKey }`, with `WAFFO_WEBHOOK_TEST_PUBLIC_KEY`
and with the client's `webhookPublicKey` (`client.webhooks.verify`); a delivery retried an hour
after its event is accepted (the signature's `t` is fresh at each attempt, the SDK allows 45 min);
a tampered body and our deliveries checked against the SDK's built-in keys are refused with the
SDK's own messages."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing.models import WebhookDelivery, WebhookEndpoint
from billing.webhooks import keys, sweep
from pancake.api import ids
from stores.services import store_create
from tests.billing.helpers import fire
from tests.factories import MerchantFactory, make_api_key, rsa_key
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

MANAGE = """
const storeId = process.env.STORE_ID;
out.added = await client.webhooks.add({
  storeId,
  channel: "http",
  url: process.env.RECEIVER_URL,
  events: ["order.completed", "refund.succeeded"],
  testMode: true,
});
out.updated = await client.webhooks.update({
  id: out.added.webhook.id,
  events: ["order.completed"],
  testMode: false,
});
out.badChannel = await failure(() => client.webhooks.add({
  storeId, channel: "pager", url: "https://hooks.example.com/x", events: [], testMode: true,
}));
out.unsafe = await failure(() => client.webhooks.add({
  storeId, channel: "http", url: "https://10.1.2.3/x", events: [], testMode: false,
}));
"""

VERIFY = """
const { verifyWebhook } = await import("@waffo/pancake-ts");
const d = JSON.parse(process.env.DELIVERIES);
const publicKey = process.env.PUBLIC_KEY_PEM;
function attempt(verify) {
  try {
    return { accepted: true, event: verify() };
  } catch (e) {
    return { accepted: false, name: e.name, message: e.message };
  }
}

out.withPublicKey = attempt(() => verifyWebhook(d.fresh.body, d.fresh.signature, { publicKey }));
out.withEnvVar = attempt(() => verifyWebhook(d.fresh.body, d.fresh.signature));
out.withEnvVarTest = attempt(
  () => verifyWebhook(d.fresh.body, d.fresh.signature, { environment: "test" }),
);
out.retried = attempt(() => verifyWebhook(d.retried.body, d.retried.signature, { publicKey }));
out.retriedEnvVar = attempt(() => verifyWebhook(d.retried.body, d.retried.signature));
out.firstAttemptHeader = attempt(
  () => verifyWebhook(d.firstAttempt.body, d.firstAttempt.signature, { publicKey }),
);
out.tampered = attempt(() => verifyWebhook(d.tampered, d.fresh.signature, { publicKey }));
out.tamperedEnvVar = attempt(() => verifyWebhook(d.tampered, d.fresh.signature));

// From here on only the client's config knows our key.
delete process.env.WAFFO_WEBHOOK_TEST_PUBLIC_KEY;
const keyed = new WaffoPancake({
  merchantId: process.env.PANCAKE_MERCHANT_ID,
  privateKey: process.env.PANCAKE_PRIVATE_KEY,
  baseUrl: process.env.PANCAKE_BASE_URL,
  webhookPublicKey: { test: publicKey },
});
out.withConfig = attempt(() => keyed.webhooks.verify(d.fresh.body, d.fresh.signature));
out.withConfigTampered = attempt(() => keyed.webhooks.verify(d.tampered, d.fresh.signature));
out.builtInKeys = attempt(() => client.webhooks.verify(d.fresh.body, d.fresh.signature));

out.removed = await client.webhooks.remove({ id: process.env.WEBHOOK_ID });
out.removedAgain = await failure(() => client.webhooks.remove({ id: process.env.WEBHOOK_ID }));
"""

WEBHOOK_KEYS = {
    "id", "storeId", "channel", "url", "events", "testMode", "secret", "createdAt", "updatedAt",
}  # fmt: skip


def captured(request: dict) -> dict:
    return {"body": request["body"], "signature": request["headers"]["X-Waffo-Signature"]}


def test_sdk_manages_webhooks_and_verifies_our_deliveries(live_server, receiver):
    merchant = MerchantFactory(email="hooks@example.com")
    key = rsa_key()
    make_api_key(merchant, key, environment="test", api_version="2026-09-23")
    store = store_create(merchant=merchant, name="Webhook Store")
    store_id = ids.encode("STO", store.pk)
    env = sdk_env(merchant, key, live_server)

    # add / update through the SDK, in the StoreWebhook shape it declares.
    out = run_sdk(MANAGE, {**env, "STORE_ID": store_id, "RECEIVER_URL": receiver.url})
    added = out["added"]["webhook"]
    assert set(added) >= WEBHOOK_KEYS, added
    uuid.UUID(added["id"])  # "Webhook UUID (not Short ID)"
    assert (added["storeId"], added["channel"], added["url"]) == (store_id, "http", receiver.url)
    assert added["events"] == ["order.completed", "refund.succeeded"]
    assert added["testMode"] is True and added["secret"] is None
    assert added["createdAt"].endswith("Z") and added["updatedAt"].endswith("Z")
    updated = out["updated"]
    assert updated["webhook"]["id"] == added["id"]
    assert updated["webhook"]["events"] == ["order.completed"]
    assert updated["webhook"]["testMode"] is True  # the mode cannot change ...
    assert any("testMode" in w["message"] for w in updated["warnings"])  # ... and we say so
    endpoint = WebhookEndpoint.objects.get(pk=added["id"])
    assert (endpoint.environment, endpoint.events) == ("test", ["order.completed"])
    bad = out["badChannel"]
    assert bad["rejected"] and bad["isWaffoPancakeError"] and bad["status"] == 400
    assert bad["message"] == "Unsupported channel"
    unsafe = out["unsafe"]
    assert unsafe["rejected"] and unsafe["status"] == 400
    assert unsafe["message"] == "Invalid url: private addresses cannot receive webhooks"

    # A delivery whose receiver was down: its event and first attempt an hour ago, the retry now.
    now = timezone.now()
    receiver.statuses = [500]
    with time_machine.travel(now - timedelta(hours=1), tick=True):
        fire(store)
    retried = WebhookDelivery.objects.get()
    assert (retried.status, retried.attempt_count) == ("pending", 1)
    assert sweep.sweep()["deliveries"] == 1  # due since 55 minutes: sent now
    retried.refresh_from_db()
    assert (retried.status, retried.attempt_count) == ("success", 2)
    # And a delivery that went through at once.
    fire(store)
    fresh = WebhookDelivery.objects.exclude(pk=retried.pk).get()
    assert fresh.status == "success"

    first_attempt, retry, sent = (captured(r) for r in receiver.requests)
    assert first_attempt["body"] == retry["body"] == retried.body  # the same bytes
    assert sent["body"] == fresh.body
    assert json.loads(retried.body)["timestamp"] < json.loads(fresh.body)["timestamp"]
    tampered = fresh.body.replace("buyer@example.com", "thief@example.com")
    assert tampered != fresh.body

    public_pem = keys.public_pem("test")
    deliveries = {"fresh": sent, "retried": retry, "firstAttempt": first_attempt}
    out = run_sdk(
        VERIFY,
        {
            **env,
            "DELIVERIES": json.dumps({**deliveries, "tampered": tampered}),
            "PUBLIC_KEY_PEM": public_pem,
            "WAFFO_WEBHOOK_TEST_PUBLIC_KEY": public_pem,
            "WEBHOOK_ID": added["id"],
        },
    )

    for route in ("withPublicKey", "withEnvVar", "withEnvVarTest", "withConfig"):
        assert out[route]["accepted"], (route, out[route])
        event = out[route]["event"]
        assert event["id"] == str(fresh.pk) and event["eventType"] == "order.completed"
        assert event["storeId"] == store_id and event["mode"] == "test"
    for route in ("retried", "retriedEnvVar"):
        assert out[route]["accepted"], (route, out[route])
        assert out[route]["event"]["id"] == str(retried.pk)
    # The first attempt's header is an hour old: the SDK refuses it; the retry was signed afresh.
    assert out["firstAttemptHeader"] == {
        "accepted": False,
        "name": "Error",
        "message": "Webhook timestamp outside tolerance window (possible replay attack)",
    }
    assert out["tampered"]["message"] == "Invalid webhook signature (custom key)"
    assert not out["tampered"]["accepted"]
    tried_both = "Invalid webhook signature (tried both prod and test keys)"
    assert (out["tamperedEnvVar"]["accepted"], out["tamperedEnvVar"]["message"]) == (
        False,
        tried_both,
    )
    assert (out["withConfigTampered"]["accepted"], out["withConfigTampered"]["message"]) == (
        False,
        tried_both,
    )
    # Without our key the SDK falls back to the hosted platform's keys, which are not ours.
    assert (out["builtInKeys"]["accepted"], out["builtInKeys"]["message"]) == (False, tried_both)

    removed = out["removed"]["webhook"]
    assert removed["id"] == added["id"] and removed["events"] == ["order.completed"]
    assert set(removed) >= WEBHOOK_KEYS
    assert not WebhookEndpoint.objects.exists()
    assert WebhookDelivery.objects.count() == 2  # the history stays
    again = out["removedAgain"]
    assert again["rejected"] and again["isWaffoPancakeError"] and again["status"] == 404
