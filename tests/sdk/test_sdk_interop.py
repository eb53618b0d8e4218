"""The official, unmodified @waffo/pancake-ts 0.25.0 against a live Pancake server.

Each test runs ONE Node script that uses the SDK the way integrating code does: it chains the ids
the server returns into the next call, so a wrong id format, envelope or signature breaks the
chain. The script prints what it collected as one JSON line; we assert on it and on the rows.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from pancake.api import ids
from stores.models import BuyerSession, Merchant, Role, Store, StoreMembership
from tests.factories import MerchantFactory, make_api_key, rsa_key
from tests.sdk.helpers import SDK_ERROR_LAYERS, run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

STORE_LIFECYCLE = """
const { store } = await client.stores.create({ name: "Interop Store" });
out.created = store;

out.updated = await client.stores.update({
  id: store.id,
  name: "Interop Store Renamed",
  logo: "https://example.com/logo.png",
  notificationSettings: {
    notifyNewOrders: false,
    emailTrialEnding: false,
    emailOrderConfirmation: false,
  },
  checkoutSettings: {
    defaultDarkMode: true,
    light: { checkoutColorPrimary: "#000000", checkoutBorderRadius: "12px" },
  },
});

out.added = await client.storeMerchants.add({
  storeId: store.id,
  email: "Teammate@Example.com",
  role: "member",
});
out.promoted = await client.storeMerchants.updateRole({
  storeId: out.added.storeId,
  merchantId: out.added.merchantId,
  role: "admin",
});
out.removed = await client.storeMerchants.remove({
  storeId: store.id,
  merchantId: out.promoted.merchantId,
});

out.session = await client.auth.issueSessionToken({ storeId: store.id, buyerIdentity: "user-123" });

const once = { idempotencyKey: "interop-1" };
const first = await client.stores.create({ name: "Idempotent Store" }, once);
const again = await client.stores.create({ name: "Idempotent Store" }, once);
out.idempotent = [first.store.id, again.store.id];

out.deleted = (await client.stores.delete({ id: store.id })).store;
out.updateDeleted = await failure(() => client.stores.update({ id: store.id, name: "x" }));
out.tooLong = await failure(() => client.stores.create({ name: "x".repeat(101) }));
"""


def test_sdk_drives_a_store_through_its_whole_life(live_server, merchant_key):
    merchant, key = merchant_key
    out = run_sdk(STORE_LIFECYCLE, sdk_env(merchant, key, live_server))

    created = out["created"]
    assert created["id"].startswith("STO_") and created["name"] == "Interop Store"
    store = Store.objects.get(pk=ids.parse_id(created["id"], "STO"))
    assert StoreMembership.objects.get(store=store).merchant == merchant

    # update-store: writable keys changed, the email* key the merchant may not write was dropped
    # and named in warnings (the SDK copies top-level warnings onto the result).
    updated = out["updated"]["store"]
    assert updated["name"] == "Interop Store Renamed"
    assert updated["logo"] == "https://example.com/logo.png"
    assert updated["notificationSettings"]["notifyNewOrders"] is False
    assert updated["notificationSettings"]["emailTrialEnding"] is False
    assert updated["notificationSettings"]["emailOrderConfirmation"] is True
    assert updated["checkoutSettings"]["defaultDarkMode"] is True
    assert updated["checkoutSettings"]["light"]["checkoutColorPrimary"] == "#000000"
    assert updated["checkoutSettings"]["light"]["checkoutBorderRadius"] == "12px"
    warnings = out["updated"]["warnings"]
    assert any("emailOrderConfirmation" in w["message"] for w in warnings), warnings
    assert all(w["layer"] != "sdk" for w in warnings)

    # team: add → promote → remove, each call fed with ids from the previous answer.
    added = out["added"]
    assert added["storeId"] == created["id"]
    assert added["merchantId"].startswith("MER_")
    assert added["email"] == "teammate@example.com"
    assert added["role"] == "member"
    teammate = Merchant.objects.get(pk=ids.parse_id(added["merchantId"], "MER"))
    assert teammate.email == "teammate@example.com"
    assert out["promoted"]["role"] == "admin"
    assert out["promoted"]["merchantId"] == added["merchantId"]
    assert out["removed"]["removedAt"].endswith("Z")
    assert not StoreMembership.objects.filter(store=store, merchant=teammate).exists()

    session = out["session"]
    assert session["token"].count(".") == 2
    assert session["expiresAt"].endswith("Z")
    buyer = BuyerSession.objects.get(store=store)
    assert buyer.buyer_identity == "user-123" and buyer.environment == "test"

    # the same idempotency key replays the first answer: one store, same id.
    first_id, replay_id = out["idempotent"]
    assert first_id == replay_id
    assert Store.objects.filter(name="Idempotent Store").count() == 1

    deleted = out["deleted"]
    assert deleted["id"] == created["id"]
    assert deleted["deletedAt"] is not None
    store.refresh_from_db()
    assert store.deleted_at is not None

    # failures surface as WaffoPancakeError with the server's message, status and layer.
    gone = out["updateDeleted"]
    assert gone["rejected"] and gone["isWaffoPancakeError"], gone
    assert gone["status"] == 404
    assert gone["message"] == "Store not found"
    assert gone["errors"][0]["layer"] in SDK_ERROR_LAYERS
    too_long = out["tooLong"]
    assert too_long["rejected"] and too_long["isWaffoPancakeError"], too_long
    assert too_long["status"] == 400
    assert too_long["message"] == "Store name must be between 1 and 100 characters"
    assert too_long["errors"][0]["layer"] == "store"
    assert not Store.objects.filter(name="x" * 101).exists()
    assert (
        Store.objects.filter(memberships__merchant=merchant, memberships__role=Role.OWNER).count()
        == 2
    )


def test_sdk_works_with_a_key_on_the_documentation_api_version(live_server):
    """A 2026-01-15 key gets UUIDs back; the SDK passes response ids through untouched."""
    merchant = MerchantFactory()
    key = rsa_key()
    make_api_key(merchant, key, api_version="2026-01-15")
    body = """
