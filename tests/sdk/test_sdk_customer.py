"""Every method of the unmodified @waffo/pancake-ts 0.25.0's ``client.customer(token)`` on a live
server, in one buyer's story, and the same calls refused to everyone else.

The buyer of a store (a session token from ``auth.issueSessionToken`` for their email) files a
refund ticket on their paid order (``createRefundTicket``), resubmits it after the merchant's
rejection (``resubmitRefundTicket``), cancels their unpaid order (``cancelOnetimeOrder``),
cancels their subscription and changes their mind (``cancelSubscription``,
``reactivateSubscription``), asks to move to the bigger plan of the group
(``createPlanChangeSession``, whose confirmation page opens), and reads all of it back
(``graphql.query``). Before any of that, each of those calls is made on the buyer's ids by
another buyer of the store, by the same email's token for another store of the merchant, by the
same email's token for the prod environment, and with the buyer's own token sent for the wrong
environment: none of them changes or shows anything, and each answers what the SDK documents
(404 for an order, payment or ticket the caller cannot see, 403 ``Subscription order does not
belong to this credential`` for a plan change, 400 ``Environment mismatch between request and
session`` for the wrong environment). The plan change's other two documented 403s (a plan of
another group, a group without self-service) and the SDK's own 400 for a customer with no
environment close the story. The ids go from script to script: the catalog's from the first,
the orders' from the server's purchases, the ticket's from the buyer's own call."""

from __future__ import annotations

import json

import pytest

from billing import services as billing_services
from billing.models import Payment, RefundTicket, Subscription
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from products.models import Product
from tests.factories import make_api_key, private_pem, rsa_key
from tests.helpers import ApiClient, buy, pay
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

BUYER = "buyer@example.com"  # the buyer of tests.helpers.buy
US = {"country": "US", "isBusiness": False, "state": "OR"}  # Oregon: no sales tax
STRANGERS = ("anotherBuyer", "anotherStore", "prodToken", "wrongEnvironment")
MISMATCH = {"message": "Environment mismatch between request and session", "layer": "gateway"}
NOT_YOURS = "Subscription order does not belong to this credential"

CATALOG = """
const { store } = await client.stores.create({ name: "Corner Shop" });
const other = await client.stores.create({ name: "Other Shop" });
const book = await client.onetimeProducts.create({
  storeId: store.id, name: "E-Book", prices: { USD: { amount: "29.00", taxCategory: "ebook" } },
});
const plan = (name, amount) => client.subscriptionProducts.create({
  storeId: store.id, name, billingPeriod: "monthly",
  prices: { USD: { amount, taxCategory: "saas" } },
});
const basic = await plan("Basic", "9.99");
const pro = await plan("Pro", "29.99");
const team = await plan("Team", "99.00");
const { group } = await client.subscriptionProductGroups.create({
  storeId: store.id, name: "Plans", rules: { selfServicePlanChange: true },
  productIds: [basic.product.id, pro.product.id],
});
Object.assign(out, {
  storeA: store.id, storeB: other.store.id, book: book.product.id, basic: basic.product.id,
  pro: pro.product.id, team: team.product.id, groupId: group.id,
});
"""

# The buyer and the four others, each a customer client of the SDK.
SESSIONS = """
const ids = JSON.parse(process.env.IDS);
const prodClient = new WaffoPancake({
  merchantId: process.env.PANCAKE_MERCHANT_ID,
  privateKey: process.env.PANCAKE_PROD_PRIVATE_KEY,
  baseUrl: process.env.PANCAKE_BASE_URL,
});
async function tokenFor(signer, storeId, buyerIdentity) {
  return (await signer.auth.issueSessionToken({ storeId, buyerIdentity })).token;
}
const buyerToken = await tokenFor(client, ids.storeA, process.env.BUYER);
const buyer = client.customer(buyerToken, { environment: "test" });
const strangers = {
  anotherBuyer: client.customer(
    await tokenFor(client, ids.storeA, "eve@example.com"), { environment: "test" }),
  anotherStore: client.customer(
    await tokenFor(client, ids.storeB, process.env.BUYER), { environment: "test" }),
  prodToken: prodClient.customer(
    await tokenFor(prodClient, ids.storeA, process.env.BUYER), { environment: "prod" }),
  wrongEnvironment: client.customer(buyerToken, { environment: "prod" }),
};
const READ = `query {
  onetimeOrders { id } subscriptionOrders { id } payments { id } refundTickets { id }
  refundTicketsCount
}`;
async function eachStranger(calls) {
  const seen = {};
  for (const [who, customer] of Object.entries(strangers)) {
    seen[who] = {};
    for (const [name, call] of Object.entries(calls)) {
      seen[who][name] = await failure(() => call(customer));
    }
  }
  return seen;
}
"""

