"""What the GraphQL tests share: a signed POST, the nested list query, the SDK guide's documents
not served yet, and the variables an SDK document is run with."""

from __future__ import annotations

import json
import re


def post(client, query: str, variables: dict | None = None, headers: dict | None = None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.raw("/v1/graphql", json.dumps(body).encode(), headers)


NESTED = """{
  onetimeOrders(limit: 100) {
    id status buyerEmail
    priceSnapshot { total }
    store { id name }
    onetimeProduct { id name status prices version store { slug } }
    productVersion { id versionNumber isTestVersion }
    payments { id status cardInfo { last4 } snapshotAmountDetails { total }
               order { id store { name } } }
  }
}"""

# Roots not served yet, and what they belong to.
NOT_SERVED: dict[str, str] = {}
LATER: set[str] = set()


def variables_for(label: str, doc: str, seeded: dict) -> dict:
    declared = set(re.findall(r"\$(\w+)\s*:", doc))
    values = {"storeId": seeded["storeId"], "ref": seeded["ref"]}
    if "productId" in declared:
        values["productId"] = seeded["plan"] if "subscription" in doc else seeded["productId"]
    if "id" in declared:
        root = re.search(r"\{\s*(\w+)\s*\(", doc).group(1)
        values["id"] = {
            "store": seeded["storeId"],
            "onetimeProduct": seeded["productId"],
            "onetimeOrder": seeded["order"],
            "subscriptionOrder": seeded["sub"],
            "merchant": seeded["merchant"],
        }[root]
    return {k: v for k, v in values.items() if k in declared}