const { store } = await client.stores.create({ name: "Docs Format Store" });
out.store = store;
"""
    out = run_sdk(body, sdk_env(merchant, key, live_server))
    store_id = out["store"]["id"]
    assert "_" not in store_id
    store = Store.objects.get(pk=store_id)
    assert store.name == "Docs Format Store"
    assert StoreMembership.objects.get(store=store).merchant == merchant


def test_sdk_content_safety_scan_is_not_offered(live_server, merchant_key):
    merchant, key = merchant_key
    body = 'out.scan = await failure(() => client.contentSafety.scanPrompt({ prompt: "hi" }));'
    scan = run_sdk(body, sdk_env(merchant, key, live_server))["scan"]
    assert scan["rejected"] and scan["isWaffoPancakeError"], scan
    assert scan["status"] == 501
    assert scan["errors"][0]["layer"] != "sdk"
    assert scan["message"]


def test_the_snippet_printed_by_demo_works_with_the_sdk(live_server, tmp_path, settings):
    """`manage.py demo` prints a merchant id, a key file and a store id; the SDK takes them."""
    settings.BASE_URL = live_server.url
    key_file = tmp_path / "demo-api-key.pem"
    out = io.StringIO()
    call_command("demo", key_file=str(key_file), stdout=out)
    printed = out.getvalue()
    merchant_id = re.search(r'merchantId: "(MER_\w{22})"', printed).group(1)
    store_id = re.search(r"Demo Store  (STO_\w{22})", printed).group(1)
    assert f'baseUrl: "{live_server.url}"' in printed

    body = """
const fs = await import("node:fs");
const demo = new WaffoPancake({
  merchantId: process.env.PANCAKE_MERCHANT_ID,
  privateKey: fs.readFileSync(process.env.DEMO_KEY_FILE, "utf8"),
  baseUrl: process.env.PANCAKE_BASE_URL,
});
out.session = await demo.auth.issueSessionToken({
  storeId: process.env.DEMO_STORE_ID,
  buyerIdentity: "buyer@example.com",
});
out.store = (await demo.stores.create({ name: "Made from the demo snippet" })).store;
"""
    env = {
        "PANCAKE_MERCHANT_ID": merchant_id,
        "PANCAKE_PRIVATE_KEY": key_file.read_text(),
        "PANCAKE_BASE_URL": live_server.url,
        "DEMO_KEY_FILE": str(key_file),
        "DEMO_STORE_ID": store_id,
    }
    result = run_sdk(body, env)
    assert result["session"]["token"]
    assert BuyerSession.objects.get().store_id == ids.parse_id(store_id, "STO")
    store = Store.objects.get(pk=ids.parse_id(result["store"]["id"], "STO"))
    assert StoreMembership.objects.get(store=store).merchant.email == "demo@pancake.local"
