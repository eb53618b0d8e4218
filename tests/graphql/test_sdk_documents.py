"""Every GraphQL document of the SDK package's docs validates and runs against seeded data
without an error (LATER lists any root not served yet: none now)."""

import pytest

from tests.graphql.appendix_b import DOCUMENTS
from tests.graphql.helpers import LATER, NOT_SERVED, variables_for


def test_the_not_served_list_names_only_roots_we_do_not_serve():
    from pancake.graphql.schema import schema

    served = set(schema.graphql_schema.query_type.fields)
    assert not served & set(NOT_SERVED)
    for label in LATER:
        assert any(root in DOCUMENTS[label] for root in NOT_SERVED), label


@pytest.mark.parametrize("label", sorted(DOCUMENTS, key=lambda k: int(k[2:])))
def test_sdk_document_runs(label, seeded, gql):
    doc = DOCUMENTS[label]
    body = gql(doc, variables_for(label, doc, seeded) or None, expect=_expected(label))
    if label in LATER:
        messages = " ".join(e["message"] for e in body["errors"])
        assert any(f"'{root}'" in messages for root in NOT_SERVED), body
        return
    assert "errors" not in body, body
    data = body["data"]
    assert data and all(v is not None for v in data.values()), data


def _expected(label: str) -> int:
    return 400 if label in LATER else 200


def test_documents_return_the_seeded_rows(seeded, data):
    by_id = data(DOCUMENTS["B.16"], {"id": seeded["order"]})["onetimeOrder"]
    assert by_id["id"] == seeded["order"] and by_id["testMode"] is True
    assert by_id["payments"][0]["cardInfo"] == {
        "brand": "visa",
        "last4": "4242",
        "expMonth": 12,
        "expYear": 2030,
    }
    [refund] = by_id["payments"][0]["refunds"]
    assert refund["status"] == "succeeded" and refund["id"].startswith("REF_")
    assert refund["requestedAmountDetails"] == {"currency": "USD", "amount": "10.00"}
    assert by_id["payments"][0]["refundStatus"] == "partially_refunded"
    pending = data(DOCUMENTS["B.19"])
    assert pending["refundTicketsCount"] == 2 == len(pending["refundTickets"])
    kinds = {
        "onetime" if t["payment"]["onetimeOrder"] else "subscription"
        for t in pending["refundTickets"]
    }
    assert kinds == {"onetime", "subscription"}
    assert all(t["payment"]["snapshotAmountDetails"]["total"] for t in pending["refundTickets"])
    by_ref = data(DOCUMENTS["B.20"], {"ref": "ref-1"})
    assert [t["status"] for t in by_ref["refundTickets"]] == ["succeeded"]
    assert by_ref["refunds"] == [
        {
            "id": refund["id"],
            "status": "succeeded",
            "orderMerchantExternalId": "ref-1",
            "refundTicketMerchantExternalId": "ref-1",
            "pspAmountDetails": {"amount": "10.00", "currency": "USD"},
        }
    ]
    dashboard = data(DOCUMENTS["B.28"], {"storeId": seeded["storeId"]})
    assert len(dashboard["refundTickets"]) == 2
    sub = data(DOCUMENTS["B.17"], {"id": seeded["sub"]})["subscriptionOrder"]
    assert sub["priceSnapshot"]["specialPhaseDays"] == 7
    assert sub["priceSnapshot"]["specialPhase"]["total"] == "1.00"
    assert sub["payments"][0]["snapshotAmountDetails"]["phase"] == "special"
    counts = data(DOCUMENTS["B.29"], {"storeId": seeded["storeId"]})
    assert counts["onetimeOrdersCount"] == 2 and counts["subscriptionOrdersCount"] == 1
    assert counts["webhookDeliveriesCount"] == 1 and counts["emailDeliveriesCount"] == 1
    assert counts["storesCount"] == 1 and counts["apiKeysCount"] == 1
    assert counts["refundTicketsCount"] == 3 and counts["refundsCount"] == 1
    refs = data(DOCUMENTS["B.6"], {"ref": "ref-1"})["payments"]
    assert len(refs) == 2 and {p["orderMerchantExternalId"] for p in refs} == {"ref-1"}
    me = data(DOCUMENTS["B.21"], {"id": seeded["merchant"]})["merchant"]
    assert me["storeMerchants"][0]["role"] == "owner"
    assert me["apiKeys"][0]["environment"] == "test"