FIRST = (
    SESSIONS
    + """
const amount = { amount: "1.00", currency: "USD" };
out.refused = await eachStranger({
  cancelSubscription: (c) => c.cancelSubscription({ orderId: ids.subscriptionOrder }),
  reactivateSubscription: (c) => c.reactivateSubscription({ orderId: ids.subscriptionOrder }),
  cancelOnetimeOrder: (c) => c.cancelOnetimeOrder({ orderId: ids.pendingOrder }),
  createRefundTicket: (c) => c.createRefundTicket({
    paymentId: ids.paymentId, reason: "Not mine", requestedAmount: amount,
  }),
  createPlanChangeSession: (c) => c.createPlanChangeSession({
    originOrderId: ids.subscriptionOrder, productId: ids.pro, currency: "USD",
  }),
});
out.readByStrangers = {};
for (const [who, customer] of Object.entries(strangers)) {
  out.readByStrangers[who] = await customer.graphql.query({ query: READ });
}

out.ticket = await buyer.createRefundTicket({
  paymentId: ids.paymentId,
  reason: "The download link is broken",
  requestedAmount: { amount: "10.00", currency: "USD" },
  refundTicketMerchantExternalId: "SUPPORT-77",
});
"""
)

SECOND = (
    SESSIONS
    + """
const resubmission = {
  ticketId: ids.ticketId, paymentId: ids.paymentId, reason: "Chapter 3 is still missing",
  requestedAmount: { amount: "12.00", currency: "USD" },
};
out.refused = await eachStranger({
  resubmitRefundTicket: (c) => c.resubmitRefundTicket(resubmission),
});
out.resubmitted = await buyer.resubmitRefundTicket(resubmission);

out.canceledOrder = await buyer.cancelOnetimeOrder({ orderId: ids.pendingOrder });
out.cancelAgain = await failure(() => buyer.cancelOnetimeOrder({ orderId: ids.pendingOrder }));
out.cancelPaid = await failure(() => buyer.cancelOnetimeOrder({ orderId: ids.paidOrder }));

out.canceling = await buyer.cancelSubscription({ orderId: ids.subscriptionOrder });
out.reactivated = await buyer.reactivateSubscription({ orderId: ids.subscriptionOrder });

out.planChange = await buyer.createPlanChangeSession({
  originOrderId: ids.subscriptionOrder, productId: ids.pro, currency: "USD",
});
const page = await fetch(out.planChange.checkoutUrl);
out.planChangePage = { status: page.status, html: await page.text() };
out.notInGroup = await failure(() => buyer.createPlanChangeSession({
  originOrderId: ids.subscriptionOrder, productId: ids.team, currency: "USD",
}));
await client.subscriptionProductGroups.update({
  id: ids.groupId, rules: { selfServicePlanChange: false },
});
out.noSelfService = await failure(() => buyer.createPlanChangeSession({
  originOrderId: ids.subscriptionOrder, productId: ids.pro, currency: "USD",
}));

out.mine = await buyer.graphql.query({
  query: `query ($id: ID!) {
    onetimeOrders { id status buyerEmail }
    subscriptionOrders { id status }
    subscriptionOrder(id: $id) { id status }
    refundTickets { id status versionNumber refundTicketMerchantExternalId
                    requestedAmountDetails { amount currency } }
  }`,
  variables: { id: ids.subscriptionOrder },
});
out.mutation = await buyer.graphql.query({ query: "mutation { x }" });
out.noEnvironment = await failure(() => client.customer(buyerToken));
"""
)


