"""What the OpenAPI document says beyond the action views drf-spectacular reads: how callers
authenticate, and ``POST /v1/graphql`` (a plain Django view, so invisible to it).

Security schemes, as ``pancake.api.auth`` reads the request:

- the SDK's request signature: ``X-Merchant-Id``, ``X-Timestamp`` and ``X-Signature`` together
  (one requirement of three header schemes), RSASSA-PKCS1-v1_5 / SHA-256 over
  ``POST\\n{path}\\n{timestamp}\\n{base64(sha256(body))}``;
- a merchant JWT: ``Authorization: Bearer``, RS256, signed with the same private key;
- a store slug: ``X-Store-Slug`` with ``X-Environment`` (public checkout);
- a buyer session token: ``Authorization: Bearer`` with ``X-Environment``.

Each operation lists one requirement per way in its ``auth=`` allows (OpenAPI: any one of the
list; all schemes within one)."""

from __future__ import annotations

from pancake.api import auth, versions

SECURITY_SCHEMES = {
    "MerchantId": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Merchant-Id",
        "description": "Signed request (with X-Timestamp and X-Signature): the merchant id, "
        "MER_… or its UUID.",
    },
    "Timestamp": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Timestamp",
        "description": "Signed request: Unix seconds; at most 5 minutes old, 1 minute ahead.",
    },
    "Signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "Signed request: base64 RSASSA-PKCS1-v1_5 / SHA-256 signature with an "
        "API key's private key over "
        "`POST\\n{path}\\n{X-Timestamp}\\n{base64(sha256(raw body))}`, where path is the "
        "request path below the deployment's mount point, without query string.",
    },
    "MerchantJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A merchant JWT: RS256, signed with an API key's private key; claims "
        "sub (merchant id), iat and exp (at most 15 minutes after iat).",
    },
    "StoreSlug": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Store-Slug",
        "description": "Public checkout (with X-Environment): the store's slug.",
    },
    "Environment": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Environment",
        "description": "test or prod: goes with a store slug or a buyer session token.",
    },
    "BuyerSession": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "Pancake buyer session token",
        "description": "A buyer session token (auth/issue-session-token or the portal), with "
        "X-Environment.",
    },
}

REQUIREMENTS: dict[str, list[dict[str, list]]] = {
    auth.MERCHANT: [
        {"MerchantId": [], "Timestamp": [], "Signature": []},
        {"MerchantJwt": []},
    ],
    auth.BUYER: [{"BuyerSession": [], "Environment": []}],
    auth.STORE_SLUG: [{"StoreSlug": [], "Environment": []}],
}
GRAPHQL_AUTH = (auth.MERCHANT, auth.BUYER)  # as pancake.graphql.views admits callers


def security(kinds: tuple[str, ...]) -> list[dict[str, list]]:
    """The security requirements of an operation open to the credential ``kinds``."""
    return [requirement for kind in kinds for requirement in REQUIREMENTS[kind]]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


GRAPHQL_SCHEMAS = {
    "GraphQLRequest": {
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "description": "A query document (no mutations)."},
            "variables": {"type": "object", "nullable": True, "additionalProperties": True},
            "operationName": {"type": "string", "nullable": True},
        },
    },
    "GraphQLError": {
        "type": "object",
        "required": ["message", "layer"],
        "properties": {
            "message": {"type": "string"},
            "layer": {"type": "string"},
            "locations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "line": {"type": "integer"},
                        "column": {"type": "integer"},
                    },
                },
            },
            "path": {
                "type": "array",
                "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            },
        },
    },
    "GraphQLResponse": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "object", "nullable": True, "additionalProperties": True},
            "errors": {"type": "array", "items": _ref("GraphQLError")},
        },
    },
}

GRAPHQL_OPERATION = {
    "operationId": "graphql",
    "summary": "Read with GraphQL (queries only)",
    "description": "Every read: the caller's stores, products, orders, payments and more. "
    "Authenticated like the actions (the signature covers /v1/graphql); merchants and "
    "buyers, not store slugs. Mutations are refused (403): write with the actions. "
    "The schema is served by introspection.",
    "tags": ["graphql"],
    "parameters": [
        {
            "in": "header",
            "name": versions.HEADER,
            "schema": {"type": "string"},
            "description": "Override the key's API version",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _ref("GraphQLRequest")}},
    },
    "responses": {
        "200": _json_response("GraphQLResponse", "data, with errors beside any field that failed"),
        "400": _json_response("GraphQLResponse", "Bad JSON, a syntax or validation error"),
        "401": _json_response("ErrorEnvelope", "Missing or invalid credentials"),
        "403": _json_response("GraphQLResponse", "A mutation, or a store-slug caller"),
        "413": _json_response("ErrorEnvelope", "Body too large"),
        "429": _json_response("ErrorEnvelope", "Rate limited (Retry-After)"),
    },
    "security": security(GRAPHQL_AUTH),
}


def postprocess(result: dict, generator, request, public, **kwargs) -> dict:
    """drf-spectacular postprocessing hook: the security schemes and the GraphQL endpoint."""
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    components.setdefault("schemas", {}).update(GRAPHQL_SCHEMAS)
    result.setdefault("paths", {})["/v1/graphql"] = {"post": GRAPHQL_OPERATION}
    return result