def _purchase(api, product, *, subscription=False, paid=True) -> Payment:
    """The buyer's order of ``product`` through the API; paid with the test card unless not."""
    payment = buy(api, product, currency="USD", billing=US, subscription=subscription)
    if paid:
        notification = pay(payment)
        billing_services.test_processor_notification_receive(
            headers=dict(notification.headers), body=notification.body
        )
        payment.refresh_from_db()
    return payment


def _product(encoded: str) -> Product:
    return Product.objects.get(pk=ids.parse_id(encoded, "PROD"))


def test_every_customer_method_for_the_buyer_and_refused_to_everyone_else(
    live_server, merchant_key, settings
):
    settings.BASE_URL = live_server.url
    merchant, key = merchant_key
    prod_key = rsa_key()
    make_api_key(merchant, prod_key, environment="prod", name="prod key")
    base_env = {
        **sdk_env(merchant, key, live_server),
        "PANCAKE_PROD_PRIVATE_KEY": private_pem(prod_key),
        "BUYER": BUYER,
    }
    catalog = run_sdk(CATALOG, base_env)

    # The buyer's three orders in the first store: a paid e-book, an unpaid one, a subscription.
    api = ApiClient(merchant, key)
    paid = _purchase(api, _product(catalog["book"]))
    pending = _purchase(api, _product(catalog["book"]), paid=False)
    subscribed = _purchase(api, _product(catalog["basic"]), subscription=True)
    assert (paid.status, pending.status, subscribed.status) == ("succeeded", "pending", "succeeded")
    subscription = Subscription.objects.get(order_id=subscribed.order_id)
    assert subscription.status == "active"
    chain = {
        **catalog,
        "paidOrder": ids.encode("ORD", paid.order_id),
        "paymentId": ids.encode("PAY", paid.pk),
        "pendingOrder": ids.encode("ORD", pending.order_id),
        "subscriptionOrder": ids.encode("ORD", subscribed.order_id),
    }

    out = run_sdk(FIRST, {**base_env, "IDS": json.dumps(chain)})

    # Everyone else is refused, with what the SDK documents for each call.
    for who in STRANGERS:
        refused = out["refused"][who]
        for name, result in refused.items():
            assert result["rejected"] and result["isWaffoPancakeError"], (who, name, result)
        if who == "wrongEnvironment":
            for name, result in refused.items():
                assert (result["status"], result["errors"]) == (400, [MISMATCH]), (name, result)
            continue
        for name in ("cancelSubscription", "reactivateSubscription", "cancelOnetimeOrder"):
            assert (refused[name]["status"], refused[name]["errors"]) == (
                404,
                [{"message": "Order not found", "layer": "order"}],
            ), (who, name, refused[name])
        assert (
            refused["createRefundTicket"]["status"],
            refused["createRefundTicket"]["errors"],
        ) == (
            404,
            [{"message": "Payment not found", "layer": "order"}],
        ), (who, refused["createRefundTicket"])
        assert (
            refused["createPlanChangeSession"]["status"],
            refused["createPlanChangeSession"]["errors"],
        ) == (403, [{"message": NOT_YOURS, "layer": "order"}]), who
    # … and reads nothing of the buyer's.
    for who in STRANGERS[:3]:
        read = out["readByStrangers"][who]
        assert "errors" not in read, (who, read)
        assert read["data"] == {
            "onetimeOrders": [],
            "subscriptionOrders": [],
            "payments": [],
            "refundTickets": [],
            "refundTicketsCount": 0,
        }, who
    wrong = out["readByStrangers"]["wrongEnvironment"]
    assert wrong["data"] is None and wrong["errors"][0]["message"] == MISMATCH["message"]
    # None of the refused calls changed a thing.
    assert Order.objects.get(pk=pending.order_id).status == "pending"
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    assert not CheckoutSession.objects.filter(origin_order_id=subscribed.order_id).exists()

    # The buyer files a ticket for 10.00 of the 29.00 they paid.
    ticket = out["ticket"]["ticket"]
    assert (ticket["status"], ticket["subjectId"], ticket["submitterType"]) == (
        "pending",
        chain["paymentId"],
        "customer",
    )
    assert ticket["versionData"]["requestedAmount"] == {"amount": "10.00", "currency": "USD"}
    assert RefundTicket.objects.count() == 1  # the strangers filed nothing
    api.call("refund-ticket/reject-ticket", {"ticketId": ticket["id"], "reason": "Which file?"})

    out = run_sdk(SECOND, {**base_env, "IDS": json.dumps({**chain, "ticketId": ticket["id"]})})

    for who in STRANGERS:
        [result] = out["refused"][who].values()
        assert result["rejected"] and result["isWaffoPancakeError"], (who, result)
        expected = (
            (400, [MISMATCH])
            if who == "wrongEnvironment"
            else (404, [{"message": "Refund ticket not found", "layer": "ticket"}])
        )
        assert (result["status"], result["errors"]) == expected, (who, result)
    resubmitted = out["resubmitted"]["ticket"]
    assert (resubmitted["id"], resubmitted["status"], resubmitted["versionNumber"]) == (
        ticket["id"],
        "pending",
        2,
    )
    assert resubmitted["refundTicketMerchantExternalId"] == "SUPPORT-77"

    # The unpaid order: canceled, once; a paid one is for a refund instead.
    assert out["canceledOrder"] == {"orderId": chain["pendingOrder"], "status": "canceled"}
    only_pending = "Only pending orders can be canceled: request a refund instead"
    for name in ("cancelAgain", "cancelPaid"):
        result = out[name]
        assert (result["status"], result["message"]) == (400, only_pending), (name, result)
    assert Payment.objects.get(pk=pending.pk).status == "failed"  # its payment voided

    # The subscription: canceling, then active again.
    assert out["canceling"]["orderId"] == chain["subscriptionOrder"]
    assert out["canceling"]["status"] == "canceling"
    assert out["reactivated"] == {"orderId": chain["subscriptionOrder"], "status": "active"}

    # The plan change: a session on the confirmation page, and the two other documented 403s.
    change = out["planChange"]
    assert set(change) >= {"sessionId", "checkoutUrl", "expiresAt"}
    session = CheckoutSession.objects.get(pk=change["sessionId"])
    assert (session.origin_order_id, session.created_via) == (subscribed.order_id, "buyer_token")
    assert change["checkoutUrl"] == (
        f"{live_server.url}/store/{session.store.slug}/change/{session.pk}"
    )
    assert out["planChangePage"]["status"] == 200
    assert "Change your plan" in out["planChangePage"]["html"]
    assert (out["notInGroup"]["status"], out["notInGroup"]["message"]) == (
        403,
        "Target plan is not in the same product group as the current plan",
    )
    assert (out["noSelfService"]["status"], out["noSelfService"]["message"]) == (
        403,
        "Self-service plan change is not enabled for this product group",
    )

    # What the buyer reads back is theirs, as it now stands.
    mine = out["mine"]
    assert "errors" not in mine, mine
    assert sorted(mine["data"]["onetimeOrders"], key=lambda o: o["status"]) == [
        {"id": chain["pendingOrder"], "status": "canceled", "buyerEmail": BUYER},
        {"id": chain["paidOrder"], "status": "completed", "buyerEmail": BUYER},
    ]
    assert mine["data"]["subscriptionOrders"] == [
        {"id": chain["subscriptionOrder"], "status": "active"}
    ]
    assert mine["data"]["subscriptionOrder"] == {
        "id": chain["subscriptionOrder"],
        "status": "active",
    }
    assert mine["data"]["refundTickets"] == [
        {
            "id": ticket["id"],
            "status": "pending",
            "versionNumber": 2,
            "refundTicketMerchantExternalId": "SUPPORT-77",
            "requestedAmountDetails": {"amount": "12.00", "currency": "USD"},
        }
    ]
    # A mutation is refused in the GraphQL envelope (the SDK never throws on it) …
    mutation = out["mutation"]
    assert mutation["data"] is None and mutation["errors"][0]["layer"] == "graphql"
    # … and a customer with no environment is refused by the SDK before anything is sent.
    no_env = out["noEnvironment"]
    assert no_env["rejected"] and no_env["isWaffoPancakeError"] and no_env["status"] == 400
    assert no_env["errors"][0]["layer"] == "sdk"
